using System.Net;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Tests.Kubernetes;

/// <summary>Node PATCH, pod DELETE and the PDB-gated eviction subresource, through KubernetesClient and raw HTTP.</summary>
public sealed class KubernetesDisruptionTests
{
    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Cordon_and_uncordon_with_each_patch_type_go_through_NodeChanged()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        using k8s.Kubernetes client = sim.Client();
        string name = sim.Read(w => w.Nodes.Values.First(n => n.ClusterName == "demo" && n.OperatingSystem == "windows").Name);

        V1Node cordoned = await client.CoreV1.PatchNodeAsync(new V1Patch("{\"spec\":{\"unschedulable\":true}}", V1Patch.PatchType.StrategicMergePatch), name);
        Assert.True(cordoned.Spec.Unschedulable);
        Assert.True(sim.Read(w => w.Nodes[("demo", name)].Unschedulable));
        V1Node read = await client.CoreV1.ReadNodeAsync(name);
        Assert.Contains(read.Spec.Taints, t => t.Key == "node.kubernetes.io/unschedulable");

        V1Node tainted = await client.CoreV1.PatchNodeAsync(new V1Patch(
            "[{\"op\":\"add\",\"path\":\"/spec/taints/-\",\"value\":{\"key\":\"wineks/replacing\",\"value\":\"true\",\"effect\":\"NoSchedule\"}},"
            + "{\"op\":\"add\",\"path\":\"/metadata/annotations/wineks~1state\",\"value\":\"draining\"}]", V1Patch.PatchType.JsonPatch), name);
        Assert.Contains(tainted.Spec.Taints, t => t.Key == "wineks/replacing" && t.Value == "true");
        Assert.Equal("draining", tainted.Metadata.Annotations["wineks/state"]);

