using System.Diagnostics;
using System.Text.Json;
using WinEksPatch.Simulator.Clock;
using WinEksPatch.Simulator.Hosting;
using WinEksPatch.Simulator.Tests.Infrastructure;

namespace WinEksPatch.Simulator.Tests.Hosting;

[Collection(SimulatorCollection.Name)]
public sealed class HostAndClockTests(SimulatorFixture sim)
{
    [Fact]
    public void The_info_names_loopback_endpoints_and_written_files()
    {
        Assert.StartsWith("http://127.0.0.1:", sim.Info.Endpoint, StringComparison.Ordinal);
        Assert.StartsWith("https://127.0.0.1:", sim.Info.KubernetesEndpoint, StringComparison.Ordinal);
        Assert.Equal(sim.Info.Endpoint + "/_sim", sim.Info.AdminEndpoint);
        Assert.Equal(["demo", "staging"], sim.Info.Clusters);
        Assert.True(File.Exists(sim.Info.KubeConfigPath));
        Assert.Contains("-----BEGIN CERTIFICATE-----", File.ReadAllText(sim.Info.CaCertPath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_admin_clock_reports_and_advances_simulated_time()
    {
        using var http = new HttpClient();
        using JsonDocument before = JsonDocument.Parse(await http.GetStringAsync(sim.Info.AdminEndpoint + "/clock"));
        DateTimeOffset t0 = before.RootElement.GetProperty("utcNow").GetDateTimeOffset();
        Assert.Equal(1, before.RootElement.GetProperty("timeScale").GetDouble());

        HttpResponseMessage advanced = await http.PostAsync(sim.Info.AdminEndpoint + "/clock/advance?seconds=3600", null);
        using JsonDocument after = JsonDocument.Parse(await advanced.Content.ReadAsStringAsync());
        Assert.True(after.RootElement.GetProperty("utcNow").GetDateTimeOffset() - t0 >= TimeSpan.FromHours(1));

        Assert.Equal(400, (int)(await http.PostAsync(sim.Info.AdminEndpoint + "/clock/advance?seconds=-1", null)).StatusCode);
    }

    [Fact]
    public void SimClock_runs_at_its_time_scale()
    {
        var wall = new ManualWallClock();
        var clock = new SimClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), 60, wall);
        wall.Elapse(TimeSpan.FromSeconds(10));
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 10, 0, TimeSpan.Zero), clock.GetUtcNow());

        clock.SetTimeScale(1);
        wall.Elapse(TimeSpan.FromSeconds(10));
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 10, 10, TimeSpan.Zero), clock.GetUtcNow());

        clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(new DateTimeOffset(2026, 1, 2, 0, 10, 10, TimeSpan.Zero), clock.GetUtcNow());
    }

    [Fact]
    public async Task A_simulated_delay_never_ends_before_its_simulated_due_time_when_the_wall_timer_fires_early()
    {
        var wall = new ManualWallClock();
        var clock = new SimClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), 600, wall);
        Task delay = Task.Delay(TimeSpan.FromSeconds(60), clock);
        Assert.Equal(TimeSpan.FromMilliseconds(100), wall.ArmedDueTimes().Single());

        // A coarse wall tick fires the timer a millisecond early: 0.6 simulated seconds are still to go.
        wall.Elapse(TimeSpan.FromMilliseconds(99));
        wall.FireArmedTimers();
        Assert.False(delay.IsCompleted);
        Assert.Equal(TimeSpan.FromMilliseconds(1), wall.ArmedDueTimes().Single());

        wall.Elapse(TimeSpan.FromMilliseconds(1));
        wall.FireArmedTimers();
        await delay.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 1, 0, TimeSpan.Zero), clock.GetUtcNow());
    }

    [Fact]
    public async Task The_executable_prints_one_json_line_and_stops_when_stdin_closes()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "WinEksPatch.Simulator.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { dll, "--scenario", "demo", "--time-scale", "60" })
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string? line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        Assert.NotNull(line);
        SimulatorInfo info = JsonSerializer.Deserialize<SimulatorInfo>(line)!;
        Assert.Equal("us-west-2", info.Region);
        Assert.Equal(60, info.TimeScale);
        Assert.Equal("AKIASIMULATOR0000001", info.AccessKeyId);
        Assert.True(File.Exists(info.KubeConfigPath));
        using (JsonDocument doc = JsonDocument.Parse(line))
        {
            Assert.Equal(
                ["endpoint", "kubernetesEndpoint", "region", "accessKeyId", "secretAccessKey", "kubeConfigPath", "caCertPath", "clusters", "timeScale", "adminEndpoint", "registries", "accounts", "configFile"],
                doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray());
        }

        using (var http = new HttpClient())
        {
            using JsonDocument clock = JsonDocument.Parse(await http.GetStringAsync(info.AdminEndpoint + "/clock", timeout.Token));
            Assert.Equal(60, clock.RootElement.GetProperty("timeScale").GetDouble());
        }

        process.StandardInput.Close();
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(0, process.ExitCode);
        Assert.Equal("", await process.StandardOutput.ReadToEndAsync(timeout.Token));
        Assert.False(Directory.Exists(Path.GetDirectoryName(info.KubeConfigPath)), "the state folder is removed on stop");
    }

    private sealed class ManualWallClock : TimeProvider
    {
        private long _ticks;

        public void Elapse(TimeSpan by) => _ticks += by.Ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        private readonly List<ManualTimer> _timers = [];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new ManualTimer(callback, state, dueTime);
            _timers.Add(timer);
            return timer;
        }

        public IEnumerable<TimeSpan> ArmedDueTimes() => _timers.Where(t => t.Due is not null).Select(t => t.Due!.Value).ToList();

        /// <summary>Fires every armed timer now, whatever its due time (what a coarse tick does a little early).</summary>
        public void FireArmedTimers()
        {
            foreach (ManualTimer timer in _timers.Where(t => t.Due is not null).ToList())
            {
                timer.Fire();
            }
        }

        private sealed class ManualTimer(TimerCallback callback, object? state, TimeSpan dueTime) : ITimer
        {
            public TimeSpan? Due { get; private set; } = dueTime == Timeout.InfiniteTimeSpan ? null : dueTime;

            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : dueTime;
                return true;
            }

            public void Fire()
            {
                Due = null;
                callback(state);
            }

            public void Dispose() => Due = null;

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
