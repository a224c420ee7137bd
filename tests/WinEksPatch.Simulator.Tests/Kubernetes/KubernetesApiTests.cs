using System.Diagnostics;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using WinEksPatch.Simulator.Tests.Infrastructure;

namespace WinEksPatch.Simulator.Tests.Kubernetes;

[Collection(SimulatorCollection.Name)]
public sealed class KubernetesApiTests(SimulatorFixture sim)
{
    [Fact]
    public async Task KubernetesClient_lists_the_demo_nodes_through_the_kubeconfig()
    {
        using k8s.Kubernetes client = sim.KubernetesFromKubeConfig("demo");
        V1NodeList nodes = await client.CoreV1.ListNodeAsync();
        Assert.Equal(9, nodes.Items.Count);

        V1NodeList windows = await client.CoreV1.ListNodeAsync(labelSelector: "kubernetes.io/os=windows");
        Assert.Equal(7, windows.Items.Count);
        Assert.All(windows.Items, n =>
        {
            Assert.Equal("10.0.20348", n.Metadata.Labels["node.kubernetes.io/windows-build"]);
            Assert.StartsWith("10.0.20348.", n.Status.NodeInfo.KernelVersion, StringComparison.Ordinal);
            Assert.Matches("^aws:///us-west-2[abc]/i-0[0-9a-f]{16}$", n.Spec.ProviderID);
            Assert.Contains(n.Status.Conditions, c => c.Type == "Ready" && c.Status == "True");
        });

        V1NodeList managed = await client.CoreV1.ListNodeAsync(labelSelector: "eks.amazonaws.com/nodegroup=win-managed");
        Assert.Equal(3, managed.Items.Count);
        Assert.All(managed.Items, n => Assert.Equal("10.0.20348.5622", n.Status.NodeInfo.KernelVersion));

        V1NodeList selfManaged = await client.CoreV1.ListNodeAsync(labelSelector: "kubernetes.io/os=windows,!eks.amazonaws.com/nodegroup");
        Assert.Equal(4, selfManaged.Items.Count);
        Assert.All(selfManaged.Items, n => Assert.Equal("10.0.20348.5020", n.Status.NodeInfo.KernelVersion));
    }

    [Fact]
    public async Task Nodes_page_with_limit_and_continue()
    {
        using k8s.Kubernetes client = sim.KubernetesFromKubeConfig("demo");
        var names = new List<string>();
        string? next = null;
        do
        {
            V1NodeList page = await client.CoreV1.ListNodeAsync(limit: 4, continueParameter: next);
            Assert.True(page.Items.Count <= 4);
            names.AddRange(page.Items.Select(n => n.Metadata.Name));
            next = page.Metadata.ContinueProperty;
        }
        while (!string.IsNullOrEmpty(next));

        Assert.Equal(9, names.Distinct().Count());
    }

    [Fact]
    public async Task Pods_filter_by_node_namespace_and_labels()
    {
        using k8s.Kubernetes client = sim.KubernetesFromKubeConfig("demo");
        V1PodList all = await client.CoreV1.ListPodForAllNamespacesAsync();
        Assert.Equal(24, all.Items.Count); // 2 coredns + 2 aws-node + 2 kube-proxy + 7 fluent-bit + 6 web-iis + 4 orders-api + 1 payments

        string node = all.Items.First(p => p.Metadata.Labels["app"] == "web-iis").Spec.NodeName;
        V1PodList onNode = await client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: $"spec.nodeName={node}");
        Assert.NotEmpty(onNode.Items);
        Assert.All(onNode.Items, p => Assert.Equal(node, p.Spec.NodeName));

        V1PodList shop = await client.CoreV1.ListNamespacedPodAsync("shop", labelSelector: "app in (web-iis)");
        Assert.Equal(6, shop.Items.Count);
        Assert.All(shop.Items, p => Assert.Equal("ReplicaSet", p.Metadata.OwnerReferences.Single().Kind));

