namespace WinEksPatch.Simulator.World;

// Incremental bookkeeping for the controllers and the scheduler, so that one pod change costs work in proportion to
// what it touches, not to the size of the cluster (the large scenario has tens of thousands of pods): pods by owner,
// pods counted per node, unscheduled pods, and the workloads whose pods changed since they were last synced.
public sealed partial class SimWorld
{
    private readonly Dictionary<string, HashSet<(string Cluster, string Namespace, string Name)>> _podsByOwner = new(StringComparer.Ordinal);
    // Pod uid → the node it is counted on (bound, not finished); and the count per node.
    private readonly Dictionary<string, (string Cluster, string Node)> _countedOn = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Cluster, string Node), int> _podsPerNode = [];
    private readonly SortedSet<(DateTimeOffset Created, string Cluster, string Namespace, string Name)> _unscheduled = [];
    private readonly HashSet<string> _dirtyOwners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KubeWorkload> _workloadsByUid = new(StringComparer.Ordinal);
    private int _workloadsIndexed = -1;

    /// <summary>Keeps the indexes in step with one pod (called for every pod change, and for loaded pods).</summary>
    private void IndexPod(KubePod pod, bool deleted)
    {
        var key = (pod.ClusterName, pod.Namespace, pod.Name);
        if (pod.OwnerUid is not null)
        {
            if (deleted)
            {
                if (_podsByOwner.TryGetValue(pod.OwnerUid, out HashSet<(string, string, string)>? set))
                {
                    set.Remove(key);
                }
            }
            else
            {
                if (!_podsByOwner.TryGetValue(pod.OwnerUid, out HashSet<(string, string, string)>? set))
                {
                    _podsByOwner[pod.OwnerUid] = set = [];
                }

                set.Add(key);
            }

            _dirtyOwners.Add(pod.OwnerUid);
        }

        (string Cluster, string Node)? countOn = !deleted && pod.NodeName is not null && pod.Phase is not ("Succeeded" or "Failed")
            ? (pod.ClusterName, pod.NodeName) : null;
        if (_countedOn.TryGetValue(pod.Uid, out (string Cluster, string Node) counted) && counted != countOn)
        {
            _podsPerNode[counted] = _podsPerNode.GetValueOrDefault(counted) - 1;
            _countedOn.Remove(pod.Uid);
        }

        if (countOn is { } on && !_countedOn.ContainsKey(pod.Uid))
        {
            _podsPerNode[on] = _podsPerNode.GetValueOrDefault(on) + 1;
            _countedOn[pod.Uid] = on;
        }

        var pendingKey = (pod.CreationTimestamp, pod.ClusterName, pod.Namespace, pod.Name);
        if (!deleted && pod.NodeName is null && pod.DeletionTimestamp is null && pod.Phase == "Pending")
        {
            _unscheduled.Add(pendingKey);
        }
        else
        {
            _unscheduled.Remove(pendingKey);
        }
    }

    private int PodsOnNode(string cluster, string node) => _podsPerNode.GetValueOrDefault((cluster, node));

    /// <summary>A node changed or went: every DaemonSet of its cluster may have to add or remove a pod.</summary>
    private void MarkDaemonSetsDirty(string cluster)
    {
        foreach (KubeWorkload ds in Workloads.Values.Where(w => w.ClusterName == cluster && w.Kind == "DaemonSet"))
        {
            _dirtyOwners.Add(ds.Uid);
        }
    }

    private KubeWorkload? WorkloadByUid(string uid)
    {
        if (_workloadsIndexed != Workloads.Count || (_workloadsByUid.TryGetValue(uid, out KubeWorkload? cached) && !ReferenceEquals(cached, Workloads.GetValueOrDefault((cached.ClusterName, cached.Kind, cached.Namespace, cached.Name)))))
        {
            _workloadsByUid.Clear();
            foreach (KubeWorkload w in Workloads.Values)
            {
                _workloadsByUid[w.Uid] = w;
            }

            _workloadsIndexed = Workloads.Count;
        }

        return _workloadsByUid.GetValueOrDefault(uid);
    }
}
