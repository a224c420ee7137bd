namespace WinEksPatch.Workflows.FastLaunch;

/// <summary>
/// The pre-provisioned snapshots of one AMI, as EC2 makes and uses them, estimated. EC2 reports only the target count, not
/// how many are ready, so this replays what the EC2 User Guide describes: from the moment Fast Launch is enabled, EC2 keeps
/// up to <see cref="MaxParallelLaunches"/> temporary instances at work while ready + in progress is below
/// <see cref="Target"/>; each one is a snapshot <see cref="Round"/> later; every launch that takes one starts its
/// replacement. Launches recorded with <see cref="Take"/> are this run's; others (another group on the same AMI) are not
/// seen, which is why pacing reads the estimate as an upper bound and the rounds at their slowest.
/// </summary>
public sealed class FastLaunchPool
{
    private readonly List<DateTimeOffset> _takes = [];

    /// <summary>One round of pre-provisioning launches at its slowest, as the estimates assume: a standard Windows launch
    /// ("often 15 minutes or longer", EC2 User Guide) plus the snapshot.</summary>
    public static readonly TimeSpan RoundAtMost = TimeSpan.FromMinutes(25);

    /// <summary>The pool of an AMI's Fast Launch as EC2 reports it (no takes yet); null when launches cannot take snapshots in its state.</summary>
    public static FastLaunchPool? Of(Abstractions.FastLaunchImage image) =>
        image is { } i && Abstractions.FastLaunchImage.LaunchesFromSnapshots(i.State)
            ? new FastLaunchPool(i.TargetResourceCount ?? 0, i.MaxParallelLaunches ?? FastLaunchSetup.MinParallelLaunches, i.StateTransitionTime, RoundAtMost)
            : null;

    /// <param name="target">The snapshots EC2 keeps on hand (TargetResourceCount).</param>
    /// <param name="maxParallelLaunches">How many temporary instances EC2 runs at once to make them.</param>
    /// <param name="since">When the state last changed to enabled (EC2's StateTransitionTime); null: the pool counts as
    /// full until the first launch taken (EC2 gave no time to count from), then replenishes as it would.</param>
    /// <param name="round">One pre-provisioning launch, at its slowest.</param>
    public FastLaunchPool(int target, int maxParallelLaunches, DateTimeOffset? since, TimeSpan round)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(target);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(round, TimeSpan.Zero);
        Target = target;
        MaxParallelLaunches = Math.Max(1, maxParallelLaunches);
        Since = since;
        Round = round;
    }

    public int Target { get; }

    public int MaxParallelLaunches { get; }

    public DateTimeOffset? Since { get; }

    /// <summary>One pre-provisioning launch, at its slowest.</summary>
    public TimeSpan Round { get; }

    /// <summary>The snapshots estimated ready at <paramref name="at"/>, after the launches taken so far.</summary>
    public int OnHand(DateTimeOffset at) => Replay(at).Ready;

    /// <summary>When the next snapshot is estimated ready after <paramref name="at"/>; null when none is in the making
    /// (the pool is full, or its target is zero).</summary>
    public DateTimeOffset? NextReady(DateTimeOffset at) => Replay(at).NextFinish;

    /// <summary>Takes up to <paramref name="wanted"/> snapshots at <paramref name="at"/> (launches that boot from them) and
    /// returns how many were on hand for them; the rest would boot the standard way.</summary>
    public int Take(DateTimeOffset at, int wanted)
    {
        var taken = Math.Min(Math.Max(0, wanted), OnHand(at));
        for (var k = 0; k < taken; k++)
        {
            _takes.Add(at);
        }

        _takes.Sort();
        return taken;
    }

    /// <summary>When <paramref name="count"/> snapshots are estimated on hand at once (at most the target), no further
    /// launch taking any: the time to wait for before handing an AMI on with its snapshots ready.</summary>
    public DateTimeOffset ReadyAt(int count, DateTimeOffset from)
    {
        var wanted = Math.Min(count, Target);
        var at = from;
        while (Replay(at) is var state && state.Ready < wanted && state.NextFinish is { } next)
        {
            at = next;
        }

        return at;
    }

    private (int Ready, DateTimeOffset? NextFinish) Replay(DateTimeOffset at)
    {
        // From the time it turned enabled with none made yet; without one, full from the first launch taken (or now).
        var ready = Since is null ? Target : 0;
        var building = new List<DateTimeOffset>();
        void Fill(DateTimeOffset now)
        {
            while (ready + building.Count < Target && building.Count < MaxParallelLaunches)
            {
                building.Add(now + Round);
            }
        }

        if (Since is { } since)
        {
            Fill(since);
        }

        var takes = 0;
        while (true)
        {
            var finish = building.Count == 0 ? (DateTimeOffset?)null : building.Min();
            var take = takes < _takes.Count ? _takes[takes] : (DateTimeOffset?)null;
            // A snapshot made at the same moment as a launch is there for it.
            if (finish is { } f && f <= at && (take is not { } t0 || f <= t0))
            {
                building.Remove(f);
                ready++;
                Fill(f);
            }
            else if (take is { } t && t <= at)
            {
                takes++;
                if (ready > 0)
                {
                    ready--;
                    Fill(t);
                }
            }
            else
            {
                return (ready, finish);
            }
        }
    }
}
