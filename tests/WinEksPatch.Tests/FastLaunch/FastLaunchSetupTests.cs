using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Tests.Infrastructure;
using WinEksPatch.Tests.Workflows;
using WinEksPatch.Workflows.FastLaunch;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace WinEksPatch.Tests.FastLaunch;

public sealed class FastLaunchSetupTests
{
    private const string ImageId = "ami-0123456789abcdef0";

    [Fact]
    public async Task A_failure_to_enable_is_FastLaunchFailed_with_EC2s_reason_and_says_the_AMI_stays_usable()
    {
        var ec2 = new FastLaunchEc2 { States = ["enabling", "enabling", "enabling-failed"], FailureReason = "Client.InvalidImage: not generalized with Sysprep" };
        var error = await Assert.ThrowsAsync<WinEksPatchException>(() => Setup(ec2).EnableAsync(new FastLaunchOptions { ImageId = ImageId }, new RecordingHost(), default));

        Assert.Equal(ErrorIds.FastLaunchFailed, error.ErrorId);
        Assert.Contains("Client.InvalidImage: not generalized with Sysprep", error.Message, StringComparison.Ordinal);
        Assert.Contains("The AMI itself is unchanged and usable", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, ec2.EnableCalls);
        Assert.Equal(1 + 3, ec2.DescribeCalls); // the region's list (for the quota), then one poll per state until the failure
    }

    [Fact]
    public async Task It_waits_until_enabled_and_outputs_the_state_with_the_snapshot_storage()
    {
        var ec2 = new FastLaunchEc2 { States = ["enabling", "enabling", "enabled"] };
        var host = new RecordingHost();
        await Setup(ec2).EnableAsync(new FastLaunchOptions { ImageId = ImageId, TargetSnapshotCount = 8, MaxParallelLaunches = 7 }, host, default);

        var result = Assert.IsType<WinNodeAmiFastLaunch>(Assert.Single(host.Outputs));
        Assert.Equal("enabled", result.State);
        Assert.Equal(8, result.TargetSnapshotCount);
        Assert.Equal(8 * 50, result.SnapshotStorageGiB);
        Assert.Equal(new FastLaunchSettings(ImageId, 8, 7), ec2.Enabled);
    }

    [Fact]
    public async Task The_plan_shows_the_snapshots_storage_and_the_regions_parallel_launches_before_anything_changes()
    {
        var ec2 = new FastLaunchEc2 { Others = [Other("ami-0aaaaaaaaaaaaaaaa", 12)] };
        var host = new RecordingHost { AnswerShouldProcess = false };
        await Setup(ec2).EnableAsync(new FastLaunchOptions { ImageId = ImageId, TargetSnapshotCount = 5, MaxParallelLaunches = 6 }, host, default);

        var plan = Assert.Single(host.Plans);
        Assert.Contains("up to 250 GiB of EBS snapshot storage", plan, StringComparison.Ordinal);
        Assert.Contains("12 used by 1 other AMI(s) + 6 = 18 of 40", plan, StringComparison.Ordinal);
        Assert.Equal(0, ec2.EnableCalls);
        Assert.Empty(host.Outputs);
    }

