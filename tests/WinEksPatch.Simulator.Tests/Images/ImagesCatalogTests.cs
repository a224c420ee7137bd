using WinEksPatch.Simulator.Hosting;
using WinEksPatch.Simulator.Scenarios;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Tests.Images;

/// <summary>The container image catalogue of the demo scenario, the AMIs' caches, and pod start times from layer sizes.</summary>
public sealed class ImagesCatalogTests
{
    private const string Ecr = "111122223333.dkr.ecr.us-west-2.amazonaws.com";

    // A nearly stopped clock, so that durations measured across calls are exact; tests move it with Advance.
    private static Task<SimulatorHost> StartAsync() => SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "demo", TimeScale = 1e-9 });

    private static PlatformImage Windows(SimWorld world, string reference, string osVersionPrefix)
    {
        Assert.True(ImageReference.TryParse(reference, out ImageReference? parsed));
        ResolvedImage resolved = world.ResolveImage(parsed) ?? throw new InvalidOperationException("not in the catalogue: " + reference);
        return SimWorld.SelectPlatform(resolved, "windows", osVersionPrefix + ".1") ?? throw new InvalidOperationException("no Windows image: " + reference);
    }

    [Fact]
    public async Task The_guide_fluentd_image_adds_up_to_533_05_MB_compressed_and_6_96_GB_on_disk_with_a_5_74_GB_servercore_base()
    {
        await using SimulatorHost sim = await StartAsync();
        lock (sim.World.Gate)
        {
            PlatformImage fluentd = Windows(sim.World, Ecr + "/fluentd-windows:latest", "10.0.17763");
            Assert.Equal(533_050_000, fluentd.DistributableSize);
            Assert.Equal(6_960_000_000, fluentd.UncompressedSize);
            Assert.StartsWith("mcr.microsoft.com/windows/servercore:10.0.17763.", fluentd.BaseReference, StringComparison.Ordinal);

            PlatformImage servercore = Windows(sim.World, fluentd.BaseReference!, "10.0.17763");
            Assert.Equal(5_740_000_000, servercore.UncompressedSize);
            Assert.Equal(servercore.Layers.Select(l => l.Digest), fluentd.Layers.Take(fluentd.BaseLayerCount).Select(l => l.Digest));
            Assert.All(servercore.Layers, l => Assert.True(l.Foreign));

            // On a node that has the base: 1.22 GB to extract (the guide's "1.2 GB added"), 533.05 MB to download.
            PullCost added = PodStartModel.Cost(fluentd, d => servercore.Layers.Any(l => l.Digest == d));
            Assert.Equal(1_220_000_000, added.ExtractBytes);
            Assert.Equal(533_050_000, added.DownloadBytes);
        }
    }

    [Fact]
    public async Task Demo_workload_images_are_in_the_catalogue_one_on_an_older_base_and_one_for_another_windows_build()
    {
        await using SimulatorHost sim = await StartAsync();
        lock (sim.World.Gate)
        {
            List<string> windowsImages = sim.World.Pods.Values.Where(p => p.NodeSelector.GetValueOrDefault("kubernetes.io/os") == "windows")
                .SelectMany(p => p.Containers).Select(c => c.Image).Distinct().ToList();
            Assert.Equal(4, windowsImages.Count); // web-iis, orders-api, payments (aspnet), fluent-bit
            Assert.All(windowsImages, i => Assert.True(ImageReference.TryParse(i, out ImageReference? r) && sim.World.ResolveImage(r) is not null, i));

            string newestHostBuild = sim.World.Nodes.Values.Where(n => n.OperatingSystem == "windows").Select(n => n.KernelVersion).Max(OsVersionComparer.Instance)!;
            PlatformImage webIis = Windows(sim.World, Ecr + "/shop/web-iis:2026.06.1", "10.0.20348");
            Assert.True(OsVersionComparer.Instance.Compare(webIis.OsVersion, newestHostBuild) < 0, $"{webIis.OsVersion} vs host {newestHostBuild}");
            Assert.Equal("10.0.20348.4893", webIis.OsVersion); // 2026-03, while the hosts run 2026-04 and 2026-09

            PlatformImage orders = Windows(sim.World, Ecr + "/shop/orders-api:3.4.0", "10.0.20348");
            Assert.StartsWith("10.0.17763.", orders.OsVersion, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Multi_os_index_resolves_to_the_node_build_or_linux()
    {
        await using SimulatorHost sim = await StartAsync();
        lock (sim.World.Gate)
        {
            Assert.True(ImageReference.TryParse("mcr.microsoft.com/oss/kubernetes/pause:3.9", out ImageReference? pause));
            ResolvedImage resolved = sim.World.ResolveImage(pause)!;
            Assert.Equal(OciMediaTypes.DockerManifestList, resolved.Index!.MediaType);
            Assert.StartsWith("10.0.20348.", SimWorld.SelectPlatform(resolved, "windows", "10.0.20348.5622")!.OsVersion, StringComparison.Ordinal);
            Assert.StartsWith("10.0.26100.", SimWorld.SelectPlatform(resolved, "windows", "10.0.26100.33438")!.OsVersion, StringComparison.Ordinal);
            Assert.Null(SimWorld.SelectPlatform(resolved, "linux", null)!.OsVersion);
        }
    }

    [Fact]
    public async Task Eks_optimized_windows_amis_cache_pause_nanoserver_and_servercore_of_their_patch_month()
    {
        await using SimulatorHost sim = await StartAsync();
        lock (sim.World.Gate)
        {
            AmiImage ami = sim.World.Images.Values.Single(i => i.Name == "Windows_Server-2022-English-Core-EKS_Optimized-1.31-2026.09.11");
            List<CachedContainerImage> cached = sim.World.AmiCachedImages[ami.ImageId];
            Assert.Equal(
                ["mcr.microsoft.com/windows/servercore:10.0.20348.5622", "mcr.microsoft.com/windows/nanoserver:10.0.20348.5622", "mcr.microsoft.com/oss/kubernetes/pause:3.9"],
                cached.Select(c => c.Reference));
            Assert.All(cached, c => Assert.True(sim.World.ManifestsByDigest.ContainsKey(c.ManifestDigest)));
            Assert.DoesNotContain(sim.World.Images.Values, i => i.OsFamily == "linux" && sim.World.AmiCachedImages.ContainsKey(i.ImageId));
        }
    }

    [Fact]
    public async Task Servercore_on_an_empty_node_takes_74_s_download_and_12_5_min_extraction_and_nothing_once_pulled()
    {
        await using SimulatorHost sim = await StartAsync();
        lock (sim.World.Gate)
        {
            // A node whose instance is unknown has an empty image store.
            KubeNode template = sim.World.Nodes.Values.First(n => n.OperatingSystem == "windows" && n.KernelVersion.StartsWith("10.0.20348.5622", StringComparison.Ordinal));
            KubeNode empty = CopyNode(template, "i-0empty0000000000");
            KubePod pod = Pod("servercore", "mcr.microsoft.com/windows/servercore:ltsc2022");

            TimeSpan first = PodStartModel.StartDelay(sim.World, empty, pod);
            Assert.Equal(TimeSpan.FromSeconds(74) + TimeSpan.FromMinutes(12.5) + PodStartModel.ContainerStart, first);

            // The layers are there (once the first pull is done): a second pod of the same image only waits for the first pull.
            TimeSpan second = PodStartModel.StartDelay(sim.World, empty, Pod("servercore-2", "mcr.microsoft.com/windows/servercore:ltsc2022"));
            Assert.Equal(first, second);
            sim.Clock.Advance(first);
            Assert.Equal(PodStartModel.ContainerStart, PodStartModel.StartDelay(sim.World, empty, Pod("servercore-3", "mcr.microsoft.com/windows/servercore:ltsc2022")));

            // A demo node from the 2026-09 EKS AMI has servercore cached: near zero.
            Assert.Equal(PodStartModel.ContainerStart, PodStartModel.StartDelay(sim.World, template, pod));
        }
    }

    [Fact]
    public async Task An_image_on_an_older_base_pulls_the_older_update_layer_but_not_the_shared_base_layer()
    {
        await using SimulatorHost sim = await StartAsync();
        lock (sim.World.Gate)
        {
            KubeNode node = sim.World.Nodes.Values.First(n => n.OperatingSystem == "windows" && n.KernelVersion.StartsWith("10.0.20348.5622", StringComparison.Ordinal));
            PlatformImage webIis = Windows(sim.World, Ecr + "/shop/web-iis:2026.06.1", "10.0.20348");
            OciLayer baseLayer = webIis.Layers[0];
            OciLayer olderUpdate = webIis.Layers[1];
            Assert.True(sim.World.LayerOnNode(node, baseLayer.Digest));
            Assert.False(sim.World.LayerOnNode(node, olderUpdate.Digest));

            TimeSpan delay = PodStartModel.StartDelay(sim.World, node, Pod("web", Ecr + "/shop/web-iis:2026.06.1"));
            long download = webIis.Layers.Skip(1).Sum(l => l.Size);
            long extract = webIis.Layers.Skip(1).Sum(l => l.UncompressedSize);
            Assert.Equal(TimeSpan.FromSeconds((download / PodStartModel.DownloadBytesPerSecond) + (extract / PodStartModel.ExtractBytesPerSecond)) + PodStartModel.ContainerStart, delay);
            Assert.Contains(webIis.Digest, sim.World.ImagesOnNode(node));
        }
    }

    [Fact]
    public async Task A_scenario_catalogue_with_an_unknown_base_is_rejected()
    {
        string path = Path.Combine(Path.GetTempPath(), $"images-bad-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, """
            { "amiCatalog": { "lastMonth": "2026-09" }, "clusters": [],
              "containerImages": { "include": ["container-images"], "images": [
                { "repository": "mcr.microsoft.com/x/y", "tags": ["1"], "platforms": [ { "base": "mcr.microsoft.com/windows/nope", "windowsServer": "2022" } ] } ] } }
            """);
        try
        {
            InvalidDataException e = await Assert.ThrowsAsync<InvalidDataException>(() => SimulatorHost.StartAsync(new SimulatorOptions { Scenario = path }));
            Assert.Contains("mcr.microsoft.com/windows/nope", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    internal static KubePod Pod(string name, string image)
    {
        var pod = new KubePod { ClusterName = "demo", Namespace = "default", Name = name, Uid = Ids.Uuid("test-pod/" + name) };
        pod.Containers.Add(new KubeContainer { Name = "c", Image = image });
        return pod;
    }

    internal static KubeNode CopyNode(KubeNode template, string instanceId) => new()
    {
        ClusterName = template.ClusterName,
        Name = "test-" + instanceId,
        Uid = Ids.Uuid("test-node/" + instanceId),
        ProviderId = "aws:///us-west-2a/" + instanceId,
        InstanceId = instanceId,
        InternalIp = "10.0.99.99",
        KernelVersion = template.KernelVersion,
        OsImage = template.OsImage,
        OperatingSystem = template.OperatingSystem,
        KubeletVersion = template.KubeletVersion,
        ContainerRuntimeVersion = template.ContainerRuntimeVersion,
    };
}
