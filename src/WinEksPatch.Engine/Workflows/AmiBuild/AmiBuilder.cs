using System.Globalization;
using System.Text;
using System.Text.Json;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Registry;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows.AmiBuild;

/// <summary>What New-WinNodeAmi was asked for.</summary>
public sealed record AmiBuildOptions
{
    public required string ClusterName { get; init; }
    public string? NodeGroupName { get; init; }
    public string? WindowsVersion { get; init; }
    public string? Edition { get; init; }
    public string? ParentImageId { get; init; }
    public IReadOnlyList<string> CacheImages { get; init; } = [];
    public IReadOnlyList<string> Components { get; init; } = [];
    public string? InstanceType { get; init; }
    public string? SubnetId { get; init; }
    public IReadOnlyList<string> SecurityGroupIds { get; init; } = [];
    public string? InstanceProfileName { get; init; }
    public IReadOnlyList<string> DistributionRegions { get; init; } = [];
    public bool NoWait { get; init; }

    /// <summary>EC2 Fast Launch on the output AMI (in this region), through the distribution configuration; null: none.</summary>
    public AmiFastLaunchOptions? FastLaunch { get; init; }
}

/// <summary>New-WinNodeAmi -FastLaunch: the snapshots to keep on hand (null: sized to the rollout the AMI prepares, the
/// group's node count, at least EC2's default of 5), the parallel pre-provisioning launches and their launch template.</summary>
public sealed record AmiFastLaunchOptions
{
    public int? TargetSnapshotCount { get; init; }
    public int MaxParallelLaunches { get; init; } = FastLaunch.FastLaunchSetup.MinParallelLaunches;
    public string? LaunchTemplateId { get; init; }
    public string? LaunchTemplateVersion { get; init; }
    public int ParallelLaunchQuota { get; init; } = FastLaunch.FastLaunchSetup.DefaultParallelLaunchQuota;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(30);
}

/// <summary>What the registry says about an image to cache: the digest its tag points to, its OS version and layers.</summary>
public sealed record CacheImageFacts(string Digest, string? OsVersion, IReadOnlyList<ImageLayer> Layers);

/// <summary>Reads images to cache from their registries (a seam for tests).</summary>
public interface ICacheImageResolver
{
    Task<CacheImageFacts> ResolveAsync(ImageReference image, int? windowsBuild, CancellationToken cancellationToken);
}

/// <summary>The registry-backed resolver: the tag's top-level digest (what <c>ctr images ls</c> shows) and the Windows
/// image of the build with its on-disk layer sizes.</summary>
public sealed class RegistryCacheImageResolver(RegistryClient registry, ImageAnalyzer analyzer) : ICacheImageResolver
{
    public async Task<CacheImageFacts> ResolveAsync(ImageReference image, int? windowsBuild, CancellationToken cancellationToken)
    {
        var top = await registry.GetManifestAsync(image, cancellationToken: cancellationToken).ConfigureAwait(false);
        var resolved = await analyzer.ResolveAsync(image, windowsBuild, withSizes: true, cancellationToken).ConfigureAwait(false);
        return new CacheImageFacts(top.Digest, resolved.OsVersion, resolved.Layers);
    }
}

