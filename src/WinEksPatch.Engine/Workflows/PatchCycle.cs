using WinEksPatch.Abstractions;
using WinEksPatch.Diagnostics;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Windows;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Workflows;

/// <summary>Where the cycle's AMI comes from: the latest EKS-optimized AMI, one given, or a build (New-WinNodeAmi).</summary>
public abstract record ImageSource
{
    public sealed record EksLatest : ImageSource
    {
        public override string ToString() => "EksLatest";
    }

    /// <summary>An AMI the user names; <paramref name="AllowedOwners"/>: accounts besides this one and Amazon whose AMIs may be set.</summary>
    public sealed record Given(string ImageId, IReadOnlyList<string>? AllowedOwners = null) : ImageSource
    {
        public override string ToString() => ImageId;
    }

    /// <summary>BuildAsync returns the new AMI, or null under -WhatIf (the build was only planned).</summary>
    public sealed record Build(Func<WinNodeGroup, IWorkflowHost, CancellationToken, Task<string?>> BuildAsync) : ImageSource
    {
        /// <summary>With -FastLaunch: the Fast Launch the AMI built for a group will have when the rollout starts, for the
        /// -WhatIf plan of an AMI that does not exist yet.</summary>
        public Func<WinNodeGroup, Replacement.FastLaunchPreflight>? PlannedFastLaunch { get; init; }

        public override string ToString() => "Build";
    }
}

