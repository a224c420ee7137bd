using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>
/// Invoke-NodeReplacement for self-managed groups: replaces every node whose instance does not run the group's target
/// AMI, batch by batch. Per batch: surge (desired up, max if needed), wait until the new nodes are usable (from a node
/// watch), cordon and drain the old nodes (evictions that honour PodDisruptionBudgets), terminate them through the Auto
/// Scaling group so desired comes back down. Capacity never drops below desired − MaxUnavailable usable nodes.
/// The rollout's state lives in tags (the group's original sizes and suspended processes; each old instance's drain
/// state), so a stopped or crashed rollout re-run with the same command continues: nothing launched twice, nothing
/// terminated that was not drained, suspended processes resumed at the end.
/// </summary>
public sealed partial class NodeReplacement(
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

    public Task RunAsync(string clusterName, string nodeGroupName, ReplacementOptions options, IWorkflowHost host, CancellationToken cancellationToken = default) =>
        RunAsync(clusterName, nodeGroupName, options, heldLease: null, host, cancellationToken);

    /// <summary>Replaces the group's old nodes under the group's <see cref="RolloutLease"/>: the one the caller holds
    /// (Invoke-WinEksPatch takes it before it changes the launch template), or one taken here before the first change.
    /// Under -WhatIf nothing is taken, and a group another run holds is named in a warning.</summary>
    internal async Task RunAsync(string clusterName, string nodeGroupName, ReplacementOptions options, RolloutLease? heldLease, IWorkflowHost host,
        CancellationToken cancellationToken = default)
    {
        var snapshot = await reader.ReadAsync(clusterName, includeInstances: true, includePods: true, cancellationToken, onlyNodeGroup: nodeGroupName).ConfigureAwait(false);
        var facts = FleetInventory.SelectGroups(snapshot, [nodeGroupName], new ThrowingHost(host)).Single();
        var kubernetes = kubernetesFor(snapshot.Cluster);
        if (options.WhatIf)
        {
            if (await RolloutLease.DescribeBusyAsync(kubernetes, clusterName, nodeGroupName, Time, cancellationToken).ConfigureAwait(false) is { } busy)
            {
                host.Warning(busy);
            }
        }

        await using var ownLease = options.WhatIf || heldLease != null
            ? null
            : await RolloutLease.AcquireAsync(kubernetes, clusterName, nodeGroupName, RolloutHolder.Current(), Time, cancellationToken).ConfigureAwait(false);
        var lease = heldLease ?? ownLease;
        using var scope = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease?.Lost ?? CancellationToken.None);
        try
        {
            if (facts.Kind == NodeGroupKind.Managed)
            {
                // EKS replaces managed nodes itself: plan, start or follow its update, and name what blocks it.
                await new ManagedUpdateFollower(eks, Ec2, catalog, calendar, Time).RunAsync(snapshot, facts, kubernetes, options, host, scope.Token).ConfigureAwait(false);
                return;
            }

            // The snapshot was read before the lease was ours: the group's state (sizes, tags, instances) is read again.
            var group = ownLease == null ? facts.AutoScalingGroup!
                : await GroupLookup.ReadAsync(AutoScaling, facts.AutoScalingGroup!.Name, scope.Token).ConfigureAwait(false);
            // Read while this run held the group's lease (Invoke-WinEksPatch takes it first): as current as a read now.
            var current = heldLease != null ? ReadUnderLease.Of(snapshot) : ReadUnderLease.None;
            await RollSelfManagedAsync(snapshot, current, facts, group, kubernetes, options,
                    lease?.Holder.RunId ?? Guid.NewGuid().ToString("N")[..12], host, scope.Token)
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (lease?.Lost.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
        {
            throw new WinEksPatchException(ErrorIds.RolloutLeaseLost, ErrorKind.ResourceBusy,
                $"{clusterName}/{nodeGroupName}: this run could not renew its rollout lease ({RolloutLease.Namespace}/{lease.Name}) and another run took the group over; " +
                "this one stopped before its next step. The group's state is in its tags: the run that holds the lease continues it.", nodeGroupName);
        }
    }

    /// <summary>The instances and images of a snapshot read while this run held the group's lease: as current as a read
    /// now, so they are not read again. <see cref="None"/> when the snapshot was read before the lease was ours.</summary>
    private sealed record ReadUnderLease(IReadOnlyDictionary<string, Ec2Instance> Instances, IReadOnlyDictionary<string, Ec2Image> Images)
    {
        public static readonly ReadUnderLease None = new(new Dictionary<string, Ec2Instance>(), new Dictionary<string, Ec2Image>());

        public static ReadUnderLease Of(ClusterSnapshot snapshot) => new(snapshot.Instances, snapshot.Images);
    }

    private async Task RollSelfManagedAsync(ClusterSnapshot snapshot, ReadUnderLease current, NodeGroupFacts facts, AutoScalingGroup group, IKubernetesApi kubernetes,
        ReplacementOptions options, string runId, IWorkflowHost host, CancellationToken cancellationToken)
    {
        var clusterName = snapshot.Cluster.Name;
        var nodeGroupName = facts.Name;
        var target = options.TargetOr(facts.TemplateVersion?.ImageId) ?? throw new WinEksPatchException(ErrorIds.NodeGroupHasNoLaunchTemplate, ErrorKind.InvalidOperation,
            $"Node group '{nodeGroupName}' has no launch template AMI to replace its nodes with.", nodeGroupName);
        var amis = new Dictionary<string, Ec2Instance>(StringComparer.Ordinal);
        foreach (var member in group.Instances.Where(i => current.Instances.ContainsKey(i.InstanceId)))
        {
            amis[member.InstanceId] = current.Instances[member.InstanceId];
        }

        await LearnInstancesAsync(amis, group.Instances.Select(i => i.InstanceId), cancellationToken).ConfigureAwait(false);

        var state = ReadState(group, amis);
        var desired = state?.Desired ?? group.DesiredCapacity;
        var (surge, unavailable) = RolloutLimits.Resolve(options.MaxSurge, options.MaxUnavailable, desired, nodeGroupName);
        var old = OldInstances(group, amis, target);
        if (OutOfService(group, amis, target) is { Count: > 0 } outOfService)
        {
            throw OutOfServiceError(group.Name, outOfService, "A rollout would leave them on their AMI and call the group patched. Nothing was changed.");
        }

        // Read before the up-to-date answer too: a warm pool of old instances means the group is not patched.
        var shape = await GroupShape.ReadAsync(AutoScaling, group.Name, cancellationToken).ConfigureAwait(false);
        // Learned apart from the group's: a warm instance the surge takes starts with a new launch time, read when it joins.
        var warm = new Dictionary<string, Ec2Instance>(StringComparer.Ordinal);
        await LearnInstancesAsync(warm, shape.WarmPool.Select(i => i.InstanceId), cancellationToken).ConfigureAwait(false);
        shape.RequireWarmPoolOn(target, warm, group.Name);
        if (old.Count == 0 && state == null)
        {
            host.Warning($"{clusterName}/{nodeGroupName}: every instance already runs {target}, the AMI the group launches: nothing to replace. " +
                "To patch the group, point it at a newer AMI first (Get-WinPatchStatus shows whether there is one; Set-NodeGroupAmi does it, Invoke-WinEksPatch does both steps).");
            return;
        }

        var budgets = await kubernetes.ListPdbsAsync(cancellationToken).ConfigureAwait(false);
        var targetImage = current.Images.GetValueOrDefault(target)
            ?? await ReplacementOptions.DescribeTargetAsync(Ec2, target, cancellationToken).ConfigureAwait(false);
        if (target != ReplacementOptions.AmiToBeBuilt)
        {
            RequireLaunchable(targetImage, target, facts);
            await RequireOverridesOnTargetAsync(group, target, cancellationToken).ConfigureAwait(false);
        }

        var fastLaunch = target == ReplacementOptions.AmiToBeBuilt ? options.PlannedFastLaunch
            : targetImage is null || !FastLaunchPreflight.Eligible(targetImage) ? null
            : await FastLaunchPreflight.ReadAsync(Ec2, target, Time, host, cancellationToken).ConfigureAwait(false);
        var plan = ReplacementPlanner.Plan(snapshot, facts, target, old, desired, surge, unavailable, budgets, targetImage, calendar, state != null, options.Overrides,
            groupFindings: shape.Findings(group, state), fastLaunch: fastLaunch, paceToFastLaunch: options.PaceToFastLaunch);
        foreach (var finding in plan.Preflight)
        {
            host.Warning($"{finding.Kind} {finding.Subject}: {finding.Effect}");
        }

        // A pod under two budgets can never be evicted: with -BlockedNodeAction Stop the rollout would surge, replace the
        // nodes before its node and stop there. Refused before the first change instead (and in the plan, which fails closed).
        if (options.BlockedNodeAction == BlockedNodeAction.Stop && plan.Preflight.Where(f => f.Kind == ReplacementPlanner.MultipleBudgets).ToList() is { Count: > 0 } unevictable)
        {
            throw new WinEksPatchException(ErrorIds.MultiplePodDisruptionBudgets, ErrorKind.InvalidOperation,
                $"{group.Name}: {string.Join("; ", unevictable.Select(f => $"pod {f.Subject} {f.Effect}"))}. Nothing was changed. Leave one budget per pod, " +
                "or pass -BlockedNodeAction Skip to replace every other node and leave that one cordoned.", unevictable[0].Subject);
        }

        if (options.WhatIf)
        {
            host.Output(plan);
            return;
        }

        // A canary (-NodeLimit) replaces the first nodes of the plan's order, and leaves the others for the next run.
        int toReplace = Math.Min(plan.NodesToReplace, options.NodeLimit ?? int.MaxValue);
        if (!await host.ShouldProcessAsync($"{clusterName}/{nodeGroupName}",
                $"Replace {toReplace} node(s) with {target}, {plan.Window} at a time in this order: {Summary(plan.Steps.Take(toReplace).Select(s => s.InstanceId))}; " +
                $"never below {plan.CapacityFloor} usable node(s){(toReplace < plan.NodesToReplace ? $"; the other {plan.NodesToReplace - toReplace} stay for the next run" : "")}").ConfigureAwait(false))
        {
            return;
        }

        var suspendedByUs = state?.Suspended ?? ProcessesToSuspend.Where(p => !group.SuspendedProcesses.Contains(p)).ToList();
        // Capacity Rebalancing would terminate an old instance at Spot risk without a drain (and count on instances the
        // rollout is replacing): off for the rollout, written in the state tag first so a crashed run's re-run turns it back on.
        state = (state ?? new RolloutState(target, desired, group.MaxSize, suspendedByUs)) with
        {
            TargetImageId = target, RunId = runId, RebalancePaused = (state?.RebalancePaused ?? false) || group.CapacityRebalance,
        };
        await AutoScaling.CreateOrUpdateTagsAsync(group.Name, new Dictionary<string, string> { [RolloutState.GroupTag] = state.Serialize() }, cancellationToken)
            .ConfigureAwait(false);
        if (suspendedByUs.Count > 0)
        {
            await AutoScaling.SuspendProcessesAsync(group.Name, suspendedByUs, cancellationToken).ConfigureAwait(false);
        }

        if (group.CapacityRebalance)
        {
            await AutoScaling.UpdateAutoScalingGroupAsync(group.Name, capacityRebalance: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        await using var tracker = new NodeTracker(kubernetes, Time);
        await tracker.StartAsync(cancellationToken).ConfigureAwait(false);
        var required = RequiredResources(tracker.Nodes, old);
        if (required.Count > 0)
        {
            host.Verbose($"New nodes count once Ready, schedulable and offering {string.Join(", ", required)}, as the nodes they replace do.");
        }

        // The pool the plan paced against, from the same reading: the run takes its snapshots as it launches.
        var pool = plan.PacedToFastLaunch ? fastLaunch?.PacingPool() : null;
        var run = new Run(this, clusterName, nodeGroupName, group.Name, target, state, plan, options, required, shape, kubernetes, tracker, amis, pool, host);
        await run.ExecuteAsync(toReplace, cancellationToken).ConfigureAwait(false);

        // Done: our suspensions lifted, max back to what the group had, the state tag gone. Desired capacity is never set
        // here: each drained instance was terminated with decrement, so the surge is given back already, and setting it
        // lower would let Auto Scaling pick an instance to kill that nobody drained. A difference is someone else's (a
        // scaling policy, an operator, cluster-autoscaler) or a node declined at the prompt: kept, and said.
        var final = await GroupLookup.ReadAsync(AutoScaling, group.Name, cancellationToken).ConfigureAwait(false);
        if (final.DesiredCapacity != state.Desired && run.Blocked.Count == 0)
        {
            host.Warning($"{group.Name}: desired capacity is {final.DesiredCapacity}, not the {state.Desired} it had before the rollout" +
                (run.Skipped.Count > 0 ? $" (the replacement of {Summary(run.Skipped)}, declined at the prompt, was launched already)" : " (changed by someone else during the rollout)") +
                "; it was kept as it is: shrinking the group would let Auto Scaling terminate an instance that was not drained.");
        }

        var max = Math.Max(state.Max, final.DesiredCapacity);
        if (final.MaxSize != max || state.RebalancePaused)
        {
            await AutoScaling.UpdateAutoScalingGroupAsync(group.Name, maxSize: final.MaxSize != max ? max : null, capacityRebalance: state.RebalancePaused ? true : null,
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        if (state.Suspended.Count > 0)
        {
            await AutoScaling.ResumeProcessesAsync(group.Name, state.Suspended, cancellationToken).ConfigureAwait(false);
        }

        if (run.Blocked.Count > 0)
        {
            // Not done: the state tag stays (the size to come back to, the processes to suspend again), so the same command
            // re-run once the blockers are resolved drains the blocked nodes first and gives their extra capacity back.
            host.Progress(new ProgressUpdate(ProgressRoot, $"Replacing nodes of {clusterName}/{nodeGroupName}", "done, with nodes left blocked", 100, Completed: true));
            throw new WinEksPatchException(ErrorIds.NodesLeftBlocked, ErrorKind.ResourceBusy,
                $"{group.Name}: {run.Blocked.Count} old node(s) could not be drained and were left cordoned and labelled {Run.DrainStatusLabel}=blocked; every other node was replaced. " +
                $"{string.Join(" ", run.Blocked.Select(b => b.TrimEnd('.') + "."))} The group keeps their replacements (desired capacity {final.DesiredCapacity}) until they go: " +
                "resolve what blocks them and run the same command again.", group.Name);
        }

        await AutoScaling.DeleteTagsAsync(group.Name, [RolloutState.GroupTag], cancellationToken).ConfigureAwait(false);
        host.Progress(new ProgressUpdate(ProgressRoot, $"Replacing nodes of {clusterName}/{nodeGroupName}", "done", 100, Completed: true));
        await LearnInstancesAsync(amis, final.Instances.Select(i => i.InstanceId), cancellationToken).ConfigureAwait(false);
        if (OutOfService(final, amis, target) is { Count: > 0 } left)
        {
            // Taken out of service while the rollout ran (EnterStandby, a detach): not replaced, and not to be called patched.
            throw OutOfServiceError(group.Name, left, "They were taken out of service during the rollout and still run the old AMI; every other node was replaced.");
        }
    }

    /// <summary>Instances that are in the group but out of service (Standby, entering it, detaching) and not on the target
    /// AMI: a rollout replaces only InService instances, so these would be left behind.</summary>
    private static List<string> OutOfService(AutoScalingGroup group, IReadOnlyDictionary<string, Ec2Instance> instances, string target) =>
        group.Instances
            .Where(i => i.LifecycleState is "Standby" or "EnteringStandby" or "Detaching" or "Detached"
                && instances.GetValueOrDefault(i.InstanceId)?.ImageId != target)
            .Select(i => $"{i.InstanceId} ({i.LifecycleState})")
            .ToList();

    private static WinEksPatchException OutOfServiceError(string groupName, IReadOnlyList<string> instances, string consequence) =>
        new(ErrorIds.NodeGroupInstancesOutOfService, ErrorKind.InvalidOperation,
            $"{groupName}: instances {Summary(instances)} are in the group but out of service. {consequence} " +
            "Put them back in service (aws autoscaling exit-standby) or detach them for good, then run again.", groupName);

    /// <summary>
    /// The state of an interrupted rollout, if the group carries one, checked before it is trusted: a tag that is not the
    /// module's, or that cannot describe this group (sizes, processes), is refused; so is a group whose instances carry
    /// drain tags of an interrupted rollout while its state tag is gone (removed by infrastructure as code while no run
    /// held the group), because the size to come back to is then unknown and a guess would surge a second time.
    /// </summary>
    private static RolloutState? ReadState(AutoScalingGroup group, IReadOnlyDictionary<string, Ec2Instance> instances)
    {
        var tag = group.Tags.GetValueOrDefault(RolloutState.GroupTag);
        var state = RolloutState.Parse(tag);
        if (tag != null && state == null)
        {
            throw RolloutState.Invalid(group.Name, tag, ["it is not in the module's format (target=...;desired=...;max=...;suspended=...)"]);
        }

        if (state?.Problems(group, ProcessesToSuspend) is { Count: > 0 } problems)
        {
            throw RolloutState.Invalid(group.Name, tag!, problems);
        }

        var draining = group.Instances.Select(i => instances.GetValueOrDefault(i.InstanceId)).OfType<Ec2Instance>()
            .Where(i => i.Tags.ContainsKey(RolloutState.InstanceTag)).Select(i => i.InstanceId).ToList();
        if (state == null && draining.Count > 0)
        {
            throw new WinEksPatchException(ErrorIds.RolloutStateMissing, ErrorKind.InvalidData,
                $"{group.Name}: instances {Summary(draining)} carry {RolloutState.InstanceTag} tags of an interrupted rollout, but the group's {RolloutState.GroupTag} tag " +
                $"is gone (removed by infrastructure as code?), so the size it had before the rollout is unknown (desired capacity is {group.DesiredCapacity} now, " +
                $"suspended processes: {(group.SuspendedProcesses.Count == 0 ? "none" : string.Join(", ", group.SuspendedProcesses))}). Nothing was changed. Put the tag back " +
                $"('target=<ami>;desired=<size before the rollout>;max=<max before>;suspended=<processes the rollout suspended>'), or set the group's sizes and processes " +
                $"yourself and delete the instances' {RolloutState.InstanceTag} tags; then run again.", group.Name);
        }

        return state;
    }

    /// <summary>The target AMI must be one the group can launch, checked before the first surge: otherwise every launch
    /// fails (or boots something that never joins) and that is only found when -ReadyTimeout runs out.</summary>
    private static void RequireLaunchable(Ec2Image? image, string target, NodeGroupFacts facts)
    {
        var source = facts.TemplateVersion is { } version ? $"version {version.VersionNumber} of launch template {version.LaunchTemplateId}" : "the rollout";
        if (image == null)
        {
            throw new WinEksPatchException(ErrorIds.AmiNotFound, ErrorKind.ObjectNotFound,
                $"{facts.Name}: {source} names {target}, which EC2 does not know in this region and account (deregistered, or never shared): " +
                "every launch would fail. Nothing was changed; point the group at an AMI that exists (Set-NodeGroupAmi).", target);
        }

        if (image.State is { } state && state != "available")
        {
            throw new WinEksPatchException(ErrorIds.AmiNotFound, ErrorKind.ObjectNotFound,
                $"{facts.Name}: {source} names {target}, which is {state}, not available: no instance can launch from it. Nothing was changed.", target);
        }

        if (!image.IsWindows)
        {
            throw new WinEksPatchException(ErrorIds.AmiNotWindows, ErrorKind.InvalidArgument,
                $"{facts.Name}: {source} names {target} ({image.PlatformDetails ?? "no platform"}), not a Windows AMI: its instances would never join as Windows nodes. Nothing was changed.", target);
        }
    }

    /// <summary>Instances of a mixed instances policy's override with a launch template of its own launch that template's
    /// AMI: one not on the target would bring an old node back with every launch of its instance type.</summary>
    private async Task RequireOverridesOnTargetAsync(AutoScalingGroup group, string target, CancellationToken cancellationToken)
    {
        foreach (var byTemplate in (group.Overrides ?? []).Where(o => o.LaunchTemplate != null).GroupBy(o => o.LaunchTemplate!))
        {
            var version = await Ec2.DescribeLaunchTemplateVersionAsync(byTemplate.Key, cancellationToken).ConfigureAwait(false);
            if (version.ImageId != target)
            {
                throw new WinEksPatchException(ErrorIds.LaunchTemplateOverrideNotOnTarget, ErrorKind.InvalidOperation,
                    $"{group.Name}: its mixed instances policy launches {string.Join(", ", byTemplate.Select(o => o.InstanceType))} from launch template " +
                    $"{version.LaunchTemplateId} version {version.VersionNumber}, whose AMI is {version.ImageId}, not {target}: every launch of those types would join " +
                    "as an old node. Nothing was changed. Run Set-NodeGroupAmi (it gives every override's launch template a new version too), then run again.", group.Name);
            }
        }
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
}
