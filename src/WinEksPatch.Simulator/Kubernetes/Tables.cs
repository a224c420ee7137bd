using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace WinEksPatch.Simulator.Kubernetes;

/// <summary>
/// Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for
/// (Accept: application/json;as=Table;v=v1;g=meta.k8s.io), with the columns the real API server prints.
/// </summary>
public static partial class Tables
{
    public static bool Wanted(string? accept) => accept is not null && accept.Contains("as=Table", StringComparison.Ordinal);

    internal static JsonObject Column(string name, string type, string description, int priority = 0, string format = "") => new()
    {
        ["name"] = name,
        ["type"] = type,
        ["format"] = format,
        ["description"] = description,
        ["priority"] = priority,
    };

    public static JsonObject Nodes(IEnumerable<V1Node> nodes, DateTimeOffset now, V1ListMeta listMeta, string includeObject)
    {
        JsonArray columns =
        [
            Column("Name", "string", "Name must be unique within a namespace.", 0, "name"),
            Column("Status", "string", "The status of the node"),
            Column("Roles", "string", "The roles of the node"),
            Column("Age", "string", "CreationTimestamp is a timestamp representing the server time when this object was created."),
            Column("Version", "string", "Kubelet Version reported by the node."),
            Column("Internal-IP", "string", "List of addresses reachable to the node. Queried from cloud provider, if available.", 1),
            Column("External-IP", "string", "List of addresses reachable to the node. Queried from cloud provider, if available.", 1),
            Column("OS-Image", "string", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1),
            Column("Kernel-Version", "string", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
            Column("Container-Runtime", "string", "Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).", 1),
        ];
        var rows = new JsonArray();
        foreach (V1Node n in nodes)
        {
            bool ready = n.Status.Conditions.Any(c => c.Type == "Ready" && c.Status == "True");
            string status = (ready ? "Ready" : "NotReady") + (n.Spec.Unschedulable == true ? ",SchedulingDisabled" : "");
            List<string> roles = n.Metadata.Labels.Keys
                .Where(k => k.StartsWith("node-role.kubernetes.io/", StringComparison.Ordinal))
                .Select(k => k["node-role.kubernetes.io/".Length..]).ToList();
            string Address(string type) => n.Status.Addresses.FirstOrDefault(a => a.Type == type)?.Address ?? "<none>";
            rows.Add(Row(
                [n.Metadata.Name, status, roles.Count == 0 ? "<none>" : string.Join(',', roles), Age(n.Metadata.CreationTimestamp, now),
                 n.Status.NodeInfo.KubeletVersion, Address("InternalIP"), Address("ExternalIP"), n.Status.NodeInfo.OsImage,
                 n.Status.NodeInfo.KernelVersion, n.Status.NodeInfo.ContainerRuntimeVersion],
                n, n.Metadata, includeObject));
        }

        return Table(columns, rows, listMeta);
    }

    public static JsonObject Pods(IEnumerable<V1Pod> pods, DateTimeOffset now, V1ListMeta listMeta, string includeObject)
    {
        JsonArray columns =
        [
            Column("Name", "string", "Name must be unique within a namespace.", 0, "name"),
            Column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
            Column("Status", "string", "The aggregate status of the containers in this pod."),
            Column("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
            Column("Age", "string", "CreationTimestamp is a timestamp representing the server time when this object was created."),
            Column("IP", "string", "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", 1),
            Column("Node", "string", "NodeName is a request to schedule this pod onto a specific node.", 1),
            Column("Nominated Node", "string", "nominatedNodeName is set only when this pod preempts other pods on the node.", 1),
            Column("Readiness Gates", "string", "If specified, all readiness gates will be evaluated for pod readiness.", 1),
        ];
        var rows = new JsonArray();
        foreach (V1Pod p in pods)
        {
            int total = p.Spec.Containers.Count;
            int ready = p.Status.ContainerStatuses?.Count(c => c.Ready) ?? 0;
            string status = p.Metadata.DeletionTimestamp is not null ? "Terminating"
                : p.Status.Phase == "Running" ? "Running" : p.Status.ContainerStatuses?.FirstOrDefault()?.State?.Waiting?.Reason ?? p.Status.Phase;
            rows.Add(Row(
                [p.Metadata.Name, $"{ready}/{total}", status, "0", Age(p.Metadata.CreationTimestamp, now), p.Status.PodIP ?? "<none>",
                 p.Spec.NodeName ?? "<none>", "<none>", "<none>"],
                p, p.Metadata, includeObject));
        }

        return Table(columns, rows, listMeta);
    }

    internal static JsonObject Table(JsonArray columns, JsonArray rows, V1ListMeta listMeta)
    {
        var metadata = new JsonObject { ["resourceVersion"] = listMeta.ResourceVersion };
        if (listMeta.ContinueProperty is not null)
        {
            metadata["continue"] = listMeta.ContinueProperty;
        }

        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = metadata,
            ["columnDefinitions"] = columns,
            ["rows"] = rows,
        };
    }

    /// <summary>A row; its object is PartialObjectMetadata unless the client asked for includeObject=Object or None.</summary>
    internal static JsonObject Row(string?[] cells, object fullObject, V1ObjectMeta metadata, string includeObject)
    {
        var row = new JsonObject { ["cells"] = new JsonArray([.. cells.Select(c => (JsonNode?)JsonValue.Create(c))]) };
        switch (includeObject)
        {
            case "None":
                break;
            case "Object":
                row["object"] = JsonNode.Parse(KubernetesJson.Serialize(fullObject));
                break;
            default:
                row["object"] = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = JsonNode.Parse(KubernetesJson.Serialize(metadata)),
                };
                break;
        }

        return row;
    }

    /// <summary>kubectl's human duration (k8s.io/apimachinery/pkg/util/duration.HumanDuration).</summary>
    public static string Age(DateTime? created, DateTimeOffset now)
    {
        if (created is null)
        {
            return "<unknown>";
        }

        TimeSpan d = now.UtcDateTime - DateTime.SpecifyKind(created.Value, DateTimeKind.Utc);
        if (d < TimeSpan.Zero)
        {
            d = TimeSpan.Zero;
        }

        long seconds = (long)d.TotalSeconds;
        static string F(long n) => n.ToString(CultureInfo.InvariantCulture);
        if (seconds < 60 * 2)
        {
            return F(seconds) + "s";
        }

        long minutes = seconds / 60;
        if (minutes < 10)
        {
            long s = seconds % 60;
            return s == 0 ? F(minutes) + "m" : F(minutes) + "m" + F(s) + "s";
        }

        if (minutes < 60 * 3)
        {
            return F(minutes) + "m";
        }

        long hours = minutes / 60;
        if (hours < 8)
        {
            long m = minutes % 60;
            return m == 0 ? F(hours) + "h" : F(hours) + "h" + F(m) + "m";
        }

        if (hours < 48)
        {
            return F(hours) + "h";
        }

        if (hours < 24 * 8)
        {
            long h = hours % 24;
            return h == 0 ? F(hours / 24) + "d" : F(hours / 24) + "d" + F(h) + "h";
        }

        if (hours < 24 * 365 * 2)
        {
            return F(hours / 24) + "d";
        }

        if (hours < 24 * 365 * 8)
        {
            long dy = hours / 24 % 365;
            return dy == 0 ? F(hours / 24 / 365) + "y" : F(hours / 24 / 365) + "y" + F(dy) + "d";
        }

        return F(hours / 24 / 365) + "y";
    }
}