/// <summary>
/// Invoke-WinEksPatch: the whole monthly cycle, group by group: assess, choose or build the AMI, set it, replace the
/// nodes; stop at the first group that fails (the others are left as they were). Emits one <see cref="WinEksPatchReport"/>.
/// Under -WhatIf each step writes its plan instead (the build's, the launch template change's, the replacement's
/// NodeReplacementPlan against the AMI the group would get) and the groups are reported Planned.
/// </summary>
public sealed class PatchCycle(
    ClusterSnapshotReader reader,
    FleetInventory fleet,
    AmiCatalog catalog,
    IEc2Api ec2,
    NodeGroupAmiUpdate amiUpdate,
    NodeReplacement replacement,
    Func<EksCluster, IKubernetesApi> kubernetesFor,
    PatchCalendar calendar,
    ApiCallCounter calls,
    TimeProvider time)
{
    /// <summary>Runs the cycle. It never throws for a failure of the cycle: the report says what happened (the group that
    /// failed, or the check before any change that did) and <see cref="PatchCycleOutcome.Failure"/> holds the error, so the
    /// caller can always write the report before it reports the failure. A stop (Ctrl+C) is such a failure too
    /// (PatchCycleStopped on the group it interrupted); the caller then writes the report and stops.</summary>
    public async Task<PatchCycleOutcome> RunAsync(string clusterName, IReadOnlyCollection<string> nodeGroupNames, ImageSource source,
        ReplacementOptions options, IWorkflowHost host, CancellationToken cancellationToken = default)
    {
        var report = new WinEksPatchReport { ClusterName = clusterName, ImageSource = source.ToString(), StartedAt = time.GetUtcNow() };
        ClusterSnapshot snapshot;
        List<WinNodeGroup> groups;
        try
        {
            snapshot = await reader.ReadAsync(clusterName, includeInstances: true, includePods: false, cancellationToken).ConfigureAwait(false);
            report.Region = snapshot.Region;
            groups = SelectAll(snapshot, nodeGroupNames).Select(g => fleet.ToNodeGroup(snapshot, g)).ToList();
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            return Finish(report, UnexpectedFailure.From(ex, clusterName));
        }

        host.Verbose($"{clusterName}: {groups.Count} Windows node group(s): {string.Join(", ", groups.Select(g => g.NodeGroupName))}.");
        WinEksPatchException? failure = null;
        foreach (var group in groups)
        {
            var entry = new WinEksPatchGroupReport
            {
                NodeGroupName = group.NodeGroupName,
                Kind = group.Kind,
                BeforeImageId = ImageOnEveryNode(snapshot, group.NodeGroupName),
                BeforeOsBuild = OldestBuild(snapshot, group.NodeGroupName) ?? group.ImageOsBuild,
            };
            report.Groups.Add(entry);
            if (failure != null)
            {
                entry.Outcome = GroupPatchResult.NotAttempted;
                continue;
            }

            var started = time.GetUtcNow();
            var callsBefore = calls.Snapshot();
            try
            {
                await PatchGroupAsync(snapshot, group, entry, source, options, host, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not HostInteractionException)
            {
                // Every failure of a group ends the cycle with a report: a stop (Ctrl+C, the runbook's cancellation) as
                // PatchCycleStopped whatever it raised, anything else in the error contract (a timeout, an answer that
                // does not parse, an unexpected state: UnexpectedFailure). The host's own failures pass through.
                entry.Outcome = GroupPatchResult.Failed;
                failure = cancellationToken.IsCancellationRequested
                    ? new WinEksPatchException(ErrorIds.PatchCycleStopped, ErrorKind.OperationStopped,
                        "Stopped (Ctrl+C or the runbook's cancellation) before the group was done.", group.NodeGroupName)
                    : UnexpectedFailure.From(ex, group.NodeGroupName);
                entry.Error = $"{failure.ErrorId}: {failure.Message}";
            }

            entry.Duration = time.GetUtcNow() - started;
            entry.ApiCalls = calls.Since(callsBefore);
        }

        if (!options.WhatIf && !cancellationToken.IsCancellationRequested)
        {
            await MeasureAfterAsync(clusterName, report, host, cancellationToken).ConfigureAwait(false);
        }

        return Finish(report, failure);
    }

    private PatchCycleOutcome Finish(WinEksPatchReport report, WinEksPatchException? failure)
    {
        report.Error = failure == null ? null : $"{failure.ErrorId}: {failure.Message}";
        report.FinishedAt = time.GetUtcNow();
        report.ApiCalls = calls.Snapshot();
        return new PatchCycleOutcome(report, failure);
    }

    /// <summary>The groups of the cycle, all checked before anything changes: a name that is not a group of the cluster, or
    /// names a group without Windows nodes, fails the whole cycle, and so does a cluster without Windows groups (a cycle
    /// that patched nothing is not a success).</summary>
    internal static List<NodeGroupFacts> SelectAll(ClusterSnapshot snapshot, IReadOnlyCollection<string> names)
    {
        var (selected, refused) = FleetInventory.ClassifyGroups(snapshot, names);
        if (refused.Count > 0)
        {
            throw new WinEksPatchException(refused[0].ErrorId, refused[0].Kind,
                string.Join(" ", refused.Select(e => e.Message)) + " Nothing was changed.", refused[0].Target, refused[0]);
        }

        return selected.Count > 0 ? selected : throw new WinEksPatchException(ErrorIds.NoWindowsNodeGroups, ErrorKind.ObjectNotFound,
            $"Cluster '{snapshot.Cluster.Name}' has no Windows node group" + (snapshot.NodeGroups.Count == 0 ? "s at all."
                : $" (its groups: {string.Join(", ", snapshot.NodeGroups.Select(g => g.Name).Order(StringComparer.Ordinal))}); there is nothing to patch."),
            snapshot.Cluster.Name);
    }

    /// <summary>"After" is what the nodes run once the cycle is over, read again from the cluster: never the target's
    /// values, which a group that failed part-way (or a node the rollout skipped) does not run.</summary>
    private async Task MeasureAfterAsync(string clusterName, WinEksPatchReport report, IWorkflowHost host, CancellationToken cancellationToken)
    {
        ClusterSnapshot after;
        try
        {
            after = await reader.ReadAsync(clusterName, includeInstances: true, includePods: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            host.Warning($"The nodes could not be read again after the cycle, so the report has no 'after' values: {UnexpectedFailure.From(ex).Message}");
            return;
        }

        foreach (var entry in report.Groups)
        {
            var nodes = NodesOf(after, entry.NodeGroupName).ToList();
            entry.AfterImageId = ImageOnEveryNode(after, entry.NodeGroupName);
            entry.AfterOsBuild = OldestBuild(after, entry.NodeGroupName);
            entry.NodesOnTarget = entry.TargetImageId == null ? null
                : nodes.Count(n => n.InstanceId != null && after.Instances.GetValueOrDefault(n.InstanceId)?.ImageId == entry.TargetImageId);
            entry.NodeCount = nodes.Count;
        }
    }

    private async Task PatchGroupAsync(ClusterSnapshot snapshot, WinNodeGroup group, WinEksPatchGroupReport entry, ImageSource source,
        ReplacementOptions options, IWorkflowHost host, CancellationToken cancellationToken)
    {
        // Managed groups on an EKS AMI type run the AMI EKS chooses by release: their target is the latest EKS-optimized
        // AMI whatever the source (a built or given AMI needs a CUSTOM group).
        var managedRelease = group.Kind == nameof(NodeGroupKind.Managed) && group.AmiType != "CUSTOM";
        if (managedRelease && source is not ImageSource.EksLatest)
        {
            host.Warning($"{group.NodeGroupName} is a managed node group of AMI type {group.AmiType}: EKS picks its AMI by release, so it is patched to the latest EKS-optimized AMI, not to the {source} one.");
        }

        // The latest EKS AMI comes described by the catalog (its OS build from the patch calendar); another is described here.
        var latest = managedRelease || source is ImageSource.EksLatest ? await LatestEksAsync(snapshot, group, cancellationToken).ConfigureAwait(false) : null;
        var target = latest?.ImageId ?? source switch
        {
            ImageSource.Given given => given.ImageId,
            ImageSource.Build build => await build.BuildAsync(group, host, cancellationToken).ConfigureAwait(false)
                ?? (options.WhatIf ? ReplacementOptions.AmiToBeBuilt : throw new WinEksPatchException(ErrorIds.ImageBuildFailed, ErrorKind.InvalidOperation,
                    $"No AMI was built for {group.ClusterName}/{group.NodeGroupName}.", group.NodeGroupName)),
            _ => throw new InvalidOperationException($"Image source {source} has no target."),
        };
        var toBeBuilt = target == ReplacementOptions.AmiToBeBuilt;
        var image = latest != null ? null : await ReplacementOptions.DescribeTargetAsync(ec2, target, cancellationToken).ConfigureAwait(false);
        var targetBuild = latest != null ? WindowsBuild.ParseOrNull(latest.OsBuild) : AmiFacts.OsBuild(image, calendar);
        var targetCreated = latest != null ? latest.CreationDate : image?.CreationDate;
        entry.TargetImageId = toBeBuilt ? null : target;
        entry.TargetOsBuild = targetBuild?.ToString();
        if (WindowsBuild.ParseOrNull(entry.BeforeOsBuild) is { } current && targetBuild is { } next)
        {
            entry.MonthsBehind = calendar.MonthsBehind(current, next, targetCreated is { } d ? DateOnly.FromDateTime(d.UtcDateTime) : null);
        }

        var outdated = snapshot.WindowsNodes.Count(n => snapshot.GroupOf(n) == group.NodeGroupName
            && n.InstanceId != null && snapshot.Instances.GetValueOrDefault(n.InstanceId)?.ImageId != target);
        // Every node on the target, and no interrupted rollout to finish (its last steps restore the group's sizes and
        // suspended processes): nothing to do.
        if (group.ImageId == target && outdated == 0 && !group.RolloutInProgress)
        {
            host.Verbose($"{group.NodeGroupName} already runs {target} on every node.");
            entry.Outcome = GroupPatchResult.UpToDate;
            return;
        }

        // One run per group, from the launch template change to the last node: the group's lease is taken before anything
        // changes (a second run is refused here with NodeGroupBusy) and handed to the replacement.
        await using var lease = options.WhatIf ? null
            : await RolloutLease.AcquireAsync(kubernetesFor(snapshot.Cluster), snapshot.Cluster.Name, group.NodeGroupName, RolloutHolder.Current(), time, cancellationToken)
                .ConfigureAwait(false);

        // Managed groups on an EKS AMI type take the latest EKS release through their own update; the others need the
        // AMI set in a new launch template version first.
        if (!managedRelease && group.ImageId != target && !toBeBuilt)
        {
            var change = new CapturingHost(host);
            await amiUpdate.RunAsync(snapshot.Cluster.Name, group.NodeGroupName, target, change, cancellationToken, (source as ImageSource.Given)?.AllowedOwners)
                .ConfigureAwait(false);
            if (change.Items.Count == 0 && !options.WhatIf)
            {
                entry.Outcome = GroupPatchResult.NotAttempted; // declined at the confirmation prompt
                return;
            }
        }

        if (options.WhatIf)
        {
            // The replacement's plan against the AMI the group would get; nothing has changed.
            await replacement.RunAsync(snapshot.Cluster.Name, group.NodeGroupName, options with
            {
                PlannedImageId = target,
                PlannedFastLaunch = toBeBuilt && source is ImageSource.Build { PlannedFastLaunch: { } planned } ? planned(group) : null,
            }, host, cancellationToken).ConfigureAwait(false);
            entry.Outcome = GroupPatchResult.Planned;
            return;
        }

        var results = new CapturingHost(host);
        try
        {
            await replacement.RunAsync(snapshot.Cluster.Name, group.NodeGroupName, options, lease, results, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // A group that failed part-way reports the nodes it did replace (and the pods it deleted) as well.
            foreach (var node in results.Items.OfType<NodeReplacementResult>())
            {
                entry.Nodes.Add(node);
                entry.Blockers.AddRange(node.Blockers);
                entry.PodsDeleted.AddRange(node.PodsDeleted);
            }

            entry.NodesReplaced = entry.Nodes.Count(n => n.Outcome is ReplacementOutcome.Replaced or ReplacementOutcome.ReplacedPodsDeleted);
        }

        entry.Outcome = GroupPatchResult.Patched;
    }

    private async Task<WinNodeAmi> LatestEksAsync(ClusterSnapshot snapshot, WinNodeGroup group, CancellationToken cancellationToken)
    {
        var latest = await catalog.LatestEksAsync(new AmiQuery(snapshot.Cluster.Version, group.WindowsVersion, group.Edition ?? "Core"), cancellationToken).ConfigureAwait(false);
        return latest.FirstOrDefault() ?? throw new WinEksPatchException(ErrorIds.AmiNotFound, ErrorKind.ObjectNotFound,
            $"No EKS-optimized Windows Server {group.WindowsVersion} {group.Edition} AMI for Kubernetes {snapshot.Cluster.Version} in {snapshot.Region}.", group.NodeGroupName);
    }

    private static IEnumerable<KubeNode> NodesOf(ClusterSnapshot snapshot, string groupName) =>
        snapshot.WindowsNodes.Where(n => snapshot.GroupOf(n) == groupName);

    private static string? OldestBuild(ClusterSnapshot snapshot, string groupName) =>
        NodesOf(snapshot, groupName).Select(n => WindowsBuild.ParseOrNull(n.KernelVersion)).OfType<WindowsBuild>().DefaultIfEmpty().Min() is { Build: > 0 } oldest
            ? oldest.ToString() : null;

    /// <summary>The AMI every node of the group runs, or null when they run different AMIs (or the group has no node).</summary>
    private static string? ImageOnEveryNode(ClusterSnapshot snapshot, string groupName)
    {
        var images = NodesOf(snapshot, groupName).Select(n => n.InstanceId is { } id ? snapshot.Instances.GetValueOrDefault(id)?.ImageId : null)
            .Distinct(StringComparer.Ordinal).ToList();
        return images is [{ } only] ? only : null;
    }
}

/// <summary>The report of a patch cycle and, when it did not succeed, the error that ended it (the report says it too).</summary>
public sealed record PatchCycleOutcome(WinEksPatchReport Report, WinEksPatchException? Failure);
