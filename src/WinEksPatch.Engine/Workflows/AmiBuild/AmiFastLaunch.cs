using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Workflows.FastLaunch;

namespace WinEksPatch.Workflows.AmiBuild;

/// <summary>
/// New-WinNodeAmi -FastLaunch: EC2 Fast Launch on the AMI being built, which Image Builder turns on when it distributes
/// the AMI (the distribution configuration's fastLaunchConfigurations), planned and checked before anything is created,
/// and waited for after the build, so that the AMI is handed on only once EC2 reports it enabled and its snapshots are
/// estimated on hand (unless told not to wait for those).
/// </summary>
internal static class AmiFastLaunch
{
    /// <summary>The settings for the own region's distribution: the snapshots default to the rollout the AMI prepares (one
    /// per node of the group, each launch of the rollout uses one), and never fewer than EC2's default of five.</summary>
    public static DistributionFastLaunch? For(AmiFastLaunchOptions? options, int? groupNodes) => options is null ? null : new(
        options.TargetSnapshotCount ?? Math.Max(FastLaunchSetup.DefaultTargetSnapshotCount, groupNodes ?? 0),
        options.MaxParallelLaunches,
        options.LaunchTemplateId,
        options.LaunchTemplateId is null ? null : options.LaunchTemplateVersion ?? "$Default");

    /// <summary>The plan's Fast Launch settings and lines (snapshots, storage, the region's parallel launches against the
    /// quota), after checking the quota and the launch template: read only.</summary>
    public static async Task<WinNodeAmiFastLaunchPlan> PlanAsync(IEc2Api ec2, DistributionFastLaunch settings, AmiFastLaunchOptions options, int rootVolumeGiB,
        CancellationToken cancellationToken)
    {
        var template = "none (EC2's default settings for the temporary instances)";
        if (settings.LaunchTemplateId is { } id)
        {
            var version = await ec2.DescribeLaunchTemplateVersionAsync(new LaunchTemplateReference(id, null, settings.LaunchTemplateVersion), cancellationToken)
                .ConfigureAwait(false);
            template = $"{version.LaunchTemplateId} ({version.LaunchTemplateName}) version {version.VersionNumber}";
        }

        var all = await ec2.DescribeFastLaunchImagesAsync([], cancellationToken).ConfigureAwait(false);
        var lines = FastLaunchSetup.PlanLines(all, null, settings.TargetResourceCount, settings.MaxParallelLaunches, options.ParallelLaunchQuota, rootVolumeGiB,
            "    ", "Nothing was created.");
        return new WinNodeAmiFastLaunchPlan
        {
            TargetSnapshotCount = settings.TargetResourceCount,
            MaxParallelLaunches = settings.MaxParallelLaunches,
            LaunchTemplateId = settings.LaunchTemplateId,
            LaunchTemplateVersion = settings.LaunchTemplateVersion,
            LaunchTemplate = template,
            StorageGiB = settings.TargetResourceCount * rootVolumeGiB,
            ParallelLaunchQuota = options.ParallelLaunchQuota,
            QuotaLines = lines.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries),
        };
    }

    /// <summary>Waits until EC2 reports Fast Launch enabled on the built AMI, then (unless -NoSnapshotWait) until its
    /// snapshots are estimated on hand (<see cref="FastLaunchSetup.WaitSnapshotsAsync"/>). A failure says the AMI itself
    /// was built and is usable (its instances then boot the standard way).</summary>
    public static async Task<string> WaitAsync(FastLaunchSetup setup, string imageId, AmiFastLaunchOptions options, IWorkflowHost host,
        CancellationToken cancellationToken)
    {
        try
        {
            var enabled = await setup.WaitEnabledAsync(imageId, options.Timeout, host, cancellationToken).ConfigureAwait(false);
            return options.NoSnapshotWait ? enabled.State : (await setup.WaitSnapshotsAsync(enabled, host, cancellationToken).ConfigureAwait(false)).State;
        }
        catch (WinEksPatchException ex) when (ex.ErrorId is ErrorIds.FastLaunchFailed or ErrorIds.FastLaunchTimeout)
        {
            throw new WinEksPatchException(ex.ErrorId, ex.Kind, $"The AMI {imageId} was built and is usable. {ex.Message}", imageId, ex);
        }
    }
}