        V1Pod one = await client.CoreV1.ReadNamespacedPodAsync(shop.Items[0].Metadata.Name, "shop");
        Assert.Equal("Running", one.Status.Phase);
    }

    [Fact]
    public async Task Unknown_objects_and_fields_get_Kubernetes_Status_errors()
    {
        using k8s.Kubernetes client = sim.KubernetesFromKubeConfig("demo");
        HttpOperationException notFound = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ReadNodeAsync("ip-1-2-3-4.nowhere"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, notFound.Response.StatusCode);
        Assert.Contains("\"reason\":\"NotFound\"", notFound.Response.Content, StringComparison.Ordinal);

        HttpOperationException badField = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "spec.nope=x"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, badField.Response.StatusCode);
    }

    [Fact]
    public async Task An_EKS_token_opens_the_cluster_at_the_DescribeCluster_endpoint()
    {
        string token = SignedHttp.EksToken("demo", sim.Info.Endpoint, sim.Host.Clock.GetUtcNow().UtcDateTime);
        var config = new KubernetesClientConfiguration
        {
            Host = sim.Info.ClusterEndpoint("demo"),
            AccessToken = token,
            SslCaCerts = [System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(sim.Host.CaPem)],
        };
        using var client = new k8s.Kubernetes(config);
        V1NodeList nodes = await client.CoreV1.ListNodeAsync();
        Assert.Equal(9, nodes.Items.Count);

        // Signed for another cluster: refused.
        using HttpClient http = sim.KubernetesHttpClient(SignedHttp.EksToken("staging", sim.Info.Endpoint, sim.Host.Clock.GetUtcNow().UtcDateTime));
        HttpResponseMessage refused = await http.GetAsync(sim.Info.ClusterEndpoint("demo") + "/api/v1/nodes");
        Assert.Equal(401, (int)refused.StatusCode);
    }

    [Fact]
    public async Task An_EKS_token_older_than_15_simulated_minutes_gets_401()
    {
        // Signed 16 simulated minutes ago (as if the clock had advanced past its life).
        string token = SignedHttp.EksToken("demo", sim.Info.Endpoint, sim.Host.Clock.GetUtcNow().UtcDateTime.AddMinutes(-16));
        using HttpClient http = sim.KubernetesHttpClient(token);
        HttpResponseMessage response = await http.GetAsync(sim.Info.ClusterEndpoint("demo") + "/api/v1/nodes");
        Assert.Equal(401, (int)response.StatusCode);
        using JsonDocument status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Status", status.RootElement.GetProperty("kind").GetString());
        Assert.Equal("v1", status.RootElement.GetProperty("apiVersion").GetString());
        Assert.Equal("Failure", status.RootElement.GetProperty("status").GetString());
        Assert.Equal("Unauthorized", status.RootElement.GetProperty("message").GetString());
        Assert.Equal("Unauthorized", status.RootElement.GetProperty("reason").GetString());
        Assert.Equal(401, status.RootElement.GetProperty("code").GetInt32());

        string fresh = SignedHttp.EksToken("demo", sim.Info.Endpoint, sim.Host.Clock.GetUtcNow().UtcDateTime.AddMinutes(-14));
        using HttpClient ok = sim.KubernetesHttpClient(fresh);
        Assert.Equal(200, (int)(await ok.GetAsync(sim.Info.ClusterEndpoint("demo") + "/api/v1/nodes")).StatusCode);
    }

    [Fact]
    public async Task Requests_without_a_token_get_401()
    {
        using HttpClient http = sim.KubernetesHttpClient();
        HttpResponseMessage response = await http.GetAsync(sim.Info.ClusterEndpoint("demo") + "/api/v1/nodes");
        Assert.Equal(401, (int)response.StatusCode);
    }

    [Fact]
    public async Task Tables_are_served_for_nodes_and_pods()
    {
        using HttpClient http = sim.KubernetesHttpClient("wineks-simulator-static-token-0000000000000000");
        http.DefaultRequestHeaders.Accept.ParseAdd("application/json;as=Table;v=v1;g=meta.k8s.io");
        using JsonDocument nodes = JsonDocument.Parse(await http.GetStringAsync(sim.Info.ClusterEndpoint("demo") + "/api/v1/nodes"));
        Assert.Equal("Table", nodes.RootElement.GetProperty("kind").GetString());
        Assert.Equal("Name", nodes.RootElement.GetProperty("columnDefinitions")[0].GetProperty("name").GetString());
        Assert.Equal(9, nodes.RootElement.GetProperty("rows").GetArrayLength());
        Assert.Equal("Ready", nodes.RootElement.GetProperty("rows")[0].GetProperty("cells")[1].GetString());

        using JsonDocument pods = JsonDocument.Parse(await http.GetStringAsync(sim.Info.ClusterEndpoint("demo") + "/api/v1/namespaces/shop/pods"));
        Assert.Equal(11, pods.RootElement.GetProperty("rows").GetArrayLength());
        Assert.Equal("PartialObjectMetadata", pods.RootElement.GetProperty("rows")[0].GetProperty("object").GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Kubectl_gets_nodes_and_pods_through_the_kubeconfig()
    {
        string? kubectl = new[] { "/usr/bin/kubectl", "/usr/local/bin/kubectl" }.FirstOrDefault(File.Exists);
        if (kubectl is null)
        {
            return; // kubectl is on the machine image; nothing to check elsewhere.
        }

        (int code, string output, string error) = await RunAsync(kubectl, "--kubeconfig", sim.Info.KubeConfigPath, "--context", "demo", "get", "nodes", "-o", "wide");
        Assert.True(code == 0, error);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("NAME", lines[0], StringComparison.Ordinal);
        Assert.Equal(9, lines.Length - 1);
        Assert.Contains(lines, l => l.Contains("Ready", StringComparison.Ordinal) && l.Contains("10.0.20348.5020", StringComparison.Ordinal));

        (code, output, error) = await RunAsync(kubectl, "--kubeconfig", sim.Info.KubeConfigPath, "--context", "demo", "get", "pods", "-A");
        Assert.True(code == 0, error);
        Assert.Equal(24, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1);

        (code, output, error) = await RunAsync(kubectl, "--kubeconfig", sim.Info.KubeConfigPath, "--context", "staging", "get", "nodes", "-l", "kubernetes.io/os=linux", "-o", "name");
        Assert.True(code == 0, error);
        Assert.Equal(2, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        // kubectl must not pick up a user's cache or config.
        start.Environment["HOME"] = Path.Combine(Path.GetTempPath(), "wineks-kubectl-home");
        start.Environment.Remove("KUBECONFIG");
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}
