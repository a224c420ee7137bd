using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using k8s;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Kubernetes;

/// <summary>
/// The watch side of the API server: a bounded history of node and pod changes (what etcd plus the watch cache
/// keep), and the open watches. Every change arrives through <see cref="SimWorld.KubernetesObjectChanged"/> with
/// the world lock held, is serialized once, and is fanned out to the watches whose selectors it concerns: an
/// object that starts matching a watch's selectors is ADDED to it, one that stops matching is DELETED from it,
/// as the API server's watch filtering does.
/// </summary>
public sealed class KubeWatchHub
{
    private const int HistoryCapacity = 20_000;

    private readonly SimWorld _world;
    private readonly LinkedList<Change> _history = new();
    // Labels and fields each object had at its last change, for selector transitions.
    private readonly Dictionary<string, (Dictionary<string, string> Labels, Dictionary<string, string> Fields)> _last = new(StringComparer.Ordinal);
    private readonly List<Subscription> _subscriptions = [];
    // Watches from a resourceVersion older than this one get "410 Expired": the history no longer reaches back.
    private long _oldestResourceVersion;

    public KubeWatchHub(SimWorld world)
    {
        ArgumentNullException.ThrowIfNull(world);
        _world = world;
        lock (world.Gate)
        {
            _oldestResourceVersion = world.CurrentResourceVersion;
            world.KubernetesObjectChanged += OnChange;
        }
    }

    internal sealed record Change(long ResourceVersion, string Cluster, string Resource, string? Namespace, string Type, string ObjectJson,
        Dictionary<string, string> Labels, Dictionary<string, string> Fields,
        Dictionary<string, string>? PreviousLabels, Dictionary<string, string>? PreviousFields);

    /// <summary>One open watch. Its channel carries complete JSON lines.</summary>
    public sealed class Subscription
    {
        internal Subscription(string cluster, string resource, string? ns, LabelSelector labels, FieldSelector<IReadOnlyDictionary<string, string>> fields)
        {
            Cluster = cluster;
            Resource = resource;
            Namespace = ns;
            Labels = labels;
            Fields = fields;
        }

        internal string Cluster { get; }
        internal string Resource { get; }
        internal string? Namespace { get; }
        internal LabelSelector Labels { get; }
        internal FieldSelector<IReadOnlyDictionary<string, string>> Fields { get; }

        public Channel<string> Events { get; } = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

        internal bool Matches(Dictionary<string, string> labels, Dictionary<string, string> fields) => Labels.Matches(labels) && Fields.Matches(fields);

        /// <summary>The watch event this change is for this subscription, or null.</summary>
        internal string? EventFor(Change change)
        {
            if (change.Cluster != Cluster || change.Resource != Resource || (Namespace is not null && change.Namespace != Namespace))
            {
                return null;
            }

            bool now = Matches(change.Labels, change.Fields);
            if (change.Type == "DELETED")
            {
                return now ? Line("DELETED", change.ObjectJson) : null;
            }

            bool before = change.PreviousLabels is not null && Matches(change.PreviousLabels, change.PreviousFields!);
            return (before, now) switch
            {
                (true, true) => Line("MODIFIED", change.ObjectJson),
                (false, true) => Line("ADDED", change.ObjectJson),
                (true, false) => Line("DELETED", change.ObjectJson),
                _ => null,
            };
        }
    }

    internal static string Line(string type, string objectJson) => $"{{\"type\":\"{type}\",\"object\":{objectJson}}}\n";

    /// <summary>
    /// Opens a watch (call with the world lock held, so nothing slips between its start and its first event).
    /// fromResourceVersion null: the current objects first as ADDED events ("start at most recent"); otherwise every
    /// change after that version. Returns null lines and tooOld=true when the history no longer reaches back.
    /// </summary>
    public Subscription Open(string cluster, string resource, string? ns, LabelSelector labels, FieldSelector<IReadOnlyDictionary<string, string>> fields,
        long? fromResourceVersion, List<string> initialLines, out long tooOldFloor)
    {
        ArgumentNullException.ThrowIfNull(initialLines);
        var subscription = new Subscription(cluster, resource, ns, labels, fields);
        tooOldFloor = 0;
        if (fromResourceVersion is null)
        {
            DateTimeOffset now = _world.Clock.GetUtcNow();
            if (resource == "nodes")
            {
                foreach (KubeNode node in _world.Nodes.Values.Where(n => n.ClusterName == cluster).OrderBy(n => n.Name, StringComparer.Ordinal))
                {
                    if (subscription.Matches(node.Labels, KubeFields.ForNode(node)))
                    {
                        initialLines.Add(Line("ADDED", KubernetesJson.Serialize(KubeObjects.Node(node, now))));
                    }
                }
            }
            else
            {
                foreach (KubePod pod in _world.Pods.Values.Where(p => p.ClusterName == cluster && (ns is null || p.Namespace == ns))
                    .OrderBy(p => p.Namespace, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal))
                {
                    if (subscription.Matches(pod.Labels, KubeFields.ForPod(pod)))
                    {
                        initialLines.Add(Line("ADDED", KubernetesJson.Serialize(KubeObjects.Pod(pod))));
                    }
                }
            }
        }
        else if (fromResourceVersion < _oldestResourceVersion)
        {
            tooOldFloor = _oldestResourceVersion;
            return subscription;
        }
        else
        {
            foreach (Change change in _history)
            {
                if (change.ResourceVersion > fromResourceVersion && subscription.EventFor(change) is string line)
                {
                    initialLines.Add(line);
                }
            }
        }

        _subscriptions.Add(subscription);
        return subscription;
    }

