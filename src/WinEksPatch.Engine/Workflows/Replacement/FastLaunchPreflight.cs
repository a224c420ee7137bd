using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Workflows.FastLaunch;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>
/// What EC2 Fast Launch does to a rollout, for its pre-flight and its estimate: whether the target AMI launches from
/// pre-provisioned snapshots, how many EC2 keeps on hand against the rollout's window, and the boot time that follows.
/// EC2 reports the target number of snapshots, not how many are ready at a given moment, so the finding says so.
/// </summary>
public sealed record FastLaunchPreflight(string ImageId, string State, int Snapshots, int MaxParallelLaunches, DateTimeOffset? Since)
{
    /// <summary>When the plan was made (the estimate of the snapshots on hand counts the rounds since <see cref="Since"/>).</summary>
    public DateTimeOffset Now { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The pre-flight finding's kind.</summary>
    public const string Kind = "FastLaunch";

    /// <summary>A launch from a pre-provisioned snapshot skips Sysprep's specialize and OOBE phases: EC2 documents launches
    /// "up to 65% faster"; the estimate takes a boot of 45% of the group's observed one.</summary>
    public const double BootFraction = 0.45;

    /// <summary>Whether the AMI can have Fast Launch at all: not one of Amazon's public AMIs (an account enables it only on
    /// AMIs it owns or that are shared with it, and the EKS-optimized AMIs do not support it), so no call is made for them.</summary>
    public static bool Eligible(Ec2Image image) => image.OwnerAlias != "amazon";

    /// <summary>The Fast Launch of an AMI -ImageSource Build -FastLaunch is to build for a group of <paramref name="groupNodes"/>
    /// nodes (New-WinNodeAmi's count: the larger of its node count and desired size), as the rollout will find it: enabled, with its snapshots on hand (the build waits for them), or none yet
    /// with <see cref="AmiBuild.AmiFastLaunchOptions.NoSnapshotWait"/>.</summary>
    public static FastLaunchPreflight ForPlannedBuild(AmiBuild.AmiFastLaunchOptions options, int groupNodes, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        var now = time.GetUtcNow();
        var settings = AmiBuild.AmiFastLaunch.For(options, groupNodes)!;
        return new FastLaunchPreflight(ReplacementOptions.AmiToBeBuilt, "enabled", settings.TargetResourceCount, settings.MaxParallelLaunches,
            options.NoSnapshotWait ? now : null) { Now = now };
    }

    /// <summary>The target AMI's Fast Launch (null: none, or the AMI is yet to be built). A policy without
    /// ec2:DescribeFastLaunchImages only loses the finding.</summary>
    public static async Task<FastLaunchPreflight?> ReadAsync(IEc2Api ec2, string target, TimeProvider time, IWorkflowHost host, CancellationToken cancellationToken)
    {
        try
        {
            return (await ec2.DescribeFastLaunchImagesAsync([target], cancellationToken).ConfigureAwait(false)).FirstOrDefault() is { } image
                ? new FastLaunchPreflight(image.ImageId, image.State, image.TargetResourceCount ?? 0, image.MaxParallelLaunches ?? 0, image.StateTransitionTime)
                {
                    Now = time.GetUtcNow(),
                }
                : null;
        }
        catch (WinEksPatchException ex) when (ex.ErrorId is ErrorIds.AwsAccessDenied)
        {
            host.Verbose($"EC2 Fast Launch of {target} not read ({ex.Message}); the estimate assumes standard Windows boots.");
            return null;
        }
    }

    /// <summary>Launches can take pre-provisioned snapshots: enabled, or enabled-failed with snapshots left.</summary>
    public bool IsOn => FastLaunchImage.LaunchesFromSnapshots(State);

    /// <summary>The pool as EC2 makes and uses it, from the time the state changed (a fresh one each call); null when
    /// launches cannot take snapshots.</summary>
    public FastLaunchPool? Pool() => IsOn ? new FastLaunchPool(Snapshots, MaxParallelLaunches, Since, FastLaunchPool.RoundAtMost) : null;

    /// <summary>How much later than the slowest round pacing counts a snapshot as there: EC2 registers it, and our launch
    /// reaches EC2, a moment after the estimate's instant; launching on the instant could find the pool still empty.</summary>
    public static readonly TimeSpan PacingMargin = TimeSpan.FromMinutes(1);

    /// <summary>The pool -PaceToFastLaunch takes from (a fresh one each call: the plan's estimate and the run each replay
    /// their own), its rounds <see cref="PacingMargin"/> longer; null when launches cannot take snapshots.</summary>
    public FastLaunchPool? PacingPool() => IsOn ? new FastLaunchPool(Snapshots, MaxParallelLaunches, Since, FastLaunchPool.RoundAtMost + PacingMargin) : null;

    /// <summary>The snapshots on hand by now, estimated: the rounds of <see cref="MaxParallelLaunches"/> EC2 can have finished
    /// since the state changed, up to the target. A state time EC2 does not give counts the whole target.</summary>
    public int EstimatedOnHand => Pool()?.OnHand(Now) ?? 0;

    /// <summary>Launches that find a snapshot ready: at most the estimated count on hand, before EC2 replenishes.</summary>
    public int Covered(int launches) => Math.Min(launches, EstimatedOnHand);

    /// <summary>
    /// With -PaceToFastLaunch: how long the rollout takes when every launch waits for a snapshot, estimated as windows of
    /// launches that each start once the pool has a snapshot for every launch of the window (or the window before has
    /// ended), boot from them and are drained and terminated. Null when launches cannot take snapshots (nothing to pace).
    /// </summary>
    public TimeSpan? PacedDuration(int launches, int window, TimeSpan boot, TimeSpan drainAndTerminate)
    {
        if (PacingPool() is not { } pool)
        {
            return null;
        }

        var at = Now;
        for (var left = launches; left > 0; left -= window)
        {
            var wave = Math.Min(Math.Max(1, window), left);
            // A window larger than the target can never be covered at once: its launches go as the snapshots come.
            for (var taken = 0; taken < wave;)
            {
                at = pool.ReadyAt(Math.Min(wave - taken, Math.Max(1, pool.Target)), at);
                var got = pool.Take(at, wave - taken);
                if (got == 0)
                {
                    return null; // a pool that makes nothing (no target): nothing to pace against
                }

                taken += got;
            }

            at += boot * BootFraction + drainAndTerminate;
        }

        return at - Now;
    }

    /// <summary>The pre-flight finding. <paramref name="paced"/>: -PaceToFastLaunch holds surge launches for snapshots (with
    /// <paramref name="unavailable"/> above 0 some replacements bring the group back to its size and go at once);
    /// <paramref name="pacingWithoutSurge"/>: it was asked for with -MaxSurge 0, where it holds nothing.</summary>
    public PreflightFinding Finding(int nodes, int window, bool paced = false, int unavailable = 0, bool pacingWithoutSurge = false)
    {
        if (!IsOn)
        {
            return new PreflightFinding(Kind, ImageId,
                $"EC2 Fast Launch is {State}: new nodes boot the standard way (Get-WinNodeAmiFastLaunch shows EC2's reason)" +
                (paced || pacingWithoutSurge ? "; -PaceToFastLaunch has nothing to pace against and holds no launch." : "."));
        }

        var onHand = EstimatedOnHand;
        var beyond = Math.Min(nodes, onHand) >= nodes ? "every new node can boot from one"
            : paced ? "-PaceToFastLaunch holds the launches beyond those on hand until EC2 has made more (each boots from one" +
                (unavailable > 0 ? "; with -MaxUnavailable above 0, a replacement that brings the group back to its size goes at once)" : ")")
            : "launches beyond those on hand boot the standard way while EC2 makes more (-PaceToFastLaunch holds them for snapshots instead" +
                (pacingWithoutSurge ? ", with a -MaxSurge above 0: with -MaxSurge 0 every launch brings the group back to its size and goes at once)" : ")");
        return new PreflightFinding(Kind, ImageId,
            $"EC2 Fast Launch is {State}{(Since is { } since ? $" (since {since:yyyy-MM-dd HH:mm}Z)" : "")}: up to {Snapshots} pre-provisioned snapshot(s) on hand, " +
            $"about {onHand} by now (EC2 makes {MaxParallelLaunches} at a time, each in about 15-25 min, and does not report how many are ready), " +
            $"for {nodes} launch(es), {window} at a time; {beyond}. The estimate takes a boot from a snapshot as 45% of the group's observed boot.");
    }
}
