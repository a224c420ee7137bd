using System.Globalization;
using System.Text;
using WinEksPatch.Simulator.Scenarios;

namespace WinEksPatch.Simulator.World;

/// <summary>Result of an eviction request (the API layer turns it into the API server's response).</summary>
/// <param name="Code">201 evicted (or nothing to do), 404 no such pod, 429 a PDB blocks, 500 several PDBs match.</param>
/// <param name="PdbName">The blocking PDB (429).</param>
/// <param name="PdbStatus">Its status when it blocked (429).</param>
public sealed record EvictionOutcome(int Code, string? PdbName = null, PdbStatusSnapshot? PdbStatus = null);

// Pod lifecycle, the scheduler, the workload controllers and the disruption controller. Everything runs under Gate,
// driven by the hooks and by timers on the simulated clock (pod start, grace periods); no thread polls.
public sealed partial class SimWorld
{
    private bool _reconciling;
    private readonly Random _kubeNames = new(20348);
    // Pods that already have a FailedScheduling event for their current wait (no event storm on every reconcile).
    private readonly HashSet<string> _reportedUnschedulable = new(StringComparer.Ordinal);

    // ---- timers ------------------------------------------------------------------------------

    /// <summary>Runs <paramref name="action"/> under Gate after <paramref name="delay"/> of simulated time, on the world's
    /// one event scheduler (<see cref="Scheduler"/>), so that advancing the clock runs it like every other due event.</summary>
    public void AfterSimulated(TimeSpan delay, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Scheduler.After(delay, () =>
        {
            lock (Gate)
            {
                action();
            }
        });
    }

    // ---- scenario ----------------------------------------------------------------------------

    /// <summary>
    /// After the loader created nodes and pods: the workload objects that own the pods (Deployment → ReplicaSet,
    /// DaemonSet), the scenario's PDBs, and every loaded object counted as already seen by watchers.
    /// </summary>
    public void KubernetesScenarioLoaded(ScenarioDefinition scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        // Loaded objects exist from the start: watchers get them in their initial list, and the watch hub learns
        // their labels and fields so that their first change can tell a selector's ADDED from MODIFIED.
        foreach (KubeNode node in Nodes.Values)
        {
            _announcedUids.Add(node.Uid);
            KubernetesObjectChanged?.Invoke(new KubeChange(KubeChange.Loaded, node, null));
        }

        foreach (KubePod pod in Pods.Values)
        {
            _announcedUids.Add(pod.Uid);
            IndexPod(pod, deleted: false);
            KubernetesObjectChanged?.Invoke(new KubeChange(KubeChange.Loaded, null, pod));
        }

        foreach (ClusterDefinition cluster in scenario.Clusters)
        {
            if (!Clusters.TryGetValue(cluster.Name, out EksCluster? eks))
            {
                continue;
            }

            foreach (WorkloadDefinition def in cluster.Workloads)
            {
                AdoptWorkload(eks, def);
            }

            foreach (PodDisruptionBudgetDefinition def in cluster.PodDisruptionBudgets)
            {
                var pdb = new KubePdb
                {
                    ClusterName = cluster.Name,
                    Namespace = def.Namespace,
                    Name = def.Name,
                    Uid = Ids.Uuid($"pdb/{cluster.Name}/{def.Namespace}/{def.Name}"),
                    CreationTimestamp = eks.CreatedAt.AddDays(2),
                    MinAvailable = def.MinAvailable?.ToString(),
                    MaxUnavailable = def.MaxUnavailable?.ToString(),
                    ResourceVersion = NextResourceVersion(),
                };
                foreach (KeyValuePair<string, string> l in def.Selector)
                {
                    pdb.Selector[l.Key] = l.Value;
                }

                PodDisruptionBudgets[(cluster.Name, def.Namespace, def.Name)] = pdb;
            }
        }
    }

