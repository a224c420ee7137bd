using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>What Invoke-NodeReplacement was asked for.</summary>
public sealed record ReplacementOptions(
    string MaxSurge,
    string MaxUnavailable,
    TimeSpan DrainTimeout,
    TimeSpan ReadyTimeout,
    bool Force,
    bool WhatIf,
    bool LimitsGiven = false)
{
    /// <summary>How long a new node must have stayed Ready before it counts (-MinReadyTime; for user data that restarts a
    /// node after it joined). Zero by default: usability comes from the node's own signals, see NodeTracker.IsUsable.</summary>
    public TimeSpan MinReadyTime { get; init; } = TimeSpan.Zero;

    /// <summary>With WhatIf: plan for this AMI rather than the one the group's launch template names (Invoke-WinEksPatch
    /// -WhatIf plans before Set-NodeGroupAmi has run); <see cref="AmiToBeBuilt"/> when the AMI does not exist yet.</summary>
    public string? PlannedImageId { get; init; }

    /// <summary>The planned AMI of Invoke-WinEksPatch -ImageSource Build -WhatIf: every node is replaced by it.</summary>
    public const string AmiToBeBuilt = "(the AMI New-WinNodeAmi builds)";

    /// <summary>The AMI a rollout replaces nodes with: under WhatIf the planned one if given, else the group's.</summary>
    internal string? TargetOr(string? groupTarget) => WhatIf && PlannedImageId != null ? PlannedImageId : groupTarget;

    /// <summary>The target AMI as EC2 describes it; null when it does not exist (yet: <see cref="AmiToBeBuilt"/>).</summary>
    internal static async Task<Ec2Image?> DescribeTargetAsync(IEc2Api ec2, string target, CancellationToken cancellationToken) =>
        target == AmiToBeBuilt ? null : (await ec2.DescribeImagesAsync([target], cancellationToken).ConfigureAwait(false)).SingleOrDefault();
}