    /// <summary>Closes a watch (world lock held).</summary>
    public void Close(Subscription subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        _subscriptions.Remove(subscription);
        subscription.Events.Writer.TryComplete();
    }

    /// <summary>The Status inside the ERROR event of a watch whose resourceVersion is too old (what the watch cache sends).</summary>
    public static string TooOldLine(long requested, long floor) => Line("ERROR", KubeObjects.Status(410, "Expired",
        string.Create(CultureInfo.InvariantCulture, $"too old resource version: {requested} ({floor})")).ToJsonString(KubeObjects.JsonOptions));

    /// <summary>The BOOKMARK that ends the initial events of a sendInitialEvents watch.</summary>
    public static string InitialEventsEndLine(string resource, long resourceVersion) => Line("BOOKMARK", new JsonObject
    {
        ["kind"] = resource == "nodes" ? "Node" : "Pod",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject
        {
            ["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture),
            ["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" },
        },
    }.ToJsonString(KubeObjects.JsonOptions));

    private void OnChange(KubeChange change)
    {
        string resource = change.Node is not null ? "nodes" : "pods";
        Dictionary<string, string> labels;
        Dictionary<string, string> fields;
        string key;
        long rv;
        string? ns = null;
        if (change.Node is KubeNode node)
        {
            labels = new Dictionary<string, string>(node.Labels);
            fields = KubeFields.ForNode(node);
            key = $"{node.ClusterName}/nodes/{node.Name}";
            rv = node.ResourceVersion;
        }
        else
        {
            KubePod pod = change.Pod!;
            labels = new Dictionary<string, string>(pod.Labels);
            fields = KubeFields.ForPod(pod);
            key = $"{pod.ClusterName}/pods/{pod.Namespace}/{pod.Name}";
            rv = pod.ResourceVersion;
            ns = pod.Namespace;
        }

        if (change.Type == KubeChange.Loaded)
        {
            _last[key] = (labels, fields);
            return;
        }

        string json = change.Node is KubeNode changedNode
            ? KubernetesJson.Serialize(KubeObjects.Node(changedNode, _world.Clock.GetUtcNow()))
            : KubernetesJson.Serialize(KubeObjects.Pod(change.Pod!));
        _last.TryGetValue(key, out (Dictionary<string, string> Labels, Dictionary<string, string> Fields) previous);
        if (change.Type == "DELETED")
        {
            _last.Remove(key);
        }
        else
        {
            _last[key] = (labels, fields);
        }

        var record = new Change(rv, change.Cluster, resource, ns, change.Type, json, labels, fields,
            change.Type == "ADDED" ? null : previous.Labels ?? labels, change.Type == "ADDED" ? null : previous.Fields ?? fields);
        _history.AddLast(record);
        while (_history.Count > HistoryCapacity)
        {
            _oldestResourceVersion = _history.First!.Value.ResourceVersion;
            _history.RemoveFirst();
        }

        foreach (Subscription subscription in _subscriptions)
        {
            if (subscription.EventFor(record) is string line)
            {
                subscription.Events.Writer.TryWrite(line);
            }
        }
    }
}

/// <summary>The fields each resource supports in field selectors, for lists and watches.</summary>
public static class KubeFields
{
    public static readonly IReadOnlyDictionary<string, Func<KubeNode, string>> Node = new Dictionary<string, Func<KubeNode, string>>
    {
        ["metadata.name"] = n => n.Name,
        ["spec.unschedulable"] = n => n.Unschedulable ? "true" : "false",
    };

    public static readonly IReadOnlyDictionary<string, Func<KubePod, string>> Pod = new Dictionary<string, Func<KubePod, string>>
    {
        ["metadata.name"] = p => p.Name,
        ["metadata.namespace"] = p => p.Namespace,
        ["spec.nodeName"] = p => p.NodeName ?? "",
        ["status.phase"] = p => p.Phase,
        ["spec.restartPolicy"] = _ => "Always",
        ["spec.schedulerName"] = _ => "default-scheduler",
        ["spec.serviceAccountName"] = _ => "default",
        ["status.podIP"] = p => p.PodIp ?? "",
    };

    public static Dictionary<string, string> ForNode(KubeNode node) => Node.ToDictionary(f => f.Key, f => f.Value(node), StringComparer.Ordinal);

    public static Dictionary<string, string> ForPod(KubePod pod) => Pod.ToDictionary(f => f.Key, f => f.Value(pod), StringComparer.Ordinal);

    /// <summary>A field selector over a snapshot of field values (watch history), for the resource's supported fields.</summary>
    public static FieldSelector<IReadOnlyDictionary<string, string>> SnapshotSelector(string? text, string resource)
    {
        IEnumerable<string> names = resource == "nodes" ? Node.Keys : Pod.Keys;
        return FieldSelector<IReadOnlyDictionary<string, string>>.Parse(text,
            names.ToDictionary(n => n, n => (Func<IReadOnlyDictionary<string, string>, string>)(d => d[n]), StringComparer.Ordinal));
    }
}
