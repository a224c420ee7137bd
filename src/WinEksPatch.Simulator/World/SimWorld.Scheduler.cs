using System.Globalization;
using System.Text;
using WinEksPatch.Simulator.Scenarios;

namespace WinEksPatch.Simulator.World;

// The scheduler: pending pods onto nodes (selectors, taints, resources, pod IPs), and binding. Under Gate.
public sealed partial class SimWorld
{
    private bool RunScheduler()
    {
        bool changed = false;
        List<KubePod> pending = _unscheduled.Select(k => Pods.GetValueOrDefault((k.Cluster, k.Namespace, k.Name))).OfType<KubePod>()
            .Where(p => p.NodeName is null && p.DeletionTimestamp is null && p.Phase == "Pending")
            .ToList();
        if (pending.Count == 0)
        {
            return false;
        }

        Dictionary<string, List<KubeNode>> nodesByCluster = pending.Select(p => p.ClusterName).Distinct()
            .ToDictionary(c => c, c => Nodes.Values.Where(n => n.ClusterName == c).OrderBy(n => n.Name, StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        foreach (KubePod pod in pending)
        {
            string cluster = pod.ClusterName;
            List<KubeNode> nodes = nodesByCluster[cluster];
            int notReady = 0, unschedulable = 0, selector = 0, tainted = 0, full = 0, noPodIps = 0;
            bool needsPodIp = pod.NodeSelector.GetValueOrDefault("kubernetes.io/os") == "windows"; // EKS's webhook adds the request
            KubeNode? best = null;
            foreach (KubeNode node in nodes)
            {
                (string Key, string? Value, string Effect)? untolerated = node.Taints
                    .Where(t => t.Effect is "NoSchedule" or "NoExecute")
                    .Select(t => ((string, string?, string)?)t)
                    .FirstOrDefault(t => !pod.Tolerations.Exists(x => x.Tolerates(t!.Value.Item1, t.Value.Item2, t.Value.Item3)));
                int capacity = int.TryParse(node.PodCapacity, NumberStyles.Integer, CultureInfo.InvariantCulture, out int c) ? c : 110;
                int count = PodsOnNode(cluster, node.Name);
                if (!node.Ready)
                {
                    notReady++;
                }
                else if (node.Unschedulable && !pod.Tolerations.Exists(t => t.Tolerates("node.kubernetes.io/unschedulable", null, "NoSchedule")))
                {
                    unschedulable++;
                }
                else if (!Selects(pod.NodeSelector, node.Labels))
                {
                    selector++;
                }
                else if (untolerated is not null)
                {
                    tainted++;
                }
                else if (count >= capacity)
                {
                    full++;
                }
                else if (needsPodIp && !node.ExtendedResources.ContainsKey(WindowsPodIps.ResourceName))
                {
                    noPodIps++;
                }
                else if (best is null || count < PodsOnNode(cluster, best.Name))
                {
                    best = node; // spread: the node with the fewest pods
                }
            }

            if (best is null)
            {
                if (_reportedUnschedulable.Add(pod.Uid))
                {
                    var reasons = new List<string>();
                    void Add(int n, string text)
                    {
                        if (n > 0)
                        {
                            reasons.Add($"{n} {text}");
                        }
                    }

                    Add(notReady, "node(s) had untolerated taint {node.kubernetes.io/not-ready: }");
                    Add(selector, "node(s) didn't match Pod's node affinity/selector");
                    Add(tainted, "node(s) had untolerated taint(s)");
                    Add(full, "Too many pods");
                    Add(noPodIps, "Insufficient " + WindowsPodIps.ResourceName);
                    Add(unschedulable, "node(s) were unschedulable");
                    reasons.Sort(StringComparer.Ordinal);
                    RecordKubeEvent(cluster, pod.Namespace, "Pod", pod.Name, pod.Uid, "Warning", "FailedScheduling",
                        $"0/{nodes.Count} nodes are available: {string.Join(", ", reasons)}. preemption: 0/{nodes.Count} nodes are available: {nodes.Count} Preemption is not helpful for scheduling.",
                        "default-scheduler");
                }

                continue;
            }

            Bind(pod, best);
            changed = true;
        }

        return changed;
    }

    /// <summary>Binds a pod to a node; it turns Running and Ready after <see cref="PodStartModel.StartDelay"/>.</summary>
    private void Bind(KubePod pod, KubeNode node)
    {
        _reportedUnschedulable.Remove(pod.Uid);
        pod.NodeName = node.Name;
        pod.HostIp = node.InternalIp;
        pod.PodIp = NextPodIp(node);
        pod.StartTime = Clock.GetUtcNow();
        RecordKubeEvent(pod.ClusterName, pod.Namespace, "Pod", pod.Name, pod.Uid, "Normal", "Scheduled",
            $"Successfully assigned {pod.Namespace}/{pod.Name} to {node.Name}", "default-scheduler");
        PodChanged(pod, deleted: false);

        TimeSpan delay = PodStartModel.StartDelay(this, node, pod);
        string uid = pod.Uid;
        (string, string, string) key = (pod.ClusterName, pod.Namespace, pod.Name);
        AfterSimulated(delay, () =>
        {
            if (!Pods.TryGetValue(key, out KubePod? p) || p.Uid != uid || p.DeletionTimestamp is not null || p.NodeName is null
                || !Nodes.ContainsKey((p.ClusterName, p.NodeName)))
            {
                return;
            }

            foreach (KubeContainer c in p.Containers)
            {
                RecordKubeEvent(p.ClusterName, p.Namespace, "Pod", p.Name, p.Uid, "Normal", "Started", $"Started container {c.Name}", "kubelet", p.NodeName);
            }

            p.Phase = "Running";
            p.RunningSince = Scheduler.Now;
            if (StartsCrashLooping(p))
            {
                return;
            }

            p.Ready = true;
            PodChanged(p, deleted: false);
        });
    }

    private string NextPodIp(KubeNode node)
    {
        string prefix = node.InternalIp[..node.InternalIp.LastIndexOf('.')];
        var used = Pods.Values.Where(p => p.NodeName == node.Name && p.PodIp is not null).Select(p => p.PodIp!).ToHashSet(StringComparer.Ordinal);
        for (int i = 100; i < 250; i++)
        {
            string ip = $"{prefix}.{i}";
            if (!used.Contains(ip))
            {
                return ip;
            }
        }

        return $"{prefix}.250";
    }
}
