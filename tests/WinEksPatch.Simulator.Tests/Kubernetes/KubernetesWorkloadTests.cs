using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Tests.Kubernetes;

/// <summary>Controllers and the scheduler reacting to the fleet's hooks, and the apps/policy/events read APIs.</summary>
public sealed class KubernetesWorkloadTests
{
    private static bool IsApp(KubePod p, string app) => p.ClusterName == "demo" && p.Labels.GetValueOrDefault("app") == app;

    /// <summary>A new Windows node as the fleet area registers it: a copy of an existing node's facts.</summary>
    private static KubeNode NewWindowsNode(SimWorld world, string name, string ip, bool ready = true)
    {
        KubeNode template = world.Nodes.Values.First(n => n.ClusterName == "demo" && n.OperatingSystem == "windows" && !n.Labels.ContainsKey("eks.amazonaws.com/nodegroup"));
        var node = new KubeNode
        {
            ClusterName = "demo",
            Name = name,
            Uid = Guid.NewGuid().ToString(),
            CreationTimestamp = world.Clock.GetUtcNow(),
            ProviderId = "aws:///us-west-2a/i-0123456789abcdef0",
            InstanceId = "i-0123456789abcdef0",
            InternalIp = ip,
            KernelVersion = template.KernelVersion,
            OsImage = template.OsImage,
            OperatingSystem = "windows",
            KubeletVersion = template.KubeletVersion,
            ContainerRuntimeVersion = template.ContainerRuntimeVersion,
            Ready = ready,
        };
        foreach (KeyValuePair<string, string> l in template.Labels)
        {
            node.Labels[l.Key] = l.Value;
        }

        node.Labels["kubernetes.io/hostname"] = name;
        return node;
    }

    [Fact]
    public async Task A_removed_node_takes_its_pods_and_the_controllers_replace_them_elsewhere()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        KubeNode doomed = sim.Read(w => w.Nodes.Values.First(n => w.Pods.Values.Any(p => IsApp(p, "payments") && p.NodeName == n.Name)));
        List<KubePod> onNode = sim.Read(w => w.Pods.Values.Where(p => p.NodeName == doomed.Name).ToList());
        Assert.Contains(onNode, p => p.OwnerKind == "DaemonSet");

        lock (sim.World.Gate)
        {
            sim.World.NodeRemoved(doomed);
        }