        V1Node uncordoned = await client.CoreV1.PatchNodeAsync(new V1Patch("{\"spec\":{\"unschedulable\":null}}", V1Patch.PatchType.MergePatch), name);
        Assert.Null(uncordoned.Spec.Unschedulable);
        Assert.DoesNotContain(uncordoned.Spec.Taints, t => t.Key == "node.kubernetes.io/unschedulable");
        Assert.Contains(uncordoned.Spec.Taints, t => t.Key == "wineks/replacing");
    }

    [Fact]
    public async Task Bad_node_patches_get_the_API_servers_errors()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        using k8s.Kubernetes client = sim.Client();
        string name = sim.Read(w => w.Nodes.Values.First(n => n.ClusterName == "demo").Name);

        HttpOperationException invalid = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.PatchNodeAsync(
            new V1Patch("{\"spec\":{\"taints\":[{\"key\":\"a\",\"effect\":\"Sometimes\"}]}}", V1Patch.PatchType.MergePatch), name));
        Assert.Equal((HttpStatusCode)422, invalid.Response.StatusCode);
        Assert.Contains("Unsupported value: \\\"Sometimes\\\"", invalid.Response.Content, StringComparison.Ordinal);

        HttpOperationException conflict = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.PatchNodeAsync(
            new V1Patch("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"unschedulable\":true}}", V1Patch.PatchType.MergePatch), name));
        Assert.Equal(HttpStatusCode.Conflict, conflict.Response.StatusCode);
        Assert.Contains("\"reason\":\"Conflict\"", conflict.Response.Content, StringComparison.Ordinal);

        HttpOperationException missing = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.PatchNodeAsync(
            new V1Patch("{}", V1Patch.PatchType.MergePatch), "ip-1-1-1-1.nowhere"));
        Assert.Equal(HttpStatusCode.NotFound, missing.Response.StatusCode);

        using HttpClient http = sim.Http();
        HttpResponseMessage unsupported = await http.PatchAsync($"{sim.Host.Info.ClusterEndpoint("demo")}/api/v1/nodes/{name}", Json("{}"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, unsupported.StatusCode);
        HttpResponseMessage malformed = await http.PatchAsync($"{sim.Host.Info.ClusterEndpoint("demo")}/api/v1/nodes/{name}",
            new StringContent("{not json", Encoding.UTF8, "application/merge-patch+json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.False(sim.Read(w => w.Nodes[("demo", name)].Unschedulable));
    }

    [Fact]
    public async Task A_deleted_pod_terminates_for_its_grace_period_and_its_ReplicaSet_replaces_it()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        using k8s.Kubernetes client = sim.Client();
        KubePod victim = sim.Pod("orders-api");
        DateTimeOffset before = sim.Host.Clock.GetUtcNow();

        V1Pod terminating = await client.CoreV1.DeleteNamespacedPodAsync(victim.Name, "shop");
        Assert.NotNull(terminating.Metadata.DeletionTimestamp);
        Assert.Equal(30, terminating.Metadata.DeletionGracePeriodSeconds);
        // Terminating pods do not count: the ReplicaSet has already created a replacement.
        Assert.Equal(5, sim.Read(w => w.Pods.Values.Count(p => p.Labels.GetValueOrDefault("app") == "orders-api")));

        await sim.UntilAsync(w => !w.Pods.ContainsKey(("demo", "shop", victim.Name)), "the pod is gone");
        Assert.True(sim.Host.Clock.GetUtcNow() - before >= TimeSpan.FromSeconds(30));
        await sim.UntilAsync(w => w.Pods.Values.Count(p => p.Labels.GetValueOrDefault("app") == "orders-api" && p.Ready) == 4, "four orders-api pods are Ready");
        KubePod replacement = sim.Read(w => w.Pods.Values.Single(p => p.Labels.GetValueOrDefault("app") == "orders-api" && p.CreationTimestamp >= before));
        Assert.NotEqual(victim.Uid, replacement.Uid);
        Assert.StartsWith(victim.OwnerName + "-", replacement.Name, StringComparison.Ordinal);
        Assert.Equal("Running", replacement.Phase);

        KubernetesDisruptionReport report = sim.World.DisruptionReport();
        PodDeletionRecord deletion = Assert.Single(report.PodDeletions);
        Assert.Equal(PodDeletionCause.Delete, deletion.Cause);
        Assert.Equal(victim.Name, Assert.Single(report.DeletedRatherThanEvicted).Name);

        Corev1EventList events = await client.CoreV1.ListNamespacedEventAsync("shop");
        Assert.Contains(events.Items, e => e.Reason == "Killing" && e.InvolvedObject.Name == victim.Name);
        Assert.Contains(events.Items, e => e.Reason == "SuccessfulCreate" && e.Message == $"Created pod: {replacement.Name}");
        Assert.Contains(events.Items, e => e.Reason == "Scheduled" && e.InvolvedObject.Name == replacement.Name && e.Source.Component == "default-scheduler");
    }

    [Fact]
    public async Task GracePeriodSeconds_0_deletes_at_once_and_a_gone_pod_is_404()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        using k8s.Kubernetes client = sim.Client();
        KubePod victim = sim.Pod("web-iis");
        await client.CoreV1.DeleteNamespacedPodAsync(victim.Name, "shop", gracePeriodSeconds: 0);
        Assert.False(sim.Read(w => w.Pods.ContainsKey(("demo", "shop", victim.Name))));

        HttpOperationException gone = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.DeleteNamespacedPodAsync(victim.Name, "shop"));
        Assert.Equal(HttpStatusCode.NotFound, gone.Response.StatusCode);
        HttpOperationException evictGone = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedPodEvictionAsync(
            new V1Eviction { Metadata = new V1ObjectMeta { Name = victim.Name, NamespaceProperty = "shop" } }, victim.Name, "shop"));
        Assert.Equal(HttpStatusCode.NotFound, evictGone.Response.StatusCode);
        Assert.Contains($"pods \\\"{victim.Name}\\\" not found", evictGone.Response.Content, StringComparison.Ordinal);

        // Deleting web-iis directly while its PDB allowed one disruption is not a violation.
        Assert.Empty(sim.World.DisruptionReport().PdbViolations);
    }

    [Fact]
    public async Task Evictions_are_gated_by_the_PDB_with_the_real_429_body_until_a_replica_is_Ready_elsewhere()
    {
        // Real time (scale 1) while the refusals are checked, so that the replacement cannot become Ready in between on a
        // slow machine; then the clock jumps ahead to let it start.
        await using KubeSim sim = await KubeSim.StartAsync(timeScale: 1);
        using k8s.Kubernetes client = sim.Client();
        List<KubePod> webs = sim.Read(w => w.Pods.Values.Where(p => p.Labels.GetValueOrDefault("app") == "web-iis").OrderBy(p => p.Name).ToList());

        // minAvailable 5 of 6: one eviction is allowed...
        await client.CoreV1.CreateNamespacedPodEvictionAsync(
            new V1Eviction { ApiVersion = "policy/v1", Kind = "Eviction", Metadata = new V1ObjectMeta { Name = webs[0].Name, NamespaceProperty = "shop" } }, webs[0].Name, "shop");
        V1PodDisruptionBudget pdb = await client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("web-iis", "shop");
        Assert.Equal(0, pdb.Status.DisruptionsAllowed);
        Assert.Equal(5, pdb.Status.CurrentHealthy);
        Assert.Equal(5, pdb.Status.DesiredHealthy);

        // ...the next one is refused while the replacement starts.
        using HttpClient http = sim.Http();
        string url = $"{sim.Host.Info.ClusterEndpoint("demo")}/api/v1/namespaces/shop/pods/{webs[1].Name}/eviction";
        HttpResponseMessage refused = await http.PostAsync(url, Json($"{{\"apiVersion\":\"policy/v1beta1\",\"kind\":\"Eviction\",\"metadata\":{{\"name\":\"{webs[1].Name}\",\"namespace\":\"shop\"}}}}"));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        using (JsonDocument status = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
        {
            JsonElement root = status.RootElement;
            Assert.Equal("Status", root.GetProperty("kind").GetString());
            Assert.Equal("Failure", root.GetProperty("status").GetString());
            Assert.Equal("TooManyRequests", root.GetProperty("reason").GetString());
            Assert.Equal(429, root.GetProperty("code").GetInt32());
            Assert.Equal("Cannot evict pod as it would violate the pod's disruption budget.", root.GetProperty("message").GetString());
            JsonElement cause = Assert.Single(root.GetProperty("details").GetProperty("causes").EnumerateArray());
            Assert.Equal("DisruptionBudget", cause.GetProperty("reason").GetString());
            Assert.Equal("The disruption budget web-iis needs 5 healthy pods and has 5 currently", cause.GetProperty("message").GetString());
        }

        HttpOperationException viaClient = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedPodEvictionAsync(
            new V1Eviction { Metadata = new V1ObjectMeta { Name = webs[1].Name, NamespaceProperty = "shop" } }, webs[1].Name, "shop"));
        Assert.Equal(HttpStatusCode.TooManyRequests, viaClient.Response.StatusCode);

        sim.Host.Clock.Advance(TimeSpan.FromHours(2));
        await sim.UntilAsync(w => w.Pods.Values.Count(p => p.Labels.GetValueOrDefault("app") == "web-iis" && p.Ready && p.DeletionTimestamp is null) == 6, "the replacement is Ready");
        HttpResponseMessage allowed = await http.PostAsync(url, Json($"{{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{{\"name\":\"{webs[1].Name}\"}},\"deleteOptions\":{{\"gracePeriodSeconds\":5}}}}"));
        Assert.Equal(HttpStatusCode.Created, allowed.StatusCode);
        using (JsonDocument success = JsonDocument.Parse(await allowed.Content.ReadAsStringAsync()))
        {
            Assert.Equal("Success", success.RootElement.GetProperty("status").GetString());
        }

        Assert.Equal(5, sim.Read(w => w.Pods[("demo", "shop", webs[1].Name)].DeletionGracePeriodSeconds));
        sim.Host.Clock.Advance(TimeSpan.FromMinutes(1)); // past the 5 s grace period
        KubernetesDisruptionReport report = sim.World.DisruptionReport();
        Assert.All(report.PodDeletions, d => Assert.Equal(PodDeletionCause.Eviction, d.Cause));
        Assert.Equal(2, report.PodDeletions.Count);
        Assert.Empty(report.PdbViolations);
    }

    [Fact]
    public async Task A_single_replica_PDB_blocks_until_scaled_and_a_direct_delete_is_recorded_as_a_violation()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        using k8s.Kubernetes client = sim.Client();
        KubePod payments = sim.Pod("payments");
        HttpOperationException blocked = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedPodEvictionAsync(
            new V1Eviction { Metadata = new V1ObjectMeta { Name = payments.Name } }, payments.Name, "shop"));
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.Response.StatusCode);
        Assert.Contains("The disruption budget payments needs 1 healthy pods and has 1 currently", blocked.Response.Content, StringComparison.Ordinal);

        // Scale through the scale subresource (what kubectl scale does); the new replica starts elsewhere.
        using HttpClient http = sim.Http();
        HttpResponseMessage scaled = await http.PatchAsync($"{sim.Host.Info.ClusterEndpoint("demo")}/apis/apps/v1/namespaces/shop/deployments/payments/scale",
            new StringContent("{\"spec\":{\"replicas\":2}}", Encoding.UTF8, "application/merge-patch+json"));
        Assert.Equal(HttpStatusCode.OK, scaled.StatusCode);
        await sim.UntilAsync(w => w.Pods.Values.Count(p => p.Labels.GetValueOrDefault("app") == "payments" && p.Ready) == 2, "two payments pods are Ready");
        await client.CoreV1.CreateNamespacedPodEvictionAsync(new V1Eviction { Metadata = new V1ObjectMeta { Name = payments.Name } }, payments.Name, "shop");

        // Direct deletes are not gated: the first one leaves the budget at its minimum (allowed), the second one goes
        // below it and is recorded as a PDB violation.
        await sim.UntilAsync(w => w.Pods.Values.Count(p => p.Labels.GetValueOrDefault("app") == "payments" && p.Ready && p.DeletionTimestamp is null) == 2, "the replacement is Ready");
        List<KubePod> running = sim.Read(w => w.Pods.Values.Where(p => p.Labels.GetValueOrDefault("app") == "payments" && p.Ready && p.DeletionTimestamp is null).OrderBy(p => p.Name).ToList());
        await client.CoreV1.DeleteNamespacedPodAsync(running[0].Name, "shop");
        await client.CoreV1.DeleteNamespacedPodAsync(running[1].Name, "shop");

        KubernetesDisruptionReport report = sim.World.DisruptionReport();
        PdbViolationRecord violation = Assert.Single(report.PdbViolations);
        Assert.Equal("payments", violation.PdbName);
        Assert.Equal(running[1].Name, violation.PodName);
        Assert.Equal(PodDeletionCause.Delete, violation.Cause);
        Assert.Equal(1, violation.DesiredHealthy);
        Assert.Equal(0, violation.HealthyAfter);
        Assert.Equal([running[0].Name, running[1].Name], report.DeletedRatherThanEvicted.Select(d => d.Name).ToArray());
        Assert.Contains(report.PodDeletions, d => d.Name == payments.Name && d.Cause == PodDeletionCause.Eviction);
    }

    [Fact]
    public async Task Two_PDBs_over_one_pod_make_eviction_a_500_and_bad_bodies_a_400()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        KubePod web = sim.Pod("web-iis");
        lock (sim.World.Gate)
        {
            var extra = new KubePdb { ClusterName = "demo", Namespace = "shop", Name = "frontend", Uid = Guid.NewGuid().ToString(), MaxUnavailable = "50%" };
            extra.Selector["tier"] = "frontend";
            sim.World.PodDisruptionBudgets[("demo", "shop", "frontend")] = extra;
        }

        using HttpClient http = sim.Http();
        string url = $"{sim.Host.Info.ClusterEndpoint("demo")}/api/v1/namespaces/shop/pods/{web.Name}/eviction";
        HttpResponseMessage response = await http.PostAsync(url, Json($"{{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{{\"name\":\"{web.Name}\"}}}}"));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        using (JsonDocument status = JsonDocument.Parse(await response.Content.ReadAsStringAsync()))
        {
            Assert.Equal("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.", status.RootElement.GetProperty("message").GetString());
            Assert.Equal(500, status.RootElement.GetProperty("code").GetInt32());
        }

        HttpResponseMessage mismatch = await http.PostAsync(url, Json("{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"someone-else\"}}"));
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        Assert.Contains("name in URL does not match name in Eviction object", await mismatch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        HttpResponseMessage garbage = await http.PostAsync(url, Json("{nope"));
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        Assert.True(sim.Read(w => w.Pods[("demo", "shop", web.Name)].DeletionTimestamp is null));

        // maxUnavailable 50% of the Deployment's 6 replicas: desired healthy 3.
        using k8s.Kubernetes client = sim.Client();
        V1PodDisruptionBudget frontend = await client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("frontend", "shop");
        Assert.Equal(6, frontend.Status.ExpectedPods);
        Assert.Equal(3, frontend.Status.DesiredHealthy);
        Assert.Equal(3, frontend.Status.DisruptionsAllowed);
    }
}
