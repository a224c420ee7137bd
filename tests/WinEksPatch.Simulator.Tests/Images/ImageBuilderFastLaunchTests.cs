using System.Text.Json.Nodes;
using WinEksPatch.Simulator.Hosting;
using WinEksPatch.Simulator.Tests.Infrastructure;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Tests.Images;

/// <summary>
/// Image Builder distribution configurations with fastLaunchConfigurations: validated on create and update, returned by
/// GetDistributionConfiguration, and applied by a build that distributes to its own region: the output AMI is
/// Sysprep-generalized and EC2 Fast Launch is enabled on it through EnableFastLaunch's state machine, or the build fails
/// at the end of DISTRIBUTING where EC2 would refuse the settings.
/// </summary>
public sealed class ImageBuilderFastLaunchTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 10, 1, 8, 0, 0, TimeSpan.Zero);
    private SimulatorHost _sim = null!;
    private string _recipe = null!;
    private string _infrastructure = null!;
    private int _tokens;

    public async Task InitializeAsync()
    {
        _sim = await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "demo", StartTime = Start });
        string parent;
        lock (_sim.World.Gate)
        {
            parent = _sim.World.Instances.Values.First(i => i.AutoScalingGroupName == "demo-win-selfmanaged").ImageId;
        }

        _recipe = (await Send("CreateImageRecipe", new JsonObject
        {
            ["name"] = "fast", ["semanticVersion"] = "1.0.0", ["parentImage"] = parent,
            ["components"] = new JsonArray(new JsonObject { ["componentArn"] = "arn:aws:imagebuilder:us-west-2:aws:component/update-windows/1.0.2/1" }),
        }))["imageRecipeArn"]!.GetValue<string>();
        _infrastructure = (await Send("CreateInfrastructureConfiguration", new JsonObject { ["name"] = "fast", ["instanceProfileName"] = "EC2InstanceProfileForImageBuilder" }))
            ["infrastructureConfigurationArn"]!.GetValue<string>();
    }

    public async Task DisposeAsync()
    {
        Assert.Empty(_sim.World.Scheduler.Errors);
        await _sim.DisposeAsync();
    }

    private async Task<JsonObject> Send(string operation, JsonObject body)
    {
        SignedHttp.Response r = await Put(operation, body);
        Assert.True(r.Status == 200, r.Body);
        return JsonNode.Parse(r.Body)!.AsObject();
    }

    /// <summary>A refused request: 400, and the error's name (rest-json: the x-amzn-ErrorType header).</summary>
    private async Task<string> Refused(string operation, JsonObject body)
    {
        SignedHttp.Response r = await Put(operation, body);
        Assert.True(r.Status == 400, r.Body);
        return r.Message.Headers.GetValues("x-amzn-ErrorType").Single();
    }

    private Task<SignedHttp.Response> Put(string operation, JsonObject body)
    {
        body["clientToken"] = $"token-{++_tokens}";
        return SignedHttp.SendAsync(_sim.Info.Endpoint, "imagebuilder", "PUT", "/" + operation, body: body.ToJsonString());
    }

    private static JsonObject Distribution(string name, params JsonObject[] fastLaunch) => new()
    {
        ["name"] = name,
        ["distributions"] = new JsonArray(new JsonObject
        {
            ["region"] = "us-west-2",
            ["amiDistributionConfiguration"] = new JsonObject { ["name"] = name + "-{{imagebuilder:buildDate}}" },
            ["fastLaunchConfigurations"] = new JsonArray([.. fastLaunch]),
        }),
    };

    private async Task<ImageBuild> Build(string distributionArn)
    {
        string arn = (await Send("CreateImage", new JsonObject
        {
            ["imageRecipeArn"] = _recipe, ["infrastructureConfigurationArn"] = _infrastructure, ["distributionConfigurationArn"] = distributionArn,
        }))["imageBuildVersionArn"]!.GetValue<string>();
        ImageBuild build;
        lock (_sim.World.Gate)
        {
            build = _sim.World.ImageBuilds[arn];
        }

        // Just past the end of the build (the clock runs at scale 1 too): the AMI is registered and distributed then.
        _sim.Clock.Advance(build.Schedule[^1].Ends.AddSeconds(1) - _sim.Clock.GetUtcNow());
        return build;
    }

    [Fact]
    public async Task A_built_AMI_distributed_with_an_enabled_fast_launch_configuration_ends_enabled_with_its_settings()
    {
        string template;
        lock (_sim.World.Gate)
        {
            template = _sim.World.LaunchTemplates.Values.First().LaunchTemplateId;
        }

        string dist = (await Send("CreateDistributionConfiguration", Distribution("fast",
            new JsonObject { ["enabled"] = false, ["accountId"] = "111122223333" },
            new JsonObject
            {
                ["enabled"] = true, ["snapshotConfiguration"] = new JsonObject { ["targetResourceCount"] = 3 }, ["maxParallelLaunches"] = 8,
                ["launchTemplate"] = new JsonObject { ["launchTemplateId"] = template, ["launchTemplateVersion"] = "1" },
            })))["distributionConfigurationArn"]!.GetValue<string>();

        ImageBuild build = await Build(dist);
        lock (_sim.World.Gate)
        {
            Assert.Equal("AVAILABLE", build.StateAt(_sim.Clock.GetUtcNow()).Status);
            AmiImage ami = _sim.World.Images[build.OutputAmiId!];
            Assert.True(ami.SysprepGeneralized);
            FastLaunchImage config = _sim.World.FastLaunchImages[ami.ImageId];
            Assert.Equal((3, 8, template, "1"), (config.TargetResourceCount, config.MaxParallelLaunches, config.LaunchTemplateId, config.LaunchTemplateVersion));
            Assert.Equal("enabling", config.State);
        }

        _sim.Clock.Advance(TimeSpan.FromMinutes(30));
        lock (_sim.World.Gate)
        {
            FastLaunchImage config = _sim.World.FastLaunchImages[build.OutputAmiId!];
            Assert.Equal("enabled", config.State);
            Assert.Equal(3, config.ReadySnapshots.Count);
        }

        // A distribution whose only configuration is disabled leaves the AMI without Fast Launch.
        string off = (await Send("CreateDistributionConfiguration", Distribution("off", new JsonObject { ["enabled"] = false })))["distributionConfigurationArn"]!.GetValue<string>();
        ImageBuild plain = await Build(off);
        lock (_sim.World.Gate)
        {
            Assert.NotNull(plain.OutputAmiId);
            Assert.False(_sim.World.FastLaunchImages.ContainsKey(plain.OutputAmiId!));
        }
    }

    [Fact]
    public async Task Settings_EC2_would_refuse_fail_the_build_at_the_end_of_distributing()
    {
        string dist = (await Send("CreateDistributionConfiguration", Distribution("few", new JsonObject { ["enabled"] = true, ["maxParallelLaunches"] = 2 })))
            ["distributionConfigurationArn"]!.GetValue<string>();
        string arn = (await Send("CreateImage", new JsonObject
        {
            ["imageRecipeArn"] = _recipe, ["infrastructureConfigurationArn"] = _infrastructure, ["distributionConfigurationArn"] = dist,
        }))["imageBuildVersionArn"]!.GetValue<string>();
        ImageBuild build;
        lock (_sim.World.Gate)
        {
            build = _sim.World.ImageBuilds[arn];
        }

        DateTimeOffset distributed = build.Schedule.Single(p => p.Status == "DISTRIBUTING").Ends;
        Assert.Equal("DISTRIBUTING", build.StateAt(distributed.AddSeconds(-1)).Status);
        (string status, string? reason) = build.StateAt(distributed);
        Assert.Equal("FAILED", status);
        Assert.Contains("maxParallelLaunches", reason, StringComparison.Ordinal);
        _sim.Clock.Advance(TimeSpan.FromHours(3));
        lock (_sim.World.Gate)
        {
            _sim.World.RefreshImageBuilds();
            Assert.Null(build.OutputAmiId);
        }
    }

    [Fact]
    public async Task Configurations_are_validated_on_create_and_update_and_returned_by_Get()
    {
        foreach (JsonObject bad in new[]
        {
            new JsonObject { ["maxParallelLaunches"] = 6 }, // enabled is required
            new JsonObject { ["enabled"] = true, ["maxParallelLaunches"] = 0 },
            new JsonObject { ["enabled"] = true, ["snapshotConfiguration"] = new JsonObject { ["targetResourceCount"] = 10001 } },
            new JsonObject { ["enabled"] = true, ["accountId"] = "1234" },
            new JsonObject { ["enabled"] = true, ["launchTemplate"] = new JsonObject { ["launchTemplateId"] = "lt-0123456789abcdef0", ["launchTemplateName"] = "both" } },
            new JsonObject { ["enabled"] = true, ["launchTemplate"] = new JsonObject { ["launchTemplateId"] = "lt-short" } },
        })
        {
            Assert.Equal("InvalidParameterValueException", await Refused("CreateDistributionConfiguration", Distribution("bad", bad)));
        }

        string arn = (await Send("CreateDistributionConfiguration", Distribution("round", new JsonObject { ["enabled"] = true })))["distributionConfigurationArn"]!.GetValue<string>();
        JsonObject updated = Distribution("round", new JsonObject
        {
            ["enabled"] = true, ["maxParallelLaunches"] = 10, ["snapshotConfiguration"] = new JsonObject { ["targetResourceCount"] = 4 },
            ["launchTemplate"] = new JsonObject { ["launchTemplateName"] = "demo-win-selfmanaged", ["launchTemplateVersion"] = "$Latest" },
        });
        updated.Remove("name");
        updated["distributionConfigurationArn"] = arn;
        Assert.Equal(arn, (await Send("UpdateDistributionConfiguration", updated))["distributionConfigurationArn"]!.GetValue<string>());
        updated["distributions"]![0]!["fastLaunchConfigurations"]![0]!["maxParallelLaunches"] = 0;
        Assert.Equal("InvalidParameterValueException", await Refused("UpdateDistributionConfiguration", updated));

        SignedHttp.Response got = await SignedHttp.SendAsync(_sim.Info.Endpoint, "imagebuilder", "GET", "/GetDistributionConfiguration",
            query: new Dictionary<string, string> { ["distributionConfigurationArn"] = arn });
        Assert.Equal(200, got.Status);
        JsonNode config = JsonNode.Parse(got.Body)!["distributionConfiguration"]!;
        JsonNode fast = config["distributions"]![0]!["fastLaunchConfigurations"]![0]!;
        Assert.Equal(10, fast["maxParallelLaunches"]!.GetValue<int>());
        Assert.Equal(4, fast["snapshotConfiguration"]!["targetResourceCount"]!.GetValue<int>());
        Assert.Equal("demo-win-selfmanaged", fast["launchTemplate"]!["launchTemplateName"]!.GetValue<string>());
        Assert.NotNull(config["dateUpdated"]);
    }
}