        Assert.False(sim.Read(w => w.Nodes.ContainsKey(("demo", doomed.Name))));
        Assert.False(sim.Read(w => w.Pods.Values.Any(p => p.NodeName == doomed.Name)));
        await sim.UntilAsync(w => w.Pods.Values.Count(p => IsApp(p, "payments") && p.Ready) == 1
            && w.Pods.Values.Count(p => IsApp(p, "web-iis") && p.Ready) == 6 && w.Pods.Values.Count(p => IsApp(p, "orders-api") && p.Ready) == 4,
            "replacements are Ready");
        Assert.Equal(6, sim.Read(w => w.Pods.Values.Count(p => IsApp(p, "fluent-bit-windows")))); // one per remaining Windows node
        Assert.All(sim.Read(w => w.Pods.Values.Where(p => p.ClusterName == "demo").ToList()), p => Assert.NotEqual(doomed.Name, p.NodeName));
        // Windows workloads stay on Windows nodes (nodeSelector kubernetes.io/os=windows).
        Assert.All(sim.Read(w => w.Pods.Values.Where(p => IsApp(p, "web-iis")).Select(p => w.Nodes[("demo", p.NodeName!)].OperatingSystem).ToList()),
            os => Assert.Equal("windows", os));
        KubernetesDisruptionReport report = sim.World.DisruptionReport();
        Assert.Equal(onNode.Count, report.PodDeletions.Count(d => d.Cause == PodDeletionCause.NodeRemoved));
        // payments had no disruption to spare: losing its node violates its budget.
        Assert.Contains(report.PdbViolations, v => v.PdbName == "payments" && v.Cause == PodDeletionCause.NodeRemoved);
    }

    [Fact]
    public async Task A_new_Ready_node_gets_its_DaemonSet_pod_and_pending_pods_that_fit_it()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        KubeNode fresh;
        lock (sim.World.Gate)
        {
            // Every Windows node but none is tainted away, so the only place for new Windows pods is the new node.
            foreach (KubeNode n in sim.World.Nodes.Values.Where(n => n.ClusterName == "demo" && n.OperatingSystem == "windows"))
            {
                n.Taints.Add(("wineks/retiring", "true", "NoSchedule"));
                sim.World.NodeChanged(n);
            }

            fresh = NewWindowsNode(sim.World, "ip-10-0-0-99.us-west-2.compute.internal", "10.0.0.99", ready: false);
            sim.World.Nodes[("demo", fresh.Name)] = fresh;
            sim.World.NodeChanged(fresh);
        }

        // Not Ready yet: no DaemonSet pod; a pod evicted now stays Pending with a FailedScheduling event.
        Assert.False(sim.Read(w => w.Pods.Values.Any(p => p.NodeName == fresh.Name)));
        using k8s.Kubernetes client = sim.Client();
        KubePod web = sim.Pod("web-iis");
        await client.CoreV1.CreateNamespacedPodEvictionAsync(new V1Eviction { Metadata = new V1ObjectMeta { Name = web.Name } }, web.Name, "shop");
        KubePod pending = sim.Read(w => w.Pods.Values.Single(p => IsApp(p, "web-iis") && p.NodeName is null));
        Assert.Equal("Pending", pending.Phase);
        V1Pod pendingView = await client.CoreV1.ReadNamespacedPodAsync(pending.Name, "shop");
        Assert.Contains(pendingView.Status.Conditions, c => c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable");
        Corev1EventList events = await client.CoreV1.ListNamespacedEventAsync("shop", fieldSelector: null);
        Corev1Event failed = Assert.Single(events.Items, e => e.Reason == "FailedScheduling" && e.InvolvedObject.Name == pending.Name);
        Assert.Equal("Warning", failed.Type);
        Assert.StartsWith("0/10 nodes are available:", failed.Message, StringComparison.Ordinal);
        Assert.Contains("2 node(s) didn't match Pod's node affinity/selector", failed.Message, StringComparison.Ordinal);

        lock (sim.World.Gate)
        {
            // Ready, and its pod IPs advertised (as the VPC resource controller does seconds later; see FleetBehaviourTests).
            fresh.Ready = true;
            fresh.ReadySince = sim.World.Clock.GetUtcNow();
            fresh.ExtendedResources[WindowsPodIps.ResourceName] = "14";
            sim.World.NodeChanged(fresh);
        }

        await sim.UntilAsync(w => w.Pods.Values.Any(p => IsApp(p, "fluent-bit-windows") && p.NodeName == fresh.Name && p.Ready)
            && w.Pods.Values.Any(p => p.Name == pending.Name && p.NodeName == fresh.Name && p.Ready), "the new node runs both pods");
    }

    [Fact]
    public async Task Tolerations_let_a_pod_onto_a_tainted_node_and_capacity_keeps_it_off_a_full_one()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        KubeWorkload sts;
        lock (sim.World.Gate)
        {
            foreach (KubeNode n in sim.World.Nodes.Values.Where(n => n.ClusterName == "demo" && n.OperatingSystem == "windows"))
            {
                n.Taints.Add(("dedicated", "db", "NoSchedule"));
                sim.World.NodeChanged(n);
            }

            sts = new KubeWorkload { ClusterName = "demo", Kind = "StatefulSet", Namespace = "shop", Name = "ledger", Uid = Guid.NewGuid().ToString(), Replicas = 0, TemplateHash = "5d8f7c9b6" };
            sts.Selector["app"] = "ledger";
            sts.Template.Labels["app"] = "ledger";
            sts.Template.NodeSelector["kubernetes.io/os"] = "windows";
            sts.Template.Containers.Add(new KubeContainer { Name = "ledger", Image = "mcr.microsoft.com/windows/servercore:ltsc2022" });
            sts.Template.Tolerations.Add(new KubeToleration("dedicated", "Equal", "db", "NoSchedule"));
            sim.World.Workloads[("demo", "StatefulSet", "shop", "ledger")] = sts;
            sim.World.ScaleWorkload(sts, 2);
        }

        await sim.UntilAsync(w => w.Pods.ContainsKey(("demo", "shop", "ledger-0")) && w.Pods[("demo", "shop", "ledger-0")].Ready
            && w.Pods.ContainsKey(("demo", "shop", "ledger-1")) && w.Pods[("demo", "shop", "ledger-1")].Ready, "ledger-0 and ledger-1 run");

        // A StatefulSet pod comes back under the same name once the old one is gone.
        using k8s.Kubernetes client = sim.Client();
        string oldUid = sim.Read(w => w.Pods[("demo", "shop", "ledger-0")].Uid);
        await client.CoreV1.CreateNamespacedPodEvictionAsync(new V1Eviction { Metadata = new V1ObjectMeta { Name = "ledger-0" } }, "ledger-0", "shop");
        await sim.UntilAsync(w => w.Pods.TryGetValue(("demo", "shop", "ledger-0"), out KubePod? p) && p.Uid != oldUid && p.Ready, "ledger-0 is back");
        V1StatefulSet read = await client.AppsV1.ReadNamespacedStatefulSetAsync("ledger", "shop");
        Assert.Equal(2, read.Status.ReadyReplicas);

        // Untolerated taint: a plain Deployment's new pod cannot go anywhere on Windows.
        KubePod web = sim.Pod("web-iis");
        await client.CoreV1.DeleteNamespacedPodAsync(web.Name, "shop", gracePeriodSeconds: 0);
        Assert.True(sim.Read(w => w.Pods.Values.Any(p => IsApp(p, "web-iis") && p.NodeName is null)));
    }

    [Fact]
    public async Task A_NoExecute_taint_deletes_every_pod_that_does_not_tolerate_it_and_keeps_new_ones_away()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        using k8s.Kubernetes client = sim.Client();
        KubePod web = sim.Pod("web-iis");
        List<string> before = sim.Read(w => w.Pods.Values.Where(p => p.NodeName == web.NodeName).Select(p => p.Name).ToList());
        Assert.Equal(4, before.Count);
        await client.CoreV1.PatchNodeAsync(new V1Patch("{\"spec\":{\"taints\":[{\"key\":\"maintenance\",\"effect\":\"NoExecute\"}]}}", V1Patch.PatchType.MergePatch), web.NodeName);

        // Every pod of the node is deleted by the taint manager at once (some may already be gone when we look, on a busy
        // machine the simulated clock runs on): the DaemonSet pod too, as DaemonSets only tolerate the node-condition
        // NoExecute taints by default.
        Assert.All(sim.Read(w => w.Pods.Values.Where(p => p.NodeName == web.NodeName).ToList()), p => Assert.NotNull(p.DeletionTimestamp));
        KubernetesDisruptionReport report = sim.World.DisruptionReport();
        Assert.Equal(before.Order(), report.PodDeletions.Where(d => d.Cause == PodDeletionCause.TaintManager).Select(d => d.Name).Order());
        Assert.Contains(report.PodDeletions, d => d.Name == web.Name && d.Cause == PodDeletionCause.TaintManager);
        Assert.Contains(report.PodDeletions, d => d.OwnerKind == "DaemonSet" && d.Cause == PodDeletionCause.TaintManager);
        await sim.UntilAsync(w => !w.Pods.Values.Any(p => p.NodeName == web.NodeName), "the node is empty");
        await sim.UntilAsync(w => w.Pods.Values.Count(p => IsApp(p, "web-iis") && p.Ready) == 6, "web-iis runs elsewhere");
        Assert.False(sim.Read(w => w.Pods.Values.Any(p => p.NodeName == web.NodeName)));
        Corev1EventList events = await client.CoreV1.ListNamespacedEventAsync("shop");
        Assert.Contains(events.Items, e => e.Reason == "TaintManagerEviction" && e.InvolvedObject.Name == web.Name);
    }

    [Fact]
    public async Task Apps_policy_and_events_read_APIs_serve_KubernetesClient()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        using k8s.Kubernetes client = sim.Client();
        V1DeploymentList deployments = await client.AppsV1.ListDeploymentForAllNamespacesAsync();
        Assert.Equal(["coredns", "orders-api", "payments", "web-iis"], deployments.Items.Select(d => d.Metadata.Name).Order().ToArray());
        V1Deployment web = await client.AppsV1.ReadNamespacedDeploymentAsync("web-iis", "shop");
        Assert.Equal(6, web.Spec.Replicas);
        Assert.Equal(6, web.Status.ReadyReplicas);
        Assert.Equal("windows", web.Spec.Template.Spec.NodeSelector["kubernetes.io/os"]);

        V1ReplicaSetList sets = await client.AppsV1.ListNamespacedReplicaSetAsync("shop", labelSelector: "app=web-iis");
        V1ReplicaSet rs = Assert.Single(sets.Items);
        Assert.Equal("Deployment", rs.Metadata.OwnerReferences.Single().Kind);
        V1PodList pods = await client.CoreV1.ListNamespacedPodAsync("shop", labelSelector: "app=web-iis");
        Assert.All(pods.Items, p => Assert.Equal(rs.Metadata.Uid, p.Metadata.OwnerReferences.Single().Uid));

        V1DaemonSetList daemonSets = await client.AppsV1.ListDaemonSetForAllNamespacesAsync();
        V1DaemonSet fluent = daemonSets.Items.Single(d => d.Metadata.Name == "fluent-bit-windows");
        Assert.Equal(7, fluent.Status.DesiredNumberScheduled);
        Assert.Equal(7, fluent.Status.NumberReady);
        V1DaemonSet proxy = await client.AppsV1.ReadNamespacedDaemonSetAsync("kube-proxy", "kube-system");
        Assert.Equal(2, proxy.Status.CurrentNumberScheduled);
        Assert.Empty((await client.AppsV1.ListStatefulSetForAllNamespacesAsync()).Items);

        V1PodDisruptionBudgetList pdbs = await client.PolicyV1.ListPodDisruptionBudgetForAllNamespacesAsync();
        Assert.Equal(["coredns", "payments", "web-iis"], pdbs.Items.Select(b => b.Metadata.Name).Order().ToArray());
        V1PodDisruptionBudget payments = pdbs.Items.Single(b => b.Metadata.Name == "payments");
        Assert.Equal(1, payments.Status.ExpectedPods);
        Assert.Equal(0, payments.Status.DisruptionsAllowed);
        Assert.Contains(payments.Status.Conditions, c => c.Type == "DisruptionAllowed" && c.Status == "False" && c.Reason == "InsufficientPods");
        V1PodDisruptionBudget coredns = (await client.PolicyV1.ListNamespacedPodDisruptionBudgetAsync("kube-system")).Items.Single();
        Assert.Equal(1, coredns.Status.DisruptionsAllowed);

        HttpOperationException missing = await Assert.ThrowsAsync<HttpOperationException>(() => client.AppsV1.ReadNamespacedDeploymentAsync("nope", "shop"));
        Assert.Equal(HttpStatusCode.NotFound, missing.Response.StatusCode);
        Assert.Contains("deployments.apps \\\"nope\\\" not found", missing.Response.Content, StringComparison.Ordinal);

        V1NamespaceList namespaces = await client.CoreV1.ListNamespaceAsync();
        Assert.Contains(namespaces.Items, n => n.Metadata.Name == "amazon-cloudwatch");
        Assert.Empty((await client.CoreV1.ListEventForAllNamespacesAsync()).Items);
    }

    [Fact]
    public async Task Discovery_lists_the_served_groups_and_the_eviction_subresource()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        using k8s.Kubernetes client = sim.Client();
        V1APIGroupList groups = await client.Apis.GetAPIVersionsAsync();
        Assert.Equal(["apps", "coordination.k8s.io", "policy"], groups.Groups.Select(g => g.Name).Order().ToArray());
        V1APIResource leases = (await client.CoordinationV1.GetAPIResourcesAsync()).Resources.Single();
        Assert.Equal(("leases", "Lease", true), (leases.Name, leases.Kind, leases.Namespaced));
        Assert.Equal(["create", "delete", "get", "list", "update"], leases.Verbs.Order().ToArray());
        V1APIResourceList core = await client.CoreV1.GetAPIResourcesAsync();
        V1APIResource eviction = core.Resources.Single(r => r.Name == "pods/eviction");
        Assert.Equal(("policy", "v1", "Eviction"), (eviction.Group, eviction.Version, eviction.Kind));
        V1APIResourceList policy = await client.PolicyV1.GetAPIResourcesAsync();
        Assert.Equal("pdb", policy.Resources.Single().ShortNames.Single());

        using HttpClient http = sim.Http();
        http.DefaultRequestHeaders.Accept.ParseAdd("application/json;as=Table;v=v1;g=meta.k8s.io");
        using JsonDocument table = JsonDocument.Parse(await http.GetStringAsync(sim.Host.Info.ClusterEndpoint("demo") + "/apis/policy/v1/poddisruptionbudgets"));
        Assert.Equal("Table", table.RootElement.GetProperty("kind").GetString());
        Assert.Equal(["Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"],
            table.RootElement.GetProperty("columnDefinitions").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToArray());
        JsonElement web = table.RootElement.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("cells")[0].GetString() == "web-iis");
        Assert.Equal("5", web.GetProperty("cells")[1].GetString());
        Assert.Equal("N/A", web.GetProperty("cells")[2].GetString());
        Assert.Equal("1", web.GetProperty("cells")[3].GetString());
    }
}