/// <summary>
/// New-WinNodeAmi: builds a patched, image-cached Windows AMI with EC2 Image Builder. Every input is checked and every
/// resource planned (read-only) before anything is created; the infrastructure configuration is created first, since
/// creating it is what checks the instance profile and subnet; a failure while creating removes what this run created.
/// Running it again with the same inputs reuses every resource and only starts a new build.
/// </summary>
public sealed class AmiBuilder(
    IImageBuilderApi imageBuilder,
    IEksApi eks,
    IEc2Api ec2,
    AmiCatalog catalog,
    ClusterSnapshotReader reader,
    FleetInventory inventory,
    ICacheImageResolver resolver,
    PatchCalendar calendar,
    TimeProvider time,
    string region)
{
    public const string DefaultInstanceProfile = "EC2InstanceProfileForImageBuilderECRContainerBuilds";
    public const string DefaultInstanceType = "m5.xlarge";
    public const string RootDevice = "/dev/sda1";

    /// <summary>Root volume of the EKS-optimized Windows AMIs (GiB); the recipe adds room for the cached images.</summary>
    public const int BaseVolumeGiB = 50;

    /// <summary>AWS allows 50 tags per AMI; Image Builder adds Ec2ImageBuilderArn and CreatedBy; six are the module's own.</summary>
    public const int MaxCachedImagesTags = 42;

    public const int TagValueMax = 256;

    private const int ProgressId = 4201;

    private static readonly string[] Phases = ["PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE"];

    /// <summary>How often GetImage is asked while waiting (Image Builder has no watch); on the injected clock.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Amazon's update-windows component (latest version) in the partition and region of one of our own ARNs.</summary>
    public static string UpdateWindowsArn(string siblingArn) =>
        siblingArn.Split(':') is { Length: > 3 } parts ? $"arn:{parts[1]}:imagebuilder:{parts[3]}:aws:component/update-windows/x.x.x" : "";

    public async Task RunAsync(AmiBuildOptions options, IWorkflowHost host, CancellationToken cancellationToken = default)
    {
        // 1. Inputs that need no AWS call.
        var requested = ParseCacheImages(options.CacheImages);

        // 2. Cluster, group, parent AMI, extra components: read only.
        var target = await ResolveTargetAsync(options, host, cancellationToken).ConfigureAwait(false);
        foreach (var component in options.Components)
        {
            try
            {
                await imageBuilder.GetComponentAsync(component, cancellationToken).ConfigureAwait(false);
            }
            catch (WinEksPatchException ex) when (ex.ErrorId is ErrorIds.AwsResourceNotFound or ErrorIds.AwsValidationError)
            {
                throw new WinEksPatchException(ErrorIds.ComponentNotFound, ErrorKind.ObjectNotFound,
                    $"-Component: the Image Builder component '{component}' does not exist in {region} ({ex.AwsErrorCode}).", component, ex);
            }
        }

        // 3. The images: digests to verify, sizes for the root volume. What the registry answers for certain (no such image,
        // not Windows, another Windows build) refuses the build here, before anything is created: a build that would fail
        // an hour later, or bake an image its nodes can never start, is money spent for nothing. A registry this machine
        // cannot reach (a private one the build instance can) only warns: the build pulls it without a digest check.
        var seriesBuild = WindowsBuild.BuildOf(target.WindowsVersion);
        var cacheImages = new List<CacheImage>();
        var requestedFacts = new List<(ImageReference Reference, CacheImageFacts Facts)>();
        var refused = new List<WinEksPatchException>();
        var unresolved = 0;
        foreach (var reference in requested)
        {
            try
            {
                var facts = await resolver.ResolveAsync(reference, seriesBuild, cancellationToken).ConfigureAwait(false);
                if (WindowsBuild.ParseOrNull(facts.OsVersion) is { } imageBuild && seriesBuild is { } nodeBuild && imageBuild.Build != nodeBuild)
                {
                    refused.Add(new WinEksPatchException(ErrorIds.ImageWindowsBuildMismatch, ErrorKind.InvalidArgument,
                        $"{reference} is built for Windows build {imageBuild.Build} ({imageBuild.WindowsServer ?? "unknown"}), and nodes of Windows Server " +
                        $"{target.WindowsVersion} (build {nodeBuild}) cannot run it with process isolation, the only isolation EKS supports.", reference.ToString()));
                    continue;
                }

                requestedFacts.Add((reference, facts));
                cacheImages.Add(new CacheImage(reference, facts.Digest));
            }
            catch (WinEksPatchException ex) when (ex.ErrorId is ErrorIds.ImageNotFound or ErrorIds.ImageNotWindows or ErrorIds.ImageManifestInvalid)
            {
                refused.Add(ex);
            }
            catch (WinEksPatchException ex)
            {
                unresolved++;
                cacheImages.Add(new CacheImage(reference, null));
                host.Warning($"{reference} could not be read from its registry here ({ex.Message}) The build pulls it without a digest check, and fails if the build instance cannot pull it either.");
            }
        }

        if (refused.Count > 0)
        {
            throw new WinEksPatchException(refused[0].ErrorId, refused[0].Kind,
                $"-CacheImage: {string.Join(" ", refused.Select(r => r.Message))} Nothing was created; leave {(refused.Count == 1 ? "it" : "them")} out " +
                "(Get-WinImageCachePlan shows what each group can cache).", refused[0].Target, refused[0]);
        }

        var volume = await RootVolumeGiBAsync(target, [.. requestedFacts.Select(r => r.Facts)], unresolved, seriesBuild, cancellationToken).ConfigureAwait(false);
        var osBuild = ExpectedOsBuild(target);
        var cached = target.ParentCachedImages
            .Concat(ImageCacheDocument.BaseImages(target.WindowsVersion).Select(i => i.ToString()))
            .Concat(cacheImages.Select(c => c.Text))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var tags = AmiTags(options.ClusterName, target, osBuild, cached);

        // 4. Plan every resource (read only).
        var names = AmiBuildNames.For(options.ClusterName, target.WindowsVersion, target.Edition);
        var description = $"WinEksPatch: Windows Server {target.WindowsVersion} {target.Edition} nodes of EKS cluster {options.ClusterName}";
        var document = ImageCacheDocument.Generate(names.Component, $"{description}: cached container images", target.WindowsVersion, cacheImages);
        var componentPlan = await PlanComponentAsync(names.Component, document, cancellationToken).ConfigureAwait(false);
        var infrastructure = InfrastructureFor(names, options, description);
        var infrastructurePlan = await PlanInfrastructureAsync(infrastructure, cancellationToken).ConfigureAwait(false);
        var distribution = DistributionFor(names, options, target, tags, description);
        var distributionPlan = await PlanDistributionAsync(distribution, cancellationToken).ConfigureAwait(false);
        var extra = options.Components.ToList();
        var recipePlan = await PlanRecipeAsync(names.Recipe, target, componentPlan, extra, volume, description, cancellationToken).ConfigureAwait(false);
        var fastLaunchPlan = distribution.Distributions[0].FastLaunch is { } fastLaunch
            ? await AmiFastLaunch.PlanAsync(ec2, fastLaunch, options.FastLaunch!, volume, cancellationToken).ConfigureAwait(false) : "";

        var plan = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"Build a Windows AMI for cluster '{options.ClusterName}' (Kubernetes {target.KubernetesVersion}, Windows Server {target.WindowsVersion} {target.Edition}, OS build {osBuild?.ToString() ?? "unknown"}) with EC2 Image Builder in {region}:")
            .AppendLine(CultureInfo.InvariantCulture, $"  parent AMI                    {target.Parent.ImageId} {target.Parent.Name} ({target.ParentBuild?.ToString() ?? "build unknown"})")
            .AppendLine(CultureInfo.InvariantCulture, $"  component                     {componentPlan.Describe()}")
            .AppendLine(CultureInfo.InvariantCulture, $"  image recipe                  {recipePlan.Describe()} (root volume {volume} GiB)")
            .AppendLine(CultureInfo.InvariantCulture, $"  infrastructure configuration  {infrastructurePlan.Describe()}")
            .AppendLine(CultureInfo.InvariantCulture, $"  distribution configuration    {distributionPlan.Describe()} ({string.Join(", ", distribution.Distributions.Select(d => d.Region))})")
            .AppendLine(CultureInfo.InvariantCulture, $"  cached images                 {string.Join(", ", cached)}")
            .Append(string.Concat(requestedFacts.Select(r => string.Create(CultureInfo.InvariantCulture,
                $"  cache {r.Reference} = {r.Facts.Digest[..Math.Min(19, r.Facts.Digest.Length)]}…, {r.Facts.Layers.Sum(l => l.Size ?? l.CompressedSize) / 1e6:N0} MB on disk ({r.Facts.OsVersion ?? "build unknown"}){Environment.NewLine}"))))
            .Append(fastLaunchPlan)
            .Append("  image build                   start (CreateImage)")
            .ToString();
        // The cmdlet writes the plan as verbose output (ShouldProcess does), as the What if: text, or as the -Confirm question.
        if (!await host.ShouldProcessAsync($"{options.ClusterName} Windows Server {target.WindowsVersion} {target.Edition}", "Build an AMI with EC2 Image Builder", plan)
            .ConfigureAwait(false))
        {
            return;
        }

        // 5. Create (infrastructure first: it is what checks the instance profile and subnet), undoing this run's creations on failure.
        var created = new List<(string Kind, string Arn)>();
        string buildArn;
        string recipeArn;
        try
        {
            var infrastructureArn = infrastructurePlan.Arn ?? await CreateInfrastructureAsync(infrastructure, created, host, cancellationToken).ConfigureAwait(false);
            var componentArn = componentPlan.Arn ?? await CreateAsync("component", created, host,
                () => imageBuilder.CreateComponentAsync(new ComponentSpec(names.Component, componentPlan.Version, "Windows", document, $"{description}: cached container images",
                    [$"Microsoft Windows Server {target.WindowsVersion}"], componentPlan.Change), cancellationToken)).ConfigureAwait(false);
            recipeArn = recipePlan.Arn ?? await CreateAsync("image recipe", created, host,
                () => imageBuilder.CreateImageRecipeAsync(RecipeFor(names.Recipe, recipePlan.Version, target, componentArn, extra, volume, description), cancellationToken))
                .ConfigureAwait(false);
            var distributionArn = distributionPlan.Arn ?? await CreateAsync("distribution configuration", created, host,
                () => imageBuilder.CreateDistributionConfigurationAsync(distribution, cancellationToken)).ConfigureAwait(false);
            buildArn = await imageBuilder.CreateImageAsync(new ImageBuildRequest(recipeArn, infrastructureArn, distributionArn,
                new Dictionary<string, string> { [AmiFacts.ClusterTag] = options.ClusterName }), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (created.Count > 0)
        {
            // Whatever the failure (an AWS error, Ctrl+C, anything unexpected), what this run created goes; what existed stays.
            await UndoAsync(created, host).ConfigureAwait(false);
            throw;
        }

        var started = time.GetUtcNow();
        host.Verbose($"Started image build {buildArn}.");
        if (options.NoWait)
        {
            host.Output(new WinNodeAmiBuild
            {
                ImageBuildVersionArn = buildArn,
                ClusterName = options.ClusterName,
                Region = region,
                Status = "PENDING",
                ParentImageId = target.Parent.ImageId,
                KubernetesVersion = target.KubernetesVersion,
                WindowsVersion = target.WindowsVersion,
                Edition = target.Edition,
                OsBuild = osBuild?.ToString(),
                CachedImages = cached,
                ImageRecipeArn = recipeArn,
                StartedAt = started,
            });
            return;
        }

        var image = await WaitAsync(buildArn, names.Recipe, host, cancellationToken).ConfigureAwait(false);
        var output = image.OutputAmis.FirstOrDefault(a => a.Region == region) ?? image.OutputAmis.FirstOrDefault()
            ?? throw new WinEksPatchException(ErrorIds.ImageBuildFailed, ErrorKind.InvalidData, $"The image build {buildArn} is AVAILABLE but names no AMI.", buildArn);
        var fastLaunchState = options.FastLaunch is { } wanted
            ? await AmiFastLaunch.WaitAsync(new FastLaunch.FastLaunchSetup(ec2, time, region), output.ImageId, wanted, host, cancellationToken).ConfigureAwait(false)
            : null;
        var ami = (await ec2.DescribeImagesAsync([output.ImageId], cancellationToken).ConfigureAwait(false)).SingleOrDefault();
        var amiBuild = ami != null ? AmiFacts.OsBuild(ami, calendar) : osBuild;
        host.Output(new WinNodeAmi
        {
            ImageId = output.ImageId,
            Name = ami?.Name ?? output.Name,
            Region = output.Region.Length > 0 ? output.Region : region,
            Source = nameof(AmiSource.ImageBuilder),
            KubernetesVersion = target.KubernetesVersion,
            WindowsVersion = target.WindowsVersion,
            Edition = target.Edition,
            OsBuild = amiBuild?.ToString(),
            CreationDate = ami?.CreationDate,
            CachedImages = ami != null ? AmiFacts.CachedImages(ami, amiBuild) : cached,
            ImageBuildVersionArn = buildArn,
            BuildDuration = (ami?.CreationDate ?? time.GetUtcNow()) - (image.DateCreated ?? started),
            FastLaunchState = fastLaunchState,
        });
    }

    // ---- inputs ----------------------------------------------------------------------------------

    /// <summary>Each reference must follow the distribution grammar; refused, never repaired or escaped.</summary>
    internal static List<ImageReference> ParseCacheImages(IReadOnlyList<string> texts)
    {
        var result = new List<ImageReference>();
        foreach (var text in texts)
        {
            if (!ImageReference.TryParse(text, out var reference, out var problem))
            {
                throw new WinEksPatchException(ErrorIds.InvalidImageReference, ErrorKind.InvalidArgument,
                    $"-CacheImage: '{Printable(text)}' is not an image reference: {problem}. References follow [registry/]repository[:tag][@sha256:digest]; nothing was created.",
                    text);
            }

            if (reference.ToString().Length > TagValueMax)
            {
                throw new WinEksPatchException(ErrorIds.InvalidImageReference, ErrorKind.InvalidArgument,
                    $"-CacheImage: '{reference}' is longer than {TagValueMax} characters and cannot be recorded in an AMI tag; nothing was created.", text);
            }

            if (!result.Contains(reference))
            {
                result.Add(reference);
            }
        }

        return result;
    }

    private static string Printable(string? text) =>
        string.Concat((text ?? "").Take(200).Select(c => char.IsControl(c) || c > '\u007e' ? $"\\u{(int)c:x4}" : c.ToString()));

    private sealed record Target(string KubernetesVersion, string WindowsVersion, string Edition, Ec2Image Parent, WindowsBuild? ParentBuild,
        IReadOnlyList<string> ParentCachedImages, int? GroupNodeCount = null);

    private async Task<Target> ResolveTargetAsync(AmiBuildOptions options, IWorkflowHost host, CancellationToken cancellationToken)
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
        return new Target(kubernetes, windows!, edition!, parent, parentBuild, AmiFacts.CachedImages(parent, parentBuild), groupNodes);
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
    private WindowsBuild? ExpectedOsBuild(Target target)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var newest = WindowsBuild.BuildOf(target.WindowsVersion) is { } series
            ? calendar.MonthlyReleases(series).LastOrDefault(r => r.ReleaseDate <= today)?.Build
            : null;
        return newest is { } n && (target.ParentBuild is not { } p || n > p) ? n : target.ParentBuild;
    }

    /// <summary>The base volume plus what the new layers need (extracted + the download being unpacked), +10 %, in steps of
    /// 5 GiB so small changes keep the recipe.</summary>
    private async Task<int> RootVolumeGiBAsync(Target target, IReadOnlyList<CacheImageFacts> requested, int unresolved, int? seriesBuild,
        CancellationToken cancellationToken)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var text in target.ParentCachedImages)
        {
            if (ImageReference.TryParse(text, out var reference, out _) && await TryResolveAsync(reference, seriesBuild, cancellationToken).ConfigureAwait(false) is { } facts)
            {
                present.UnionWith(facts.Layers.Select(l => l.Digest));
            }
        }

        var images = new List<CacheImageFacts>();
        long needed = 0;
        foreach (var baseImage in ImageCacheDocument.BaseImages(target.WindowsVersion))
        {
            if (await TryResolveAsync(baseImage, seriesBuild, cancellationToken).ConfigureAwait(false) is { } facts)
            {
                images.Add(facts);
            }
            else
            {
                needed += 8L * 1024 * 1024 * 1024;
            }
        }

        images.AddRange(requested);
        needed += unresolved * 4L * 1024 * 1024 * 1024;
        foreach (var layer in images.SelectMany(i => i.Layers))
        {
            if (present.Add(layer.Digest))
            {
                needed += (layer.Size ?? layer.CompressedSize * 3) + layer.CompressedSize;
            }
        }

        var gib = BaseVolumeGiB + (int)Math.Ceiling(needed * 1.1 / (1024.0 * 1024 * 1024));
        return (gib + 4) / 5 * 5;
    }

    private async Task<CacheImageFacts?> TryResolveAsync(ImageReference reference, int? build, CancellationToken cancellationToken)
    {
        try
        {
            return await resolver.ResolveAsync(reference, build, cancellationToken).ConfigureAwait(false);
        }
        catch (WinEksPatchException)
        {
            return null;
        }
    }

    /// <summary>The module's tags (AmiFacts reads them back); the cached list split into WinEksPatch:CachedImages:1..n values of at
    /// most 256 characters, references separated by spaces.</summary>
    private static Dictionary<string, string> AmiTags(string clusterName, Target target, WindowsBuild? osBuild, IReadOnlyList<string> cached)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [AmiFacts.ClusterTag] = clusterName,
            [AmiFacts.KubernetesVersionTag] = target.KubernetesVersion,
            [AmiFacts.WindowsVersionTag] = target.WindowsVersion,
            [AmiFacts.EditionTag] = target.Edition,
        };
        if (osBuild is { } build)
        {
            tags[AmiFacts.OsBuildTag] = build.ToString();
        }

        var chunks = new List<string>();
        var current = new StringBuilder();
        foreach (var image in cached)
        {
            if (current.Length > 0 && current.Length + 1 + image.Length > TagValueMax)
            {
                chunks.Add(current.ToString());
                current.Clear();
            }

            current.Append(current.Length > 0 ? " " : "").Append(image);
        }

        if (current.Length > 0)
        {
            chunks.Add(current.ToString());
        }

        if (chunks.Count > MaxCachedImagesTags)
        {
            throw new WinEksPatchException(ErrorIds.CacheListTooLong, ErrorKind.InvalidArgument,
                $"-CacheImage: {cached.Count} images need {chunks.Count} tags of {TagValueMax} characters to be recorded on the AMI; at most {MaxCachedImagesTags} fit. Cache fewer images.",
                "CacheImage");
        }

        for (var i = 0; i < chunks.Count; i++)
        {
            tags[$"{AmiFacts.CachedImagesTag}:{i + 1}"] = chunks[i];
        }

        return tags;
    }

    // ---- plans -------------------------------------------------------------------------------------

    /// <summary>A resource to reuse (Arn set) or to create (Version for versioned ones).</summary>
    private sealed record Planned(string Kind, string Name, string? Arn, string Version, string? Change)
    {
        public string Describe() => Arn != null ? $"{Name}: reuse {Arn}" : $"{Name}: create{(Version.Length > 0 ? " version " + Version : "")}{(Change != null ? " (" + Change + ")" : "")}";
    }

    private async Task<Planned> PlanComponentAsync(string name, string document, CancellationToken cancellationToken)
    {
        var latest = Latest(await imageBuilder.ListComponentsAsync(name, cancellationToken).ConfigureAwait(false), name);
        if (latest == null)
        {
            return new Planned("component", name, null, "1.0.0", null);
        }

        var builds = await imageBuilder.ListComponentBuildVersionsAsync(latest.Arn, cancellationToken).ConfigureAwait(false);
        var build = builds.OrderBy(b => int.TryParse(b[(b.LastIndexOf('/') + 1)..], out var n) ? n : 0).LastOrDefault();
        if (build != null)
        {
            var existing = await imageBuilder.GetComponentAsync(build, cancellationToken).ConfigureAwait(false);
            if (existing.Data == document)
            {
                return new Planned("component", name, build, latest.Version ?? "", null);
            }
        }

        return new Planned("component", name, null, Bump(latest.Version), $"the cached images changed since {latest.Version}");
    }

    private async Task<Planned> PlanRecipeAsync(string name, Target target, Planned component, IReadOnlyList<string> extra, int volume, string description,
        CancellationToken cancellationToken)
    {
        var latest = Latest(await imageBuilder.ListImageRecipesAsync(name, cancellationToken).ConfigureAwait(false), name);
        if (latest == null)
        {
            return new Planned("image recipe", name, null, "1.0.0", null);
        }

        if (component.Arn == null)
        {
            return new Planned("image recipe", name, null, Bump(latest.Version), "new image-cache component version");
        }

        var existing = await imageBuilder.GetImageRecipeAsync(latest.Arn, cancellationToken).ConfigureAwait(false);
        var wanted = RecipeFor(name, latest.Version ?? "", target, component.Arn, extra, volume, description);
        string? change = existing.ParentImage != wanted.ParentImage ? $"parent {existing.ParentImage} -> {wanted.ParentImage}"
            : !existing.Components.SequenceEqual(wanted.Components, StringComparer.Ordinal) ? "components changed"
            : !existing.BlockDevices.SequenceEqual(wanted.BlockDevices) ? "root volume changed"
            : existing.OtherSettings is { Count: > 0 } other ? $"version {latest.Version} has settings the module does not make ({string.Join(", ", other)})"
            : null;
        return change == null ? new Planned("image recipe", name, latest.Arn, latest.Version ?? "", null)
            : new Planned("image recipe", name, null, Bump(latest.Version), change);
    }

    private static ImageRecipeSpec RecipeFor(string name, string version, Target target, string componentArn, IReadOnlyList<string> extra, int volume, string description) =>
        new(name, version, target.Parent.ImageId, [UpdateWindowsArn(componentArn), componentArn, .. extra], [new RecipeBlockDevice(RootDevice, volume)],
            description);

    private InfrastructureSpec InfrastructureFor(AmiBuildNames names, AmiBuildOptions options, string description)
    {
        var profile = options.InstanceProfileName ?? DefaultInstanceProfile;
        string[] types = [options.InstanceType ?? DefaultInstanceType];
        var groups = options.SecurityGroupIds.Distinct(StringComparer.Ordinal).ToList();
        var settings = JsonSerializer.Serialize(new { profile, types, options.SubnetId, groups, terminate = true, httpTokens = "required" });
        return new InfrastructureSpec(names.Infrastructure(settings), profile, types, options.SubnetId, groups, true, "required",
            $"{description}: build instances (IMDSv2 required, terminated on failure)");
    }

    private async Task<Planned> PlanInfrastructureAsync(InfrastructureSpec wanted, CancellationToken cancellationToken)
    {
        var arn = (await imageBuilder.ListInfrastructureConfigurationsAsync(wanted.Name, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
        if (arn == null)
        {
            return new Planned("infrastructure configuration", wanted.Name, null, "", null);
        }

        var existing = await imageBuilder.GetInfrastructureConfigurationAsync(arn, cancellationToken).ConfigureAwait(false);
        List<string> differences =
        [
            .. Differs("instanceProfileName", existing.InstanceProfileName == wanted.InstanceProfileName),
            .. Differs("instanceTypes", existing.InstanceTypes.SequenceEqual(wanted.InstanceTypes)),
            .. Differs("subnetId", existing.SubnetId == wanted.SubnetId),
            .. Differs("securityGroupIds", existing.SecurityGroupIds.Order(StringComparer.Ordinal).SequenceEqual(wanted.SecurityGroupIds.Order(StringComparer.Ordinal))),
            .. Differs("terminateInstanceOnFailure", existing.TerminateInstanceOnFailure == wanted.TerminateInstanceOnFailure),
            .. Differs("instanceMetadataOptions.httpTokens", existing.HttpTokens == wanted.HttpTokens),
            .. Differs("instanceMetadataOptions.httpPutResponseHopLimit", existing.HttpPutResponseHopLimit == wanted.HttpPutResponseHopLimit),
            .. existing.OtherSettings ?? [],
        ];
        return differences.Count == 0 ? new Planned("infrastructure configuration", wanted.Name, arn, "", null)
            : throw Conflict("infrastructure configuration", arn, differences);
    }

    private static string[] Differs(string field, bool same) => same ? [] : [field];

    private DistributionSpec DistributionFor(AmiBuildNames names, AmiBuildOptions options, Target target, IReadOnlyDictionary<string, string> tags, string description)
    {
        var regions = new[] { region }.Concat(options.DistributionRegions).Distinct(StringComparer.Ordinal).ToList();
        var amiName = names.AmiName(target.KubernetesVersion);
        var amiDescription = $"EKS Windows Server {target.WindowsVersion} {target.Edition} node AMI for Kubernetes {target.KubernetesVersion}, patched and image-cached by WinEksPatch";
        var fastLaunch = AmiFastLaunch.For(options.FastLaunch, target.GroupNodeCount);
        var distributions = regions.Select(r => new AmiDistribution(r, amiName, amiDescription, tags, r == region ? fastLaunch : null)).ToList();
        var settings = JsonSerializer.Serialize(distributions.Select(d => new { d.Region, d.AmiName, d.AmiDescription, Tags = d.AmiTags.OrderBy(t => t.Key, StringComparer.Ordinal).ToList(), d.FastLaunch }));
        return new DistributionSpec(names.Distribution(settings), distributions, $"{description}: AMI name and tags");
    }

    private async Task<Planned> PlanDistributionAsync(DistributionSpec wanted, CancellationToken cancellationToken)
    {
        var arn = (await imageBuilder.ListDistributionConfigurationsAsync(wanted.Name, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
        if (arn == null)
        {
            return new Planned("distribution configuration", wanted.Name, null, "", null);
        }

        var existing = await imageBuilder.GetDistributionConfigurationAsync(arn, cancellationToken).ConfigureAwait(false);
        List<string> differences =
        [
            .. Differs("distributions[].region", existing.Distributions.Select(d => d.Region).SequenceEqual(wanted.Distributions.Select(d => d.Region), StringComparer.Ordinal)),
            .. existing.Distributions.Zip(wanted.Distributions).SelectMany(p => (IEnumerable<string>)[
                .. Differs($"distributions[{p.Second.Region}].amiDistributionConfiguration.name", p.First.AmiName == p.Second.AmiName),
                .. Differs($"distributions[{p.Second.Region}].amiDistributionConfiguration.amiTags", p.First.AmiTags.Count == p.Second.AmiTags.Count
                    && p.First.AmiTags.All(t => p.Second.AmiTags.TryGetValue(t.Key, out var v) && v == t.Value)),
                .. Differs($"distributions[{p.Second.Region}].fastLaunchConfigurations", p.First.FastLaunch == p.Second.FastLaunch),
            ]),
            .. existing.OtherSettings ?? [],
        ];
        return differences.Count == 0 ? new Planned("distribution configuration", wanted.Name, arn, "", null)
            : throw Conflict("distribution configuration", arn, differences);
    }

    /// <summary>A resource of the module's name that is not exactly what the module would make: never reused (a distribution
    /// pre-created with launch permission "all" would publish the patched AMI).</summary>
    private static WinEksPatchException Conflict(string kind, string arn, IReadOnlyList<string> differences) =>
        new(ErrorIds.ImageBuilderResourceConflict, ErrorKind.InvalidOperation,
            $"The {kind} {arn} has the name New-WinNodeAmi derives from these settings but differs from what it would create in: {string.Join(", ", differences)} "
            + "(changed outside the module?). It is not reused: delete it, or rename it, and run again; nothing was created.",
            arn);

    private static ImageBuilderVersion? Latest(IReadOnlyList<ImageBuilderVersion> versions, string name) =>
        versions.Where(v => v.Name == name && Version.TryParse(v.Version, out _)).MaxBy(v => Version.Parse(v.Version!));

    internal static string Bump(string? version) =>
        Version.TryParse(version, out var v) ? string.Create(CultureInfo.InvariantCulture, $"{v.Major}.{v.Minor}.{Math.Max(v.Build, 0) + 1}") : "1.0.0";

    // ---- creation and undo -----------------------------------------------------------------------------

    private async Task<string> CreateInfrastructureAsync(InfrastructureSpec spec, List<(string Kind, string Arn)> created, IWorkflowHost host,
        CancellationToken cancellationToken)
    {
        try
        {
            return await CreateAsync("infrastructure configuration", created, host,
                () => imageBuilder.CreateInfrastructureConfigurationAsync(spec, cancellationToken)).ConfigureAwait(false);
        }
        catch (WinEksPatchException ex) when (ex.ErrorId == ErrorIds.AwsValidationError && ex.Message.Contains("instanceProfileName", StringComparison.Ordinal))
        {
            throw new WinEksPatchException(ErrorIds.InstanceProfileNotFound, ErrorKind.ObjectNotFound,
                $"-InstanceProfileName: the instance profile '{spec.InstanceProfileName}' does not exist (Image Builder: {ex.Message}) Nothing was created.",
                spec.InstanceProfileName, ex);
        }
        catch (WinEksPatchException ex) when (ex.ErrorId == ErrorIds.AwsValidationError && ex.Message.Contains("subnetId", StringComparison.Ordinal))
        {
            throw new WinEksPatchException(ErrorIds.SubnetNotFound, ErrorKind.ObjectNotFound,
                $"-SubnetId: the subnet '{spec.SubnetId}' does not exist in {region} (Image Builder: {ex.Message}) Nothing was created.", spec.SubnetId, ex);
        }
    }

    private static async Task<string> CreateAsync(string kind, List<(string Kind, string Arn)> created, IWorkflowHost host, Func<Task<string>> create)
    {
        var arn = await create().ConfigureAwait(false);
        created.Add((kind, arn));
        host.Verbose($"Created {kind} {arn}.");
        return arn;
    }

    /// <summary>Removes what this run created, newest first (best effort: never masks the original failure).</summary>
    private async Task UndoAsync(List<(string Kind, string Arn)> created, IWorkflowHost host)
    {
        foreach (var (kind, arn) in Enumerable.Reverse(created))
        {
            try
            {
                Func<string, CancellationToken, Task> delete = kind switch
                {
                    "component" => imageBuilder.DeleteComponentAsync,
                    "image recipe" => imageBuilder.DeleteImageRecipeAsync,
                    "infrastructure configuration" => imageBuilder.DeleteInfrastructureConfigurationAsync,
                    _ => imageBuilder.DeleteDistributionConfigurationAsync,
                };
                await delete(arn, CancellationToken.None).ConfigureAwait(false);
                host.Verbose($"Removed {kind} {arn} (created by this run, which failed).");
            }
            catch (WinEksPatchException ex)
            {
                host.Warning($"Could not remove {kind} {arn} after the failure: {ex.Message}");
            }
        }
    }

    // ---- waiting -------------------------------------------------------------------------------------

    private async Task<ImageBuilderImage> WaitAsync(string buildArn, string imageName, IWorkflowHost host, CancellationToken cancellationToken)
    {
        var activity = $"New-WinNodeAmi: EC2 Image Builder build {imageName}";
        string? last = null;
        try
        {
            while (true)
            {
                var image = await imageBuilder.GetImageAsync(buildArn, cancellationToken).ConfigureAwait(false);
                if (image.Status != last)
                {
                    host.Verbose($"Image build status: {image.Status}{(image.Reason != null ? " - " + image.Reason : "")}");
                    last = image.Status;
                }

                var phase = Array.IndexOf(Phases, image.Status);
                host.Progress(new ProgressUpdate(ProgressId, activity, image.Status, phase < 0 ? -1 : phase * 100 / (Phases.Length - 1), CurrentOperation: buildArn));
                switch (image.Status)
                {
                    case "AVAILABLE":
                        return image;
                    case "FAILED":
                        throw new WinEksPatchException(ErrorIds.ImageBuildFailed, ErrorKind.InvalidOperation,
                            $"The image build {buildArn} failed: {image.Reason ?? "no reason given"} Logs: CloudWatch Logs group /aws/imagebuilder/{imageName}, stream {image.Version ?? "<version>/<build>"} "
                            + "(and the S3 bucket of the infrastructure configuration's logging, when set).", buildArn);
                    case "CANCELLED":
                        throw new WinEksPatchException(ErrorIds.ImageBuildCancelled, ErrorKind.OperationStopped,
                            $"The image build {buildArn} was cancelled: {image.Reason ?? "no reason given"} Logs: CloudWatch Logs group /aws/imagebuilder/{imageName}.", buildArn);
                }

                await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            host.Warning($"Stopped waiting; the image build goes on: {buildArn}. Follow it with 'aws imagebuilder get-image --image-build-version-arn {buildArn} --region {region}' "
                + $"(or Get-WinNodeAmi -Source ImageBuilder once it is AVAILABLE); cancel it with 'aws imagebuilder cancel-image-creation --image-build-version-arn {buildArn} --region {region}'.");
            throw;
        }
        finally
        {
            host.Progress(new ProgressUpdate(ProgressId, activity, last ?? "done", 100, Completed: true));
        }
    }
}
