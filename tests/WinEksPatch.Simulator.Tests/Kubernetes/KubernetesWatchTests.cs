using System.Text.Json;
using k8s;
using k8s.Models;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Tests.Kubernetes;

/// <summary>Watches as KubernetesClient consumes them: initial ADDED events, changes, selectors, versions, timeouts.</summary>
public sealed class KubernetesWatchTests
{
    [Fact]
    public async Task KubernetesClient_watches_nodes_through_a_cordon_and_a_removal()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        using k8s.Kubernetes client = sim.Client();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var events = new List<(WatchEventType Type, V1Node Node)>();
        string target = sim.Read(w => w.Nodes.Values.Where(n => n.ClusterName == "demo" && n.OperatingSystem == "windows").Min(n => n.Name)!);

        var watching = Task.Run(async () =>
        {
            await foreach ((WatchEventType type, V1Node node) in client.CoreV1.WatchListNodeAsync(cancellationToken: cts.Token))
            {
                lock (events)
                {
                    events.Add((type, node));
                }

                if (type == WatchEventType.Deleted)
                {
                    return;
                }
            }
        });

        await Until(() => events.Count >= 9);
        var cordon = new V1Patch("{\"spec\":{\"unschedulable\":true}}", V1Patch.PatchType.MergePatch);
        V1Node patched = await client.CoreV1.PatchNodeAsync(cordon, target);
        Assert.True(patched.Spec.Unschedulable);

        // The fleet area removes the node when its instance terminates.
        lock (sim.World.Gate)
        {
            sim.World.NodeRemoved(sim.World.Nodes[("demo", target)]);
        }

        await watching.WaitAsync(cts.Token);
        lock (events)
        {
            Assert.Equal(9, events.Count(e => e.Type == WatchEventType.Added));
            (WatchEventType _, V1Node modified) = Assert.Single(events, e => e.Type == WatchEventType.Modified);
            Assert.Equal(target, modified.Metadata.Name);
            Assert.True(modified.Spec.Unschedulable);
            Assert.Contains(modified.Spec.Taints, t => t.Key == "node.kubernetes.io/unschedulable" && t.Effect == "NoSchedule");
            (WatchEventType _, V1Node deleted) = events[^1];
            Assert.Equal(target, deleted.Metadata.Name);
            Assert.True(long.Parse(deleted.Metadata.ResourceVersion) > long.Parse(modified.Metadata.ResourceVersion));
        }