/// <summary>
/// Invoke-NodeReplacement for self-managed groups: replaces every node whose instance does not run the group's target
/// AMI, batch by batch. Per batch: surge (desired up, max if needed), wait until the new nodes are usable (from a node
/// watch), cordon and drain the old nodes (evictions that honour PodDisruptionBudgets), terminate them through the Auto
/// Scaling group so desired comes back down. Capacity never drops below desired − MaxUnavailable usable nodes.
/// The rollout's state lives in tags (the group's original sizes and suspended processes; each old instance's drain
/// state), so a stopped or crashed rollout re-run with the same command continues: nothing launched twice, nothing
/// terminated that was not drained, suspended processes resumed at the end.
/// </summary>
public sealed class NodeReplacement(
    ClusterSnapshotReader reader,
    IEc2Api ec2Api,
    IAutoScalingApi autoScalingApi,
    IEksApi eks,
    Func<EksCluster, IKubernetesApi> kubernetesFor,
    AmiCatalog catalog,
    PatchCalendar calendar,
    TimeProvider timeProvider)
{
    // Properties rather than captured parameters: the nested Run uses them too.
    private IEc2Api Ec2 { get; } = ec2Api;

    private IAutoScalingApi AutoScaling { get; } = autoScalingApi;

    private TimeProvider Time { get; } = timeProvider;

    /// <summary>Processes that would fight a rollout: AZRebalance terminates instances to even out zones; scheduled
    /// actions and alarms change the desired capacity under it.</summary>
    public static readonly IReadOnlyList<string> ProcessesToSuspend = ["AZRebalance", "ScheduledActions", "AlarmNotification"];

    // How often a wait re-evaluates without a node event (settle periods end silently); local only, no API calls.
    private static readonly TimeSpan Recheck = TimeSpan.FromSeconds(5);

    /// <summary>The pod IPs EKS's VPC resource controller advertises for a Windows node.</summary>
    private const string PodIpsResource = "vpc.amazonaws.com/PrivateIPv4Address";
    private const int ProgressRoot = 1;

    public async Task RunAsync(string clusterName, string nodeGroupName, ReplacementOptions options, IWorkflowHost host, CancellationToken cancellationToken = default)
    {
        var snapshot = await reader.ReadAsync(clusterName, includeInstances: true, includePods: true, cancellationToken).ConfigureAwait(false);
        var facts = FleetInventory.SelectGroups(snapshot, [nodeGroupName], new ThrowingHost(host)).Single();
        if (facts.Kind == NodeGroupKind.Managed)
        {
            // EKS replaces managed nodes itself: plan, start or follow its update, and name what blocks it.
            await new ManagedUpdateFollower(eks, Ec2, catalog, calendar, Time).RunAsync(snapshot, facts, kubernetesFor(snapshot.Cluster), options, host, cancellationToken)
                .ConfigureAwait(false);
            return;
        }

        var group = facts.AutoScalingGroup!;
        var target = options.TargetOr(facts.TemplateVersion?.ImageId) ?? throw new WinEksPatchException(ErrorIds.NodeGroupHasNoLaunchTemplate, ErrorKind.InvalidOperation,
            $"Node group '{nodeGroupName}' has no launch template AMI to replace its nodes with.", nodeGroupName);
        var kubernetes = kubernetesFor(snapshot.Cluster);
        var amis = new Dictionary<string, Ec2Instance>(StringComparer.Ordinal);
        await LearnInstancesAsync(amis, group.Instances.Select(i => i.InstanceId), cancellationToken).ConfigureAwait(false);

        var state = RolloutState.Parse(group.Tags.GetValueOrDefault(RolloutState.GroupTag));
        var desired = state?.Desired ?? group.DesiredCapacity;
        var (surge, unavailable) = RolloutLimits.Resolve(options.MaxSurge, options.MaxUnavailable, desired);
        var old = OldInstances(group, amis, target);
        if (old.Count == 0 && state == null)
        {
            host.Verbose($"{clusterName}/{nodeGroupName}: every instance already runs {target}.");
            return;
        }

        var budgets = await kubernetes.ListPdbsAsync(cancellationToken).ConfigureAwait(false);
        var targetImage = await ReplacementOptions.DescribeTargetAsync(Ec2, target, cancellationToken).ConfigureAwait(false);
        var plan = ReplacementPlanner.Plan(snapshot, facts, target, old, desired, surge, unavailable, budgets, targetImage, calendar, state != null, options.Force);
        foreach (var finding in plan.Preflight)
        {
            host.Warning($"{finding.Kind} {finding.Subject}: {finding.Effect}");
        }

        if (options.WhatIf)
        {
            host.Output(plan);
            return;
        }

        if (!await host.ShouldProcessAsync($"{clusterName}/{nodeGroupName}",
                $"Replace {plan.NodesToReplace} node(s) with {target} in {plan.Batches.Count} batch(es) ({Summary(old.Select(o => o.InstanceId))}), never below {plan.CapacityFloor} usable node(s)").ConfigureAwait(false))
        {
            return;
        }

        var suspendedByUs = state?.Suspended ?? ProcessesToSuspend.Where(p => !group.SuspendedProcesses.Contains(p)).ToList();
        state ??= new RolloutState(target, desired, group.MaxSize, suspendedByUs);
        await AutoScaling.CreateOrUpdateTagsAsync(group.Name, new Dictionary<string, string> { [RolloutState.GroupTag] = (state with { TargetImageId = target }).Serialize() },
            cancellationToken).ConfigureAwait(false);
        if (suspendedByUs.Count > 0)
        {
            await AutoScaling.SuspendProcessesAsync(group.Name, suspendedByUs, cancellationToken).ConfigureAwait(false);
        }

        await using var tracker = new NodeTracker(kubernetes, Time);
        await tracker.StartAsync(cancellationToken).ConfigureAwait(false);
        var required = RequiredResources(tracker.Nodes, old);
        if (required.Count > 0)
        {
            host.Verbose($"New nodes count once Ready, schedulable and offering {string.Join(", ", required)}, as the nodes they replace do.");
        }

        var run = new Run(this, clusterName, nodeGroupName, group.Name, target, state, surge, unavailable, options, required, kubernetes, tracker, amis, host);
        await run.ExecuteAsync(plan.NodesToReplace, cancellationToken).ConfigureAwait(false);

        // Done: sizes back to what the group had, our suspensions lifted, the state tag gone.
        var final = (await AutoScaling.DescribeAutoScalingGroupsAsync([group.Name], cancellationToken: cancellationToken).ConfigureAwait(false)).Single();
        if (final.DesiredCapacity != state.Desired)
        {
            await AutoScaling.SetDesiredCapacityAsync(group.Name, state.Desired, cancellationToken).ConfigureAwait(false);
        }

        if (final.MaxSize != state.Max)
        {
            await AutoScaling.UpdateAutoScalingGroupAsync(group.Name, maxSize: state.Max, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        if (state.Suspended.Count > 0)
        {
            await AutoScaling.ResumeProcessesAsync(group.Name, state.Suspended, cancellationToken).ConfigureAwait(false);
        }

        await AutoScaling.DeleteTagsAsync(group.Name, [RolloutState.GroupTag], cancellationToken).ConfigureAwait(false);
        host.Progress(new ProgressUpdate(ProgressRoot, $"Replacing nodes of {clusterName}/{nodeGroupName}", "done", 100, Completed: true));
    }

    /// <summary>
    /// The extended resources every old node offers: a replacement is not usable before it offers them too. On EKS that is
    /// vpc.amazonaws.com/PrivateIPv4Address, the pod IPs the VPC resource controller advertises for a Windows node some
    /// seconds after it is Ready (every Windows pod requests one); device plugins' resources (GPUs) likewise.
    /// </summary>
    internal static IReadOnlyList<string> RequiredResources(IEnumerable<KubeNode> nodes, IEnumerable<Ec2Instance> old)
    {
        var ids = old.Select(i => i.InstanceId).ToHashSet(StringComparer.Ordinal);
        var oldNodes = nodes.Where(n => n.InstanceId != null && ids.Contains(n.InstanceId)).ToList();
        return oldNodes.Count == 0
            ? []
            : oldNodes.Skip(1).Aggregate((IEnumerable<string>)oldNodes[0].ExtendedResources, (common, n) => common.Intersect(n.ExtendedResources, StringComparer.Ordinal))
                .Order(StringComparer.Ordinal).ToList();
    }

    private static List<Ec2Instance> OldInstances(AutoScalingGroup group, IReadOnlyDictionary<string, Ec2Instance> amis, string target) =>
        group.Instances
            .Where(i => i.LifecycleState is "InService" && amis.TryGetValue(i.InstanceId, out var e) && e.ImageId != target)
            .Select(i => amis[i.InstanceId])
            .ToList();

    private async Task LearnInstancesAsync(Dictionary<string, Ec2Instance> known, IEnumerable<string> instanceIds, CancellationToken cancellationToken)
    {
        var unknown = instanceIds.Where(id => !known.ContainsKey(id)).Distinct(StringComparer.Ordinal).ToList();
        if (unknown.Count == 0)
        {
            return;
        }

        foreach (var instance in await Ec2.DescribeInstancesAsync(unknown, cancellationToken).ConfigureAwait(false))
        {
            known[instance.InstanceId] = instance;
        }
    }

    internal static string Summary(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count <= 3 ? string.Join(", ", list) : $"{string.Join(", ", list.Take(3))} (plus {list.Count - 3} more)";
    }

    /// <summary>One execution of a rollout: the batch loop and its bookkeeping.</summary>
    private sealed class Run(
        NodeReplacement owner,
        string clusterName,
        string nodeGroupName,
        string groupName,
        string target,
        RolloutState state,
        int surge,
        int unavailable,
        ReplacementOptions options,
        IReadOnlyList<string> requiredResources,
        IKubernetesApi kubernetes,
        NodeTracker tracker,
        Dictionary<string, Ec2Instance> instances,
        IWorkflowHost host)
    {
        private readonly HashSet<string> _pairedNewInstances = new(StringComparer.Ordinal);
        private readonly HashSet<string> _skipped = new(StringComparer.Ordinal);
        private readonly HashSet<string> _terminated = new(StringComparer.Ordinal);
        private readonly object _sync = new();
        private readonly HashSet<string> _pendingOld = new(StringComparer.Ordinal);
        private int _desired;
        private int _replaced;
        private int _child = 10;

        private string Activity => $"Replacing nodes of {clusterName}/{nodeGroupName}";

        /// <summary>
        /// A sliding window rather than batches with a barrier: at most MaxSurge + MaxUnavailable old nodes are in
        /// progress; the next one is cordoned as soon as enough usable nodes remain outside the ones in progress (the
        /// floor), and each is terminated as soon as it is drained. While old nodes remain, the group keeps its surge
        /// (terminations without decrement make it launch the next new node at once); the last terminations shrink it back.
        /// </summary>
        public async Task ExecuteAsync(int total, CancellationToken cancellationToken)
        {
            var drainer = new Drainer(kubernetes, owner.Time);
            var window = Math.Max(1, surge + unavailable);
            var running = new Dictionary<string, Task<NodeStep>>(StringComparer.Ordinal);
            var failures = new List<NodeStep>();
            var group = (await owner.AutoScaling.DescribeAutoScalingGroupsAsync([groupName], cancellationToken: cancellationToken).ConfigureAwait(false)).Single();
            _desired = group.DesiredCapacity;
            var sequence = 0;
            while (true)
            {
                await owner.LearnInstancesAsync(instances, group.Instances.Select(i => i.InstanceId), cancellationToken).ConfigureAwait(false);
                var waiting = OldInstances(group, instances, target)
                    .Where(i => !_skipped.Contains(i.InstanceId) && !running.ContainsKey(i.InstanceId) && !_terminated.Contains(i.InstanceId))
                    .OrderByDescending(i => i.Tags.ContainsKey(RolloutState.InstanceTag)) // resume: nodes already being drained first
                    .ThenBy(i => i.LaunchTime)
                    .ToList();
                var active = running.Where(r => !r.Value.IsCompleted).Select(r => r.Key).ToHashSet(StringComparer.Ordinal);
                lock (_sync)
                {
                    _pendingOld.UnionWith(waiting.Select(i => i.InstanceId)); // old instances not yet terminated
                }

                if (failures.Count == 0 && waiting.Count > 0 && active.Count < window)
                {
                    // Keep the surge while old nodes remain. A re-run finds it already there and launches nothing more.
                    var wanted = state.Desired + Math.Min(surge, waiting.Count + active.Count);
                    if (_desired < wanted)
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
                    await WaitForCapacityAsync(group, state.Desired - unavailable, excluded, cancellationToken).ConfigureAwait(false);
                    sequence++;
                    host.Progress(new ProgressUpdate(ProgressRoot, Activity, $"node {sequence} of {total}: {next.InstanceId}",
                        total == 0 ? -1 : Math.Min(99, 100 * _replaced / Math.Max(1, total))));
                    running[next.InstanceId] = ReplaceAndTerminateAsync(((sequence - 1) / window) + 1, next, drainer, cancellationToken);
                }
                else if (active.Count > 0)
                {
                    await Task.WhenAny(active.Select(id => running[id])).ConfigureAwait(false);
                }
                else if (failures.Count == 0 && waiting.Count == 0)
                {
                    // Done: the group whole again, and the terminated instances' nodes gone, so what comes next sees the new fleet.
                    await WaitForCapacityAsync(group, state.Desired, new HashSet<string>(), cancellationToken).ConfigureAwait(false);
                    var terminated = _terminated.ToHashSet(StringComparer.Ordinal);
                    await tracker.WaitUntilAsync(nodes => !nodes.Any(n => n.InstanceId != null && terminated.Contains(n.InstanceId)),
                        options.ReadyTimeout, Recheck, cancellationToken).ConfigureAwait(false);
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

                group = (await owner.AutoScaling.DescribeAutoScalingGroupsAsync([groupName], cancellationToken: cancellationToken).ConfigureAwait(false)).Single();
            }
        }

        /// <summary>Cordons, drains and (when drained) terminates one old node; the surge shrinks back only for the last ones.</summary>
        private async Task<NodeStep> ReplaceAndTerminateAsync(int batch, Ec2Instance instance, Drainer drainer, CancellationToken cancellationToken)
        {
            var step = await ReplaceAsync(batch, instance, drainer, cancellationToken).ConfigureAwait(false);
            if (step.Outcome is not (ReplacementOutcome.Replaced or ReplacementOutcome.ReplacedWithForce))
            {
                return step;
            }

            bool decrement;
            lock (_sync)
            {
                // After this one, the old nodes left need min(MaxSurge, left) surge slots; give back any above that.
                _pendingOld.Remove(instance.InstanceId);
                decrement = _desired > state.Desired + Math.Min(surge, _pendingOld.Count);
                if (decrement)
                {
                    _desired--;
                }
            }

            await owner.AutoScaling.TerminateInstanceInAutoScalingGroupAsync(instance.InstanceId, decrement, cancellationToken).ConfigureAwait(false);
            NodeReplacementResult result;
            lock (_sync)
            {
                _terminated.Add(instance.InstanceId);
                _replaced++;
                result = Pair(step.Result);
            }

            host.Output(result);
            host.Progress(new ProgressUpdate(step.ChildId, $"{instance.InstanceId} ({step.Result.OldNodeName})", "terminated", 100, ProgressRoot, Completed: true));
            return step;
        }

        /// <summary>Names the new instance that took an old one's place: a usable node on the target AMI not yet paired.</summary>
        private NodeReplacementResult Pair(NodeReplacementResult result)
        {
            var candidate = tracker.Nodes
                .Where(n => n.InstanceId != null && instances.TryGetValue(n.InstanceId, out var i) && i.ImageId == target && !_pairedNewInstances.Contains(n.InstanceId))
                .OrderByDescending(n => n.CreatedAt)
                .FirstOrDefault();
            if (candidate?.InstanceId == null)
            {
                return result;
            }

            _pairedNewInstances.Add(candidate.InstanceId);
            return new NodeReplacementResult
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
                Result = result.Result,
                PodsEvicted = result.PodsEvicted,
                PodsDeleted = result.PodsDeleted,
                DrainDuration = result.DrainDuration,
                Blockers = result.Blockers,
            };
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
                Result = outcome,
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
            if (!instance.Tags.ContainsKey(RolloutState.InstanceTag))
            {
                await owner.Ec2.CreateTagsAsync([instance.InstanceId], new Dictionary<string, string> { [RolloutState.InstanceTag] = RolloutState.Draining }, cancellationToken).ConfigureAwait(false);
            }

            await kubernetes.SetUnschedulableAsync(node.Name, true, cancellationToken).ConfigureAwait(false);
            host.Progress(new ProgressUpdate(child, title, "draining", 30, ProgressRoot));
            DrainOutcome drain;
            try
            {
                drain = await drainer.DrainAsync(node.Name, options.DrainTimeout, options.Force, message =>
                {
                    host.Verbose($"{node.Name}: {message}");
                    host.Progress(new ProgressUpdate(child, title, "draining", 50, ProgressRoot, CurrentOperation: message));
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (WinEksPatchException ex)
            {
                await kubernetes.SetUnschedulableAsync(node.Name, false, cancellationToken).ConfigureAwait(false);
                host.Progress(new ProgressUpdate(child, title, "failed", 100, ProgressRoot, Completed: true));
                return new NodeStep(Result(ReplacementOutcome.Failed, null), ReplacementOutcome.Failed, child, ex);
            }

            if (!drain.Completed)
            {
                // Not forced: give the node back to the scheduler and stop with the blockers named.
                await kubernetes.SetUnschedulableAsync(node.Name, false, cancellationToken).ConfigureAwait(false);
                await owner.Ec2.DeleteTagsAsync([instance.InstanceId], [RolloutState.InstanceTag], cancellationToken).ConfigureAwait(false);
                host.Progress(new ProgressUpdate(child, title, "drain timed out", 100, ProgressRoot, Completed: true));
                var error = new WinEksPatchException(ErrorIds.DrainTimeout, ErrorKind.OperationTimeout,
                    $"Draining {node.Name} ({instance.InstanceId}) did not finish within {options.DrainTimeout}: blocked by {string.Join("; ", drain.Blockers)}. " +
                    "The node was uncordoned and kept; the rollout stopped here. Re-run when the budgets allow it, give more time with -DrainTimeout, or use -Force to delete what is still blocked.",
                    instance.InstanceId);
                return new NodeStep(Result(ReplacementOutcome.DrainTimedOut, drain), ReplacementOutcome.DrainTimedOut, child, error);
            }

            await owner.Ec2.CreateTagsAsync([instance.InstanceId], new Dictionary<string, string> { [RolloutState.InstanceTag] = RolloutState.Drained }, cancellationToken).ConfigureAwait(false);
            host.Progress(new ProgressUpdate(child, title, "terminating", 90, ProgressRoot));
            var outcome = drain.Deleted.Count > 0 ? ReplacementOutcome.ReplacedWithForce : ReplacementOutcome.Replaced;
            return new NodeStep(Result(outcome, drain), outcome, child, null);
        }

        /// <summary>Waits until the group has <paramref name="needed"/> usable nodes (Ready, schedulable, settled) besides the
        /// <paramref name="excluded"/> instances, learning new instances as their nodes appear. On timeout, says why from
        /// the group's scaling activities.</summary>
        private async Task WaitForCapacityAsync(AutoScalingGroup group, int needed, IReadOnlySet<string> excluded, CancellationToken cancellationToken)
        {
            var members = group.Instances.Select(i => i.InstanceId).ToHashSet(StringComparer.Ordinal);
            var deadline = owner.Time.GetUtcNow() + options.ReadyTimeout;
            while (true)
            {
                bool Usable(KubeNode n) => n.InstanceId != null && members.Contains(n.InstanceId) && !excluded.Contains(n.InstanceId)
                    && tracker.IsUsable(n, options.MinReadyTime, requiredResources);
                bool Unknown(KubeNode n) => n.InstanceId != null && !members.Contains(n.InstanceId) && !instances.ContainsKey(n.InstanceId);

                var left = deadline - owner.Time.GetUtcNow();
                var ok = left > TimeSpan.Zero && await tracker.WaitUntilAsync(
                    nodes => nodes.Count(Usable) >= needed || nodes.Any(Unknown), left, Recheck, cancellationToken, options.MinReadyTime).ConfigureAwait(false);
                var nodes = tracker.Nodes;
                if (ok && nodes.Count(Usable) >= needed)
                {
                    return;
                }

                if (ok && nodes.Any(Unknown))
                {
                    // A node we have not seen: learn which group its instance belongs to (one batched call for all of them).
                    var unknown = nodes.Where(Unknown).Select(n => n.InstanceId!).ToList();
                    await owner.LearnInstancesAsync(instances, unknown, cancellationToken).ConfigureAwait(false);
                    foreach (var id in unknown.Where(id => instances.TryGetValue(id, out var i) && i.Tags.GetValueOrDefault("aws:autoscaling:groupName") == groupName))
                    {
                        members.Add(id);
                    }

                    foreach (var id in unknown.Where(id => !instances.ContainsKey(id)))
                    {
                        instances[id] = new Ec2Instance(id, null, null, null, null, null, null, new Dictionary<string, string>()); // gone already
                    }

                    continue;
                }

                var activities = await owner.AutoScaling.DescribeScalingActivitiesAsync(groupName, 5, cancellationToken).ConfigureAwait(false);
                var failures = activities.Where(a => a.StatusCode is "Failed" or "Cancelled").Select(a => a.StatusMessage ?? a.Description).OfType<string>()
                    .Distinct(StringComparer.Ordinal).ToList();
                var lacking = nodes.Where(n => n.Ready && n.InstanceId != null && members.Contains(n.InstanceId) && !excluded.Contains(n.InstanceId))
                    .SelectMany(n => requiredResources.Except(n.ExtendedResources, StringComparer.Ordinal).Select(r => (Node: n.Name, Resource: r)))
                    .ToList();
                var why = failures.Count > 0 ? "scaling activities: " + string.Join("; ", failures)
                    : lacking.Count > 0 ? $"Ready nodes without {string.Join(", ", lacking.Select(l => l.Resource).Distinct())}, which the old nodes offer: {Summary(lacking.Select(l => l.Node).Distinct())}" +
                        (lacking.Any(l => l.Resource == PodIpsResource)
                            ? "; EKS advertises a Windows node's pod IPs only with enable-windows-ipam in the kube-system/amazon-vpc-cni ConfigMap and the AmazonEKSVPCResourceController policy on the cluster role"
                            : "")
                    : "new instances did not become Ready nodes";
                throw new WinEksPatchException(ErrorIds.ReplacementNotReady, ErrorKind.OperationTimeout,
                    $"{groupName}: only {nodes.Count(Usable)} of the {needed} usable nodes needed after {options.ReadyTimeout} ({why}). " +
                    "No node of this batch was cordoned or drained, so capacity is intact; re-run to continue once the cause is fixed.", groupName);
            }
        }
    }
}
