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

    public sealed record Given(string ImageId) : ImageSource
    {
        public override string ToString() => ImageId;
    }

    /// <summary>BuildAsync returns the new AMI, or null under -WhatIf (the build was only planned).</summary>
    public sealed record Build(Func<WinNodeGroup, IWorkflowHost, CancellationToken, Task<string?>> BuildAsync) : ImageSource
    {
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
    public async Task<WinEksPatchReport> RunAsync(string clusterName, IReadOnlyCollection<string> nodeGroupNames, ImageSource source,
        ReplacementOptions options, IWorkflowHost host, CancellationToken cancellationToken = default)
    {
        var snapshot = await reader.ReadAsync(clusterName, includeInstances: true, includePods: false, cancellationToken).ConfigureAwait(false);
        var report = new WinEksPatchReport { ClusterName = clusterName, Region = snapshot.Region, ImageSource = source.ToString(), StartedAt = time.GetUtcNow() };
        var groups = FleetInventory.SelectGroups(snapshot, nodeGroupNames, host).Select(g => fleet.ToNodeGroup(snapshot, g)).ToList();
        host.Verbose($"{clusterName}: {groups.Count} Windows node group(s): {string.Join(", ", groups.Select(g => g.NodeGroupName))}.");

        var failed = false;
        foreach (var group in groups)
        {
            var entry = new WinEksPatchGroupReport
            {
                NodeGroupName = group.NodeGroupName,
                Kind = group.Kind,
                BeforeImageId = group.ImageId,
                BeforeOsBuild = OldestBuild(snapshot, group) ?? group.OsBuild,
            };
            report.Groups.Add(entry);
            if (failed)
            {
                entry.Result = GroupPatchResult.NotAttempted;
                continue;
            }

            var started = time.GetUtcNow();
            var callsBefore = calls.Snapshot();
            try
            {
                await PatchGroupAsync(snapshot, group, entry, source, options, host, cancellationToken).ConfigureAwait(false);
            }
            catch (WinEksPatchException ex)
            {
                entry.Result = GroupPatchResult.Failed;
                entry.Error = $"{ex.ErrorId}: {ex.Message}";
                host.Error(ex);
                failed = true;
            }

            entry.Duration = time.GetUtcNow() - started;
            entry.ApiCalls = calls.Since(callsBefore);
        }

        report.FinishedAt = time.GetUtcNow();
        report.ApiCalls = calls.Snapshot();
        return report;
    }

    private async Task PatchGroupAsync(ClusterSnapshot snapshot, WinNodeGroup group, WinEksPatchGroupReport entry, ImageSource source,
        ReplacementOptions options, IWorkflowHost host, CancellationToken cancellationToken)
    {
        // Managed groups on an EKS AMI type run the AMI EKS chooses by release: their target is the latest EKS-optimized
        // AMI whatever the source (a built or given AMI needs a CUSTOM group).
        var managedRelease = group.Kind == NodeGroupKind.Managed && group.AmiType != "CUSTOM";
        if (managedRelease && source is not ImageSource.EksLatest)
        {
            host.Warning($"{group.NodeGroupName} is a managed node group of AMI type {group.AmiType}: EKS picks its AMI by release, so it is patched to the latest EKS-optimized AMI, not to the {source} one.");
        }

        var target = source switch
        {
            _ when managedRelease => await LatestEksAsync(snapshot, group, cancellationToken).ConfigureAwait(false),
            ImageSource.Given given => given.ImageId,
            ImageSource.Build build => await build.BuildAsync(group, host, cancellationToken).ConfigureAwait(false)
                ?? (options.WhatIf ? ReplacementOptions.AmiToBeBuilt : throw new WinEksPatchException(ErrorIds.ImageBuildFailed, ErrorKind.InvalidOperation,
                    $"No AMI was built for {group.ClusterName}/{group.NodeGroupName}.", group.NodeGroupName)),
            _ => await LatestEksAsync(snapshot, group, cancellationToken).ConfigureAwait(false),
        };
        var toBeBuilt = target == ReplacementOptions.AmiToBeBuilt;
        var image = await ReplacementOptions.DescribeTargetAsync(ec2, target, cancellationToken).ConfigureAwait(false);
        var targetBuild = AmiFacts.OsBuild(image, calendar);
        entry.AfterImageId = toBeBuilt ? null : target;
        entry.AfterOsBuild = targetBuild?.ToString();
        if (WindowsBuild.ParseOrNull(entry.BeforeOsBuild) is { } current && targetBuild is { } next)
        {
            entry.MonthsBehind = calendar.MonthsBehind(current, next, image?.CreationDate is { } d ? DateOnly.FromDateTime(d.UtcDateTime) : null);
        }

        var outdated = snapshot.WindowsNodes.Count(n => snapshot.GroupOf(n) == group.NodeGroupName
            && n.InstanceId != null && snapshot.Instances.GetValueOrDefault(n.InstanceId)?.ImageId != target);
        // Every node on the target, and no interrupted rollout to finish (its last steps restore the group's sizes and
        // suspended processes): nothing to do.
        if (group.ImageId == target && outdated == 0 && !group.RolloutInProgress)
        {
            host.Verbose($"{group.NodeGroupName} already runs {target} on every node.");
            entry.Result = GroupPatchResult.UpToDate;
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
            await amiUpdate.RunAsync(snapshot.Cluster.Name, group.NodeGroupName, target, change, cancellationToken).ConfigureAwait(false);
            if (change.Items.Count == 0 && !options.WhatIf)
            {
                entry.Result = GroupPatchResult.NotAttempted; // declined at the confirmation prompt
                return;
            }
        }

        if (options.WhatIf)
        {
            // The replacement's plan against the AMI the group would get; nothing has changed.
            await replacement.RunAsync(snapshot.Cluster.Name, group.NodeGroupName, options with { PlannedImageId = target }, host, cancellationToken).ConfigureAwait(false);
            entry.Result = GroupPatchResult.Planned;
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

            entry.NodesReplaced = entry.Nodes.Count(n => n.Result is ReplacementOutcome.Replaced or ReplacementOutcome.ReplacedPodsDeleted);
        }

        entry.Result = GroupPatchResult.Patched;
    }

    private async Task<string> LatestEksAsync(ClusterSnapshot snapshot, WinNodeGroup group, CancellationToken cancellationToken)
    {
        var latest = await catalog.LatestEksAsync(new AmiQuery(snapshot.Cluster.Version, group.WindowsVersion, group.Edition ?? "Core"), cancellationToken).ConfigureAwait(false);
        return latest.FirstOrDefault()?.ImageId ?? throw new WinEksPatchException(ErrorIds.AmiNotFound, ErrorKind.ObjectNotFound,
            $"No EKS-optimized Windows Server {group.WindowsVersion} {group.Edition} AMI for Kubernetes {snapshot.Cluster.Version} in {snapshot.Region}.", group.NodeGroupName);
    }

    private static string? OldestBuild(ClusterSnapshot snapshot, WinNodeGroup group) =>
        snapshot.WindowsNodes.Where(n => snapshot.GroupOf(n) == group.NodeGroupName)
            .Select(n => WindowsBuild.ParseOrNull(n.KernelVersion)).OfType<WindowsBuild>().DefaultIfEmpty().Min() is { Build: > 0 } oldest
            ? oldest.ToString() : null;
}
