namespace WinEksPatch.Simulator.World;

/// <summary>A change of a Kubernetes object, as watchers hear it (raised with <see cref="SimWorld.Gate"/> held).</summary>
/// <param name="Type">ADDED, MODIFIED or DELETED; or <see cref="Loaded"/> for an object the scenario created (no event).</param>
/// <param name="Node">The node that changed, or null.</param>
/// <param name="Pod">The pod that changed, or null.</param>
public sealed record KubeChange(string Type, KubeNode? Node, KubePod? Pod)
{
    public const string Loaded = "LOADED";

    public string Cluster => Node?.ClusterName ?? Pod!.ClusterName;
}

/// <summary>Disruptions so far, for the simulator report.</summary>
public sealed record KubernetesDisruptionReport(IReadOnlyList<PodDeletionRecord> PodDeletions, IReadOnlyList<PdbViolationRecord> PdbViolations)
{
    /// <summary>Pods of a controller that were deleted directly (not through the eviction API) while they ran.</summary>
    public IEnumerable<PodDeletionRecord> DeletedRatherThanEvicted => PodDeletions.Where(d => d.Cause == PodDeletionCause.Delete);
}

// The Kubernetes area's state and its side of the cross-area hooks: watch notifications, the scheduler and the
// controllers (SimWorld.KubernetesControllers.cs) react to node and pod changes.
public sealed partial class SimWorld
{
    /// <summary>Workloads keyed by (cluster, kind, namespace, name); kind is Deployment, ReplicaSet, DaemonSet or StatefulSet.</summary>
    public Dictionary<(string Cluster, string Kind, string Namespace, string Name), KubeWorkload> Workloads { get; } = [];

    /// <summary>PodDisruptionBudgets keyed by (cluster, namespace, name).</summary>
    public Dictionary<(string Cluster, string Namespace, string Name), KubePdb> PodDisruptionBudgets { get; } = [];

    /// <summary>coordination.k8s.io/v1 Leases keyed by (cluster, namespace, name), stored as the API server returns them.</summary>
    public Dictionary<(string Cluster, string Namespace, string Name), System.Text.Json.Nodes.JsonObject> Leases { get; } = [];

    /// <summary>core/v1 Events, oldest first (bounded: the oldest are dropped, as the API server's TTL would).</summary>
    public List<KubeEvent> KubeEvents { get; } = [];

    private const int MaxKubeEvents = 20_000;
    private readonly List<PodDeletionRecord> _podDeletions = [];
    private readonly List<PdbViolationRecord> _pdbViolations = [];
    // Objects watchers have seen (loaded or ADDED), so a NodeChanged/PodChanged knows ADDED from MODIFIED.
    private readonly HashSet<string> _announcedUids = new(StringComparer.Ordinal);
    // Events by (cluster, object, reason, message), for the recorder's deduplication.
    private readonly Dictionary<string, KubeEvent> _eventsByKey = new(StringComparer.Ordinal);

    /// <summary>Raised with <see cref="Gate"/> held for every node and pod change; the Kubernetes API's watch hub listens.</summary>
    public event Action<KubeChange>? KubernetesObjectChanged;

    /// <summary>A copy of every pod deletion and PDB violation so far.</summary>
    public KubernetesDisruptionReport DisruptionReport()
    {
        lock (Gate)
        {
            return new KubernetesDisruptionReport([.. _podDeletions], [.. _pdbViolations]);
        }
    }

    partial void OnNodeChanged(KubeNode node)
    {
        // The node lifecycle controller mirrors spec.unschedulable as a NoSchedule taint (TaintNodesByCondition).
        const string unschedulableTaint = "node.kubernetes.io/unschedulable";
        int at = node.Taints.FindIndex(t => t.Key == unschedulableTaint);
        if (node.Unschedulable && at < 0)
        {
            node.Taints.Add((unschedulableTaint, null, "NoSchedule"));
        }
        else if (!node.Unschedulable && at >= 0)
        {
            node.Taints.RemoveAt(at);
        }

        node.ResourceVersion = NextResourceVersion();
        string type = _announcedUids.Add(node.Uid) ? "ADDED" : "MODIFIED";
        KubernetesObjectChanged?.Invoke(new KubeChange(type, node, null));
        EvictForNoExecuteTaints(node);
        MarkDaemonSetsDirty(node.ClusterName);
        Reconcile();
    }

