using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows.AmiBuild;

/// <summary>What the AMI is built for and from: the cluster's Kubernetes version, the Windows version and edition (given,
/// the group's, or the cluster's only one), the parent AMI with its OS build and the images it caches, and the node count of
/// the group the AMI prepares (for Fast Launch's snapshots).</summary>
internal sealed record AmiBuildTarget(string KubernetesVersion, string WindowsVersion, string Edition, Ec2Image Parent, WindowsBuild? ParentBuild,
    IReadOnlyList<string> ParentCachedImages, int? GroupNodeCount = null);

/// <summary>Resolves the <see cref="AmiBuildTarget"/> of New-WinNodeAmi's inputs: read only; every input that names
/// something that is not there, or contradicts another, is refused here, before anything is planned.</summary>
internal sealed class AmiBuildTargetResolver(
    IEksApi eks,
    IEc2Api ec2,
    AmiCatalog catalog,
    ClusterSnapshotReader reader,
    FleetInventory inventory,
    PatchCalendar calendar,
    TimeProvider time,
    string region)
{
    public async Task<AmiBuildTarget> ResolveAsync(AmiBuildOptions options, IWorkflowHost host, CancellationToken cancellationToken)
    {
        EksCluster cluster;
        try
        {
            cluster = await eks.DescribeClusterAsync(options.ClusterName, cancellationToken).ConfigureAwait(false);
        }
        catch (WinEksPatchException ex) when (ex.ErrorId == ErrorIds.AwsResourceNotFound)
        {
            throw new WinEksPatchException(ErrorIds.ClusterNotFound, ErrorKind.ObjectNotFound, $"No EKS cluster named '{options.ClusterName}' in {region}.",
                options.ClusterName, ex);
        }

        var kubernetes = cluster.Version ?? throw new WinEksPatchException(ErrorIds.ClusterNotFound, ErrorKind.InvalidData,
            $"Cluster '{options.ClusterName}' reports no Kubernetes version.", options.ClusterName);
        var windows = options.WindowsVersion;
        var edition = Canonical(options.Edition);
        ClusterSnapshot? snapshot = null;
        int? groupNodes = null;

        if (options.NodeGroupName is { } groupName)
        {
            snapshot = await reader.ReadAsync(options.ClusterName, includeInstances: true, includePods: false, cancellationToken).ConfigureAwait(false);
            var group = snapshot.NodeGroups.FirstOrDefault(g => g.Name == groupName)
                ?? throw new WinEksPatchException(ErrorIds.NodeGroupNotFound, ErrorKind.ObjectNotFound,
                    $"Cluster '{options.ClusterName}' has no node group '{groupName}' (neither an EKS managed node group nor an Auto Scaling group tagged kubernetes.io/cluster/{options.ClusterName}).",
                    groupName);
            if (!group.IsWindows)
            {
                throw new WinEksPatchException(ErrorIds.NodeGroupNotWindows, ErrorKind.InvalidArgument,
                    $"Node group '{groupName}' of cluster '{options.ClusterName}' runs no Windows nodes.", groupName);
            }

            var projected = inventory.ToNodeGroup(snapshot, group);
            groupNodes = Math.Max(projected.NodeCount, projected.DesiredSize);
            if (windows != null && projected.WindowsVersion != null && windows != projected.WindowsVersion)
            {
                throw new WinEksPatchException(ErrorIds.AmiWindowsBuildMismatch, ErrorKind.InvalidArgument,
                    $"-WindowsVersion {windows} does not match node group '{groupName}', which runs Windows Server {projected.WindowsVersion}.", groupName);
            }

            windows ??= projected.WindowsVersion;
            edition ??= Canonical(projected.Edition);
        }

        Ec2Image parent;
        if (options.ParentImageId is { } parentId)
        {
            parent = (await ec2.DescribeImagesAsync([parentId], cancellationToken).ConfigureAwait(false)).SingleOrDefault()
                ?? throw new WinEksPatchException(ErrorIds.AmiNotFound, ErrorKind.ObjectNotFound,
                    $"-ParentImageId: no AMI {parentId} in {region} (AMIs are regional: copy it here first).", parentId);
            if (!parent.IsWindows)
            {
                throw new WinEksPatchException(ErrorIds.AmiNotWindows, ErrorKind.InvalidArgument,
                    $"-ParentImageId: {parentId} ({parent.Name}) is a {parent.PlatformDetails ?? "non-Windows"} AMI, not Windows.", parentId);
            }

            var parentWindows = AmiFacts.WindowsVersion(parent) ?? AmiFacts.OsBuild(parent, calendar)?.WindowsServer;
            if (windows != null && parentWindows != null && windows != parentWindows)
            {
                throw new WinEksPatchException(ErrorIds.AmiWindowsBuildMismatch, ErrorKind.InvalidArgument,
                    $"-ParentImageId: {parentId} is Windows Server {parentWindows}, not {windows}.", parentId);
            }

            windows ??= parentWindows ?? throw new WinEksPatchException(ErrorIds.WindowsVersionNotDetermined, ErrorKind.InvalidArgument,
                $"-ParentImageId: the Windows Server version of {parentId} cannot be told from its name or tags; pass -WindowsVersion.", parentId);
            edition ??= Canonical(parent.Tags.GetValueOrDefault(AmiFacts.EditionTag) ?? AmiFacts.FromName(parent.Name).Edition) ?? "Core";
        }
        else
        {
            if (windows == null && options.NodeGroupName is { } unknownGroup)
            {
                // Never fall back to the cluster's other groups: their Windows version may not be this group's.
                throw new WinEksPatchException(ErrorIds.WindowsVersionNotDetermined, ErrorKind.InvalidArgument,
                    $"The Windows Server version of node group '{unknownGroup}' of cluster '{options.ClusterName}' cannot be told (neither its AMI type, its AMI's name or tags, nor a node's OS build names it): pass -WindowsVersion (and -Edition).",
                    unknownGroup);
            }

            if (windows == null)
            {
                snapshot ??= await reader.ReadAsync(options.ClusterName, includeInstances: true, includePods: false, cancellationToken).ConfigureAwait(false);
                var kinds = snapshot.NodeGroups.Where(g => g.IsWindows).Select(g => inventory.ToNodeGroup(snapshot, g))
                    .Select(g => (g.WindowsVersion, Edition: Canonical(g.Edition))).Where(k => k.WindowsVersion != null).Distinct().ToList();
                if (kinds.Select(k => k.WindowsVersion).Distinct().Count() != 1)
                {
                    throw new WinEksPatchException(ErrorIds.WindowsVersionNotDetermined, ErrorKind.InvalidArgument,
                        kinds.Count == 0
                            ? $"Cluster '{options.ClusterName}' has no Windows node group to take the Windows version from: pass -WindowsVersion (and -Edition) or -NodeGroupName."
                            : $"Cluster '{options.ClusterName}' runs Windows Server {string.Join(" and ", kinds.Select(k => k.WindowsVersion).Distinct())}: pass -NodeGroupName or -WindowsVersion.",
                        options.ClusterName);
                }

                windows = kinds[0].WindowsVersion;
                edition ??= kinds.Select(k => k.Edition).Distinct().Count() == 1 ? kinds[0].Edition : null;
            }

            edition ??= "Core";
            var latest = (await catalog.LatestEksAsync(new AmiQuery(kubernetes, windows, edition), cancellationToken).ConfigureAwait(false)).FirstOrDefault();
            parent = (latest == null ? null : (await ec2.DescribeImagesAsync([latest.ImageId], cancellationToken).ConfigureAwait(false)).SingleOrDefault())
                ?? throw new WinEksPatchException(ErrorIds.EksAmiNotFound, ErrorKind.ObjectNotFound,
                    $"No EKS-optimized Windows AMI for Kubernetes {kubernetes} and Windows Server {windows} {edition} in {region} "
                    + $"(SSM parameter {AmiCatalog.EksParameterName(windows!, edition, kubernetes)}). Pass -ParentImageId to build from another AMI.",
                    options.ClusterName);
        }

        var parentBuild = AmiFacts.OsBuild(parent, calendar);
        host.Verbose($"Parent AMI {parent.ImageId} ({parent.Name}), OS build {parentBuild?.ToString() ?? "unknown"}.");
        return new AmiBuildTarget(kubernetes, windows!, edition!, parent, parentBuild, AmiFacts.CachedImages(parent, parentBuild), groupNodes);
    }

    private static string? Canonical(string? edition) => edition?.ToUpperInvariant() switch
    {
        "CORE" => "Core",
        "FULL" => "Full",
        null => null,
        _ => edition,
    };

    /// <summary>The OS build update-windows brings: the newest monthly release of the Windows version published by now (never
    /// older than the parent's).</summary>
    public WindowsBuild? ExpectedOsBuild(AmiBuildTarget target)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var newest = WindowsBuild.BuildOf(target.WindowsVersion) is { } series
            ? calendar.MonthlyReleases(series).LastOrDefault(r => r.ReleaseDate <= today)?.Build
            : null;
        return newest is { } n && (target.ParentBuild is not { } p || n > p) ? n : target.ParentBuild;
    }
}
