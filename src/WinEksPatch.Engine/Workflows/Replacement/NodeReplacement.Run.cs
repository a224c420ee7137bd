using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Workflows.FastLaunch;

namespace WinEksPatch.Workflows.Replacement;

public sealed partial class NodeReplacement
{
    /// <summary>One execution of a rollout: the batch loop and its bookkeeping.</summary>
    private sealed partial class Run(
        NodeReplacement owner,
        string clusterName,
        string nodeGroupName,
        string groupName,
        string target,
        RolloutState state,
        NodeReplacementPlan plan,
        ReplacementOptions options,
        IReadOnlyList<string> requiredResources,
        GroupShape shape,
        IKubernetesApi kubernetes,
        NodeTracker tracker,
        Dictionary<string, Ec2Instance> instances,
        FastLaunchPool? pacing,
        IWorkflowHost host)
    {
        private readonly HashSet<string> _pairedNewInstances = new(StringComparer.Ordinal);
        private readonly HashSet<string> _skipped = new(StringComparer.Ordinal);
        private readonly HashSet<string> _terminated = new(StringComparer.Ordinal);
        private readonly object _sync = new();
        // Serializes changes of the group's desired capacity (the loop's raise, a step's terminate with decrement).
        private readonly SemaphoreSlim _capacityChange = new(1, 1);
        private readonly HashSet<string> _pendingOld = new(StringComparer.Ordinal);
        // What this run did to each old node it touched, so that an error or a stop states it truthfully.
        private readonly Dictionary<string, string> _stages = new(StringComparer.Ordinal);
        private int _desired;
        private int _replaced;
        private int _child = 10;
        private readonly BootReader _boots = new(owner.Ec2, kubernetes, tracker, requiredResources, host);
        private readonly DateTimeOffset _started = owner.Time.GetUtcNow();

        // Old nodes left cordoned because their drain could not finish (-BlockedNodeAction Skip), with why.
        private readonly Dictionary<string, string> _blocked = new(StringComparer.Ordinal);

        /// <summary>The label a node left blocked by -BlockedNodeAction Skip carries (value "blocked").</summary>
        public const string DrainStatusLabel = "winekspatch.io/drain-status";

        /// <summary>The desired capacity the group comes back to as old nodes go: its own, plus one for each node left blocked
        /// (cordoned, it serves no new pod, so its replacement stays and the floor holds). Read under _sync.</summary>
        private int Baseline => state.Desired + _blocked.Count;

        /// <summary>Old nodes left cordoned and labelled by -BlockedNodeAction Skip, each with what blocked its drain.</summary>
        public IReadOnlyList<string> Blocked
        {
            get
            {
                lock (_sync)
                {
                    return _blocked.OrderBy(b => b.Key, StringComparer.Ordinal).Select(b => b.Value).ToList();
                }
            }
        }

        /// <summary>Old instances declined at the confirmation prompt (left as they were).</summary>
        public IReadOnlyList<string> Skipped
        {
            get
            {
                lock (_sync)
                {
                    return [.. _skipped];
                }
            }
        }

        private void Stage(string instanceId, string stage)
        {
            lock (_sync)
            {
                _stages[instanceId] = stage;
            }
        }

        /// <summary>The true state of every old node this run touched, for an error or a stop.</summary>
        private string DescribeStages()
        {
            lock (_sync)
            {
                return _stages.Count == 0
                    ? "No old node was cordoned, drained or terminated by this run: the group's capacity is intact."
                    : $"Old nodes this run touched: {string.Join("; ", _stages.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} {s.Value}"))}; every other node is untouched.";
            }
        }

        /// <summary>
        /// Runs the rollout with every node step under one cancellation scope: on a failure or a stop (Ctrl+C, the lease
        /// lost) the steps still in flight are cancelled and awaited before this returns, so nothing outlives the cmdlet,
        /// and the error (or, for a stop, a warning) states each touched node's true state.
        /// </summary>
        public async Task ExecuteAsync(int total, CancellationToken cancellationToken)
        {
            using var steps = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var running = new Dictionary<string, Task<NodeStep>>(StringComparer.Ordinal);
            try
            {
                await SlideAsync(total, running, steps.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WinEksPatchException or OperationCanceledException)
            {
                await steps.CancelAsync().ConfigureAwait(false);
                foreach (var step in running.Values)
                {
                    try
                    {
                        await step.ConfigureAwait(false);
                    }
                    catch (Exception inFlight) when (inFlight is WinEksPatchException or OperationCanceledException)
                    {
                        // cancelled with the rest; its node's stage says where it stopped
                    }
                }

                if (ex is WinEksPatchException error)
                {
                    // The nodes replaced before the failure still get their first workload pod (one list, never a new failure).
                    await _boots.CompleteAsync(cancellationToken.IsCancellationRequested ? CancellationToken.None : cancellationToken).ConfigureAwait(false);
                    throw new WinEksPatchException(error.ErrorId, error.Kind, $"{error.Message} {DescribeStages()}", error.Target, error.InnerException)
                    {
                        AwsErrorCode = error.AwsErrorCode,
                        RequestId = error.RequestId,
                    };
                }

                host.Warning($"{clusterName}/{nodeGroupName}: the rollout stopped. {DescribeStages()} Run the same command again to continue where it stopped.");
                throw;
            }
        }

        private string Activity => $"Replacing nodes of {clusterName}/{nodeGroupName}";

        /// <summary>
        /// A sliding window rather than batches with a barrier: at most MaxSurge + MaxUnavailable old nodes are in
        /// progress; the next one is cordoned as soon as enough usable nodes remain outside the ones in progress (the
        /// floor), and each is terminated as soon as it is drained. While old nodes remain, the group keeps its surge
        /// (terminations without decrement make it launch the next new node at once); the last terminations shrink it back.
        /// </summary>
        private async Task SlideAsync(int total, Dictionary<string, Task<NodeStep>> running, CancellationToken cancellationToken)
        {
            var drainer = new Drainer(kubernetes, owner.Time, name => tracker.Nodes.FirstOrDefault(n => n.Name == name) is { Ready: false });
            var failures = new List<NodeStep>();
            var group = await GroupLookup.ReadAsync(owner.AutoScaling, groupName, cancellationToken).ConfigureAwait(false);
            _desired = group.DesiredCapacity;
            var sequence = 0;
            var launchesDue = owner.Time.GetUtcNow() + options.ReadyTimeout + shape.LaunchWait;
            while (true)
            {
                await owner.LearnInstancesAsync(instances, group.Instances.Select(i => i.InstanceId), cancellationToken).ConfigureAwait(false);
                await KeepStateTagAsync(group, cancellationToken).ConfigureAwait(false);
                var waiting = Waiting(group, running);
                // -NodeLimit (a fleet plan's canary): no more steps start once that many have; the rest keep their AMI.
                var toStart = options.NodeLimit is int limit ? waiting.Take(Math.Max(0, limit - sequence)).ToList() : waiting;
                // In progress: every step not finished, each awaited before the rollout ends. Active: those whose old instance
                // is not terminated yet. A step whose old instance is terminated holds no surge slot and no window place, even
                // while it still reads its new node's boot: counted, it would raise desired capacity again and launch a node
                // too many.
                var inProgress = running.Where(r => !r.Value.IsCompleted).Select(r => r.Key).ToList();
                HashSet<string> active;
                lock (_sync)
                {
                    _pendingOld.UnionWith(toStart.Select(i => i.InstanceId)); // old instances to replace, not yet terminated
                    active = inProgress.Where(id => !_terminated.Contains(id)).ToHashSet(StringComparer.Ordinal);
                }

                RequireSizesAsPlanned(group);
                if (failures.Count == 0 && toStart.Count > 0 && active.Count < plan.Window)
                {
                    // Keep the surge while old nodes remain. A re-run finds it already there and launches nothing more.
                    // Never below what the group has now: lowering desired lets Auto Scaling pick an instance to kill, and
                    // a value above ours is someone else's (or a termination with decrement still on its way).
                    // One desired-capacity change at a time: a step's termination with decrement (TerminateAsync) must not
                    // land between this decision and its call, or the group would end a node short of what _desired says.
                    await _capacityChange.WaitAsync(cancellationToken).ConfigureAwait(false);
                    try
                    {
                        int baseline;
                        int current;
                        lock (_sync)
                        {
                            baseline = Baseline;
                            current = _desired;
                        }

                        var wanted = TakeSnapshotsForSurge(baseline + Math.Min(plan.MaxSurge, toStart.Count + active.Count), group);
                        if (current < wanted && group.DesiredCapacity < wanted)
                        {
                            if (group.MaxSize < wanted)
                            {
                                await owner.AutoScaling.UpdateAutoScalingGroupAsync(groupName, maxSize: wanted, cancellationToken: cancellationToken).ConfigureAwait(false);
                            }

                            await owner.AutoScaling.SetDesiredCapacityAsync(groupName, wanted, cancellationToken).ConfigureAwait(false);
                            host.Verbose($"Desired capacity {current} -> {wanted}.");
                            lock (_sync)
                            {
                                _desired = wanted;
                            }
                        }
                    }
                    finally
                    {
                        _capacityChange.Release();
                    }

                    // Cordoning the next one must leave the floor usable outside everything in progress.
                    var next = toStart[0];
                    var excluded = active.Append(next.InstanceId).ToHashSet(StringComparer.Ordinal);
                    if (HeldForSnapshots(excluded, group))
                    {
                        await WaitForSnapshotAsync(inProgress.Select(id => running[id]), cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await WaitForCapacityAsync(group, plan.CapacityFloor, excluded, cancellationToken).ConfigureAwait(false);
                        sequence++;
                        host.Progress(new ProgressUpdate(ProgressRoot, Activity, $"node {sequence} of {total}: {next.InstanceId}",
                            total == 0 ? -1 : Math.Min(99, 100 * _replaced / Math.Max(1, total))));
                        running[next.InstanceId] = ReplaceAndTerminateAsync(((sequence - 1) / plan.Window) + 1, next, drainer, cancellationToken);
                    }
                }
                else if (inProgress.Count > 0)
                {
                    await Task.WhenAny(inProgress.Select(id => running[id])).ConfigureAwait(false);
                }
                else if (failures.Count == 0 && toStart.Count == 0 && LaunchingOld(group) is { Count: > 0 } launching && owner.Time.GetUtcNow() < launchesDue)
                {
                    // An old-AMI launch in flight (started before the launch template changed, or held by a launch hook): it is
                    // replaced like the others once it is in service, rather than left behind in a group called patched.
                    host.Verbose($"{groupName}: waiting for {Summary(launching)}, launched from the old AMI, to be in service, to replace it too.");
                    await Task.Delay(Recheck, owner.Time, cancellationToken).ConfigureAwait(false);
                }
                else if (failures.Count == 0 && toStart.Count == 0)
                {
                    if (LaunchingOld(group) is { Count: > 0 } stillLaunching)
                    {
                        throw new WinEksPatchException(ErrorIds.NodeGroupInstancesOutOfService, ErrorKind.OperationTimeout,
                            $"{groupName}: {Summary(stillLaunching)}, launched from the old AMI, did not come into service within {options.ReadyTimeout + shape.LaunchWait} " +
                            "(-ReadyTimeout plus the launch lifecycle hooks' heartbeat timeout), so they were not replaced; every other node was. " +
                            "Run the same command again once they are in service (or gone).", groupName);
                    }

                    // Done: the group whole again, and the terminated instances' nodes gone, so what comes next sees the new fleet.
                    await WaitForCapacityAsync(group, state.Desired, new HashSet<string>(), cancellationToken).ConfigureAwait(false);
                    await WaitForTerminationsAsync(cancellationToken).ConfigureAwait(false);
                    await _boots.CompleteAsync(cancellationToken).ConfigureAwait(false);
                    return;
                }

                // Collect what finished: a failure stops new work; what is in progress still completes.
                foreach (var (id, task) in running.Where(r => r.Value.IsCompleted).ToList())
                {
                    running.Remove(id);
                    var step = await task.ConfigureAwait(false);
                    if (step.Outcome is ReplacementOutcome.Failed or ReplacementOutcome.DrainTimedOut)
                    {
                        failures.Add(step);
                        host.Output(step.Result);
                    }
                }

                if (failures.Count > 0 && running.Count == 0)
                {
                    throw failures[0].Error ?? new WinEksPatchException(ErrorIds.DrainTimeout, ErrorKind.OperationTimeout,
                        $"The rollout stopped: {string.Join("; ", failures.Select(f => $"{f.Result.OldInstanceId}: {f.Outcome}"))}.", groupName);
                }

                group = await GroupLookup.ReadAsync(owner.AutoScaling, groupName, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>Instances of the group still launching (Pending, or held by a launch hook) from an AMI other than the target.</summary>
        private List<string> LaunchingOld(AutoScalingGroup group) =>
            group.Instances.Where(i => i.LifecycleState?.StartsWith("Pending", StringComparison.Ordinal) == true
                    && instances.GetValueOrDefault(i.InstanceId)?.ImageId is { } ami && ami != target)
                .Select(i => $"{i.InstanceId} ({i.LifecycleState})")
                .ToList();

        /// <summary>Waits until the nodes of the instances this run terminated are gone: each instance first waits on the
        /// group's termination lifecycle hooks (named while it waits), up to their heartbeat timeout, then shuts down. An
        /// instance still there after that is named in a warning: it was drained, so nothing depends on it.</summary>
        private async Task WaitForTerminationsAsync(CancellationToken cancellationToken)
        {
            var terminated = _terminated.ToHashSet(StringComparer.Ordinal);
            bool Leaving(KubeNode n) => n.InstanceId != null && terminated.Contains(n.InstanceId);
            var hooks = shape.TerminationHooks;
            if (hooks.Count > 0 && tracker.Nodes.Any(Leaving))
            {
                var message = $"waiting for lifecycle hook(s) {string.Join(", ", hooks.Select(h => h.Name))} to let {Summary(tracker.Nodes.Where(Leaving).Select(n => n.InstanceId!))} " +
                    $"go (up to {shape.TerminationWait})";
                host.Verbose($"{groupName}: {message}.");
                host.Progress(new ProgressUpdate(ProgressRoot, Activity, message, 99));
            }

            if (!await tracker.WaitUntilAsync(nodes => !nodes.Any(Leaving), options.ReadyTimeout + shape.TerminationWait, Recheck, cancellationToken).ConfigureAwait(false))
            {
                host.Warning($"{groupName}: {Summary(tracker.Nodes.Where(Leaving).Select(n => $"{n.InstanceId} ({n.Name})"))} did not go within " +
                    $"{options.ReadyTimeout + shape.TerminationWait} of their termination" + (hooks.Count > 0 ? $" (lifecycle hooks: {string.Join(", ", hooks.Select(h => h.Name))})" : "") +
                    "; they were drained first, so no workload depends on them.");
            }
        }

        /// <summary>The group's state tag is this run's while it runs: infrastructure as code that reconciles tags may remove
        /// or rewrite it mid-rollout, and a crash then would leave a re-run without (or with a wrong) size to come back to.
        /// Put back at once, with a warning; the run itself goes on from its own copy, so nothing surges twice.</summary>
        private async Task KeepStateTagAsync(AutoScalingGroup group, CancellationToken cancellationToken)
        {
            var expected = state.Serialize();
            var found = group.Tags.GetValueOrDefault(RolloutState.GroupTag);
            if (found == expected)
            {
                return;
            }

            host.Warning($"{groupName}: its {RolloutState.GroupTag} tag was {(found == null ? "removed" : $"changed to '{found}'")} by someone else during the rollout " +
                "(infrastructure as code reconciling tags?); this run put it back, so a stopped run can still be continued. Exclude the tag from your tag management.");
            await owner.AutoScaling.CreateOrUpdateTagsAsync(groupName, new Dictionary<string, string> { [RolloutState.GroupTag] = expected }, cancellationToken)
                .ConfigureAwait(false);
        }
    }
}
