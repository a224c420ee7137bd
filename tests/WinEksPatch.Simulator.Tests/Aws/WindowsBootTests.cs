using System.Text.Json.Nodes;
using WinEksPatch.Simulator.Hosting;
using WinEksPatch.Simulator.Scenarios;
using WinEksPatch.Simulator.Tests.Infrastructure;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Tests.Aws;

/// <summary>
/// A Windows launch in phases (running → OS ready → bootstrap → registered → Ready → pod IPs), the standard way (Sysprep
/// specialize and OOBE) or from an EC2 Fast Launch pre-provisioned snapshot, and the report's timeline of those phases.
/// The self-managed group is moved to an AMI the account owns (Amazon's public AMIs cannot be configured for Fast
/// Launch). Time scale 1: the clock moves only with Advance, which runs every due event at its own simulated time.
/// </summary>
public sealed class WindowsBootTests : IAsyncLifetime
{
    internal const string SelfManaged = "demo-win-selfmanaged";
    private static readonly DateTimeOffset Start = new(2026, 10, 1, 8, 0, 0, TimeSpan.Zero);

    private SimulatorHost _sim = null!;
    private string _ownAmi = null!;

    public async Task InitializeAsync()
    {
        _sim = await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "demo", StartTime = Start });
        _ownAmi = UseOwnAmi(_sim);
    }

    public async Task DisposeAsync()
    {
        Assert.Empty(_sim.World.Scheduler.Errors);
        await _sim.DisposeAsync();
    }

    /// <summary>Adds a generalized Windows AMI owned by the account and a new launch template version ($Latest, which the
    /// self-managed group launches) that names it; returns its id.</summary>
    internal static string UseOwnAmi(SimulatorHost sim)
    {
        lock (sim.World.Gate)
        {
            SimWorld w = sim.World;
            AmiImage parent = w.Images[w.Instances[w.AutoScalingGroups[SelfManaged].InstanceIds[0]].ImageId];
            var own = new AmiImage
            {
                ImageId = Ids.Ami("windows-boot-test/own"),
                Name = "own-windows-2022-eks",
                OwnerId = w.AccountId,
                Public = false,
                Platform = "windows",
                PlatformDetails = "Windows",
                CreationDate = Start.AddDays(-2),
                OsVersion = parent.OsVersion,
                KubernetesVersion = parent.KubernetesVersion,
                OsFamily = "windows",
                WindowsServer = parent.WindowsServer,
                WindowsEdition = parent.WindowsEdition,
                PatchMonth = parent.PatchMonth,
            };
            w.Images[own.ImageId] = own;
            LaunchTemplate template = w.LaunchTemplates[w.AutoScalingGroups[SelfManaged].LaunchTemplate.LaunchTemplateId];
            LaunchTemplateVersion latest = template.Resolve("$Latest")!;
            template.Versions.Add(new LaunchTemplateVersion
            {
                VersionNumber = template.LatestVersionNumber + 1,
                ImageId = own.ImageId,
                InstanceType = latest.InstanceType,
                UserData = latest.UserData,
                CreateTime = Start,
                IamInstanceProfileArn = latest.IamInstanceProfileArn,
            });
            return own.ImageId;
        }
    }

    private T InWorld<T>(Func<SimWorld, T> read)
    {
        lock (_sim.World.Gate)
        {
            return read(_sim.World);
        }
    }

    private void Advance(TimeSpan by) => _sim.Clock.Advance(by);

    /// <summary>Scales the self-managed group out by one; returns the instance launched.</summary>
    internal static async Task<Ec2Instance> ScaleOutByOne(SimulatorHost sim)
    {
        HashSet<string> before;
        int desired;
        lock (sim.World.Gate)
        {
            before = [.. sim.World.AutoScalingGroups[SelfManaged].InstanceIds];
            desired = sim.World.AutoScalingGroups[SelfManaged].DesiredCapacity;
        }

        SignedHttp.Response r = await SignedHttp.QueryAsync(sim.Info.Endpoint, "autoscaling", "2011-01-01", "SetDesiredCapacity",
            new Dictionary<string, string> { ["AutoScalingGroupName"] = SelfManaged, ["DesiredCapacity"] = (desired + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        Assert.True(r.Status == 200, r.Body);
        lock (sim.World.Gate)
        {
            return sim.World.Instances[Assert.Single(sim.World.AutoScalingGroups[SelfManaged].InstanceIds, id => !before.Contains(id))];
        }
    }

    private async Task EnableFastLaunch(int targetResourceCount)
    {
        SignedHttp.Response r = await SignedHttp.QueryAsync(_sim.Info.Endpoint, "ec2", "2016-11-15", "EnableFastLaunch", new Dictionary<string, string>
        {
            ["ImageId"] = _ownAmi, ["SnapshotConfiguration.TargetResourceCount"] = targetResourceCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        Assert.True(r.Status == 200, r.Body);
    }

    private (int Ready, int InFlight) Pool() => InWorld(w => (w.FastLaunchImages[_ownAmi].ReadySnapshots.Count, w.FastLaunchImages[_ownAmi].InFlight));

    private static double Seconds(DateTimeOffset? from, DateTimeOffset? to) => (to!.Value - from!.Value).TotalSeconds;

    /// <summary>Every phase reached, each within its modelled range of the one before.</summary>
    private void AssertPhases(Ec2Instance instance, (double Min, double Max) osReady)
    {
        InstanceBoot b = InWorld(_ => instance.Boot);
        Assert.Equal(instance.LaunchTime, b.LaunchedAt);
        Assert.InRange(Seconds(b.LaunchedAt, b.RunningAt), 25, 45);
        Assert.InRange(Seconds(b.RunningAt, b.OsReadyAt), osReady.Min, osReady.Max);
        Assert.InRange(Seconds(b.OsReadyAt, b.RegisteredAt), 45, 85);
        Assert.InRange(Seconds(b.RegisteredAt, b.ReadyAt), 20, 60);
        Assert.InRange(Seconds(b.ReadyAt, b.UsableAt), 5, 20);
        KubeNode node = InWorld(w => w.NodeOf(instance))!;
        Assert.Equal(b.RegisteredAt, node.CreationTimestamp);
        Assert.True(node.Ready);
        Assert.True(node.ExtendedResources.ContainsKey(WindowsPodIps.ResourceName));
    }

    [Fact]
    public async Task Without_Fast_Launch_or_with_an_empty_pool_Windows_boots_the_standard_way_through_Sysprep_and_OOBE()
    {
        // No Fast Launch on the AMI: a standard boot.
        Ec2Instance plain = await ScaleOutByOne(_sim);
        Assert.Null(plain.Boot.FastLaunchSnapshotId);
        Advance(TimeSpan.FromMinutes(1));
        Assert.NotNull(InWorld(_ => plain.Boot.RunningAt));
        Assert.Null(InWorld(_ => plain.Boot.OsReadyAt)); // at least 170 s of Sysprep specialize and OOBE still to go
        Advance(TimeSpan.FromMinutes(10));
        AssertPhases(plain, (170, 290));

        // Fast Launch enabled, but its pool is still being filled: the launch takes nothing and boots the standard way.
        await EnableFastLaunch(targetResourceCount: 3);
        Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("enabled", InWorld(w => w.FastLaunchImages[_ownAmi].State));
        Assert.Equal((0, 3), Pool());
        Ec2Instance standard = await ScaleOutByOne(_sim);
        Assert.Null(standard.Boot.FastLaunchSnapshotId);
        Assert.Equal((0, 3), Pool());
        Advance(TimeSpan.FromMinutes(10));
        AssertPhases(standard, (170, 290));
        Assert.True(Seconds(standard.Boot.LaunchedAt, standard.Boot.RegisteredAt) >= 240);
    }

    [Fact]
    public async Task With_a_ready_pool_a_launch_restores_a_pre_provisioned_snapshot_boots_fast_and_EC2_replenishes_the_pool()
    {
        await EnableFastLaunch(targetResourceCount: 2);
        Advance(TimeSpan.FromMinutes(30));
        Assert.Equal((2, 0), Pool());
        List<string> snapshots = InWorld(w => w.FastLaunchImages[_ownAmi].ReadySnapshots.ToList());

        Ec2Instance fast = await ScaleOutByOne(_sim);
        Assert.Equal(snapshots[0], fast.Boot.FastLaunchSnapshotId);
        Assert.Equal((1, 1), Pool()); // consumed, and a temporary instance already pre-provisions its replacement
        Assert.Equal([snapshots[1]], InWorld(w => w.FastLaunchImages[_ownAmi].ReadySnapshots.ToList()));

        Advance(TimeSpan.FromMinutes(5));
        AssertPhases(fast, (20, 45));
        Assert.True(Seconds(fast.Boot.LaunchedAt, fast.Boot.RegisteredAt) <= 45 + 45 + 85);

        Advance(TimeSpan.FromMinutes(25));
        Assert.Equal((2, 0), Pool());
    }

    [Fact]
    public async Task The_report_timeline_shows_each_phase_of_a_launch_in_order_at_the_times_it_was_reached()
    {
        await EnableFastLaunch(targetResourceCount: 1);
        Advance(TimeSpan.FromMinutes(30));
        Ec2Instance fast = await ScaleOutByOne(_sim);
        Ec2Instance standard = await ScaleOutByOne(_sim); // the pool of one is empty again
        Assert.NotNull(fast.Boot.FastLaunchSnapshotId);
        Assert.Null(standard.Boot.FastLaunchSnapshotId);
        Advance(TimeSpan.FromMinutes(12));

        JsonArray events = _sim.World.Report.ToJson()["events"]!.AsArray();
        foreach ((Ec2Instance instance, string osDetail) in new[]
        {
            (fast, "restored from pre-provisioned snapshot " + fast.Boot.FastLaunchSnapshotId),
            (standard, "Sysprep specialize and OOBE"),
        })
        {
            List<JsonObject> mine = [.. events.OfType<JsonObject>()
                .Where(e => e["node"]?.GetValue<string>() == instance.PrivateDnsName && !e["kind"]!.GetValue<string>().StartsWith("Pod", StringComparison.Ordinal))];
            Assert.Equal(["InstanceLaunched", "InstanceRunning", "OsReady", "NodeAdded", "NodeReady", "NodeUsable"], mine.Select(e => e["kind"]!.GetValue<string>()));
            InstanceBoot b = instance.Boot;
            // The report writes milliseconds.
            Assert.Equal(new[] { b.LaunchedAt, b.RunningAt, b.OsReadyAt, b.RegisteredAt, b.ReadyAt, b.UsableAt }
                    .Select(t => t!.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture)),
                mine.Select(e => e["at"]!.GetValue<string>()));
            Assert.All(mine, e => Assert.Equal("demo", e["cluster"]!.GetValue<string>()));
            Assert.All(mine, e => Assert.Equal(SelfManaged, e["nodeGroup"]!.GetValue<string>()));
            Assert.Equal(_ownAmi, mine[0]["detail"]!.GetValue<string>());
            Assert.Equal(instance.InstanceId, mine[1]["detail"]!.GetValue<string>());
            Assert.Equal(osDetail, mine[2]["detail"]!.GetValue<string>());
            Assert.Contains(WindowsPodIps.ResourceName, mine[5]["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_median_standard_launch_to_registration_stays_about_330_s_and_a_Fast_Launch_boot_is_about_60_percent_faster()
    {
        List<Ec2Instance> launched = InWorld(w =>
        {
            AutoScalingGroup group = w.AutoScalingGroups[SelfManaged];
            HashSet<string> before = [.. group.InstanceIds];
            group.MaxSize = 60;
            group.DesiredCapacity = 44;
            w.ReconcileGroup(group, null);
            return group.InstanceIds.Where(id => !before.Contains(id)).Select(id => w.Instances[id]).ToList();
        });
        Assert.Equal(40, launched.Count);
        Advance(TimeSpan.FromMinutes(10));
        List<double> registration = [.. launched.Select(i => Seconds(i.Boot.LaunchedAt, i.Boot.RegisteredAt)).Order()];
        double median = (registration[19] + registration[20]) / 2;
        Assert.InRange(median, 300, 360);

        // The modelled medians: standard 35 + 230 + 65 = 330 s, fast 35 + 32.5 + 65 = 132.5 s (AWS: "up to 65% faster").
        FleetTimings t = _sim.World.FleetTimings;
        static double Mid(double[] range) => (range[0] + range[1]) / 2;
        double standard = Mid(t.PendingSeconds) + Mid(t.WindowsOsReadySeconds) + Mid(t.WindowsBootstrapSeconds);
        double fast = Mid(t.PendingSeconds) + Mid(t.WindowsFastLaunchOsReadySeconds) + Mid(t.WindowsBootstrapSeconds);
        Assert.Equal(330, standard);
        Assert.InRange(1 - (fast / standard), 0.5, 0.65);
    }

    [Fact]
    public async Task A_termination_during_the_boot_ends_the_chain_of_phases()
    {
        Ec2Instance doomed = await ScaleOutByOne(_sim);
        Advance(TimeSpan.FromMinutes(1));
        SignedHttp.Response r = await SignedHttp.QueryAsync(_sim.Info.Endpoint, "autoscaling", "2011-01-01", "TerminateInstanceInAutoScalingGroup",
            new Dictionary<string, string> { ["InstanceId"] = doomed.InstanceId, ["ShouldDecrementDesiredCapacity"] = "true" });
        Assert.True(r.Status == 200, r.Body);
        Advance(TimeSpan.FromMinutes(15));
        Assert.Equal("terminated", InWorld(_ => doomed.State));
        Assert.NotNull(doomed.Boot.RunningAt);
        Assert.Null(doomed.Boot.OsReadyAt);
        Assert.Null(doomed.Boot.RegisteredAt);
        Assert.Null(InWorld(w => w.NodeOf(doomed)));
    }
}
