using System.Xml.Linq;
using WinEksPatch.Simulator.Hosting;
using WinEksPatch.Simulator.Scenarios;
using WinEksPatch.Simulator.Tests.Infrastructure;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Tests.Aws;

/// <summary>
/// EC2 Fast Launch for Windows AMIs over the EC2 query protocol: EnableFastLaunch → enabling → enabled, the pool of
/// pre-provisioned snapshots filling to its target at most MaxParallelLaunches at a time, a launch taking a snapshot and
/// EC2 replenishing it, DisableFastLaunch, and the documented refusals. Time scale 1: the virtual clock moves only with
/// Advance, which runs every event that falls due.
/// </summary>
public sealed class FastLaunchTests : IAsyncLifetime
{
    private static readonly XNamespace Ec2Ns = "http://ec2.amazonaws.com/doc/2016-11-15/";
    private static readonly DateTimeOffset Start = new(2026, 10, 1, 8, 0, 0, TimeSpan.Zero);

    private SimulatorHost _sim = null!;
    private string _ownWindows = null!;

    public async Task InitializeAsync()
    {
        _sim = await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "demo", StartTime = Start });
        _ownWindows = AddImage("custom-windows-2022", "windows", generalized: true);
    }

    public async Task DisposeAsync()
    {
        Assert.Empty(_sim.World.Scheduler.Errors);
        await _sim.DisposeAsync();
    }

    private string AddImage(string name, string os, bool generalized, string? owner = null, bool isPublic = false) => InWorld(w =>
    {
        var image = new AmiImage
        {
            ImageId = Ids.Ami("fast-launch-test/" + name),
            Name = name,
            OwnerId = owner ?? w.AccountId,
            Public = isPublic,
            Platform = os == "windows" ? "windows" : null,
            PlatformDetails = os == "windows" ? "Windows" : "Linux/UNIX",
            CreationDate = Start.AddDays(-3),
            OsVersion = os == "windows" ? "10.0.20348.2849" : "6.1.115",
            KubernetesVersion = "1.31",
            OsFamily = os,
            WindowsServer = os == "windows" ? "2022" : null,
            SysprepGeneralized = generalized,
        };
        w.Images[image.ImageId] = image;
        return image.ImageId;
    });

    private T InWorld<T>(Func<SimWorld, T> read)
    {
        lock (_sim.World.Gate)
        {
            return read(_sim.World);
        }
    }

    private void Advance(TimeSpan by) => _sim.Clock.Advance(by);

    private async Task<XElement> Ec2(string action, Dictionary<string, string> parameters, int status = 200)
    {
        SignedHttp.Response r = await SignedHttp.QueryAsync(_sim.Info.Endpoint, "ec2", "2016-11-15", action, parameters);
        Assert.True(status == r.Status, r.Body);
        return XDocument.Parse(r.Body).Root!;
    }

    private async Task<string> Ec2Error(string action, Dictionary<string, string> parameters)
    {
        XElement error = await Ec2(action, parameters, 400);
        return error.Descendants("Code").Single().Value;
    }

    private Task<XElement> Enable(string imageId, int? maxParallel = null, int? target = null)
    {
        var p = new Dictionary<string, string> { ["ImageId"] = imageId, ["ResourceType"] = "snapshot" };
        if (maxParallel is { } m)
        {
            p["MaxParallelLaunches"] = m.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (target is { } t)
        {
            p["SnapshotConfiguration.TargetResourceCount"] = t.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return Ec2("EnableFastLaunch", p);
    }

    private async Task<XElement?> Described(string imageId)
    {
        XElement root = await Ec2("DescribeFastLaunchImages", new() { ["ImageId.1"] = imageId });
        return root.Element(Ec2Ns + "fastLaunchImageSet")!.Elements(Ec2Ns + "item").SingleOrDefault();
    }

    private (int Ready, int InFlight) Pool(string imageId) => InWorld(w =>
        w.FastLaunchImages.TryGetValue(imageId, out FastLaunchImage? c) ? (c.ReadySnapshots.Count, c.InFlight) : (-1, -1));

    [Fact]
    public async Task Enable_goes_enabling_then_enabled_and_fills_the_pool_to_its_target_at_the_max_parallel_rate()
    {
        XElement enabled = await Enable(_ownWindows, maxParallel: 6, target: 10);
        Assert.Equal("EnableFastLaunchResponse", enabled.Name.LocalName);
        Assert.Equal(_ownWindows, enabled.Element(Ec2Ns + "imageId")!.Value);
        Assert.Equal("snapshot", enabled.Element(Ec2Ns + "resourceType")!.Value);
        Assert.Equal("10", enabled.Element(Ec2Ns + "snapshotConfiguration")!.Element(Ec2Ns + "targetResourceCount")!.Value);
        Assert.Equal("6", enabled.Element(Ec2Ns + "maxParallelLaunches")!.Value);
        Assert.Equal(InWorld(w => w.AccountId), enabled.Element(Ec2Ns + "ownerId")!.Value);
        Assert.Equal("enabling", enabled.Element(Ec2Ns + "state")!.Value);
        Assert.Equal("Client.UserInitiated", enabled.Element(Ec2Ns + "stateTransitionReason")!.Value);
        DateTimeOffset changed = DateTimeOffset.Parse(enabled.Element(Ec2Ns + "stateTransitionTime")!.Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(changed - Start, TimeSpan.Zero, TimeSpan.FromMinutes(1));

        // Enabling again while enabling is refused.
        Assert.Equal("IncorrectState", await Ec2Error("EnableFastLaunch", new() { ["ImageId"] = _ownWindows }));

        // After the setup (at most 2 minutes) it is enabled and six temporary instances pre-provision at once.
        Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("enabled", (await Described(_ownWindows))!.Element(Ec2Ns + "state")!.Value);
        Assert.Equal((0, 6), Pool(_ownWindows));

        // Each takes 15 to 25 minutes: by then the first six are ready and the last four are on their way.
        Advance(TimeSpan.FromMinutes(25));
        Assert.Equal((6, 4), Pool(_ownWindows));
        Advance(TimeSpan.FromMinutes(30));
        Assert.Equal((10, 0), Pool(_ownWindows));
        Advance(TimeSpan.FromHours(2));
        Assert.Equal((10, 0), Pool(_ownWindows));
    }

    [Fact]
    public async Task A_launch_takes_a_snapshot_and_EC2_replenishes_it()
    {
        await Enable(_ownWindows, target: 2);
        Assert.False(_sim.World.TryTakeFastLaunchSnapshot(_ownWindows)); // nothing ready yet
        Advance(TimeSpan.FromMinutes(30));
        Assert.Equal((2, 0), Pool(_ownWindows));
        Assert.Equal(6, InWorld(w => w.FastLaunchImages[_ownWindows].MaxParallelLaunches)); // the default

        Assert.True(_sim.World.TryTakeFastLaunchSnapshot(_ownWindows));
        Assert.True(_sim.World.TryTakeFastLaunchSnapshot(_ownWindows));
        Assert.False(_sim.World.TryTakeFastLaunchSnapshot(_ownWindows)); // the pool is empty: a standard launch
        Assert.Equal((0, 2), Pool(_ownWindows));
        Advance(TimeSpan.FromMinutes(26));
        Assert.Equal((2, 0), Pool(_ownWindows));
        Assert.False(_sim.World.TryTakeFastLaunchSnapshot("ami-0123456789abcdef0"));
    }

    [Fact]
    public async Task Refusals_follow_the_documented_rules()
    {
        // MaxParallelLaunches "must be 6 or greater".
        Assert.Equal("InvalidParameterValue", await Ec2Error("EnableFastLaunch", new() { ["ImageId"] = _ownWindows, ["MaxParallelLaunches"] = "5" }));
        // Unknown and malformed AMIs.
        Assert.Equal("InvalidAMIID.NotFound", await Ec2Error("EnableFastLaunch", new() { ["ImageId"] = "ami-0123456789abcdef0" }));
        Assert.Equal("InvalidAMIID.Malformed", await Ec2Error("EnableFastLaunch", new() { ["ImageId"] = "ami-nope" }));
        // A Linux AMI.
        string linux = AddImage("custom-al2023", "linux", generalized: true);
        Assert.Equal("InvalidParameterValue", await Ec2Error("EnableFastLaunch", new() { ["ImageId"] = linux }));
        // Another account's public AMI (Amazon's EKS-optimized Windows AMI): neither owned nor shared with the account.
        string amazons = InWorld(w => w.Images.Values.First(i => i.OsFamily == "windows" && i.OwnerAlias == "amazon").ImageId);
        Assert.Equal("InvalidParameterValue", await Ec2Error("EnableFastLaunch", new() { ["ImageId"] = amazons }));
        // Both a launch template id and name.
        Assert.Equal("InvalidParameterCombination", await Ec2Error("EnableFastLaunch", new()
        {
            ["ImageId"] = _ownWindows, ["LaunchTemplate.LaunchTemplateId"] = "lt-0123456789abcdef0", ["LaunchTemplate.LaunchTemplateName"] = "x", ["LaunchTemplate.Version"] = "1",
        }));
        // Disabling an image without Fast Launch.
        Assert.Equal("InvalidParameterValue", await Ec2Error("DisableFastLaunch", new() { ["ImageId"] = _ownWindows }));
        Assert.Empty(InWorld(w => w.FastLaunchImages));

        // A private AMI another account shares with this one may be enabled; its ownerId is not reported.
        string shared = AddImage("shared-windows", "windows", generalized: true, owner: "444455556666");
        XElement sharedEnabled = await Enable(shared);
        Assert.Null(sharedEnabled.Element(Ec2Ns + "ownerId"));
    }

    [Fact]
    public async Task An_AMI_not_generalized_with_Sysprep_ends_in_enabling_failed_with_a_reason()
    {
        string specialized = AddImage("from-running-instance", "windows", generalized: false);
        await Enable(specialized);
        Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("enabling", (await Described(specialized))!.Element(Ec2Ns + "state")!.Value);
        Advance(TimeSpan.FromMinutes(25));
        XElement item = (await Described(specialized))!;
        Assert.Equal("enabling-failed", item.Element(Ec2Ns + "state")!.Value);
        Assert.Contains("Sysprep", item.Element(Ec2Ns + "stateTransitionReason")!.Value, StringComparison.Ordinal);
        Assert.Equal((0, 0), Pool(specialized));
        Assert.False(_sim.World.TryTakeFastLaunchSnapshot(specialized));
    }

    [Fact]
    public async Task Disable_goes_disabling_removes_the_pool_and_the_image_leaves_the_listing()
    {
        string template = InWorld(w => w.LaunchTemplates.Values.First().LaunchTemplateId);
        await Ec2("EnableFastLaunch", new()
        {
            ["ImageId"] = _ownWindows, ["LaunchTemplate.LaunchTemplateId"] = template, ["LaunchTemplate.Version"] = "$Latest",
        });
        Advance(TimeSpan.FromMinutes(30));
        Assert.Equal((5, 0), Pool(_ownWindows));

        XElement listed = await Ec2("DescribeFastLaunchImages", new() { ["Filter.1.Name"] = "state", ["Filter.1.Value.1"] = "enabled" });
        XElement item = Assert.Single(listed.Element(Ec2Ns + "fastLaunchImageSet")!.Elements(Ec2Ns + "item"));
        Assert.Equal(template, item.Element(Ec2Ns + "launchTemplate")!.Element(Ec2Ns + "launchTemplateId")!.Value);
        Assert.Equal("$Latest", item.Element(Ec2Ns + "launchTemplate")!.Element(Ec2Ns + "version")!.Value);
        Assert.Equal("5", item.Element(Ec2Ns + "snapshotConfiguration")!.Element(Ec2Ns + "targetResourceCount")!.Value);

        XElement disabled = await Ec2("DisableFastLaunch", new() { ["ImageId"] = _ownWindows });
        Assert.Equal("DisableFastLaunchResponse", disabled.Name.LocalName);
        Assert.Equal("disabling", disabled.Element(Ec2Ns + "state")!.Value);
        Assert.False(_sim.World.TryTakeFastLaunchSnapshot(_ownWindows)); // launches stop using snapshots at once
        Assert.Equal("disabling", (await Described(_ownWindows))!.Element(Ec2Ns + "state")!.Value);

        Advance(TimeSpan.FromMinutes(3));
        Assert.Null(await Described(_ownWindows));
        Assert.Equal((-1, -1), Pool(_ownWindows));

        // Enabled again from scratch, it fills a new pool.
        await Enable(_ownWindows, target: 1);
        Advance(TimeSpan.FromMinutes(30));
        Assert.Equal((1, 0), Pool(_ownWindows));
    }

    [Fact]
    public async Task DescribeFastLaunchImages_pages_and_validates_its_filters()
    {
        foreach (string name in new[] { "a", "b", "c" })
        {
            await Enable(AddImage("paged-" + name, "windows", generalized: true));
        }

        XElement first = await Ec2("DescribeFastLaunchImages", new() { ["MaxResults"] = "2" });
        Assert.Equal(2, first.Element(Ec2Ns + "fastLaunchImageSet")!.Elements(Ec2Ns + "item").Count());
        string token = first.Element(Ec2Ns + "nextToken")!.Value;
        XElement second = await Ec2("DescribeFastLaunchImages", new() { ["MaxResults"] = "2", ["NextToken"] = token });
        Assert.Single(second.Element(Ec2Ns + "fastLaunchImageSet")!.Elements(Ec2Ns + "item"));
        Assert.Null(second.Element(Ec2Ns + "nextToken"));

        Assert.Equal("InvalidParameterValue", await Ec2Error("DescribeFastLaunchImages", new() { ["Filter.1.Name"] = "launch-template", ["Filter.1.Value.1"] = "x" }));
        XElement none = await Ec2("DescribeFastLaunchImages", new() { ["Filter.1.Name"] = "owner-id", ["Filter.1.Value.1"] = "999999999999" });
        Assert.Empty(none.Element(Ec2Ns + "fastLaunchImageSet")!.Elements());
    }
}