    private void AdoptWorkload(EksCluster cluster, WorkloadDefinition def)
    {
        bool daemonSet = string.Equals(def.Kind, "DaemonSet", StringComparison.OrdinalIgnoreCase);
        List<KubePod> pods = Pods.Values
            .Where(p => p.ClusterName == cluster.Name && p.Namespace == def.Namespace && p.Labels.GetValueOrDefault("app") == def.Name
                && p.OwnerKind == (daemonSet ? "DaemonSet" : "ReplicaSet"))
            .ToList();
        DateTimeOffset created = pods.Count == 0 ? cluster.CreatedAt.AddDays(1) : pods.Min(p => p.CreationTimestamp).AddMinutes(-1);

        void FillTemplate(KubeWorkload w, string? hashLabel, string? hash)
        {
            w.Selector["app"] = def.Name;
            w.Labels["app"] = def.Name;
            w.Template.Labels["app"] = def.Name;
            foreach (KeyValuePair<string, string> l in def.Labels)
            {
                w.Template.Labels[l.Key] = l.Value;
            }

            if (hashLabel is not null)
            {
                w.Template.Labels[hashLabel] = hash!;
                if (hashLabel == "pod-template-hash")
                {
                    w.Selector[hashLabel] = hash!;
                }
            }

            w.Template.NodeSelector["kubernetes.io/os"] = def.Os;
            foreach (ContainerDefinition c in def.Containers)
            {
                w.Template.Containers.Add(new KubeContainer { Name = c.Name, Image = c.Image });
            }
        }

        if (daemonSet)
        {
            var ds = new KubeWorkload
            {
                ClusterName = cluster.Name,
                Kind = "DaemonSet",
                Namespace = def.Namespace,
                Name = def.Name,
                Uid = pods.FirstOrDefault()?.OwnerUid ?? Ids.Uuid($"owner/{cluster.Name}/{def.Namespace}/{def.Name}"),
                CreationTimestamp = created,
                TemplateHash = pods.FirstOrDefault()?.Labels.GetValueOrDefault("controller-revision-hash") ?? KubeName("ds/" + def.Name, 8),
                ResourceVersion = NextResourceVersion(),
                PodsCreated = pods.Count,
            };
            FillTemplate(ds, null, null);
            ds.Template.Labels["controller-revision-hash"] = ds.TemplateHash;
            ds.Template.Labels["pod-template-generation"] = "1";
            Workloads[(cluster.Name, "DaemonSet", def.Namespace, def.Name)] = ds;
            return;
        }

        string hash = pods.FirstOrDefault()?.Labels.GetValueOrDefault("pod-template-hash") ?? KubeName("rs/" + def.Name, 10);
        var deployment = new KubeWorkload
        {
            ClusterName = cluster.Name,
            Kind = "Deployment",
            Namespace = def.Namespace,
            Name = def.Name,
            Uid = Ids.Uuid($"deployment/{cluster.Name}/{def.Namespace}/{def.Name}"),
            CreationTimestamp = created,
            Replicas = def.Replicas,
            ResourceVersion = NextResourceVersion(),
        };
        FillTemplate(deployment, null, null);
        deployment.Selector.Remove("pod-template-hash");
        string rsName = $"{def.Name}-{hash}";
        var rs = new KubeWorkload
        {
            ClusterName = cluster.Name,
            Kind = "ReplicaSet",
            Namespace = def.Namespace,
            Name = rsName,
            Uid = pods.FirstOrDefault()?.OwnerUid ?? Ids.Uuid($"owner/{cluster.Name}/{def.Namespace}/{rsName}"),
            CreationTimestamp = created,
            Replicas = def.Replicas,
            OwnerKind = "Deployment",
            OwnerName = deployment.Name,
            OwnerUid = deployment.Uid,
            TemplateHash = hash,
            ResourceVersion = NextResourceVersion(),
            PodsCreated = pods.Count,
        };
        FillTemplate(rs, "pod-template-hash", hash);
        rs.Labels["pod-template-hash"] = hash;
        Workloads[(cluster.Name, "Deployment", def.Namespace, def.Name)] = deployment;
        Workloads[(cluster.Name, "ReplicaSet", def.Namespace, rsName)] = rs;
    }

    // ---- scaling -----------------------------------------------------------------------------