        async Task Until(Func<bool> condition)
        {
            while (true)
            {
                lock (events)
                {
                    if (condition())
                    {
                        return;
                    }
                }

                await Task.Delay(10, cts.Token);
            }
        }
    }

    [Fact]
    public async Task A_pod_watch_from_a_list_version_with_a_field_selector_sees_only_its_node()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        using k8s.Kubernetes client = sim.Client();
        KubePod victim = sim.Pod("web-iis");
        V1PodList list = await client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: $"spec.nodeName={victim.NodeName}");

        using HttpClient http = sim.Http();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using HttpResponseMessage response = await http.GetAsync(
            $"{sim.Host.Info.ClusterEndpoint("demo")}/api/v1/namespaces/shop/pods?watch=1&resourceVersion={list.Metadata.ResourceVersion}&fieldSelector=spec.nodeName%3D{victim.NodeName}",
            HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));

        await client.CoreV1.DeleteNamespacedPodAsync(victim.Name, "shop", cancellationToken: cts.Token);

        // No initial events (a version was given): first the pod turns Terminating, then it is gone after its grace
        // period; its replacement lands on another node and is not part of this watch.
        using JsonDocument first = JsonDocument.Parse((await reader.ReadLineAsync(cts.Token))!);
        Assert.Equal("MODIFIED", first.RootElement.GetProperty("type").GetString());
        Assert.Equal(victim.Name, first.RootElement.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString());
        Assert.True(first.RootElement.GetProperty("object").GetProperty("metadata").TryGetProperty("deletionTimestamp", out _));
        using JsonDocument second = JsonDocument.Parse((await reader.ReadLineAsync(cts.Token))!);
        Assert.Equal("DELETED", second.RootElement.GetProperty("type").GetString());
        Assert.Equal(victim.Name, second.RootElement.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString());
        await sim.UntilAsync(w => w.Pods.Values.Count(p => p.Labels.GetValueOrDefault("app") == "web-iis" && p.Ready) == 6, "the replacement runs");
        Assert.NotEqual(victim.NodeName, sim.Read(w => w.Pods.Values.Single(p => p.Labels.GetValueOrDefault("app") == "web-iis" && p.CreationTimestamp > victim.CreationTimestamp.AddDays(1)).NodeName));
    }

    [Fact]
    public async Task A_label_selector_watch_hears_an_object_enter_and_leave_it()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        using k8s.Kubernetes client = sim.Client();
        string node = sim.Read(w => w.Nodes.Values.First(n => n.ClusterName == "demo" && n.OperatingSystem == "windows").Name);
        string rv = (await client.CoreV1.ListNodeAsync()).Metadata.ResourceVersion;
        using HttpClient http = sim.Http();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using HttpResponseMessage response = await http.GetAsync(
            $"{sim.Host.Info.ClusterEndpoint("demo")}/api/v1/nodes?watch=true&resourceVersion={rv}&labelSelector=rollout%3Dnext",
            HttpCompletionOption.ResponseHeadersRead, cts.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));

        await client.CoreV1.PatchNodeAsync(new V1Patch("{\"metadata\":{\"labels\":{\"rollout\":\"next\"}}}", V1Patch.PatchType.StrategicMergePatch), node, cancellationToken: cts.Token);
        await client.CoreV1.PatchNodeAsync(new V1Patch("{\"metadata\":{\"annotations\":{\"note\":\"x\"}}}", V1Patch.PatchType.MergePatch), node, cancellationToken: cts.Token);
        await client.CoreV1.PatchNodeAsync(new V1Patch("[{\"op\":\"remove\",\"path\":\"/metadata/labels/rollout\"}]", V1Patch.PatchType.JsonPatch), node, cancellationToken: cts.Token);

        string[] types = new string[3];
        for (int i = 0; i < 3; i++)
        {
            using JsonDocument e = JsonDocument.Parse((await reader.ReadLineAsync(cts.Token))!);
            types[i] = e.RootElement.GetProperty("type").GetString()!;
        }

        Assert.Equal(["ADDED", "MODIFIED", "DELETED"], types);
    }

    [Fact]
    public async Task A_too_old_resourceVersion_gets_an_ERROR_event_with_a_410_Expired_Status()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        using HttpClient http = sim.Http();
        string body = await http.GetStringAsync($"{sim.Host.Info.ClusterEndpoint("demo")}/api/v1/pods?watch=true&resourceVersion=5");
        using JsonDocument e = JsonDocument.Parse(body.Trim());
        Assert.Equal("ERROR", e.RootElement.GetProperty("type").GetString());
        JsonElement status = e.RootElement.GetProperty("object");
        Assert.Equal("Status", status.GetProperty("kind").GetString());
        Assert.Equal("Failure", status.GetProperty("status").GetString());
        Assert.Equal("Expired", status.GetProperty("reason").GetString());
        Assert.Equal(410, status.GetProperty("code").GetInt32());
        Assert.StartsWith("too old resource version: 5 (", status.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TimeoutSeconds_ends_the_watch_on_the_simulated_clock()
    {
        await using KubeSim sim = await KubeSim.StartAsync(timeScale: 600);
        using HttpClient http = sim.Http();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        // 120 simulated seconds are 0.2 s of wall time at this scale: the stream ends with the initial events only.
        string body = await http.GetStringAsync($"{sim.Host.Info.ClusterEndpoint("demo")}/api/v1/nodes?watch=true&timeoutSeconds=120&labelSelector=kubernetes.io/os%3Dlinux", cts.Token);
        string[] lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.StartsWith("{\"type\":\"ADDED\"", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_watch_that_asks_for_Tables_gets_one_row_Tables_as_kubectl_get_w_does()
    {
        await using KubeSim sim = await KubeSim.StartAsync(timeScale: 600);
        using HttpClient http = sim.Http();
        http.DefaultRequestHeaders.Accept.ParseAdd("application/json;as=Table;v=v1;g=meta.k8s.io");
        string body = await http.GetStringAsync($"{sim.Host.Info.ClusterEndpoint("demo")}/api/v1/namespaces/shop/pods?watch=true&timeoutSeconds=60&labelSelector=app%3Dweb-iis");
        string[] lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            using JsonDocument e = JsonDocument.Parse(lines[i]);
            JsonElement table = e.RootElement.GetProperty("object");
            Assert.Equal("Table", table.GetProperty("kind").GetString());
            Assert.Equal(i == 0 ? 9 : 0, table.GetProperty("columnDefinitions").GetArrayLength());
            JsonElement cells = Assert.Single(table.GetProperty("rows").EnumerateArray()).GetProperty("cells");
            Assert.StartsWith("web-iis-", cells[0].GetString(), StringComparison.Ordinal);
            Assert.Equal("Running", cells[2].GetString());
        }
    }

    [Fact]
    public async Task A_bad_field_selector_on_a_watch_is_a_400()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        using HttpClient http = sim.Http();
        HttpResponseMessage response = await http.GetAsync($"{sim.Host.Info.ClusterEndpoint("demo")}/api/v1/nodes?watch=true&fieldSelector=spec.nope%3D1");
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("field label not supported: spec.nope", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
