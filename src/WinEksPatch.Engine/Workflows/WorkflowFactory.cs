using WinEksPatch.Windows;
using WinEksPatch.Workflows.AmiBuild;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Workflows;

/// <summary>
/// The composition root of one invocation: each workflow wired to this invocation's AWS clients, Kubernetes connections,
/// registry client, clock and the module's patch calendar. Cmdlets ask for the workflow they run; nothing else builds them.
/// </summary>
public sealed class WorkflowFactory(Connections connections)
{
    private static PatchCalendar Calendar => PatchCalendar.Default;

    public ClusterSnapshotReader Reader() =>
        new(connections.Aws.Eks(), connections.Aws.AutoScaling(), connections.Aws.Ec2(), connections.KubernetesFor, connections.Region);

    public FleetInventory Fleet() => new(Reader(), Calendar, connections.Time);

    public AmiCatalog Catalog() => new(connections.Aws.Ssm(), connections.Aws.Ec2(), Calendar, connections.Region);

    public ImageCost ImageCost() =>
        new(connections.Images, connections.Registry, connections.Aws.Ec2(), Calendar, connections.KubernetesForClusterAsync);

    public ContainerAssessment Containers() => new(Reader(), connections.Images, ImageCost(), Calendar);

    public PatchAssessment PatchStatus() => new(Reader(), Fleet(), Catalog(), Calendar, connections.Time);

    public NodeGroupAmiUpdate AmiUpdate() =>
        new(Reader(), Fleet(), connections.Aws.Ec2(), connections.Aws.AutoScaling(), connections.Aws.Eks(), Calendar);

    public NodeReplacement Replacement() =>
        new(Reader(), connections.Aws.Ec2(), connections.Aws.AutoScaling(), connections.Aws.Eks(), connections.KubernetesFor, Catalog(), Calendar, connections.Time);

    public AmiBuilder AmiBuilder() =>
        new(connections.Aws.ImageBuilder(), connections.Aws.Eks(), connections.Aws.Ec2(), Catalog(), Reader(), Fleet(),
            new RegistryCacheImageResolver(connections.Registry, connections.Images), Calendar, connections.Time, connections.Region);

    public FastLaunch.FastLaunchSetup FastLaunch() => new(connections.Aws.Ec2(), connections.Time, connections.Region);

    /// <summary>The Fast Launch New-WinNodeAmi -FastLaunch gives the AMI it builds for <paramref name="group"/>, for a -WhatIf
    /// plan (snapshots as the build counts them: the larger of the group's node count and desired size, at least 5).</summary>
    public FastLaunchPreflight PlannedFastLaunch(AmiFastLaunchOptions options, Model.WinNodeGroup group) =>
        FastLaunchPreflight.ForPlannedBuild(options, Math.Max(group.NodeCount, group.DesiredSize), connections.Time);

    public IamPolicyDiscovery IamPolicyDiscovery() => new(Reader(), connections.Aws.Ec2(), connections.Aws.Iam());

    /// <summary>-ImageSource Build's source: New-WinNodeAmi for each group, caching the images its pods run when asked, with
    /// Fast Launch when <paramref name="fastLaunch"/> is given (its -WhatIf plan counts the snapshots the build would make).</summary>
    public ImageSource.Build BuildSource(bool cacheImagesFromCluster, AmiFastLaunchOptions? fastLaunch) =>
        new(async (group, host, cancellationToken) =>
        {
            IReadOnlyList<string> cache = [];
            if (cacheImagesFromCluster)
            {
                var plan = new CapturingHost(host);
                await Containers().CachePlanAsync(group.ClusterName, [group.NodeGroupName], plan, cancellationToken).ConfigureAwait(false);
                cache = plan.Items.OfType<Model.WinImageCacheCandidate>().Where(c => !c.AlreadyCached).Select(c => c.Image).ToList();
            }

            var built = new CapturingHost(host);
            await AmiBuilder().RunAsync(new AmiBuildOptions
            {
                ClusterName = group.ClusterName,
                NodeGroupName = group.NodeGroupName,
                CacheImages = cache,
                FastLaunch = fastLaunch,
            }, built, cancellationToken).ConfigureAwait(false);
            return built.Items.OfType<Model.WinNodeAmi>().SingleOrDefault()?.ImageId; // none under -WhatIf (the build's plan was written)
        })
        {
            PlannedFastLaunch = fastLaunch is null ? null : group => PlannedFastLaunch(fastLaunch, group),
        };

    public PatchCycle PatchCycle() =>
        new(Reader(), Fleet(), Catalog(), connections.Aws.Ec2(), AmiUpdate(), Replacement(), connections.KubernetesFor, Calendar, connections.Aws.Calls, connections.Time);
}
