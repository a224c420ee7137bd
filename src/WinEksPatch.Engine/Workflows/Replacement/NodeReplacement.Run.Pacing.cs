using WinEksPatch.Abstractions;
using WinEksPatch.Model;
using WinEksPatch.Workflows.FastLaunch;

namespace WinEksPatch.Workflows.Replacement;

// -PaceToFastLaunch: the surge launches only as the target AMI's pre-provisioned snapshots come, so that every new node
// boots from one. The floor is still what WaitForCapacityAsync checks; pacing only ever launches less, never cordons more.
public sealed partial class NodeReplacement
{
    private sealed partial class Run
    {
        // The pool this run takes snapshots from (null: not paced); dropped if the estimate can no longer say when one comes.
        private FastLaunchPool? _pacing = pacing;
        private bool _heldSaid;

        /// <summary>The desired capacity to raise the group to: <paramref name="wanted"/>, less the launches the pool has
        /// no snapshot for yet. The snapshots for the launches it allows are taken from the estimate here, before the raise
        /// (the caller holds the capacity gate and raises at once).</summary>
        private int TakeSnapshotsForSurge(int wanted, AutoScalingGroup group)
        {
            lock (_sync)
            {
                var launches = wanted - Math.Max(_desired, group.DesiredCapacity);
                if (_pacing == null || launches <= 0)
                {
                    return wanted;
                }

                var taken = _pacing.Take(owner.Time.GetUtcNow(), launches);
                return wanted - (launches - taken);
            }
        }

        /// <summary>Whether cordoning the next node must wait for a launch that pacing holds: the capacity the group heads for
        /// (its desired capacity, less the nodes left blocked and the ones in progress) would not make the floor. Never true
        /// unpaced: desired capacity then always carries the surge the window needs.</summary>
        private bool HeldForSnapshots(IReadOnlySet<string> excluded, AutoScalingGroup group)
        {
            lock (_sync)
            {
                // A desired capacity above ours is someone else's: it brings capacity as a raise of ours would.
                return _pacing != null && Math.Max(_desired, group.DesiredCapacity) - _blocked.Count - excluded.Count < plan.CapacityFloor;
            }
        }

        /// <summary>Waits for the next snapshot the estimate expects, or for a step in progress to end (either can let the
        /// rollout go on).</summary>
        private async Task WaitForSnapshotAsync(IEnumerable<Task> inProgress, CancellationToken cancellationToken)
        {
            var now = owner.Time.GetUtcNow();
            DateTimeOffset? next;
            lock (_sync)
            {
                next = _pacing?.NextReady(now);
                if (next == null)
                {
                    _pacing = null;
                }
            }

            if (next is not { } due)
            {
                host.Warning($"{groupName}: -PaceToFastLaunch: the estimate expects no more pre-provisioned snapshots; the launches it held go now and boot the standard way.");
                return;
            }

            var message = $"waiting for an EC2 Fast Launch snapshot of {target} (-PaceToFastLaunch; the next is expected by {due:HH:mm:ss}Z)";
            if (!_heldSaid)
            {
                _heldSaid = true;
                host.Verbose($"{groupName}: {message}.");
            }

            host.Progress(new ProgressUpdate(ProgressRoot, Activity, message, Math.Min(99, 100 * _replaced / Math.Max(1, plan.NodesToReplace))));
            using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var delay = Task.Delay(due - now > Recheck ? due - now : Recheck, owner.Time, wake.Token);
            await Task.WhenAny(inProgress.Append(delay)).ConfigureAwait(false);
            await wake.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }
}
