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

    // ---- pods: deletion, eviction ------------------------------------------------------------

    private static bool IsHealthy(KubePod p) => p.DeletionTimestamp is null && p.Ready && p.Phase == "Running";

    private static bool IsActive(KubePod p) => p.DeletionTimestamp is null && p.Phase is not ("Succeeded" or "Failed");

    /// <summary>
    /// Starts a graceful deletion (deletionTimestamp now + grace; gone when the grace period ends) or, with a grace
    /// of 0 or a pod that never ran on a node, removes it at once. Returns the pod as the DELETE call answers it.
    /// </summary>
    public KubePod DeletePodGracefully(KubePod pod, long? gracePeriodSeconds, PodDeletionCause cause)
    {
        ArgumentNullException.ThrowIfNull(pod);
        long grace = Math.Max(0, gracePeriodSeconds ?? pod.TerminationGracePeriodSeconds);
        DateTimeOffset now = Clock.GetUtcNow();
        if (pod.DeletionTimestamp is not null)
        {
            // Already terminating: a shorter grace period brings the end forward, a longer one changes nothing.
            if (grace == 0 || now.AddSeconds(grace) < pod.DeletionTimestamp)
            {
                if (grace == 0)
                {
                    RemovePodNow(pod, cause, record: false);
                }
                else
                {
                    pod.DeletionTimestamp = now.AddSeconds(grace);
                    pod.DeletionGracePeriodSeconds = grace;
                    ScheduleRemoval(pod, TimeSpan.FromSeconds(grace));
                    PodChanged(pod, deleted: false);
                }
            }

            return pod;
        }

        if (grace == 0 || pod.NodeName is null)
        {
            RemovePodNow(pod, cause, record: true);
            return pod;
        }

        RecordDeletion(pod, cause);
        pod.DeletionTimestamp = now.AddSeconds(grace);
        pod.DeletionGracePeriodSeconds = grace;
        pod.Ready = false;
        foreach (KubeContainer c in pod.Containers)
        {
            RecordKubeEvent(pod.ClusterName, pod.Namespace, "Pod", pod.Name, pod.Uid, "Normal", "Killing", $"Stopping container {c.Name}", "kubelet", pod.NodeName);
        }

        ScheduleRemoval(pod, TimeSpan.FromSeconds(grace));
        PodChanged(pod, deleted: false);
        return pod;
    }

    /// <summary>
    /// The node's kubelet stops posting status (a hung Windows node): the node lifecycle controller marks it NotReady
    /// (Ready Unknown) and taints it node.kubernetes.io/unreachable:NoSchedule; its pods keep their status, and any pod
    /// deleted on it stays Terminating. Starting the kubelet again makes the node Ready and finishes those deletions.
    /// </summary>
    public void SetKubelet(KubeNode node, bool running)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (node.KubeletRunning == running)
        {
            return;
        }

        const string unreachable = "node.kubernetes.io/unreachable";
        node.KubeletRunning = running;
        node.Ready = running;
        node.ReadySince = Clock.GetUtcNow();
        node.Taints.RemoveAll(t => t.Key == unreachable);
        if (!running)
        {
            node.Taints.Add((unreachable, null, "NoSchedule"));
        }

        NodeChanged(node);
        if (running)
        {
            foreach (KubePod pod in Pods.Values.Where(p => p.ClusterName == node.ClusterName && p.NodeName == node.Name && p.DeletionTimestamp is not null).ToList())
            {
                ScheduleRemoval(pod, pod.DeletionTimestamp!.Value > Clock.GetUtcNow() ? pod.DeletionTimestamp.Value - Clock.GetUtcNow() : TimeSpan.Zero);
            }
        }
    }

    private void ScheduleRemoval(KubePod pod, TimeSpan after)
    {
        string uid = pod.Uid;
        (string, string, string) key = (pod.ClusterName, pod.Namespace, pod.Name);
        DateTimeOffset? deadline = pod.DeletionTimestamp;
        AfterSimulated(after, () =>
        {
            // A later, shorter grace period moved the deadline and set its own timer: this one then does nothing. On a node
            // whose kubelet stopped, nothing confirms the containers stopped: the pod stays Terminating until its node is
            // deleted or it is deleted with grace 0.
            if (Pods.TryGetValue(key, out KubePod? p) && p.Uid == uid && p.DeletionTimestamp == deadline
                && !(p.NodeName is { } nodeName && Nodes.TryGetValue((p.ClusterName, nodeName), out KubeNode? node) && !node.KubeletRunning))
            {
                RemovePodNow(p, PodDeletionCause.Delete, record: false);
            }
        });
    }

    /// <summary>Removes a pod from the API at once (DELETED to watchers).</summary>
    private void RemovePodNow(KubePod pod, PodDeletionCause cause, bool record)
    {
        if (record)
        {
            RecordDeletion(pod, cause);
        }

        Pods.Remove((pod.ClusterName, pod.Namespace, pod.Name));
        _reportedUnschedulable.Remove(pod.Uid);
        PodChanged(pod, deleted: true);
    }

    /// <summary>Notes the deletion, and a PDB violation when a healthy pod goes while its budget allows no disruption.</summary>
    private void RecordDeletion(KubePod pod, PodDeletionCause cause)
    {
        DateTimeOffset now = Clock.GetUtcNow();
        _podDeletions.Add(new PodDeletionRecord(now, pod.ClusterName, pod.Namespace, pod.Name, pod.Uid, pod.NodeName, pod.OwnerKind, pod.OwnerName, cause, pod.Ready));
        if (cause == PodDeletionCause.Eviction || !IsHealthy(pod))
        {
            return;
        }

        foreach (KubePdb pdb in MatchingPdbs(pod))
        {
            PdbStatusSnapshot status = PdbStatus(pdb);
            if (status.DisruptionsAllowed == 0)
            {
                _pdbViolations.Add(new PdbViolationRecord(now, pod.ClusterName, pod.Namespace, pdb.Name, pod.Name, cause, status.DesiredHealthy, status.CurrentHealthy - 1));
            }
        }
    }

    /// <summary>The eviction subresource: PDB-gated graceful deletion, as the API server's eviction REST handler decides.</summary>
    public EvictionOutcome EvictPod(string cluster, string ns, string name, long? gracePeriodSeconds, bool dryRun)
    {
        if (!Pods.TryGetValue((cluster, ns, name), out KubePod? pod))
        {
            return new EvictionOutcome(404);
        }

        // A terminating pod is already on its way out; pods that are not running do not count against a budget.
        if (pod.DeletionTimestamp is not null)
        {
            return new EvictionOutcome(201);
        }

        List<KubePdb> pdbs = pod.Phase is "Pending" or "Succeeded" or "Failed" ? [] : MatchingPdbs(pod);
        if (pdbs.Count > 1)
        {
            return new EvictionOutcome(500);
        }

        if (pdbs.Count == 1)
        {
            PdbStatusSnapshot status = PdbStatus(pdbs[0]);
            // An unready pod may go while the budget is met (unhealthyPodEvictionPolicy IfHealthyBudget).
            bool allowed = IsHealthy(pod) ? status.DisruptionsAllowed > 0 : status.CurrentHealthy >= status.DesiredHealthy;
            if (!allowed)
            {
                return new EvictionOutcome(429, pdbs[0].Name, status);
            }
        }

        if (!dryRun)
        {
            DeletePodGracefully(pod, gracePeriodSeconds, PodDeletionCause.Eviction);
        }

        return new EvictionOutcome(201);
    }

    /// <summary>PDBs of the pod's namespace whose selector matches it.</summary>
    public List<KubePdb> MatchingPdbs(KubePod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return PodDisruptionBudgets.Values
            .Where(b => b.ClusterName == pod.ClusterName && b.Namespace == pod.Namespace && Selects(b.Selector, pod.Labels))
            .OrderBy(b => b.Name, StringComparer.Ordinal)
            .ToList();
    }

    private static bool Selects(Dictionary<string, string> selector, Dictionary<string, string> labels) =>
        selector.All(s => labels.TryGetValue(s.Key, out string? v) && v == s.Value);

    /// <summary>The disruption controller's computation (pkg/controller/disruption): expected, desired and current healthy pods.</summary>
    public PdbStatusSnapshot PdbStatus(KubePdb pdb)
    {
        ArgumentNullException.ThrowIfNull(pdb);
        List<KubePod> pods = Pods.Values
            .Where(p => p.ClusterName == pdb.ClusterName && p.Namespace == pdb.Namespace && Selects(pdb.Selector, p.Labels))
            .ToList();
        int currentHealthy = pods.Count(IsHealthy);
        int expected;
        int desired;
        if (pdb.MaxUnavailable is null && pdb.MinAvailable is not null && !pdb.MinAvailable.EndsWith('%'))
        {
            expected = pods.Count;
            desired = int.Parse(pdb.MinAvailable, CultureInfo.InvariantCulture);
        }
        else
        {
            // Percentages and maxUnavailable count against the controllers' desired scale.
            expected = pods.Where(p => p.OwnerUid is not null).GroupBy(p => p.OwnerUid).Sum(g => ControllerScale(g.First(), g.Count()))
                + pods.Count(p => p.OwnerUid is null);
            if (pdb.MaxUnavailable is not null)
            {
                desired = Math.Max(0, expected - Scaled(pdb.MaxUnavailable, expected));
            }
            else
            {
                desired = Scaled(pdb.MinAvailable ?? "0", expected);
            }
        }

        int allowed = expected <= 0 ? 0 : Math.Max(0, currentHealthy - desired);
        return new PdbStatusSnapshot(currentHealthy, desired, expected, allowed);
    }

    private int ControllerScale(KubePod pod, int podsSeen)
    {
        KubeWorkload? owner = Workloads.Values.FirstOrDefault(w => w.Uid == pod.OwnerUid);
        if (owner is null || owner.Kind == "DaemonSet")
        {
            return podsSeen;
        }

        if (owner.Kind == "ReplicaSet" && owner.OwnerUid is not null)
        {
            KubeWorkload? deployment = Workloads.Values.FirstOrDefault(w => w.Uid == owner.OwnerUid);
            return deployment?.Replicas ?? owner.Replicas;
        }

        return owner.Replicas;
    }

    private static int Scaled(string intOrPercent, int total)
    {
        if (intOrPercent.EndsWith('%'))
        {
            double percent = double.Parse(intOrPercent[..^1], CultureInfo.InvariantCulture);
            return (int)Math.Ceiling(percent * total / 100.0);
        }

        return int.Parse(intOrPercent, CultureInfo.InvariantCulture);
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
            p.Ready = true;
            p.RunningSince = Scheduler.Now;
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
