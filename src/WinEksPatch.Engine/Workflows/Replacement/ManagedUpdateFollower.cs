using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>
/// Managed node groups: EKS replaces the nodes itself (surge, taint, drain with its fixed 15-minute limit, cordon,
/// terminate). This plans like a self-managed rollout (the old nodes, EKS's batches, the pre-flight), starts the update
/// when none is running (to the launch template version Set-NodeGroupAmi made for a CUSTOM group, or to the latest EKS
/// release for an EKS AMI type), follows the one in progress otherwise, streams a result per old node as the node watch
/// sees it leave, and while EKS's drain stalls names the pods and budgets that block it, instead of leaving the user
/// with PodEvictionFailure.
/// </summary>
public sealed class ManagedUpdateFollower(IEksApi eks, IEc2Api ec2, AmiCatalog catalog, PatchCalendar calendar, TimeProvider time)
{
    /// <summary>How often the update's status is read (node events are handled as they come).</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(30);

    /// <summary>How long no old node may leave before the pods holding EKS's drain are named.</summary>
    public static readonly TimeSpan StallWarning = TimeSpan.FromMinutes(2);

    /// <summary>The taint EKS puts on every outdated node before it drains them (it cordons a node only once drained).</summary>
    public const string UpdateTaint = "eks.amazonaws.com/nodegroup";

    private const int ProgressRoot = 1;

    public async Task RunAsync(ClusterSnapshot snapshot, NodeGroupFacts group, IKubernetesApi kubernetes, ReplacementOptions options, IWorkflowHost host,
        CancellationToken cancellationToken)
    {
        var clusterName = snapshot.Cluster.Name;
        var target = options.TargetOr(null) ?? await TargetImageAsync(snapshot, group, cancellationToken).ConfigureAwait(false);
        // EKS marks a group UPDATING while an update runs: an ACTIVE group has none, and its update history (one
        // DescribeUpdate per past update) need not be read.
        var running = group.Managed?.Status == "ACTIVE" ? null : await InProgressUpdateAsync(clusterName, group.Name, cancellationToken).ConfigureAwait(false);
        var old = snapshot.WindowsNodes
            .Where(n => snapshot.GroupOf(n) == group.Name && (n.InstanceId == null || snapshot.Instances.GetValueOrDefault(n.InstanceId)?.ImageId != target))
            .ToList();
        if (running == null && old.Count == 0)
        {
            host.Warning($"{clusterName}/{group.Name}: every node already runs {target}, the AMI the group launches, and no EKS update is running: nothing to " +
                "replace. To patch the group, point it at a newer AMI or release first (Get-WinPatchStatus shows whether there is one; Invoke-WinEksPatch does both steps).");
            return;
        }

        if (options.LimitsGiven)
        {
            host.Warning($"{group.Name} is a managed node group: EKS replaces its nodes by the group's own update config (maxUnavailable " +
                $"{EksMaxUnavailable(group)}) with its fixed 15-minute drain limit; -MaxSurge, -MaxUnavailable, -DrainTimeout, -ReadyTimeout, -MinReadyTime, -BlockedNodeAction and -PaceToFastLaunch apply to self-managed groups only.");
        }

        var plan = await PlanAsync(snapshot, group, target, old, kubernetes, running != null, options.Overrides, cancellationToken).ConfigureAwait(false);
        foreach (var finding in plan.Preflight)
        {
            host.Warning($"{finding.Kind} {finding.Subject}: {finding.Effect}");
        }

        if (options.WhatIf)
        {
            host.Output(plan);
            return;
        }

        if (running == null)
        {
            if (!await host.ShouldProcessAsync($"{clusterName}/{group.Name}",
                    $"Start an EKS managed node group update to {target}: EKS surges, drains and replaces {old.Count} node(s) ({NodeReplacement.Summary(old.Select(n => n.Name))})")
                .ConfigureAwait(false))
            {
                return;
            }

            // A CUSTOM group moves to its launch template's current version (the AMI Set-NodeGroupAmi put there); an EKS AMI
            // type moves to the latest release.
            var template = group.Managed?.AmiType == "CUSTOM" ? group.LaunchTemplate : null;
            running = await eks.UpdateNodegroupVersionAsync(clusterName, group.Name, template, null, options.DeletesPodsBlockedByBudget, cancellationToken).ConfigureAwait(false);
            host.Verbose($"{clusterName}/{group.Name}: EKS update {running.Id} started.");
        }
        else
        {
            host.Verbose($"{clusterName}/{group.Name}: following EKS update {running.Id} already in progress.");
        }

        await FollowAsync(snapshot, group, kubernetes, running, target, old, host, cancellationToken).ConfigureAwait(false);
    }

