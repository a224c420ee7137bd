namespace WinEksPatch.Simulator.Clock;

/// <summary>
/// Runs actions at simulated times, in time order, on the virtual clock. Unlike a timer from
/// <see cref="SimClock.CreateTimer"/>, it honours <see cref="SimClock.Advance"/>: a jump runs every event that became
/// due, in order, before Advance returns, and chains of events (launch → running → node registered → Ready) all
/// happen within one jump, each at its own simulated time (<see cref="Now"/> inside an action is the event's due time,
/// and <see cref="After"/> from inside an action counts from it). One wall timer waits for the earliest event.
/// </summary>
public sealed class SimScheduler : IDisposable
{
    [ThreadStatic]
    private static (SimScheduler Scheduler, DateTimeOffset Due)? _running;

    private readonly SimClock _clock;
    private readonly object _queueGate = new();
    // Held while actions run: one action at a time, in due order, whichever thread (timer, Advance caller) pumps.
    private readonly object _pumpGate = new();
    private readonly PriorityQueue<Action, (DateTimeOffset Due, long Sequence)> _queue = new();
    private readonly Timer _timer;
    private readonly List<Exception> _errors = [];
    private long _sequence;
    private bool _disposed;

    public SimScheduler(SimClock clock)
    {
        _clock = clock;
        _timer = new Timer(_ => Pump(), null, Timeout.Infinite, Timeout.Infinite);
        _clock.Changed += Pump;
    }

    /// <summary>Simulated now; inside a scheduled action, the time the action was due.</summary>
    public DateTimeOffset Now => _running is { } r && ReferenceEquals(r.Scheduler, this) ? r.Due : _clock.GetUtcNow();

    /// <summary>Events not yet run.</summary>
    public int Pending
    {
        get { lock (_queueGate) { return _queue.Count; } }
    }

    /// <summary>Exceptions thrown by scheduled actions (simulator bugs): tests assert there are none.</summary>
    public IReadOnlyList<Exception> Errors
    {
        get { lock (_queueGate) { return [.. _errors]; } }
    }

    /// <summary>Runs <paramref name="action"/> once <paramref name="delay"/> of simulated time has passed from <see cref="Now"/>.</summary>
    public void After(TimeSpan delay, Action action) => At(Now + (delay < TimeSpan.Zero ? TimeSpan.Zero : delay), action);

    public void At(DateTimeOffset due, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (_queueGate)
        {
            if (_disposed)
            {
                return;
            }

            _queue.Enqueue(action, (due, _sequence++));
        }

        // Arm from a pool thread: the caller usually holds the world's lock, and a due event would take it.
        ThreadPool.UnsafeQueueUserWorkItem(_ => Pump(), null);
    }

    private void Pump()
    {
        lock (_pumpGate)
        {
            while (true)
            {
                Action action;
                DateTimeOffset due;
                lock (_queueGate)
                {
                    if (_disposed || !_queue.TryPeek(out _, out (DateTimeOffset Due, long Sequence) next))
                    {
                        return;
                    }

                    TimeSpan wait = next.Due - _clock.GetUtcNow();
                    if (wait > TimeSpan.Zero)
                    {
                        // Wall time to wait at the current scale; the Changed event re-arms if the scale changes.
                        long wallMs = Math.Max(1, (long)Math.Ceiling(wait.TotalMilliseconds / _clock.TimeScale));
                        _timer.Change(Math.Min(wallMs, int.MaxValue - 1), Timeout.Infinite);
                        return;
                    }

                    action = _queue.Dequeue();
                    due = next.Due;
                }

                (SimScheduler, DateTimeOffset)? outer = _running;
                _running = (this, due);
                try
                {
                    action();
                }
#pragma warning disable CA1031 // A failing event must not kill the timer thread (and the process); it is kept for tests to see.
                catch (Exception e)
                {
                    lock (_queueGate)
                    {
                        _errors.Add(e);
                    }
                }
#pragma warning restore CA1031
                finally
                {
                    _running = outer;
                }
            }
        }
    }

    public void Dispose()
    {
        lock (_queueGate)
        {
            _disposed = true;
            _queue.Clear();
        }

        _clock.Changed -= Pump;
        _timer.Dispose();
    }
}