    /// <summary>Sets a Deployment's, ReplicaSet's or StatefulSet's replicas; its controller creates or deletes pods.</summary>
    public void ScaleWorkload(KubeWorkload workload, int replicas)
    {
        ArgumentNullException.ThrowIfNull(workload);
        if (workload.Replicas == replicas)
        {
            return;
        }

        workload.Replicas = replicas;
        workload.Generation++;
        workload.ResourceVersion = NextResourceVersion();
        if (workload.Kind == "Deployment")
        {
            foreach (KubeWorkload rs in Workloads.Values.Where(w => w.Kind == "ReplicaSet" && w.OwnerUid == workload.Uid))
            {
                RecordKubeEvent(workload.ClusterName, workload.Namespace, "Deployment", workload.Name, workload.Uid, "Normal", "ScalingReplicaSet",
                    $"Scaled {(replicas > rs.Replicas ? "up" : "down")} replica set {rs.Name} from {rs.Replicas} to {replicas}", "deployment-controller", involvedApiVersion: "apps/v1");
                rs.Replicas = replicas;
                rs.Generation++;
                rs.ResourceVersion = NextResourceVersion();
            }
        }

        _dirtyOwners.Add(workload.Uid);
        foreach (KubeWorkload rs in Workloads.Values.Where(w => w.OwnerUid == workload.Uid))
        {
            _dirtyOwners.Add(rs.Uid);
        }

        Reconcile();
    }

    // ---- controllers and scheduler -----------------------------------------------------------

    /// <summary>Runs the controllers and the scheduler until nothing changes. Re-entrant calls (from the hooks the
    /// controllers themselves trigger) return at once: the running loop sees their changes.</summary>
    private void Reconcile()
    {
        if (_reconciling)
        {
            return;
        }

        _reconciling = true;
        try
        {
            for (int round = 0; round < 50; round++)
            {
                bool changed = RunWorkloadControllers();
                changed |= RunScheduler();
                if (!changed)
                {
                    break;
                }
            }
        }
        finally
        {
            _reconciling = false;
        }
    }

    /// <summary>Syncs the workloads whose pods (or scale, or nodes) changed since their last sync.</summary>
    private bool RunWorkloadControllers()
    {
        bool changed = false;
        while (_dirtyOwners.Count > 0)
        {
            List<KubeWorkload> dirty = _dirtyOwners.Select(WorkloadByUid).OfType<KubeWorkload>().OrderBy(w => w.Name, StringComparer.Ordinal).ToList();
            _dirtyOwners.Clear();
            foreach (KubeWorkload w in dirty)
            {
                changed |= w.Kind switch
                {
                    "ReplicaSet" => SyncReplicaSet(w),
                    "StatefulSet" => SyncStatefulSet(w),
                    "DaemonSet" => SyncDaemonSet(w),
                    _ => false,
                };
            }

            if (!changed)
            {
                break;
            }

            // Pods the sync created or deleted marked their owner dirty again: that second look finds nothing to do.
            _dirtyOwners.ExceptWith(dirty.Select(w => w.Uid));
        }

        return changed;
    }

    private List<KubePod> OwnedPods(KubeWorkload w) =>
        _podsByOwner.TryGetValue(w.Uid, out HashSet<(string Cluster, string Namespace, string Name)>? keys)
            ? keys.Select(k => Pods.GetValueOrDefault(k)).OfType<KubePod>().Where(p => p.OwnerUid == w.Uid).ToList()
            : [];

    private bool SyncReplicaSet(KubeWorkload rs)
    {
        List<KubePod> active = OwnedPods(rs).Where(IsActive).ToList();
        int missing = rs.Replicas - active.Count;
        for (int i = 0; i < missing; i++)
        {
            string name;
            do
            {
                name = $"{rs.Name}-{RandomKubeName(5)}";
            }
            while (Pods.ContainsKey((rs.ClusterName, rs.Namespace, name)));

            CreatePod(rs, name, null);
        }

        // Too many: delete the least useful first (unscheduled, then not ready, then the newest).
        foreach (KubePod extra in active
            .OrderBy(p => p.NodeName is null ? 0 : 1).ThenBy(p => p.Ready ? 1 : 0).ThenByDescending(p => p.CreationTimestamp)
            .Take(Math.Max(0, -missing)).ToList())
        {
            DeletePodGracefully(extra, null, PodDeletionCause.Controller);
        }

        return missing != 0;
    }

