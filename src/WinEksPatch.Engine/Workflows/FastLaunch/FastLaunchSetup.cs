using System.Globalization;
using System.Text;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;

namespace WinEksPatch.Workflows.FastLaunch;

/// <summary>What Enable-WinNodeAmiFastLaunch was asked for.</summary>
public sealed record FastLaunchOptions
{
    public required string ImageId { get; init; }

    public int TargetSnapshotCount { get; init; } = FastLaunchSetup.DefaultTargetSnapshotCount;

    public int MaxParallelLaunches { get; init; } = FastLaunchSetup.MinParallelLaunches;

    public string? LaunchTemplateId { get; init; }

    public string? LaunchTemplateName { get; init; }

    public string? LaunchTemplateVersion { get; init; }

    /// <summary>The region's quota of parallel pre-provisioning launches across every Fast Launch AMI.</summary>
    public int ParallelLaunchQuota { get; init; } = FastLaunchSetup.DefaultParallelLaunchQuota;

    public bool NoWait { get; init; }

    /// <summary>Return once EC2 reports Fast Launch enabled, without waiting until its snapshots are estimated on hand.</summary>
    public bool NoSnapshotWait { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(30);
}

/// <summary>
/// EC2 Fast Launch for a Windows AMI that exists: reads its state (DescribeFastLaunchImages), turns it on
/// (EnableFastLaunch) after checking the AMI, the launch template and the region's parallel-launch quota, and waits
/// until EC2 reports it <c>enabled</c> (or fails with EC2's reason; the AMI itself stays usable either way), or turns it off.
/// </summary>
public sealed class FastLaunchSetup(IEc2Api ec2, TimeProvider time, string region)
{
    /// <summary>"Value must be 6 or greater" (EC2 API Reference, EnableFastLaunch MaxParallelLaunches); EC2's default too.</summary>
    public const int MinParallelLaunches = 6;

    /// <summary>EC2's default launch frequency: "an initial set of five pre-provisioned snapshots" (EC2 User Guide).</summary>
    public const int DefaultTargetSnapshotCount = 5;

    /// <summary>The per-region quota of parallel Fast Launch pre-provisioning launches we assume when not told (40);
    /// an account may have a raised one (-ParallelLaunchQuota).</summary>
    public const int DefaultParallelLaunchQuota = 40;

    private const int ProgressId = 4301;

