using System.Globalization;
using System.Text.Json.Nodes;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Report;

/// <summary>One entry of the report's timeline (simulated time). Kind: InstanceLaunched (Detail: the AMI id),
/// InstanceRunning (Detail: the instance id), OsReady (Windows; Detail: "Sysprep specialize and OOBE" or "restored from
/// pre-provisioned snapshot snap-…"), NodeAdded (Detail: the instance id), NodeReady, NodeUsable (pods can be placed: a
/// Windows node's pod IPs advertised, a Linux node Ready), NodeNotReady, NodeCordoned, NodeUncordoned, NodeRemoved,
/// PodStarted, PodEvicted, PodDeleted, PodDeletedWithNode, PodDeletedByController, PodEvictedByTaint. An instance's events
/// name the node it is (or will be: its private DNS name) and its group as node events do.</summary>
public sealed record ReportEvent(DateTimeOffset At, string Kind, string Cluster, string? NodeGroup, string? Node, string? Namespace, string? Pod, string? Detail);

/// <summary>
/// What the simulator saw since it started (or since the last reset), for <c>GET /_sim/report</c>: AWS API calls by
/// service and operation, Kubernetes requests by verb and resource (watches apart from lists), a timeline of node and
/// pod events, and the invariants: PDB violations, the lowest count of Ready schedulable nodes per node group, pods
/// deleted rather than evicted. Node and pod changes arrive through <see cref="SimWorld.KubernetesObjectChanged"/>, boot
/// phases through <see cref="SimWorld.InstancePhaseReached"/> (world lock held), each stamped with the simulated time it
/// happened at (the scheduler's, so a clock jump that runs many events keeps them apart); requests are counted from the
/// endpoints (any thread). Lock order: world gate, then this.
/// </summary>
public sealed class SimReport
{
    private const int MaxEvents = 100_000;
    private readonly SimWorld _world;
    private readonly object _lock = new();
    private readonly Dictionary<(string Service, string Operation), Counter> _api = [];
    private readonly Dictionary<(string Verb, string Resource), Counter> _kube = [];
    private readonly List<ReportEvent> _events = [];
    // Under the world gate: each node's last seen state, each group's Ready schedulable count and low-water mark.
    private readonly Dictionary<string, NodeState> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Cluster, string Group), GroupState> _groups = [];
    private readonly HashSet<string> _readyPods = new(StringComparer.Ordinal);
    private DateTimeOffset _since;
    private long _eventsDropped;

    public SimReport(SimWorld world)
    {
        _world = world;
        lock (world.Gate)
        {
            _since = world.Clock.GetUtcNow();
            foreach (KubeNode node in world.Nodes.Values)
            {
                Seed(node);
            }

            foreach (KubePod pod in world.Pods.Values.Where(p => p.Ready && p.NodeName is not null && p.DeletionTimestamp is null))
            {
                _readyPods.Add(pod.Uid);
            }

            ResetLowest(_since);
            world.KubernetesObjectChanged += OnChange;
            world.InstancePhaseReached += Add;
        }
    }

    /// <summary>Counts one AWS API call and its outcome.</summary>
    public void RecordAws(string service, string operation, int status, bool throttled)
    {
        lock (_lock)
        {
            Counter c = Get(_api, (service, operation));
            c.Count++;
            c.Errors += status >= 400 ? 1 : 0;
            c.Throttled += throttled ? 1 : 0;
        }
    }

    /// <summary>Counts one Kubernetes request (a watch when it starts); its outcome follows with <see cref="CompleteKubernetes"/>.</summary>
    public void RecordKubernetes(string verb, string resource)
    {
        lock (_lock)
        {
            Get(_kube, (verb, resource)).Count++;
        }
    }

    public void CompleteKubernetes(string verb, string resource, int status)
    {
        if (status < 400)
        {
            return;
        }

        lock (_lock)
        {
            Counter c = Get(_kube, (verb, resource));
            c.Errors++;
            c.Throttled += status == 429 && resource != "pods/eviction" ? 1 : 0;
            c.Unauthorized += status == 401 ? 1 : 0;
        }
    }

    /// <summary>Starts counting afresh: counters and timeline emptied, low-water marks = the current counts.</summary>
    public void Reset()
    {
        lock (_world.Gate)
        {
            lock (_lock)
            {
                _api.Clear();
                _kube.Clear();
                _events.Clear();
                _eventsDropped = 0;
                _since = _world.Clock.GetUtcNow();
                ResetLowest(_since);
            }
        }
    }

    /// <summary>The report as JSON (README "Report").</summary>
    public JsonObject ToJson()
    {
        KubernetesDisruptionReport disruptions = _world.DisruptionReport();
        lock (_world.Gate)
        {
            lock (_lock)
            {
                DateTimeOffset since = _since;
                List<ReportEvent> events = [.. _events];
                events.AddRange(disruptions.PodDeletions.Where(d => d.At >= since).Select(d => new ReportEvent(d.At, DeletionKind(d.Cause),
                    d.Cluster, d.NodeName is null ? null : GroupOfNodeName(d.Cluster, d.NodeName), d.NodeName, d.Namespace, d.Name,
                    d.OwnerKind is null ? null : $"{d.OwnerKind}/{d.OwnerName}")));
                events = [.. events.OrderBy(e => e.At)];

                return new JsonObject
                {
                    ["since"] = Time(since),
                    ["now"] = Time(_world.Clock.GetUtcNow()),
                    ["apiCalls"] = new JsonArray([.. _api.OrderBy(kv => kv.Key.Service, StringComparer.Ordinal).ThenBy(kv => kv.Key.Operation, StringComparer.Ordinal)
                        .Select(kv => (JsonNode)new JsonObject
                        {
                            ["service"] = kv.Key.Service,
                            ["operation"] = kv.Key.Operation,
                            ["count"] = kv.Value.Count,
                            ["errors"] = kv.Value.Errors,
                            ["throttled"] = kv.Value.Throttled,
                        })]),
                    ["kubernetesRequests"] = new JsonArray([.. _kube.OrderBy(kv => kv.Key.Resource, StringComparer.Ordinal).ThenBy(kv => kv.Key.Verb, StringComparer.Ordinal)
                        .Select(kv => (JsonNode)new JsonObject
                        {
                            ["verb"] = kv.Key.Verb,
                            ["resource"] = kv.Key.Resource,
                            ["count"] = kv.Value.Count,
                            ["errors"] = kv.Value.Errors,
                            ["throttled"] = kv.Value.Throttled,
                            ["unauthorized"] = kv.Value.Unauthorized,
                        })]),
                    ["events"] = new JsonArray([.. events.Select(e => (JsonNode)new JsonObject
                    {
                        ["at"] = Time(e.At),
                        ["kind"] = e.Kind,
                        ["cluster"] = e.Cluster,
                        ["nodeGroup"] = e.NodeGroup,
                        ["node"] = e.Node,
                        ["namespace"] = e.Namespace,
                        ["pod"] = e.Pod,
                        ["detail"] = e.Detail,
                    })]),
                    ["eventsDropped"] = _eventsDropped,
                    ["pdbViolations"] = new JsonArray([.. disruptions.PdbViolations.Where(v => v.At >= since).Select(v => (JsonNode)new JsonObject
                    {
                        ["at"] = Time(v.At),
                        ["cluster"] = v.Cluster,
                        ["namespace"] = v.Namespace,
                        ["pdb"] = v.PdbName,
                        ["pod"] = v.PodName,
                        ["cause"] = v.Cause.ToString(),
                        ["desiredHealthy"] = v.DesiredHealthy,
                        ["healthyAfter"] = v.HealthyAfter,
                    })]),
                    ["lowestReadyNodes"] = new JsonArray([.. _groups.OrderBy(kv => kv.Key.Cluster, StringComparer.Ordinal).ThenBy(kv => kv.Key.Group, StringComparer.Ordinal)
                        .Select(kv => (JsonNode)new JsonObject
                        {
                            ["cluster"] = kv.Key.Cluster,
                            ["nodeGroup"] = kv.Key.Group,
                            ["lowest"] = kv.Value.Lowest,
                            ["at"] = Time(kv.Value.LowestAt),
                            ["current"] = kv.Value.Current,
                            ["highest"] = kv.Value.Highest,
                        })]),
                    ["podsDeletedNotEvicted"] = new JsonArray([.. disruptions.DeletedRatherThanEvicted.Where(d => d.At >= since).Select(d => (JsonNode)new JsonObject
                    {
                        ["at"] = Time(d.At),
                        ["cluster"] = d.Cluster,
                        ["namespace"] = d.Namespace,
                        ["pod"] = d.Name,
                        ["node"] = d.NodeName,
                        ["owner"] = d.OwnerKind is null ? null : $"{d.OwnerKind}/{d.OwnerName}",
                        ["wasReady"] = d.WasReady,
                    })]),
                };
            }
        }
    }

    // ---- node and pod changes (world gate held) ------------------------------------------------

    private void OnChange(KubeChange change)
    {
        if (change.Node is KubeNode node)
        {
            OnNode(change.Type, node);
        }
        else if (change.Pod is KubePod pod)
        {
            OnPod(change.Type, pod);
        }
    }

    private void OnNode(string type, KubeNode node)
    {
        DateTimeOffset now = _world.Scheduler.Now;
        if (type == KubeChange.Loaded)
        {
            Seed(node);
            return;
        }

        _nodes.TryGetValue(node.Uid, out NodeState? before);
        string group = before?.Group ?? GroupOf(node);
        if (type == "DELETED")
        {
            _nodes.Remove(node.Uid);
            Add(new ReportEvent(now, "NodeRemoved", node.ClusterName, group, node.Name, null, null, node.InstanceId));
            Count(node.ClusterName, group, before?.Counts == true ? -1 : 0, now);
            return;
        }

        var after = new NodeState(group, node.Ready, node.Unschedulable, Counts(node));
        _nodes[node.Uid] = after;
        if (before is null)
        {
            Add(new ReportEvent(now, "NodeAdded", node.ClusterName, group, node.Name, null, null, node.InstanceId));
        }

        if (after.Ready != (before?.Ready ?? false) && (after.Ready || before is not null))
        {
            Add(new ReportEvent(now, after.Ready ? "NodeReady" : "NodeNotReady", node.ClusterName, group, node.Name, null, null, null));
        }

        if (after.Unschedulable != (before?.Unschedulable ?? false))
        {
            Add(new ReportEvent(now, after.Unschedulable ? "NodeCordoned" : "NodeUncordoned", node.ClusterName, group, node.Name, null, null, null));
        }

        Count(node.ClusterName, group, (after.Counts ? 1 : 0) - (before?.Counts == true ? 1 : 0), now);
    }

    private void OnPod(string type, KubePod pod)
    {
        if (type == "DELETED")
        {
            _readyPods.Remove(pod.Uid);
            return;
        }

        bool running = pod.Ready && pod.NodeName is not null && pod.DeletionTimestamp is null;
        if (type == KubeChange.Loaded)
        {
            if (running)
            {
                _readyPods.Add(pod.Uid);
            }

            return;
        }

        if (running && _readyPods.Add(pod.Uid))
        {
            Add(new ReportEvent(_world.Scheduler.Now, "PodStarted", pod.ClusterName, GroupOfNodeName(pod.ClusterName, pod.NodeName!),
                pod.NodeName, pod.Namespace, pod.Name, pod.OwnerKind is null ? null : $"{pod.OwnerKind}/{pod.OwnerName}"));
        }
        else if (!running)
        {
            _readyPods.Remove(pod.Uid);
        }
    }

    private void Seed(KubeNode node)
    {
        var state = new NodeState(GroupOf(node), node.Ready, node.Unschedulable, Counts(node));
        bool had = _nodes.TryGetValue(node.Uid, out NodeState? before);
        _nodes[node.Uid] = state;
        GroupState g = Group(node.ClusterName, state.Group, _since);
        g.Current += (state.Counts ? 1 : 0) - (had && before!.Counts ? 1 : 0);

        // Loaded objects are the starting point, not a drop.
        g.Lowest = g.Current;
        g.Highest = Math.Max(g.Highest, g.Current);
        g.LowestAt = _since;
    }

    private void Count(string cluster, string group, int delta, DateTimeOffset now)
    {
        GroupState g = Group(cluster, group, now);
        g.Current += delta;
        if (g.Current < g.Lowest)
        {
            g.Lowest = g.Current;
            g.LowestAt = now;
        }

        g.Highest = Math.Max(g.Highest, g.Current);
    }

    private GroupState Group(string cluster, string group, DateTimeOffset now)
    {
        if (!_groups.TryGetValue((cluster, group), out GroupState? g))
        {
            g = new GroupState { LowestAt = now };
            _groups[(cluster, group)] = g;
        }

        return g;
    }

    private void ResetLowest(DateTimeOffset now)
    {
        foreach (GroupState g in _groups.Values)
        {
            g.Lowest = g.Current;
            g.Highest = g.Current;
            g.LowestAt = now;
        }
    }

    /// <summary>Ready and schedulable: not cordoned and not tainted unschedulable (EKS update taint included), and a
    /// Windows node has its pod IPs (before that, no Windows pod can run there).</summary>
    private static bool Counts(KubeNode node) =>
        node.Ready && !node.Unschedulable
        && !node.Taints.Any(t => t.Key == "node.kubernetes.io/unschedulable" || (t.Key == "eks.amazonaws.com/nodegroup" && t.Value == "unschedulable"))
        && (node.OperatingSystem != "windows" || node.ExtendedResources.ContainsKey(WindowsPodIps.ResourceName));

    /// <summary>The node's group: the managed node group label, else its instance's Auto Scaling group.</summary>
    private string GroupOf(KubeNode node) =>
        node.Labels.GetValueOrDefault("eks.amazonaws.com/nodegroup")
        ?? (_world.Instances.TryGetValue(node.InstanceId, out Ec2Instance? instance) ? instance.AutoScalingGroupName : null)
        ?? "(none)";

    private string? GroupOfNodeName(string cluster, string nodeName) =>
        _world.Nodes.TryGetValue((cluster, nodeName), out KubeNode? node) ? (_nodes.TryGetValue(node.Uid, out NodeState? s) ? s.Group : GroupOf(node)) : null;

    private void Add(ReportEvent e)
    {
        lock (_lock)
        {
            _events.Add(e);
            if (_events.Count > MaxEvents)
            {
                _events.RemoveRange(0, MaxEvents / 10);
                _eventsDropped += MaxEvents / 10;
            }
        }
    }

    private static string DeletionKind(PodDeletionCause cause) => cause switch
    {
        PodDeletionCause.Eviction => "PodEvicted",
        PodDeletionCause.Delete => "PodDeleted",
        PodDeletionCause.NodeRemoved => "PodDeletedWithNode",
        PodDeletionCause.TaintManager => "PodEvictedByTaint",
        _ => "PodDeletedByController",
    };

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static Counter Get<TKey>(Dictionary<TKey, Counter> counters, TKey key)
        where TKey : notnull
    {
        if (!counters.TryGetValue(key, out Counter? c))
        {
            c = new Counter();
            counters[key] = c;
        }

        return c;
    }

    private sealed class Counter
    {
        public long Count;
        public long Errors;
        public long Throttled;
        public long Unauthorized;
    }

    private sealed record NodeState(string Group, bool Ready, bool Unschedulable, bool Counts);

    private sealed class GroupState
    {
        public int Current;
        public int Lowest;
        public int Highest;
        public DateTimeOffset LowestAt;
    }
}
