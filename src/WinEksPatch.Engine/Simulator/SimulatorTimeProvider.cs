using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace WinEksPatch.Simulator;

/// <summary>
/// The simulator's virtual clock, seen from the module: simulated now = the simulator's last reported now + wall time
/// since × time scale. Resynchronised every second (the simulator's clock can be advanced or rescaled at runtime), and
/// timers run scaled, so module timeouts and simulated durations agree.
/// </summary>
public sealed class SimulatorTimeProvider : TimeProvider, IDisposable
{
    private readonly Uri _clockUri;
    private readonly HttpClient _http;
    private readonly ITimer _resync;
    private Anchor _anchor;

    private SimulatorTimeProvider(Uri clockUri, Anchor anchor, SimulatorTrust? trust)
    {
        _clockUri = clockUri;
        _anchor = anchor;
        _http = SimulatorSession.CreateHttpClient(trust, TimeSpan.FromSeconds(5));
        _resync = System.CreateTimer(_ => _ = ResyncAsync(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public double TimeScale => Volatile.Read(ref _anchor).Scale;

    /// <summary>Wall time since the simulator last answered the clock's resync (every second while it serves).</summary>
    public TimeSpan SinceLastAnswer => System.GetElapsedTime(Volatile.Read(ref _anchor).WallTimestamp);

    /// <summary>Reads the clock of the simulator whose admin path is <paramref name="adminEndpoint"/> (trusting its CA through
    /// <paramref name="trust"/> when it serves TLS).</summary>
    public static async Task<SimulatorTimeProvider> ConnectAsync(string adminEndpoint, SimulatorTrust? trust = null, CancellationToken cancellationToken = default)
    {
        var uri = new Uri($"{adminEndpoint}/clock");
        using var http = SimulatorSession.CreateHttpClient(trust, TimeSpan.FromSeconds(10));
        var clock = await http.GetFromJsonAsync<ClockReading>(uri, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException("The simulator's clock answered nothing.");
        return new SimulatorTimeProvider(uri, Anchor.From(clock), trust);
    }

    public override DateTimeOffset GetUtcNow()
    {
        var anchor = Volatile.Read(ref _anchor);
        var wall = System.GetElapsedTime(anchor.WallTimestamp);
        return anchor.SimulatedNow + TimeSpan.FromTicks((long)(wall.Ticks * anchor.Scale));
    }

    /// <summary>Timers fire after the simulated due time, i.e. after due/scale of wall time.</summary>
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var scale = TimeScale;
        static TimeSpan Scale(TimeSpan t, double s) => t == Timeout.InfiniteTimeSpan ? t : TimeSpan.FromTicks((long)(t.Ticks / s));
        return System.CreateTimer(callback, state, Scale(dueTime, scale), Scale(period, scale));
    }

    public void Dispose()
    {
        _resync.Dispose();
        _http.Dispose();
    }

    private async Task ResyncAsync()
    {
        try
        {
            var clock = await _http.GetFromJsonAsync<ClockReading>(_clockUri).ConfigureAwait(false);
            if (clock != null)
            {
                Volatile.Write(ref _anchor, Anchor.From(clock));
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or global::System.Text.Json.JsonException)
        {
            // The simulator stopped or is busy: keep extrapolating from the last reading.
        }
    }

    private sealed record ClockReading([property: JsonPropertyName("utcNow")] string UtcNow, [property: JsonPropertyName("timeScale")] double TimeScale);

    private sealed record Anchor(DateTimeOffset SimulatedNow, long WallTimestamp, double Scale)
    {
        public static Anchor From(ClockReading reading) => new(
            DateTimeOffset.Parse(reading.UtcNow, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
            System.GetTimestamp(), reading.TimeScale);
    }
}