    private async Task FollowAsync(ClusterSnapshot snapshot, NodeGroupFacts group, IKubernetesApi kubernetes, EksUpdate update, string target,
        IReadOnlyList<KubeNode> old, IWorkflowHost host, CancellationToken cancellationToken)
    {
        var clusterName = snapshot.Cluster.Name;
        var activity = $"EKS update {update.Id} of {clusterName}/{group.Name}";
        var remaining = old.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var reportedBlockers = new HashSet<string>(StringComparer.Ordinal);
        IReadOnlyList<string> previousBlockers = [];
        DateTimeOffset? drainingSince = null;
        var replaced = 0;

        await using var tracker = new NodeTracker(kubernetes, time);
        await tracker.StartAsync(cancellationToken).ConfigureAwait(false);
        var lastProgress = time.GetUtcNow();
        var nextPoll = lastProgress + PollInterval;
        var status = "InProgress";
        while (true)
        {
            // Woken by the node watch as soon as an old node is gone, or when the update's status is due.
            await tracker.WaitUntilAsync(nodes => remaining.Keys.Any(name => nodes.All(n => n.Name != name)),
                nextPoll - time.GetUtcNow(), PollInterval, cancellationToken).ConfigureAwait(false);
            var nodes = tracker.Nodes;
            drainingSince ??= nodes.Any(n => remaining.ContainsKey(n.Name) && IsDraining(n)) ? time.GetUtcNow() : null;
            foreach (var gone in remaining.Keys.Where(name => nodes.All(n => n.Name != name)).ToList())
            {
                var node = remaining[gone];
                remaining.Remove(gone);
                replaced++;
                lastProgress = time.GetUtcNow();
                host.Output(new NodeReplacementResult
                {
                    ClusterName = clusterName,
                    NodeGroupName = group.Name,
                    OldNodeName = node.Name,
                    OldInstanceId = node.InstanceId ?? "",
                    OldImageId = node.InstanceId is { } id ? snapshot.Instances.GetValueOrDefault(id)?.ImageId : null,
                    NewImageId = target,
                    Outcome = ReplacementOutcome.Replaced,
                    PodsEvicted = Drainer.Filter(snapshot.PodsByNode.GetValueOrDefault(node.Name) ?? []).ToEvict.Count,
                });
            }

            host.Progress(new ProgressUpdate(ProgressRoot, activity, $"{status}: {replaced} of {old.Count} old node(s) replaced",
                old.Count == 0 ? -1 : 100 * replaced / old.Count));
            if (time.GetUtcNow() < nextPoll)
            {
                continue;
            }

            nextPoll = time.GetUtcNow() + PollInterval;
            update = await eks.DescribeUpdateAsync(clusterName, group.Name, update.Id, cancellationToken).ConfigureAwait(false);
            status = update.Status ?? "?";
            if (status != "InProgress")
            {
                host.Progress(new ProgressUpdate(ProgressRoot, activity, status, 100, Completed: true));
                if (status == "Successful")
                {
                    host.Verbose($"{activity} finished: {replaced} node(s) replaced.");
                    return;
                }

                var detail = string.Join("; ", update.Errors.Select(e => $"{e.ErrorCode}: {e.ErrorMessage}"));
                var blockers = await BlockersAsync(kubernetes, group.Name, tracker, cancellationToken).ConfigureAwait(false);
                throw new WinEksPatchException(ErrorIds.ManagedUpdateFailed, ErrorKind.InvalidOperation,
                    $"EKS update {update.Id} of {clusterName}/{group.Name} ended {status}: {detail}." +
                    (blockers.Count > 0 ? $" What blocked the drain: {string.Join("; ", blockers)}." : "") +
                    " EKS restores the group's sizes; the nodes it did not reach keep running the previous AMI.", group.Name);
            }

            // EKS is draining (it tainted the old nodes once the new ones were Ready) and no old node has left for a while:
            // say which pods and budgets hold the drain, once each, when they held it at two polls in a row (a budget
            // at its minimum while a replacement pod starts is not yet a stall).
            if (drainingSince is { } since && time.GetUtcNow() - (since > lastProgress ? since : lastProgress) >= StallWarning)
            {
                var blockers = await BlockersAsync(kubernetes, group.Name, tracker, cancellationToken).ConfigureAwait(false);
                var held = blockers.Intersect(previousBlockers, StringComparer.Ordinal).ToList();
                previousBlockers = blockers;
                foreach (var blocker in held)
                {
                    if (reportedBlockers.Add(blocker))
                    {
                        host.Warning($"EKS's drain of {group.Name} is held by {blocker}; EKS gives up after 15 minutes with PodEvictionFailure unless the update was started with -OverridePodDisruptionBudget (EKS's force).");
                        host.Progress(new ProgressUpdate(ProgressRoot, activity, $"drain held by {blocker}", 100 * replaced / Math.Max(1, old.Count)));
                    }
                }
            }
        }
    }

