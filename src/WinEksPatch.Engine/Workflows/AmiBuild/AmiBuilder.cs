using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Registry;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows.AmiBuild;

/// <summary>
/// New-WinNodeAmi: builds a patched, image-cached Windows AMI with EC2 Image Builder. <see cref="PlanAsync"/> checks every
/// input and plans every resource (read-only) into an <see cref="AmiBuildPlan"/>, whose summary is what -WhatIf shows;
/// <see cref="ExecuteAsync"/> creates exactly what that plan lists (the infrastructure configuration first, since creating
/// it is what checks the instance profile and subnet; a failure while creating removes what this run created), starts the
/// build and waits for it. Running it again with the same inputs reuses every resource and only starts a new build.
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
    /// <summary>How often GetImage is asked while waiting (Image Builder has no watch); on the injected clock.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(30);

    private AmiBuildResources Resources => new(imageBuilder, region);

    private AmiBuildTargetResolver Targets => new(eks, ec2, catalog, reader, inventory, calendar, time, region);

    /// <summary>Amazon's update-windows component (latest version) in the partition and region of one of our own ARNs.</summary>
    public static string UpdateWindowsArn(string siblingArn) =>
        siblingArn.Split(':') is { Length: > 3 } parts ? $"arn:{parts[1]}:imagebuilder:{parts[3]}:aws:component/update-windows/x.x.x" : "";

    internal static List<ImageReference> ParseCacheImages(IReadOnlyList<string> texts) => CacheSizing.ParseCacheImages(texts);

    internal static string Bump(string? version) => AmiBuildResources.Bump(version);

    /// <summary>Plans, asks (the plan is the verbose line, the What if: text or the -Confirm question), and executes that plan.
    /// Under -WhatIf with <see cref="AmiBuildOptions.WritePlan"/>, the plan is also written as a <see cref="WinNodeAmiBuildPlan"/>.</summary>
    public async Task RunAsync(AmiBuildOptions options, IWorkflowHost host, CancellationToken cancellationToken = default)
    {
        var plan = await PlanAsync(options, host, cancellationToken).ConfigureAwait(false);
        if (!await host.ShouldProcessAsync(plan.ShouldProcessTarget, "Build an AMI with EC2 Image Builder", plan.Summary.ToString()).ConfigureAwait(false))
        {
            if (options.WritePlan)
            {
                host.Output(plan.Summary);
            }

            return;
        }

        await ExecuteAsync(plan, host, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every input checked and every resource planned, read only: nothing is created here.</summary>
    public async Task<AmiBuildPlan> PlanAsync(AmiBuildOptions options, IWorkflowHost host, CancellationToken cancellationToken = default)
    {
        // Inputs that need no AWS call first, then the cluster, group, parent AMI and extra components, then the images.
        var requested = CacheSizing.ParseCacheImages(options.CacheImages);
        var targets = Targets;
        var target = await targets.ResolveAsync(options, host, cancellationToken).ConfigureAwait(false);
        var resources = Resources;
        await resources.RequireComponentsAsync(options.Components, cancellationToken).ConfigureAwait(false);
        var cache = await new CacheSizing(resolver).PlanAsync(requested, target, host, cancellationToken).ConfigureAwait(false);

        var osBuild = targets.ExpectedOsBuild(target);
        var cached = target.ParentCachedImages
            .Concat(ImageCacheDocument.BaseImages(target.WindowsVersion).Select(i => i.ToString()))
            .Concat(cache.Images.Select(c => c.Text))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var specs = resources.Specify(options, target, cache, AmiTags.For(options.ClusterName, target, osBuild, cached));
        var planned = await resources.PlanAsync(specs, cancellationToken).ConfigureAwait(false);
        var fastLaunch = specs.Distribution.Distributions[0].FastLaunch is { } settings
            ? await AmiFastLaunch.PlanAsync(ec2, settings, options.FastLaunch!, cache.RootVolumeGiB, cancellationToken).ConfigureAwait(false)
            : null;

        return new AmiBuildPlan(options, target, osBuild, specs, new WinNodeAmiBuildPlan
        {
            ClusterName = options.ClusterName,
            NodeGroupName = options.NodeGroupName,
            Region = region,
            KubernetesVersion = target.KubernetesVersion,
            WindowsVersion = target.WindowsVersion,
            Edition = target.Edition,
            OsBuild = osBuild?.ToString(),
            ParentImageId = target.Parent.ImageId,
            ParentImageName = target.Parent.Name,
            ParentOsBuild = target.ParentBuild?.ToString(),
            RootVolumeGiB = cache.RootVolumeGiB,
            CachedImages = cached,
            CacheImages = cache.Resolved,
            Resources = planned,
            DistributionRegions = [.. specs.Distribution.Distributions.Select(d => d.Region)],
            FastLaunch = fastLaunch,
        });
    }

    /// <summary>Creates what <paramref name="plan"/> lists, starts the build, and writes the build (-NoWait) or the AMI.</summary>
    public async Task ExecuteAsync(AmiBuildPlan plan, IWorkflowHost host, CancellationToken cancellationToken = default)
    {
        var (options, target, summary) = (plan.Options, plan.Target, plan.Summary);
        var (buildArn, recipeArn) = await Resources.CreateAndStartAsync(plan.Specs, summary, options.ClusterName, host, cancellationToken).ConfigureAwait(false);
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
                OsBuild = summary.OsBuild,
                CachedImages = [.. summary.CachedImages],
                ImageRecipeArn = recipeArn,
                StartedAt = started,
            });
            return;
        }

        var image = await new AmiBuildWaiter(imageBuilder, time, region, PollInterval).WaitAsync(buildArn, plan.Specs.Names.Recipe, host, cancellationToken)
            .ConfigureAwait(false);
        var output = image.OutputAmis.FirstOrDefault(a => a.Region == region) ?? image.OutputAmis.FirstOrDefault()
            ?? throw new WinEksPatchException(ErrorIds.ImageBuildFailed, ErrorKind.InvalidData, $"The image build {buildArn} is AVAILABLE but names no AMI.", buildArn);
        var fastLaunchState = options.FastLaunch is { } wanted
            ? await AmiFastLaunch.WaitAsync(new FastLaunch.FastLaunchSetup(ec2, time, region), output.ImageId, wanted, host, cancellationToken).ConfigureAwait(false)
            : null;
        var ami = (await ec2.DescribeImagesAsync([output.ImageId], cancellationToken).ConfigureAwait(false)).SingleOrDefault();
        var amiBuild = ami != null ? AmiFacts.OsBuild(ami, calendar) : plan.OsBuild;
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
            CachedImages = ami != null ? AmiFacts.CachedImages(ami, amiBuild) : [.. summary.CachedImages],
            ImageBuildVersionArn = buildArn,
            BuildDuration = (ami?.CreationDate ?? time.GetUtcNow()) - (image.DateCreated ?? started),
            FastLaunchState = fastLaunchState,
        });
    }
}