    private bool SyncStatefulSet(KubeWorkload sts)
    {
        // Stable names: ordinal i is recreated only once its previous pod is completely gone.
        bool changed = false;
        List<KubePod> owned = OwnedPods(sts);
        for (int i = 0; i < sts.Replicas; i++)
        {
            string name = $"{sts.Name}-{i}";
            if (!Pods.ContainsKey((sts.ClusterName, sts.Namespace, name)))
            {
                CreatePod(sts, name, null);
                changed = true;
            }
        }

        foreach (KubePod extra in owned.Where(p => IsActive(p) && int.TryParse(p.Name[(sts.Name.Length + 1)..], out int o) && o >= sts.Replicas)
            .OrderByDescending(p => p.Name, StringComparer.Ordinal).ToList())
        {
            DeletePodGracefully(extra, null, PodDeletionCause.Controller);
            changed = true;
        }

        return changed;
    }

    private bool SyncDaemonSet(KubeWorkload ds)
    {
        bool changed = false;
        List<KubePod> owned = OwnedPods(ds);
        List<KubeNode> eligible = DaemonSetNodes(ds);
        foreach (KubeNode node in eligible)
        {
            if (!owned.Exists(p => p.NodeName == node.Name && IsActive(p)))
            {
                string name;
                do
                {
                    name = $"{ds.Name}-{RandomKubeName(5)}";
                }
                while (Pods.ContainsKey((ds.ClusterName, ds.Namespace, name)));

                CreatePod(ds, name, node);
                changed = true;
            }
        }

        var eligibleNames = eligible.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        foreach (KubePod stray in owned.Where(p => IsActive(p) && p.NodeName is not null && !eligibleNames.Contains(p.NodeName)).ToList())
        {
            // The node no longer matches the selector (labels changed) or has a NoExecute taint the pod does not
            // tolerate: the DaemonSet removes its pod. Cordoned, NotReady or NoSchedule-tainted nodes keep theirs.
            if (Nodes.TryGetValue((ds.ClusterName, stray.NodeName!), out KubeNode? node)
                && (!Selects(ds.Template.NodeSelector, node.Labels) || node.Taints.Exists(t => t.Effect == "NoExecute" && !DaemonTolerates(ds.Template.Tolerations, t))))
            {
                DeletePodGracefully(stray, null, PodDeletionCause.Controller);
                changed = true;
            }
        }

        return changed;
    }

