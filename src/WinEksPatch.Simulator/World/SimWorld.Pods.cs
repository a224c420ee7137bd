using System.Globalization;
using System.Text;
using WinEksPatch.Simulator.Scenarios;

namespace WinEksPatch.Simulator.World;

// Pods leaving: graceful deletion, the eviction subresource and the disruption controller's budgets. Under Gate.
public sealed partial class SimWorld
{

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
}