    /// <summary>How long a configuration just made may be missing from DescribeFastLaunchImages before it counts as gone.</summary>
    public TimeSpan ListingGrace { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often DescribeFastLaunchImages is asked while waiting; on the injected clock.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The Fast Launch of the given AMIs (every Fast Launch AMI of the region when none is given).</summary>
    public async Task<IReadOnlyList<WinNodeAmiFastLaunch>> GetAsync(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken)
    {
        var states = await ec2.DescribeFastLaunchImagesAsync(imageIds, cancellationToken).ConfigureAwait(false);
        var images = states.Count == 0 ? [] : await ec2.DescribeImagesAsync([.. states.Select(s => s.ImageId)], cancellationToken).ConfigureAwait(false);
        return [.. states.Select(s => ToResult(s, images.FirstOrDefault(i => i.ImageId == s.ImageId)))];
    }

    public async Task EnableAsync(FastLaunchOptions options, IWorkflowHost host, CancellationToken cancellationToken)
    {
        // 1. Everything we can check before the change: the AMI, the launch template, the region's quota.
        var image = (await ec2.DescribeImagesAsync([options.ImageId], cancellationToken).ConfigureAwait(false)).SingleOrDefault()
            ?? throw new WinEksPatchException(ErrorIds.AmiNotFound, ErrorKind.ObjectNotFound,
                $"-ImageId: {options.ImageId} is not an AMI this account can see in {region}. Nothing was changed.", options.ImageId);
        if (!image.IsWindows)
        {
            throw new WinEksPatchException(ErrorIds.AmiNotWindows, ErrorKind.InvalidArgument,
                $"-ImageId: {options.ImageId} ({image.Name}) is not a Windows AMI; EC2 Fast Launch is for Windows AMIs only. Nothing was changed.", options.ImageId);
        }

        if (image.State is { } imageState && imageState != "available")
        {
            throw new WinEksPatchException(ErrorIds.AmiNotAvailable, ErrorKind.InvalidOperation,
                $"-ImageId: {options.ImageId} is '{imageState}', not 'available'; EC2 can pre-provision snapshots only from an available AMI. Nothing was changed.", options.ImageId);
        }

        string? template = null;
        if (options.LaunchTemplateId is not null || options.LaunchTemplateName is not null)
        {
            var version = await ec2.DescribeLaunchTemplateVersionAsync(new LaunchTemplateReference(options.LaunchTemplateId, options.LaunchTemplateName,
                options.LaunchTemplateVersion ?? "$Default"), cancellationToken).ConfigureAwait(false);
            template = $"{version.LaunchTemplateId} ({version.LaunchTemplateName}) version {version.VersionNumber}";
        }

        var all = await ec2.DescribeFastLaunchImagesAsync([], cancellationToken).ConfigureAwait(false);
        var current = all.FirstOrDefault(s => s.ImageId == options.ImageId);
        var plan = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"{(current is null ? "Enable" : "Change")} EC2 Fast Launch for {options.ImageId} ({image.Name}) in {region}:")
            .Append(PlanLines(all, options.ImageId, options.TargetSnapshotCount, options.MaxParallelLaunches, options.ParallelLaunchQuota, image.RootVolumeGiB, "  ", "Nothing was changed."))
            .Append(CultureInfo.InvariantCulture, $"  launch template               {template ?? "none (EC2's default settings for the temporary instances)"}")
            .ToString();

        if (!await host.ShouldProcessAsync(options.ImageId, current is null ? "Enable EC2 Fast Launch" : "Change EC2 Fast Launch settings", plan).ConfigureAwait(false))
        {
            return;
        }

        // 2. The change, then (unless told not to) the wait for EC2 to report it enabled.
        var state = await ec2.EnableFastLaunchAsync(new FastLaunchSettings(options.ImageId, options.TargetSnapshotCount, options.MaxParallelLaunches,
            options.LaunchTemplateId, options.LaunchTemplateName, options.LaunchTemplateVersion), cancellationToken).ConfigureAwait(false);
        if (!options.NoWait)
        {
            state = await WaitEnabledAsync(options.ImageId, options.Timeout, host, cancellationToken).ConfigureAwait(false);
            if (!options.NoSnapshotWait)
            {
                state = await WaitSnapshotsAsync(state, host, cancellationToken).ConfigureAwait(false);
            }
        }

        host.Output(ToResult(state, image));
    }

    /// <summary>
    /// The plan's lines for the snapshots, their storage, the parallel launches and the region's quota in use by the other
    /// Fast Launch AMIs (<paramref name="all"/>: DescribeFastLaunchImages of the region). Parallel launches beyond the quota
    /// are <see cref="ErrorIds.FastLaunchQuotaExceeded"/>, ending with <paramref name="nothingChanged"/>.
    /// </summary>
    public static string PlanLines(IReadOnlyList<FastLaunchImage> all, string? imageId, int targetSnapshots, int maxParallel, int quota, int? rootVolumeGiB,
        string indent, string nothingChanged)
    {
        var others = all.Where(s => s.ImageId != imageId && FastLaunchImage.HoldsParallelLaunches(s.State)).ToList();
        var used = others.Sum(s => s.MaxParallelLaunches ?? 0);
        if (used + maxParallel > quota)
        {
            throw new WinEksPatchException(ErrorIds.FastLaunchQuotaExceeded, ErrorKind.InvalidArgument,
                $"{maxParallel} parallel Fast Launch launches: the region's Fast Launch AMIs already use {used} of the {quota} parallel launches; " +
                $"lower it to {Math.Max(0, quota - used)} or less, or pass -ParallelLaunchQuota if your quota was raised. {nothingChanged}", imageId);
        }

        var storage = rootVolumeGiB is { } gib ? $"up to {targetSnapshots * gib} GiB of EBS snapshot storage ({targetSnapshots} × the {gib} GiB root volume)"
            : "snapshot storage unknown (the AMI reports no root volume size)";
        return new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"{indent}pre-provisioned snapshots     {targetSnapshots} on hand, {storage}")
            .AppendLine(CultureInfo.InvariantCulture, $"{indent}parallel launches             {maxParallel} (t3 instances, each about 15-25 min per snapshot)")
            .AppendLine(CultureInfo.InvariantCulture, $"{indent}region's parallel launches    {used} used by {others.Count} other AMI(s) + {maxParallel} = {used + maxParallel} of {quota}")
            .ToString();
    }

    /// <summary>Polls until EC2 reports the AMI's Fast Launch enabled. A failure to enable is <see cref="ErrorIds.FastLaunchFailed"/>
    /// with EC2's reason; the timeout is <see cref="ErrorIds.FastLaunchTimeout"/> (EC2 goes on either way).</summary>
    public async Task<FastLaunchImage> WaitEnabledAsync(string imageId, TimeSpan timeout, IWorkflowHost host, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        while (true)
        {
            // EC2 is eventually consistent: a configuration just made may not be listed yet. Gone for longer, it was removed.
            if ((await ec2.DescribeFastLaunchImagesAsync([imageId], cancellationToken).ConfigureAwait(false)).FirstOrDefault() is not { } state)
            {
                if (time.GetUtcNow() - started < ListingGrace)
                {
                    await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                throw new WinEksPatchException(ErrorIds.FastLaunchFailed, ErrorKind.InvalidOperation,
                    $"EC2 Fast Launch of {imageId} was enabled (or asked for) by {started:yyyy-MM-dd HH:mm:ss}Z, but DescribeFastLaunchImages no longer lists it " +
                    "(disabled by someone else?). The AMI itself is unchanged and usable; its instances boot the standard way.", imageId);
            }

            switch (state.State)
            {
                case "enabled":
                    host.Progress(new ProgressUpdate(ProgressId, $"EC2 Fast Launch of {imageId}", "enabled", 100, Completed: true));
                    return state;
                case "enabling-failed" or "enabled-failed" or "disabling" or "disabling-failed":
                    throw new WinEksPatchException(ErrorIds.FastLaunchFailed, ErrorKind.InvalidOperation,
                        $"EC2 Fast Launch of {imageId} is '{state.State}': {state.StateTransitionReason ?? "EC2 gave no reason"}. The AMI itself is unchanged and " +
                        "usable; its instances boot the standard way.", imageId);
            }

            var waited = time.GetUtcNow() - started;
            if (waited >= timeout)
            {
                throw new WinEksPatchException(ErrorIds.FastLaunchTimeout, ErrorKind.OperationTimeout,
                    $"EC2 Fast Launch of {imageId} is still '{state.State}' after {waited.TotalMinutes:N0} minutes; EC2 goes on with it " +
                    "(Get-WinNodeAmiFastLaunch shows its state). Until it is enabled, instances of the AMI boot the standard way.", imageId);
            }

            host.Progress(new ProgressUpdate(ProgressId, $"EC2 Fast Launch of {imageId}", $"{state.State} for {waited.TotalMinutes:N0} min",
                (int)Math.Min(99, 100 * waited / timeout)));
            await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>How often the state is read while waiting for the snapshots (the wait itself is the estimate's).</summary>
    public TimeSpan SnapshotPollInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Waits until the whole target of snapshots is estimated on hand (<see cref="FastLaunchPool"/>: EC2 reports no ready
    /// count, so the wait is the rounds since the state changed to enabled), reading the state meanwhile: a configuration
    /// that fails or goes while it waits is <see cref="ErrorIds.FastLaunchFailed"/>, with EC2's reason.
    /// </summary>
    public async Task<FastLaunchImage> WaitSnapshotsAsync(FastLaunchImage enabled, IWorkflowHost host, CancellationToken cancellationToken)
    {
        var state = enabled;
        var pool = FastLaunchPool.Of(enabled);
        if (pool is null)
        {
            return state;
        }

        var readyBy = pool.ReadyAt(pool.Target, time.GetUtcNow());
        host.Verbose($"EC2 Fast Launch of {enabled.ImageId} is enabled; waiting until its {pool.Target} pre-provisioned snapshot(s) are on hand, estimated by " +
            $"{readyBy:yyyy-MM-dd HH:mm}Z ({pool.MaxParallelLaunches} at a time, 25 minutes each at most: EC2 does not report how many are ready).");
        while (time.GetUtcNow() is var now && now < readyBy)
        {
            var started = enabled.StateTransitionTime ?? now;
            host.Progress(new ProgressUpdate(ProgressId, $"EC2 Fast Launch of {enabled.ImageId}",
                $"enabled; about {pool.OnHand(now)} of {pool.Target} snapshots on hand, all by {readyBy:HH:mm}Z (estimated)",
                (int)Math.Clamp(100 * (now - started) / (readyBy - started), 0, 99)));
            await Task.Delay(readyBy - now < SnapshotPollInterval ? readyBy - now : SnapshotPollInterval, time, cancellationToken).ConfigureAwait(false);
            state = (await ec2.DescribeFastLaunchImagesAsync([enabled.ImageId], cancellationToken).ConfigureAwait(false)).FirstOrDefault()
                ?? throw new WinEksPatchException(ErrorIds.FastLaunchFailed, ErrorKind.InvalidOperation,
                    $"EC2 Fast Launch of {enabled.ImageId} was enabled, but DescribeFastLaunchImages no longer lists it (disabled by someone else?) while its " +
                    "snapshots were being made. The AMI itself is unchanged and usable; its instances boot the standard way.", enabled.ImageId);
            if (state.State != "enabled")
            {
                throw new WinEksPatchException(ErrorIds.FastLaunchFailed, ErrorKind.InvalidOperation,
                    $"EC2 Fast Launch of {enabled.ImageId} turned '{state.State}' while its snapshots were being made: {state.StateTransitionReason ?? "EC2 gave no reason"}. " +
                    "The AMI itself is unchanged and usable; launches that find no snapshot boot the standard way.", enabled.ImageId);
            }
        }

        host.Progress(new ProgressUpdate(ProgressId, $"EC2 Fast Launch of {enabled.ImageId}", "snapshots on hand (estimated)", 100, Completed: true));
        return state;
    }

    public async Task DisableAsync(string imageId, IWorkflowHost host, CancellationToken cancellationToken)
    {
        var current = (await ec2.DescribeFastLaunchImagesAsync([imageId], cancellationToken).ConfigureAwait(false)).FirstOrDefault()
            ?? throw new WinEksPatchException(ErrorIds.FastLaunchNotEnabled, ErrorKind.ObjectNotFound,
                $"-ImageId: {imageId} has no EC2 Fast Launch in {region} (Get-WinNodeAmiFastLaunch lists the AMIs that have). Nothing was changed.", imageId);
        var plan = $"Disable EC2 Fast Launch for {imageId} in {region}: EC2 deletes its pre-provisioned snapshots ({current.TargetResourceCount} on hand at most); " +
            "instances launched from it afterwards boot the standard way. The AMI itself stays.";
        if (!await host.ShouldProcessAsync(imageId, "Disable EC2 Fast Launch", plan).ConfigureAwait(false))
        {
            return;
        }

        var state = await ec2.DisableFastLaunchAsync(imageId, cancellationToken).ConfigureAwait(false);
        var image = (await ec2.DescribeImagesAsync([imageId], cancellationToken).ConfigureAwait(false)).SingleOrDefault();
        host.Output(ToResult(state, image));
    }

    private WinNodeAmiFastLaunch ToResult(FastLaunchImage state, Ec2Image? image) => new()
    {
        ImageId = state.ImageId,
        Region = region,
        State = state.State,
        StateTransitionReason = state.StateTransitionReason,
        StateTransitionTime = state.StateTransitionTime,
        TargetSnapshotCount = state.TargetResourceCount,
        MaxParallelLaunches = state.MaxParallelLaunches,
        LaunchTemplate = state.LaunchTemplateId is null && state.LaunchTemplateName is null ? null
            : $"{state.LaunchTemplateId ?? state.LaunchTemplateName}:{state.LaunchTemplateVersion}",
        OwnerId = state.OwnerId,
        RootVolumeGiB = image?.RootVolumeGiB,
        EstimatedSnapshotsOnHand = FastLaunchPool.Of(state)?.OnHand(time.GetUtcNow()),
        SnapshotsReadyBy = FastLaunchPool.Of(state) is { } pool ? pool.ReadyAt(pool.Target, state.StateTransitionTime ?? time.GetUtcNow()) : null,
    };
}
