using System.Text.Json;
using WinEksPatch.Simulator.Hosting;
using WinEksPatch.Simulator.Tests.Infrastructure;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Tests.Images;

/// <summary>Image Builder builds end to end: the output AMI's patch level and cache, and what that does to pod start times.</summary>
public sealed class ImageBuilderTests
{
    private const string Ecr = "111122223333.dkr.ecr.us-west-2.amazonaws.com";

    [Fact]
    public async Task A_build_produces_an_ami_at_the_newest_patch_whose_cache_makes_pods_start_faster_than_on_the_parent()
    {
        await using SimulatorHost sim = await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "demo", TimeScale = 1e-9 });
        string parentId;
        lock (sim.World.Gate)
        {
            // The self-managed group's AMI: 2026-04, five months behind.
            parentId = sim.World.Instances.Values.First(i => i.AutoScalingGroupName == "demo-win-selfmanaged").ImageId;
        }

        string yaml = string.Join('\n',
            "name: cache", "schemaVersion: 1.0", "phases:", "  - name: build", "    steps:", "      - name: Pull", "        action: ExecutePowerShell",
            "        inputs:", "          commands:",
            $"            - ctr -n k8s.io images pull {Ecr}/shop/web-iis:2026.06.1",
            "            - ctr -n k8s.io images pull mcr.microsoft.com/windows/servercore:ltsc2022");
        string component = await Create(sim, "CreateComponent", new { name = "cache", semanticVersion = "1.0.0", platform = "Windows", data = yaml, clientToken = "c1" }, "componentBuildVersionArn");
        string recipe = await Create(sim, "CreateImageRecipe", new
        {
            name = "demo", semanticVersion = "1.0.0", parentImage = parentId, clientToken = "r1",
            components = new[] { new { componentArn = "arn:aws:imagebuilder:us-west-2:aws:component/update-windows/1.0.2/1" }, new { componentArn = component } },
        }, "imageRecipeArn");
        string infra = await Create(sim, "CreateInfrastructureConfiguration", new { name = "demo", instanceProfileName = "EC2InstanceProfileForImageBuilder", clientToken = "i1" }, "infrastructureConfigurationArn");
        string build = await Create(sim, "CreateImage", new { imageRecipeArn = recipe, infrastructureConfigurationArn = infra, clientToken = "b1" }, "imageBuildVersionArn");

        Assert.Equal("PENDING", await Status(sim, build));
        sim.Clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal("CREATING", await Status(sim, build));
        sim.Clock.Advance(TimeSpan.FromHours(3));
        Assert.Equal("AVAILABLE", await Status(sim, build));

        lock (sim.World.Gate)
        {
            ImageBuild done = sim.World.ImageBuilds[build];
            AmiImage ami = sim.World.Images[done.OutputAmiId!];
            Assert.Equal("10.0.20348.5622", ami.OsVersion); // the newest 2022 build in the calendar, not the parent's 10.0.20348.5020
            Assert.Equal("111122223333", ami.OwnerId);
            Assert.Contains(ami.Tags, t => t.Key == "Ec2ImageBuilderArn" && t.Value == build);
            List<string> cached = [.. sim.World.AmiCachedImages[ami.ImageId].Select(c => c.Reference)];
            Assert.Contains($"{Ecr}/shop/web-iis:2026.06.1", cached);
            Assert.Contains("mcr.microsoft.com/windows/servercore:ltsc2022", cached);
            Assert.Contains("mcr.microsoft.com/oss/kubernetes/pause:3.9", cached); // kept from the parent

            // A new node from the built AMI starts web-iis at once; one from the parent AMI pulls it.
            KubeNode template = sim.World.Nodes.Values.First(n => n.OperatingSystem == "windows");
            sim.World.Instances["i-0fromnewami00000"] = CloneInstance(sim.World, template.InstanceId, "i-0fromnewami00000", ami.ImageId);
            sim.World.Instances["i-0fromparent00000"] = CloneInstance(sim.World, template.InstanceId, "i-0fromparent00000", parentId);
            TimeSpan onNew = PodStartModel.StartDelay(sim.World, ImagesCatalogTests.CopyNode(template, "i-0fromnewami00000"), ImagesCatalogTests.Pod("web-a", $"{Ecr}/shop/web-iis:2026.06.1"));
            TimeSpan onParent = PodStartModel.StartDelay(sim.World, ImagesCatalogTests.CopyNode(template, "i-0fromparent00000"), ImagesCatalogTests.Pod("web-b", $"{Ecr}/shop/web-iis:2026.06.1"));
            Assert.Equal(PodStartModel.ContainerStart, onNew);
            Assert.True(onParent > TimeSpan.FromMinutes(2), onParent.ToString());
        }
    }

    [Fact]
    public async Task A_fault_fails_the_build_at_the_end_of_building_with_its_reason()
    {
        await using SimulatorHost sim = await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "demo", TimeScale = 1e-9 });
        lock (sim.World.Gate)
        {
            sim.World.ImageBuildFaults.Enqueue("Step 'UpdateWindows' failed: exit code 1603.");
        }

        string recipe = await Create(sim, "CreateImageRecipe", new
        {
            name = "faulty", semanticVersion = "2.0.0", clientToken = "r2",
            parentImage = "ssm:/aws/service/ami-windows-latest/Windows_Server-2019-English-Core-EKS_Optimized-1.31/image_id",
            components = new[] { new { componentArn = "arn:aws:imagebuilder:us-west-2:aws:component/update-windows/x.x.x" } },
        }, "imageRecipeArn");
        string infra = await Create(sim, "CreateInfrastructureConfiguration", new { name = "faulty", instanceProfileName = "EC2InstanceProfileForImageBuilder", clientToken = "i2" }, "infrastructureConfigurationArn");
        string build = await Create(sim, "CreateImage", new { imageRecipeArn = recipe, infrastructureConfigurationArn = infra, clientToken = "b2" }, "imageBuildVersionArn");
        sim.Clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal("BUILDING", await Status(sim, build));
        sim.Clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal("FAILED", await Status(sim, build));
        lock (sim.World.Gate)
        {
            Assert.Null(sim.World.ImageBuilds[build].OutputAmiId);
        }
    }

    private static Ec2Instance CloneInstance(SimWorld world, string fromId, string id, string imageId)
    {
        Ec2Instance from = world.Instances[fromId];
        return new Ec2Instance
        {
            InstanceId = id, ImageId = imageId, AvailabilityZone = from.AvailabilityZone, SubnetId = from.SubnetId, VpcId = from.VpcId,
            PrivateIpAddress = "10.0.99.98", PrivateDnsName = "ip-10-0-99-98.us-west-2.compute.internal", Platform = "windows",
        };
    }

    private static async Task<string> Create(SimulatorHost sim, string operation, object body, string arnMember)
    {
        SignedHttp.Response response = await SignedHttp.SendAsync(sim.Info.Endpoint, "imagebuilder", "PUT", "/" + operation, body: JsonSerializer.Serialize(body));
        Assert.True(response.Status == 200, response.Body);
        return JsonDocument.Parse(response.Body).RootElement.GetProperty(arnMember).GetString()!;
    }

    private static async Task<string> Status(SimulatorHost sim, string build)
    {
        SignedHttp.Response response = await SignedHttp.SendAsync(sim.Info.Endpoint, "imagebuilder", "GET", "/GetImage", query: new Dictionary<string, string> { ["imageBuildVersionArn"] = build });
        Assert.True(response.Status == 200, response.Body);
        return JsonDocument.Parse(response.Body).RootElement.GetProperty("image").GetProperty("state").GetProperty("status").GetString()!;
    }
}
