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
    /// A one-shot timer never fires before its simulated due time: wall timers run on a coarse tick and may fire
    /// a millisecond early, which at a time scale of 600 is most of a simulated second, so it re-arms for the rest.
    /// </summary>
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        => period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero
            ? new OneShotTimer(this, callback, state, dueTime)
            : _wall.CreateTimer(callback, state, ToWall(dueTime), ToWall(period));

    private TimeSpan ToWall(TimeSpan simulated)
    {
        if (simulated == Timeout.InfiniteTimeSpan || simulated <= TimeSpan.Zero)
        {
            return simulated;
        }

        return TimeSpan.FromTicks(Math.Max(1, (long)(simulated.Ticks / TimeScale)));
    }

    /// <summary>A one-shot timer on the simulated clock: when the wall timer fires before the simulated due time
    /// (coarse wall ticks), it waits the remainder instead of calling back early.</summary>
    private sealed class OneShotTimer : ITimer
    {
        private readonly SimClock _clock;
        private readonly TimerCallback _callback;
        private readonly object? _state;
        private readonly ITimer _wallTimer;
        private readonly object _gate = new();
        private DateTimeOffset _due = DateTimeOffset.MaxValue;
        private bool _disposed;

        public OneShotTimer(SimClock clock, TimerCallback callback, object? state, TimeSpan dueTime)
        {
            _clock = clock;
            _callback = callback;
            _state = state;
            _wallTimer = clock._wall.CreateTimer(_ => OnWallTick(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            Change(dueTime, Timeout.InfiniteTimeSpan);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return false;
                }

                DateTimeOffset now = _clock.GetUtcNow();
                _due = dueTime == Timeout.InfiniteTimeSpan || dueTime >= DateTimeOffset.MaxValue - now ? DateTimeOffset.MaxValue : now + dueTime;
                return _wallTimer.Change(_clock.ToWall(dueTime), Timeout.InfiniteTimeSpan);
            }
        }

        private void OnWallTick()
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }

                TimeSpan remaining = _due - _clock.GetUtcNow();
                if (remaining > TimeSpan.Zero)
                {
                    _wallTimer.Change(_clock.ToWall(remaining), Timeout.InfiniteTimeSpan);
                    return;
                }

                _due = DateTimeOffset.MaxValue;
            }

            _callback(_state);
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _disposed = true;
            }

            _wallTimer.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            lock (_gate)
            {
                _disposed = true;
            }

            return _wallTimer.DisposeAsync();
        }
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