    /// <summary>The Ready nodes a DaemonSet should run a pod on (selector matches, taints tolerated).</summary>
    public List<KubeNode> DaemonSetNodes(KubeWorkload ds)
    {
        ArgumentNullException.ThrowIfNull(ds);
        return Nodes.Values
            .Where(n => n.ClusterName == ds.ClusterName && n.Ready && Selects(ds.Template.NodeSelector, n.Labels)
                && n.Taints.TrueForAll(t => t.Effect == "PreferNoSchedule" || DaemonTolerates(ds.Template.Tolerations, t)))
            .OrderBy(n => n.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The pods a workload owns directly (a Deployment's are its ReplicaSets' pods).</summary>
    public List<KubePod> PodsOf(KubeWorkload workload)
    {
        ArgumentNullException.ThrowIfNull(workload);
        if (workload.Kind == "Deployment")
        {
            var sets = Workloads.Values.Where(w => w.Kind == "ReplicaSet" && w.OwnerUid == workload.Uid).Select(w => w.Uid).ToHashSet(StringComparer.Ordinal);
            return Pods.Values.Where(p => p.ClusterName == workload.ClusterName && p.OwnerUid is not null && sets.Contains(p.OwnerUid)).ToList();
        }

        return OwnedPods(workload);
    }

    /// <summary>
    /// The taint manager: pods on a node with a NoExecute taint they do not tolerate are deleted (directly, not through
    /// the eviction API, so PDBs do not hold them). Every pod tolerates not-ready/unreachable for 300 s by default;
    /// the simulator treats those two as tolerated.
    /// </summary>
    private void EvictForNoExecuteTaints(KubeNode node)
    {
        List<(string Key, string? Value, string Effect)> noExecute = node.Taints
            .Where(t => t.Effect == "NoExecute" && t.Key is not ("node.kubernetes.io/not-ready" or "node.kubernetes.io/unreachable")).ToList();
        if (noExecute.Count == 0)
        {
            return;
        }

        foreach (KubePod pod in Pods.Values.Where(p => p.ClusterName == node.ClusterName && p.NodeName == node.Name && p.DeletionTimestamp is null).ToList())
        {
            if (noExecute.Exists(t => !pod.Tolerations.Exists(x => x.Tolerates(t.Key, t.Value, t.Effect))))
            {
                RecordKubeEvent(pod.ClusterName, pod.Namespace, "Pod", pod.Name, pod.Uid, "Normal", "TaintManagerEviction",
                    $"Marking for deletion Pod {pod.Namespace}/{pod.Name}", "taint-eviction-controller");
                DeletePodGracefully(pod, null, PodDeletionCause.TaintManager);
            }
        }
    }

    /// <summary>DaemonSet pods tolerate the node conditions and cordoning automatically (daemon controller defaults).</summary>
    private static bool DaemonTolerates(List<KubeToleration> tolerations, (string Key, string? Value, string Effect) taint) =>
        taint.Key is "node.kubernetes.io/unschedulable" or "node.kubernetes.io/not-ready" or "node.kubernetes.io/unreachable"
            or "node.kubernetes.io/disk-pressure" or "node.kubernetes.io/memory-pressure" or "node.kubernetes.io/pid-pressure"
            or "node.kubernetes.io/network-unavailable"
        || tolerations.Exists(t => t.Tolerates(taint.Key, taint.Value, taint.Effect));

    private KubePod CreatePod(KubeWorkload owner, string name, KubeNode? node)
    {
        DateTimeOffset now = Clock.GetUtcNow();
        var pod = new KubePod
        {
            ClusterName = owner.ClusterName,
            Namespace = owner.Namespace,
            Name = name,
            Uid = Guid.NewGuid().ToString(),
            CreationTimestamp = now,
            Phase = "Pending",
            Ready = false,
            OwnerKind = owner.Kind,
            OwnerName = owner.Name,
            OwnerUid = owner.Uid,
            TerminationGracePeriodSeconds = owner.Template.TerminationGracePeriodSeconds,
        };
        foreach (KeyValuePair<string, string> l in owner.Template.Labels)
        {
            pod.Labels[l.Key] = l.Value;
        }

        if (owner.Kind == "StatefulSet")
        {
            pod.Labels["statefulset.kubernetes.io/pod-name"] = name;
            pod.Labels["apps.kubernetes.io/pod-index"] = name[(owner.Name.Length + 1)..];
        }

        foreach (KeyValuePair<string, string> s in owner.Template.NodeSelector)
        {
            pod.NodeSelector[s.Key] = s.Value;
        }

        pod.Containers.AddRange(owner.Template.Containers.Select(c => new KubeContainer { Name = c.Name, Image = c.Image }));
        pod.Tolerations.AddRange(owner.Template.Tolerations);
        owner.PodsCreated++;
        Pods[(pod.ClusterName, pod.Namespace, pod.Name)] = pod;
        RecordKubeEvent(owner.ClusterName, owner.Namespace, owner.Kind, owner.Name, owner.Uid, "Normal", "SuccessfulCreate",
            $"Created pod: {name}", owner.Kind switch { "ReplicaSet" => "replicaset-controller", "DaemonSet" => "daemonset-controller", _ => "statefulset-controller" },
            involvedApiVersion: "apps/v1");
        PodChanged(pod, deleted: false);
        if (node is not null)
        {
            Bind(pod, node);
        }

        return pod;
    }

    // Kubernetes' name suffix alphabet (no vowels, no confusable digits).
    private const string NameAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    private string RandomKubeName(int length)
    {
        var sb = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            sb.Append(NameAlphabet[_kubeNames.Next(NameAlphabet.Length)]);
        }

        return sb.ToString();
    }

    private static string KubeName(string seed, int length)
    {
        string hex = Ids.Hex(seed, length * 2);
        var sb = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            sb.Append(NameAlphabet[Convert.ToInt32(hex.Substring(i * 2, 2), 16) % NameAlphabet.Length]);
        }

        return sb.ToString();
    }
}