    /// <summary>The AMI the group's nodes move to: its launch template's for a CUSTOM group, else EKS's latest release.</summary>
    private async Task<string> TargetImageAsync(ClusterSnapshot snapshot, NodeGroupFacts group, CancellationToken cancellationToken)
    {
        if (group.Managed?.AmiType == "CUSTOM")
        {
            return group.TemplateVersion?.ImageId ?? throw new WinEksPatchException(ErrorIds.NodeGroupHasNoLaunchTemplate, ErrorKind.InvalidOperation,
                $"Managed node group '{group.Name}' is of AMI type CUSTOM but its launch template names no AMI.", group.Name);
        }

        var (windowsVersion, edition) = AmiFacts.FromAmiType(group.Managed?.AmiType);
        var latest = await catalog.LatestEksAsync(new AmiQuery(group.Managed?.Version ?? snapshot.Cluster.Version, windowsVersion, edition ?? "Core"), cancellationToken)
            .ConfigureAwait(false);
        return latest.FirstOrDefault()?.ImageId ?? throw new WinEksPatchException(ErrorIds.AmiNotFound, ErrorKind.ObjectNotFound,
            $"No EKS-optimized AMI for node group '{group.Name}' (AMI type {group.Managed?.AmiType}, Kubernetes {snapshot.Cluster.Version}) in {snapshot.Region}.", group.Name);
    }

    /// <summary>The update EKS is running on the group, if any (EKS runs one at a time).</summary>
    private async Task<EksUpdate?> InProgressUpdateAsync(string clusterName, string groupName, CancellationToken cancellationToken)
    {
        foreach (var id in await eks.ListUpdatesAsync(clusterName, groupName, cancellationToken).ConfigureAwait(false))
        {
            var update = await eks.DescribeUpdateAsync(clusterName, groupName, id, cancellationToken).ConfigureAwait(false);
            if (update.Status == "InProgress")
            {
                return update;
            }
        }

        return null;
    }

    /// <summary>EKS's plan, as it documents it: surge max(2 × zones, maxUnavailable) new nodes capped by the outdated ones,
    /// then drain maxUnavailable outdated nodes at a time.</summary>
    private async Task<NodeReplacementPlan> PlanAsync(ClusterSnapshot snapshot, NodeGroupFacts group, string target, IReadOnlyList<KubeNode> old,
        IKubernetesApi kubernetes, bool resuming, DrainOverrides overrides, CancellationToken cancellationToken)
    {
        var instances = old.Select(n => n.InstanceId is { } id ? snapshot.Instances.GetValueOrDefault(id) : null).OfType<Ec2Instance>().ToList();
        var desired = group.Managed?.DesiredSize ?? old.Count;
        var unavailable = EksMaxUnavailable(group);
        var zones = Math.Max(1, snapshot.Instances.Values.Where(i => group.AutoScalingGroup?.Instances.Any(m => m.InstanceId == i.InstanceId) == true)
            .Select(i => i.AvailabilityZone).Distinct(StringComparer.Ordinal).Count());
        var surge = Math.Min(Math.Max(2 * zones, unavailable), instances.Count);
        var budgets = await kubernetes.ListPdbsAsync(cancellationToken).ConfigureAwait(false);
        var targetImage = await ReplacementOptions.DescribeTargetAsync(ec2, target, cancellationToken).ConfigureAwait(false);
        return ReplacementPlanner.Plan(snapshot, group, target, instances, desired, surge, unavailable, budgets, targetImage, calendar, resuming, overrides, managed: true);
    }

    private static int EksMaxUnavailable(NodeGroupFacts group) =>
        group.Managed?.MaxUnavailable
        ?? (group.Managed?.MaxUnavailablePercentage is int percent ? Math.Max(1, (group.Managed.DesiredSize ?? 0) * percent / 100) : 1);

    private static bool IsDraining(KubeNode node) => node.Unschedulable || node.TaintKeys.Contains(UpdateTaint);

    /// <summary>Pods on the group's nodes that EKS is draining (tainted or cordoned) that a PodDisruptionBudget allowing no
    /// disruption selects.</summary>
    private static async Task<IReadOnlyList<string>> BlockersAsync(IKubernetesApi kubernetes, string groupName, NodeTracker tracker, CancellationToken cancellationToken)
    {
        var draining = tracker.Nodes.Where(n => n.ManagedNodegroup == groupName && IsDraining(n))
            .Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        if (draining.Count == 0)
        {
            return [];
        }

        var budgets = (await kubernetes.ListPdbsAsync(cancellationToken).ConfigureAwait(false)).Where(b => b.DisruptionsAllowed == 0).ToList();
        var pods = await kubernetes.ListPodsAsync(fieldSelector: "status.phase=Running", cancellationToken: cancellationToken).ConfigureAwait(false);
        return pods.Where(p => p.NodeName != null && draining.Contains(p.NodeName))
            .SelectMany(p => budgets.Where(b => b.Selects(p)).Select(b => $"pod {Drainer.Key(p)} on {p.NodeName} (PodDisruptionBudget {b.Namespace}/{b.Name}: {b.CurrentHealthy} healthy, {b.DesiredHealthy} needed)"))
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
