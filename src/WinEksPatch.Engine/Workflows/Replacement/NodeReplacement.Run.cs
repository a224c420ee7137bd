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
                // In progress: every step not finished, each awaited before the rollout ends. Active: those whose old instance
                // is not terminated yet. A step whose old instance is terminated holds no surge slot and no window place, even
                // while it still reads its new node's boot: counted, it would raise desired capacity again and launch a node
                // too many.
                var inProgress = running.Where(r => !r.Value.IsCompleted).Select(r => r.Key).ToList();
                HashSet<string> active;
                lock (_sync)
                {
                    _pendingOld.UnionWith(waiting.Select(i => i.InstanceId)); // old instances not yet terminated
                    active = inProgress.Where(id => !_terminated.Contains(id)).ToHashSet(StringComparer.Ordinal);
                }

                RequireSizesAsPlanned(group);
                if (failures.Count == 0 && waiting.Count > 0 && active.Count < plan.Window)
                {
                    // Keep the surge while old nodes remain. A re-run finds it already there and launches nothing more.
                    // Never below what the group has now: lowering desired lets Auto Scaling pick an instance to kill, and
                    // a value above ours is someone else's (or a termination with decrement still on its way).
                    int baseline;
                    lock (_sync)
                    {
                        baseline = Baseline;
                    }

                    var wanted = PacedSurge(baseline + Math.Min(plan.MaxSurge, waiting.Count + active.Count), group);
                    if (_desired < wanted && group.DesiredCapacity < wanted)
                    {
                        if (group.MaxSize < wanted)
                        {
                            await owner.AutoScaling.UpdateAutoScalingGroupAsync(groupName, maxSize: wanted, cancellationToken: cancellationToken).ConfigureAwait(false);
                        }

                        await owner.AutoScaling.SetDesiredCapacityAsync(groupName, wanted, cancellationToken).ConfigureAwait(false);
                        host.Verbose($"Desired capacity {_desired} -> {wanted}.");
                        _desired = wanted;
                    }

                    // Cordoning the next one must leave the floor usable outside everything in progress.
                    var next = waiting[0];
                    var excluded = active.Append(next.InstanceId).ToHashSet(StringComparer.Ordinal);
                    if (HeldForSnapshots(excluded))
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
                else if (failures.Count == 0 && waiting.Count == 0 && LaunchingOld(group) is { Count: > 0 } launching && owner.Time.GetUtcNow() < launchesDue)
                {
                    // An old-AMI launch in flight (started before the launch template changed, or held by a launch hook): it is
                    // replaced like the others once it is in service, rather than left behind in a group called patched.
                    host.Verbose($"{groupName}: waiting for {Summary(launching)}, launched from the old AMI, to be in service, to replace it too.");
                    await Task.Delay(Recheck, owner.Time, cancellationToken).ConfigureAwait(false);
                }
                else if (failures.Count == 0 && waiting.Count == 0)
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

        /// <summary>Cordons, drains and (when drained) terminates one old node; the surge shrinks back only for the last ones.</summary>
        private async Task<NodeStep> ReplaceAndTerminateAsync(int batch, Ec2Instance instance, Drainer drainer, CancellationToken cancellationToken)
        {
            var step = await ReplaceAsync(batch, instance, drainer, cancellationToken).ConfigureAwait(false);
            if (step.Outcome is not (ReplacementOutcome.Replaced or ReplacementOutcome.ReplacedPodsDeleted))
            {
                return step;
            }

            await TerminateAsync(instance.InstanceId, drainedOld: true, cancellationToken).ConfigureAwait(false);
            Stage(instance.InstanceId, "terminated (drained first)");
            KubeNode? replacement;
            lock (_sync)
            {
                _terminated.Add(instance.InstanceId);
                _replaced++;
                replacement = PairNew();
            }

            var result = replacement is null ? step.Result : await WithReplacementAsync(step.Result, replacement, cancellationToken).ConfigureAwait(false);

            host.Output(result);
            host.Progress(new ProgressUpdate(step.ChildId, $"{instance.InstanceId} ({step.Result.OldNodeName})", "terminated", 100, ProgressRoot, Completed: true));
            return step;
        }

        /// <summary>
        /// Terminates an instance of the group, with decrement when that gives back a surge slot the rollout no longer
        /// needs: after a drained old instance (<paramref name="drainedOld"/>) the old ones left keep min(MaxSurge, left)
        /// slots; after a new one that never became usable, none. Never below the baseline, so the group does not shrink
        /// under its own size (without decrement Auto Scaling launches a replacement).
        /// </summary>
        private async Task TerminateAsync(string instanceId, bool drainedOld, CancellationToken cancellationToken)
        {
            bool decrement;
            lock (_sync)
            {
                if (drainedOld)
                {
                    _pendingOld.Remove(instanceId);
                }

                decrement = _desired > Baseline + (drainedOld ? Math.Min(plan.MaxSurge, _pendingOld.Count) : 0);
                // Without decrement Auto Scaling launches a replacement at once: paced, only with a snapshot for it; the loop
                // raises desired capacity again when the next one is due.
                if (!decrement && drainedOld && _pacing != null && _pacing.Take(owner.Time.GetUtcNow(), 1) == 0)
                {
                    decrement = _desired > Baseline;
                }

                if (decrement)
                {
                    _desired--;
                }
            }

            await owner.AutoScaling.TerminateInstanceInAutoScalingGroupAsync(instanceId, decrement, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>The new node that took an old one's place: a node of the group on the target AMI not yet paired (nodes of
        /// other groups on the same AMI are learned too, to tell them apart), the one usable longest
        /// (first come, first paired: the capacity the drain waited for), else the newest (under _sync).</summary>
        private KubeNode? PairNew()
        {
            var unpaired = tracker.Nodes
                .Where(n => n.InstanceId != null && instances.TryGetValue(n.InstanceId, out var i) && i.ImageId == target
                    && i.Tags.GetValueOrDefault(GroupNameTag) == groupName && !_pairedNewInstances.Contains(n.InstanceId))
                .ToList();
            // Launched by this run first (a re-run's replacements may come from the run it continues: then the newest).
            var launchedNow = unpaired.Where(n => instances[n.InstanceId!].LaunchTime >= _started).ToList();
            var candidate = launchedNow.Select(n => (Node: n, Since: tracker.UsableSince(n, requiredResources))).Where(c => c.Since != null)
                    .OrderBy(c => c.Since).Select(c => c.Node).FirstOrDefault()
                ?? unpaired.OrderByDescending(n => instances[n.InstanceId!].LaunchTime).FirstOrDefault();
            if (candidate?.InstanceId != null)
            {
                _pairedNewInstances.Add(candidate.InstanceId);
            }

            return candidate?.InstanceId == null ? null : candidate;
        }

        /// <summary>The result with the new node named, and how it came into service.</summary>
        private async Task<NodeReplacementResult> WithReplacementAsync(NodeReplacementResult result, KubeNode candidate, CancellationToken cancellationToken)
        {
            var paired = new NodeReplacementResult
            {
                ClusterName = result.ClusterName,
                NodeGroupName = result.NodeGroupName,
                Batch = result.Batch,
                OldNodeName = result.OldNodeName,
                OldInstanceId = result.OldInstanceId,
                OldImageId = result.OldImageId,
                NewNodeName = candidate.Name,
                NewInstanceId = candidate.InstanceId,
                NewImageId = target,
                Outcome = result.Outcome,
                PodsEvicted = result.PodsEvicted,
                PodsDeleted = result.PodsDeleted,
                DrainDuration = result.DrainDuration,
                Blockers = result.Blockers,
            };
            return await _boots.ReadAsync(paired, candidate, instances.GetValueOrDefault(candidate.InstanceId!), cancellationToken).ConfigureAwait(false);
        }

        private sealed record NodeStep(NodeReplacementResult Result, ReplacementOutcome Outcome, int ChildId, WinEksPatchException? Error);

        private async Task<NodeStep> ReplaceAsync(int batch, Ec2Instance instance, Drainer drainer, CancellationToken cancellationToken)
        {
            var child = Interlocked.Increment(ref _child);
            var node = tracker.Nodes.FirstOrDefault(n => n.InstanceId == instance.InstanceId);
            var title = $"{instance.InstanceId} ({node?.Name ?? "no node"})";
            NodeReplacementResult Result(ReplacementOutcome outcome, DrainOutcome? drain) => new()
            {
                ClusterName = clusterName,
                NodeGroupName = nodeGroupName,
                Batch = batch,
                OldNodeName = node?.Name,
                OldInstanceId = instance.InstanceId,
                OldImageId = instance.ImageId,
                Outcome = outcome,
                PodsEvicted = drain?.Evicted ?? 0,
                PodsDeleted = drain?.Deleted ?? [],
                DrainDuration = drain?.Duration ?? TimeSpan.Zero,
                Blockers = drain?.Blockers ?? [],
            };

            if (!await host.ShouldProcessAsync(title, $"Cordon, drain and terminate (replaced by {target})").ConfigureAwait(false))
            {
                lock (_sync)
                {
                    _skipped.Add(instance.InstanceId);
                    _pendingOld.Remove(instance.InstanceId); // it stays: no surge slot is kept for it
                }

                return new NodeStep(Result(ReplacementOutcome.Skipped, null), ReplacementOutcome.Skipped, child, null);
            }

            if (node == null)
            {
                // An instance that never registered holds no pods: nothing to drain.
                await owner.Ec2.CreateTagsAsync([instance.InstanceId], new Dictionary<string, string> { [RolloutState.InstanceTag] = RolloutState.Drained }, cancellationToken).ConfigureAwait(false);
                return new NodeStep(Result(ReplacementOutcome.Replaced, null), ReplacementOutcome.Replaced, child, null);
            }

            host.Progress(new ProgressUpdate(child, title, "cordoning", 10, ProgressRoot));
            var drainTimeout = options.DrainTimeout;
            if (!instance.Tags.TryGetValue(RolloutState.InstanceTag, out var drainTag))
            {
                await owner.Ec2.CreateTagsAsync([instance.InstanceId], new Dictionary<string, string> { [RolloutState.InstanceTag] = RolloutState.DrainingSince(owner.Time.GetUtcNow()) },
                    cancellationToken).ConfigureAwait(false);
            }
            else if (RolloutState.DrainStartedAt(drainTag) is { } began && owner.Time.GetUtcNow() - began is var spent && spent < 2 * options.DrainTimeout)
            {
                // The drain began in an earlier run that was cut short (the runbook's previous round, Ctrl+C): it keeps the
                // deadline it had then. A drain abandoned longer ago than that (a re-run days later) starts afresh, and a
                // start time in the future (a clock or a tag that is wrong) counts as now.
                spent = spent < TimeSpan.Zero ? TimeSpan.Zero : spent;
                drainTimeout = spent >= options.DrainTimeout ? TimeSpan.Zero : options.DrainTimeout - spent;
                host.Verbose($"{node.Name}: its drain began at {began:u} in an earlier run; {drainTimeout:hh\\:mm\\:ss} of the drain timeout ({options.DrainTimeout}) is left.");
            }

            await kubernetes.SetUnschedulableAsync(node.Name, true, cancellationToken).ConfigureAwait(false);
            Stage(instance.InstanceId, $"({node.Name}) cordoned, not fully drained (its drain tag makes a re-run finish it first)");
            host.Progress(new ProgressUpdate(child, title, "draining", 30, ProgressRoot));
            DrainOutcome drain;
            try
            {
                drain = await drainer.DrainAsync(node.Name, drainTimeout, options.Overrides, message =>
                {
                    host.Verbose($"{node.Name}: {message}");
                    host.Progress(new ProgressUpdate(child, title, "draining", 50, ProgressRoot, CurrentOperation: message));
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (WinEksPatchException ex) when (options.BlockedNodeAction == BlockedNodeAction.Skip
                && ex.ErrorId is ErrorIds.DrainRefused or ErrorIds.MultiplePodDisruptionBudgets)
            {
                return await LeaveBlockedAsync(instance, node, ex.Message, Result(ReplacementOutcome.DrainBlocked, null), child, title, cancellationToken).ConfigureAwait(false);
            }
            catch (WinEksPatchException ex)
            {
                await kubernetes.SetUnschedulableAsync(node.Name, false, cancellationToken).ConfigureAwait(false);
                Stage(instance.InstanceId, $"({node.Name}) uncordoned and kept (its drain failed)");
                host.Progress(new ProgressUpdate(child, title, "failed", 100, ProgressRoot, Completed: true));
                return new NodeStep(Result(ReplacementOutcome.Failed, null), ReplacementOutcome.Failed, child, ex);
            }

            if (!drain.Completed && options.BlockedNodeAction == BlockedNodeAction.Skip)
            {
                return await LeaveBlockedAsync(instance, node, $"its drain did not finish within {options.DrainTimeout}: blocked by {string.Join("; ", drain.Blockers)}",
                    Result(ReplacementOutcome.DrainBlocked, drain), child, title, cancellationToken).ConfigureAwait(false);
            }

            if (!drain.Completed)
            {
                // Not forced: give the node back to the scheduler and stop with the blockers named.
                await kubernetes.SetUnschedulableAsync(node.Name, false, cancellationToken).ConfigureAwait(false);
                await owner.Ec2.DeleteTagsAsync([instance.InstanceId], [RolloutState.InstanceTag], cancellationToken).ConfigureAwait(false);
                Stage(instance.InstanceId, $"({node.Name}) uncordoned and kept (its drain timed out)");
                host.Progress(new ProgressUpdate(child, title, "drain timed out", 100, ProgressRoot, Completed: true));
                var error = new WinEksPatchException(ErrorIds.DrainTimeout, ErrorKind.OperationTimeout,
                    $"Draining {node.Name} ({instance.InstanceId}) did not finish within {options.DrainTimeout}: blocked by {string.Join("; ", drain.Blockers)}. " +
                    "The node was uncordoned and kept; the rollout stopped here. Re-run when the budgets allow it, give more time with -DrainTimeout, " +
                    "go on with the other nodes with -BlockedNodeAction Skip, or pass -OverridePodDisruptionBudget to delete what is still blocked.",
                    instance.InstanceId);
                return new NodeStep(Result(ReplacementOutcome.DrainTimedOut, drain), ReplacementOutcome.DrainTimedOut, child, error);
            }

            await owner.Ec2.CreateTagsAsync([instance.InstanceId], new Dictionary<string, string> { [RolloutState.InstanceTag] = RolloutState.Drained }, cancellationToken).ConfigureAwait(false);
            Stage(instance.InstanceId, $"({node.Name}) drained, not terminated (a re-run terminates it)");
            host.Progress(new ProgressUpdate(child, title, "terminating", 90, ProgressRoot));
            var outcome = drain.Deleted.Count > 0 ? ReplacementOutcome.ReplacedPodsDeleted : ReplacementOutcome.Replaced;
            return new NodeStep(Result(outcome, drain), outcome, child, null);
        }

        /// <summary>
        /// -BlockedNodeAction Skip: the node stays cordoned (its pods keep running; nothing new lands there) and is labelled,
        /// its drain tag stays (so a re-run drains it first), and it keeps its surge slot, so the replacement already
        /// launched for it stays and the floor holds while the other nodes go on. The result says what blocked it.
        /// </summary>
        private async Task<NodeStep> LeaveBlockedAsync(Ec2Instance instance, KubeNode node, string reason, NodeReplacementResult result, int child, string title,
            CancellationToken cancellationToken)
        {
            await kubernetes.SetNodeLabelAsync(node.Name, DrainStatusLabel, "blocked", cancellationToken).ConfigureAwait(false);
            // This drain ended (blocked), it was not interrupted: the drain tag loses its start time, so the run that
            // comes back for the node once the budget allows it drains with a whole -DrainTimeout of its own.
            await owner.Ec2.CreateTagsAsync([instance.InstanceId], new Dictionary<string, string> { [RolloutState.InstanceTag] = RolloutState.Draining }, cancellationToken)
                .ConfigureAwait(false);
            lock (_sync)
            {
                _skipped.Add(instance.InstanceId); // not taken again by this run
                _pendingOld.Remove(instance.InstanceId);
                _blocked[instance.InstanceId] = $"{node.Name} ({instance.InstanceId}): {reason}"; // and it keeps its replacement (Baseline)
            }

            Stage(instance.InstanceId, $"({node.Name}) left cordoned and labelled {DrainStatusLabel}=blocked (-BlockedNodeAction Skip)");
            host.Warning($"{node.Name} ({instance.InstanceId}) is left cordoned and labelled {DrainStatusLabel}=blocked, and the rollout goes on with the other nodes: {reason}");
            host.Progress(new ProgressUpdate(child, title, "blocked: left cordoned", 100, ProgressRoot, Completed: true));
            host.Output(result);
            return new NodeStep(result, ReplacementOutcome.DrainBlocked, child, null);
        }
    }
}