    [Fact]
    public async Task Parallel_launches_beyond_the_regions_quota_are_refused_before_any_change()
    {
        var ec2 = new FastLaunchEc2 { Others = [Other("ami-0aaaaaaaaaaaaaaaa", 30), Other("ami-0bbbbbbbbbbbbbbbb", 6)] };
        var error = await Assert.ThrowsAsync<WinEksPatchException>(() =>
            Setup(ec2).EnableAsync(new FastLaunchOptions { ImageId = ImageId, MaxParallelLaunches = 6 }, new RecordingHost(), default));

        Assert.Equal(ErrorIds.FastLaunchQuotaExceeded, error.ErrorId);
        Assert.Contains("lower it to 4 or less", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("Nothing was changed.", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, ec2.EnableCalls);

        // A raised quota lets it through.
        await Setup(ec2).EnableAsync(new FastLaunchOptions { ImageId = ImageId, MaxParallelLaunches = 6, ParallelLaunchQuota = 50, NoWait = true }, new RecordingHost(), default);
        Assert.Equal(1, ec2.EnableCalls);
    }

    [Fact]
    public async Task A_Linux_AMI_is_refused_before_any_change()
    {
        var ec2 = new FastLaunchEc2 { PlatformDetails = "Linux/UNIX" };
        var error = await Assert.ThrowsAsync<WinEksPatchException>(() => Setup(ec2).EnableAsync(new FastLaunchOptions { ImageId = ImageId }, new RecordingHost(), default));
        Assert.Equal(ErrorIds.AmiNotWindows, error.ErrorId);
        Assert.Equal(0, ec2.EnableCalls);
    }

    [Fact]
    public async Task A_wait_that_outlasts_the_timeout_is_FastLaunchTimeout_naming_the_state_it_was_in()
    {
        var ec2 = new FastLaunchEc2 { States = ["enabling"] };
        var error = await Assert.ThrowsAsync<WinEksPatchException>(() =>
            Setup(ec2).EnableAsync(new FastLaunchOptions { ImageId = ImageId, Timeout = TimeSpan.Zero }, new RecordingHost(), default));
        Assert.Equal(ErrorIds.FastLaunchTimeout, error.ErrorId);
        Assert.Contains("still 'enabling'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Once_enabled_it_waits_until_the_snapshots_are_estimated_on_hand_reading_the_state_each_minute()
    {
        var time = new TimerCountingTime(new DateTimeOffset(2026, 12, 7, 22, 0, 0, TimeSpan.Zero));
        var ec2 = new FastLaunchEc2 { States = ["enabled"], StateTime = time.GetUtcNow() };
        var host = new RecordingHost();
        var setup = new FastLaunchSetup(ec2, time, "us-west-2") { PollInterval = TimeSpan.FromSeconds(15) };
        var run = setup.EnableAsync(new FastLaunchOptions { ImageId = ImageId, TargetSnapshotCount = 8, MaxParallelLaunches = 7 }, host, default);
        await AdvanceUntilAsync(time, run);

        var result = Assert.IsType<WinNodeAmiFastLaunch>(Assert.Single(host.Outputs));
        // Eight made seven at a time: two rounds of 25 minutes at most after "enabled".
        Assert.Equal(ec2.StateTime.AddMinutes(50), result.SnapshotsReadyBy);
        Assert.True(time.GetUtcNow() >= result.SnapshotsReadyBy, $"returned at {time.GetUtcNow()}, before {result.SnapshotsReadyBy}");
        Assert.Equal(8, result.EstimatedSnapshotsOnHand);
        Assert.InRange(ec2.DescribeCalls, 1 + 1 + 50, 1 + 1 + 52); // the region's list, the enabled poll, then one a minute
    }

    [Fact]
    public async Task NoSnapshotWait_returns_at_enabled_and_a_failure_while_the_snapshots_are_made_is_FastLaunchFailed()
    {
        var time = new TimerCountingTime(new DateTimeOffset(2026, 12, 7, 22, 0, 0, TimeSpan.Zero));
        var quick = new FastLaunchEc2 { States = ["enabled"], StateTime = time.GetUtcNow() };
        var host = new RecordingHost();
        await new FastLaunchSetup(quick, time, "us-west-2").EnableAsync(new FastLaunchOptions { ImageId = ImageId, NoSnapshotWait = true }, host, default);
        Assert.Equal(0, Assert.IsType<WinNodeAmiFastLaunch>(Assert.Single(host.Outputs)).EstimatedSnapshotsOnHand);

        var failing = new FastLaunchEc2 { States = ["enabled", "enabled", "enabled-failed"], FailureReason = "Client.LaunchTemplateNotFound", StateTime = time.GetUtcNow() };
        var run = new FastLaunchSetup(failing, time, "us-west-2").EnableAsync(new FastLaunchOptions { ImageId = ImageId }, new RecordingHost(), default);
        await AdvanceUntilAsync(time, run.ContinueWith(_ => { }, TaskScheduler.Default));
        var error = await Assert.ThrowsAsync<WinEksPatchException>(() => run);
        Assert.Equal(ErrorIds.FastLaunchFailed, error.ErrorId);
        Assert.Contains("turned 'enabled-failed' while its snapshots were being made: Client.LaunchTemplateNotFound", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Moves the fake clock a minute at a time until the task ends (at most a simulated day), each move only once
    /// the code under test has set its next timer (the k-th move waits for the k-th timer): a move before that would cover
    /// two of its waits at once.</summary>
    private static async Task AdvanceUntilAsync(TimerCountingTime time, Task task)
    {
        // Each move fires the one wait set before it, and the code sets its next wait (a new timer) when it goes on.
        for (var k = 0; k < 24 * 60 && !task.IsCompleted; k++)
        {
            for (var spin = 0; spin < 5000 && time.Timers <= k && !task.IsCompleted; spin++)
            {
                await Task.Delay(1);
            }

            time.Advance(TimeSpan.FromMinutes(1));
        }

        await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.True(task.IsCompleted, "the wait did not end");
    }

    /// <summary>A fake clock that counts the timers created on it (each Task.Delay on it makes one).</summary>
    private sealed class TimerCountingTime(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private int _timers;

        public int Timers => Volatile.Read(ref _timers);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _timers);
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }

    private static FastLaunchSetup Setup(FastLaunchEc2 ec2) => new(ec2, TimeProvider.System, "us-west-2") { PollInterval = TimeSpan.FromMilliseconds(1) };

    private static FastLaunchImage Other(string imageId, int parallel) =>
        new(imageId, "enabled", "Client.UserInitiated", DateTimeOffset.UnixEpoch, 5, parallel, "snapshot", "111122223333", null, null, null);

    /// <summary>One Windows AMI whose Fast Launch goes through <see cref="States"/>, one per DescribeFastLaunchImages of it.</summary>
    private sealed class FastLaunchEc2 : Ec2ApiStub
    {
        public IReadOnlyList<string> States { get; init; } = ["enabled"];
        public string? FailureReason { get; init; }
        public string PlatformDetails { get; init; } = "Windows";
        public IReadOnlyList<FastLaunchImage> Others { get; init; } = [];
        /// <summary>The StateTransitionTime reported (the snapshot estimate counts from it).</summary>
        public DateTimeOffset StateTime { get; init; } = DateTimeOffset.UnixEpoch;
        public FastLaunchSettings? Enabled { get; private set; }
        public int EnableCalls { get; private set; }
        public int DescribeCalls { get; private set; }
        private int _polls;

        public override Task<IReadOnlyList<Ec2Image>> DescribeImagesAsync(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<Ec2Image>>([.. imageIds.Select(id => new Ec2Image(id, "WinEksPatch-test", null, "111122223333", "available", "x86_64",
                PlatformDetails, DateTimeOffset.UnixEpoch, new Dictionary<string, string>(), RootVolumeGiB: 50))]);

        public override Task<IReadOnlyList<FastLaunchImage>> DescribeFastLaunchImagesAsync(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default)
        {
            DescribeCalls++;
            if (imageIds.Count == 0)
            {
                return Task.FromResult(Others);
            }

            var state = States[Math.Min(_polls++, States.Count - 1)];
            return Task.FromResult<IReadOnlyList<FastLaunchImage>>([new(ImageId, state, state.EndsWith("failed", StringComparison.Ordinal) ? FailureReason : "Client.UserInitiated",
                StateTime, Enabled?.TargetResourceCount, Enabled?.MaxParallelLaunches, "snapshot", "111122223333", null, null, null)]);
        }

        public override Task<FastLaunchImage> EnableFastLaunchAsync(FastLaunchSettings settings, CancellationToken cancellationToken = default)
        {
            EnableCalls++;
            Enabled = settings;
            return Task.FromResult(new FastLaunchImage(settings.ImageId, "enabling", "Client.UserInitiated", DateTimeOffset.UnixEpoch, settings.TargetResourceCount,
                settings.MaxParallelLaunches, "snapshot", "111122223333", null, null, null));
        }
    }
}
