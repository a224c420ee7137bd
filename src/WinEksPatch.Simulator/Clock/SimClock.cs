namespace WinEksPatch.Simulator.Clock;

/// <summary>
/// The simulated cloud's clock: now = anchor + (wall time elapsed since the anchor × time scale).
/// Every modelled duration (boot times, token ages, build phases) is measured on this clock, so a
/// time scale of 60 makes a simulated minute pass per wall second. <see cref="Advance"/> jumps ahead
/// without waiting (tests, the admin endpoint).
/// </summary>
public sealed class SimClock : TimeProvider
{
    private readonly TimeProvider _wall;
    private readonly object _gate = new();
    private DateTimeOffset _anchorSim;
    private long _anchorWallTimestamp;
    private double _timeScale;

    public SimClock(DateTimeOffset start, double timeScale = 1.0, TimeProvider? wall = null)
    {
        if (!(timeScale > 0) || double.IsInfinity(timeScale))
        {
            throw new ArgumentOutOfRangeException(nameof(timeScale), timeScale, "The time scale must be a positive number.");
        }

        _wall = wall ?? System;
        _anchorSim = start.ToUniversalTime();
        _anchorWallTimestamp = _wall.GetTimestamp();
        _timeScale = timeScale;
    }

    /// <summary>Raised after <see cref="Advance"/> or <see cref="SetTimeScale"/> (outside the clock's lock), so schedulers
    /// that wait on wall timers can re-arm: a jump may have made events due, a new scale changes every wall wait.</summary>
    public event Action? Changed;

    public double TimeScale
    {
        get { lock (_gate) { return _timeScale; } }
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return NowLocked();
        }
    }

    /// <summary>Moves simulated time forward by <paramref name="by"/> at once.</summary>
    public DateTimeOffset Advance(TimeSpan by)
    {
        if (by < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(by), by, "The simulated clock never goes backwards.");
        }

        lock (_gate)
        {
            Rebase();
            _anchorSim += by;
        }

        Changed?.Invoke();
        return GetUtcNow();
    }

    /// <summary>Changes the speed from now on; time already passed stays passed.</summary>
    public void SetTimeScale(double timeScale)
    {
        if (!(timeScale > 0) || double.IsInfinity(timeScale))
        {
            throw new ArgumentOutOfRangeException(nameof(timeScale), timeScale, "The time scale must be a positive number.");
        }

        lock (_gate)
        {
            Rebase();
            _timeScale = timeScale;
        }

        Changed?.Invoke();
    }

    // Timestamps are simulated ticks, so Stopwatch-style elapsed measurements (GetElapsedTime) are in simulated time too.
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    /// <summary>
    /// Timers (Task.Delay(d, clock), CancellationTokenSource(d, clock)) fire after d of simulated time,
    /// i.e. d / timeScale of wall time at the current scale. A later Advance does not fire them early.
    /// </summary>
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        => _wall.CreateTimer(callback, state, ToWall(dueTime), ToWall(period));

    private TimeSpan ToWall(TimeSpan simulated)
    {
        if (simulated == Timeout.InfiniteTimeSpan || simulated <= TimeSpan.Zero)
        {
            return simulated;
        }

        return TimeSpan.FromTicks(Math.Max(1, (long)(simulated.Ticks / TimeScale)));
    }

    private DateTimeOffset NowLocked()
    {
        TimeSpan wallElapsed = _wall.GetElapsedTime(_anchorWallTimestamp);
        return _anchorSim + TimeSpan.FromTicks((long)(wallElapsed.Ticks * _timeScale));
    }

    private void Rebase()
    {
        _anchorSim = NowLocked();
        _anchorWallTimestamp = _wall.GetTimestamp();
    }
}
