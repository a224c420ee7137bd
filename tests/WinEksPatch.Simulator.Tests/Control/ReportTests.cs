using System.Net.Http.Json;
using System.Text.Json;
using k8s;
using k8s.Models;
using WinEksPatch.Simulator.Hosting;
using WinEksPatch.Simulator.Tests.Infrastructure;

namespace WinEksPatch.Simulator.Tests.Control;

/// <summary>GET /_sim/report: requests by operation and by verb (watches apart), the node and pod timeline, the
/// invariants (lowest Ready schedulable nodes per group, PDB violations, pods deleted rather than evicted), reset.</summary>
public sealed class ReportTests : IAsyncLifetime
{
    private SimulatorHost _sim = null!;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync() => _sim = await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "demo", TimeScale = 300 });

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _sim.DisposeAsync();
    }

    private async Task<JsonElement> Report() => JsonDocument.Parse(await _http.GetStringAsync(_sim.Info.AdminEndpoint + "/report")).RootElement.Clone();

    private k8s.Kubernetes Client() => new(KubernetesClientConfiguration.BuildConfigFromConfigFile(_sim.Info.KubeConfigPath, currentContext: "demo"));

    private static JsonElement Lowest(JsonElement report, string group) =>
        report.GetProperty("lowestReadyNodes").EnumerateArray().Single(g => g.GetProperty("cluster").GetString() == "demo" && g.GetProperty("nodeGroup").GetString() == group);

    private static List<JsonElement> Events(JsonElement report, string kind) =>
        report.GetProperty("events").EnumerateArray().Where(e => e.GetProperty("kind").GetString() == kind).ToList();

    [Fact]
    public async Task Starts_with_every_group_at_its_size_and_no_events()
    {
        JsonElement report = await Report();
        Assert.Equal(3, Lowest(report, "win-managed").GetProperty("lowest").GetInt32());
        Assert.Equal(4, Lowest(report, "demo-win-selfmanaged").GetProperty("lowest").GetInt32());
        Assert.Equal(2, Lowest(report, "linux-system").GetProperty("current").GetInt32());
        Assert.Empty(report.GetProperty("events").EnumerateArray());
        Assert.Empty(report.GetProperty("pdbViolations").EnumerateArray());
        Assert.Empty(report.GetProperty("podsDeletedNotEvicted").EnumerateArray());
    }

    [Fact]
    public async Task Counts_AWS_calls_and_Kubernetes_requests_with_watches_apart_from_lists()
    {
        await SignedHttp.QueryAsync(_sim.Info.Endpoint, "autoscaling", "2011-01-01", "DescribeAutoScalingGroups");
        await SignedHttp.QueryAsync(_sim.Info.Endpoint, "autoscaling", "2011-01-01", "DescribeAutoScalingGroups");
        await SignedHttp.SendAsync(_sim.Info.Endpoint, "eks", "GET", "/clusters/nope");
        using k8s.Kubernetes client = Client();
        await client.CoreV1.ListNodeAsync();
        await client.CoreV1.ListNamespacedPodAsync("shop");
        using (HttpClient raw = new KubeSimHttp(_sim).Create())
        {
            // A watch that ends after 1 simulated second.
            string body = await raw.GetStringAsync(_sim.Info.KubernetesEndpoint + "/clusters/demo/api/v1/nodes?watch=true&timeoutSeconds=1");
            Assert.Contains("ADDED", body, StringComparison.Ordinal);
        }

        JsonElement report = await Report();
        JsonElement asg = report.GetProperty("apiCalls").EnumerateArray().Single(c => c.GetProperty("operation").GetString() == "DescribeAutoScalingGroups");
        Assert.Equal(2, asg.GetProperty("count").GetInt32());
        Assert.Equal(0, asg.GetProperty("errors").GetInt32());
        JsonElement describe = report.GetProperty("apiCalls").EnumerateArray().Single(c => c.GetProperty("operation").GetString() == "DescribeCluster");
        Assert.Equal("eks", describe.GetProperty("service").GetString());
        Assert.Equal(1, describe.GetProperty("errors").GetInt32());
        Assert.Equal(0, describe.GetProperty("throttled").GetInt32());

        var requests = report.GetProperty("kubernetesRequests").EnumerateArray()
            .ToDictionary(r => r.GetProperty("verb").GetString() + " " + r.GetProperty("resource").GetString(), r => r.GetProperty("count").GetInt32());
        Assert.Equal(1, requests["list nodes"]);
        Assert.Equal(1, requests["watch nodes"]);
        Assert.Equal(1, requests["list pods"]);

        JsonElement reset = JsonDocument.Parse(await (await _http.PostAsync(_sim.Info.AdminEndpoint + "/report/reset", null)).Content.ReadAsStringAsync()).RootElement;
        Assert.Empty(reset.GetProperty("apiCalls").EnumerateArray());
        Assert.Empty(reset.GetProperty("kubernetesRequests").EnumerateArray());
    }

    [Fact]
    public async Task Records_cordons_as_events_and_the_lowest_Ready_schedulable_count_with_its_time()
    {
        using k8s.Kubernetes client = Client();
        string node = (await client.CoreV1.ListNodeAsync(labelSelector: "eks.amazonaws.com/nodegroup=win-managed")).Items[0].Metadata.Name;
        DateTimeOffset before = _sim.Clock.GetUtcNow();
        await client.CoreV1.PatchNodeAsync(new V1Patch("{\"spec\":{\"unschedulable\":true}}", V1Patch.PatchType.MergePatch), node);
        await client.CoreV1.PatchNodeAsync(new V1Patch("{\"spec\":{\"unschedulable\":false}}", V1Patch.PatchType.MergePatch), node);

        JsonElement report = await Report();
        JsonElement lowest = Lowest(report, "win-managed");
        Assert.Equal(2, lowest.GetProperty("lowest").GetInt32());
        Assert.Equal(3, lowest.GetProperty("current").GetInt32());
        Assert.True(DateTimeOffset.Parse(lowest.GetProperty("at").GetString()!, System.Globalization.CultureInfo.InvariantCulture) >= before.AddMilliseconds(-1));
        JsonElement cordoned = Events(report, "NodeCordoned").Single();
        Assert.Equal(node, cordoned.GetProperty("node").GetString());
        Assert.Equal("win-managed", cordoned.GetProperty("nodeGroup").GetString());
        Assert.Equal(node, Events(report, "NodeUncordoned").Single().GetProperty("node").GetString());

        // Reset: the low-water mark starts again at the current count.
        await _http.PostAsync(_sim.Info.AdminEndpoint + "/report/reset", null);
        Assert.Equal(3, Lowest(await Report(), "win-managed").GetProperty("lowest").GetInt32());
    }

    [Fact]
    public async Task A_direct_delete_is_a_pod_deleted_rather_than_evicted_and_a_PDB_violation_an_eviction_is_neither()
    {
        using k8s.Kubernetes client = Client();
        V1Pod payments = (await client.CoreV1.ListNamespacedPodAsync("shop", labelSelector: "app=payments")).Items.Single();
        V1Pod web = (await client.CoreV1.ListNamespacedPodAsync("shop", labelSelector: "app=web-iis")).Items[0];
        await client.CoreV1.DeleteNamespacedPodAsync(payments.Metadata.Name, "shop", gracePeriodSeconds: 0);
        await client.CoreV1.CreateNamespacedPodEvictionAsync(new V1Eviction { Metadata = new V1ObjectMeta { Name = web.Metadata.Name, NamespaceProperty = "shop" } }, web.Metadata.Name, "shop");

        // Let the replacements start (time scale 300: a few simulated minutes).
        for (int i = 0; i < 100 && Events(await Report(), "PodStarted").Count < 2; i++)
        {
            _sim.Clock.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(20);
        }

        JsonElement report = await Report();
        JsonElement deleted = report.GetProperty("podsDeletedNotEvicted").EnumerateArray().Single();
        Assert.Equal(payments.Metadata.Name, deleted.GetProperty("pod").GetString());
        JsonElement violation = report.GetProperty("pdbViolations").EnumerateArray().Single();
        Assert.Equal("payments", violation.GetProperty("pdb").GetString());
        Assert.Equal("Delete", violation.GetProperty("cause").GetString());
        Assert.Equal(web.Metadata.Name, Events(report, "PodEvicted").Single().GetProperty("pod").GetString());
        Assert.Equal(payments.Metadata.Name, Events(report, "PodDeleted").Single().GetProperty("pod").GetString());
        List<JsonElement> started = Events(report, "PodStarted");
        Assert.Contains(started, e => e.GetProperty("pod").GetString()!.StartsWith("payments-", StringComparison.Ordinal));
        Assert.Contains(started, e => e.GetProperty("pod").GetString()!.StartsWith("web-iis-", StringComparison.Ordinal));
        // The timeline is in simulated time order.
        List<DateTimeOffset> times = report.GetProperty("events").EnumerateArray().Select(e => DateTimeOffset.Parse(e.GetProperty("at").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(times.Order(), times);
    }

    [Fact]
    public async Task Terminating_an_instance_shows_the_node_leave_and_its_replacement_arrive()
    {
        string instance;
        lock (_sim.World.Gate)
        {
            instance = _sim.World.AutoScalingGroups["demo-win-selfmanaged"].InstanceIds[0];
        }

        SignedHttp.Response r = await SignedHttp.QueryAsync(_sim.Info.Endpoint, "autoscaling", "2011-01-01", "TerminateInstanceInAutoScalingGroup",
            new Dictionary<string, string> { ["InstanceId"] = instance, ["ShouldDecrementDesiredCapacity"] = "false" });
        Assert.Equal(200, r.Status);
        // Until the replacement is usable (a Windows node: Ready and its pod IPs advertised), which is when it counts.
        for (int i = 0; i < 40 && Events(await Report(), "NodeUsable").Count == 0; i++)
        {
            _sim.Clock.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(10);
        }

        JsonElement report = await Report();
        Assert.Equal(instance, Events(report, "NodeRemoved").Single().GetProperty("detail").GetString());
        Assert.Single(Events(report, "NodeAdded"));
        Assert.Equal("demo-win-selfmanaged", Events(report, "NodeReady").Single().GetProperty("nodeGroup").GetString());
        Assert.Equal(Events(report, "NodeReady").Single().GetProperty("node").GetString(), Events(report, "NodeUsable").Single().GetProperty("node").GetString());
        JsonElement lowest = Lowest(report, "demo-win-selfmanaged");
        Assert.Equal(3, lowest.GetProperty("lowest").GetInt32());
        Assert.Equal(4, lowest.GetProperty("current").GetInt32());
    }

    /// <summary>An HttpClient for the Kubernetes port with the kubeconfig's static token.</summary>
    private sealed class KubeSimHttp(SimulatorHost sim)
    {
        public HttpClient Create()
        {
            var ca = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(sim.CaPem);
            var handler = new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
                {
                    using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
                    chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                    return cert is not null && chain.Build(cert);
                },
            };
            var client = new HttpClient(handler);
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "wineks-simulator-static-token-0000000000000000");
            return client;
        }
    }
}