    partial void OnNodeRemoved(KubeNode node)
    {
        if (Nodes.TryGetValue((node.ClusterName, node.Name), out KubeNode? current) && ReferenceEquals(current, node))
        {
            Nodes.Remove((node.ClusterName, node.Name));
        }

        if (_announcedUids.Remove(node.Uid))
        {
            node.ResourceVersion = NextResourceVersion();
            KubernetesObjectChanged?.Invoke(new KubeChange("DELETED", node, null));
        }

        // Its pods are gone with it (the pod garbage collector removes pods bound to a missing node).
        foreach (KubePod pod in Pods.Values.Where(p => p.ClusterName == node.ClusterName && p.NodeName == node.Name).ToList())
        {
            bool alreadyRecorded = pod.DeletionTimestamp is not null;
            RemovePodNow(pod, PodDeletionCause.NodeRemoved, record: !alreadyRecorded);
        }

        MarkDaemonSetsDirty(node.ClusterName);
        Reconcile();
    }

    partial void OnPodChanged(KubePod pod, bool deleted)
    {
        IndexPod(pod, deleted);
        pod.ResourceVersion = NextResourceVersion();
        string type = deleted ? "DELETED" : _announcedUids.Add(pod.Uid) ? "ADDED" : "MODIFIED";
        if (deleted && !_announcedUids.Remove(pod.Uid))
        {
            return; // never seen by watchers
        }

        KubernetesObjectChanged?.Invoke(new KubeChange(type, null, pod));
        Reconcile();
    }

    /// <summary>Records a core/v1 Event (deduplicated like the event recorder: same object, reason and message count up).</summary>
    public void RecordKubeEvent(string cluster, string ns, string involvedKind, string involvedName, string? involvedUid,
        string type, string reason, string message, string component, string? host = null, string involvedApiVersion = "v1")
    {
        DateTimeOffset now = Clock.GetUtcNow();
        string dedupeKey = string.Join('\n', cluster, involvedKind, involvedName, involvedUid, reason, message);
        if (_eventsByKey.TryGetValue(dedupeKey, out KubeEvent? same))
        {
            same.Count++;
            same.LastTimestamp = now;
            same.ResourceVersion = NextResourceVersion();
            return;
        }

        long rv = NextResourceVersion();
        var added = new KubeEvent
        {
            ClusterName = cluster,
            Namespace = ns,
            Name = $"{involvedName}.{rv:x16}",
            Uid = Scenarios.Ids.Uuid($"event/{cluster}/{rv}"),
            InvolvedKind = involvedKind,
            InvolvedName = involvedName,
            InvolvedNamespace = involvedKind == "Node" ? null : ns,
            InvolvedUid = involvedUid,
            InvolvedApiVersion = involvedApiVersion,
            Type = type,
            Reason = reason,
            Message = message,
            SourceComponent = component,
            SourceHost = host,
            FirstTimestamp = now,
            LastTimestamp = now,
            ResourceVersion = rv,
        };
        KubeEvents.Add(added);
        _eventsByKey[dedupeKey] = added;
        if (KubeEvents.Count > MaxKubeEvents)
        {
            foreach (KubeEvent old in KubeEvents.Take(KubeEvents.Count - MaxKubeEvents))
            {
                _eventsByKey.Remove(string.Join('\n', old.ClusterName, old.InvolvedKind, old.InvolvedName, old.InvolvedUid, old.Reason, old.Message));
            }

            KubeEvents.RemoveRange(0, KubeEvents.Count - MaxKubeEvents);
        }
    }
}
