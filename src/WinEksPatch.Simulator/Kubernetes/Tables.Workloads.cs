using System.Globalization;
using System.Text.Json.Nodes;
using k8s.Models;

namespace WinEksPatch.Simulator.Kubernetes;

// Server-side printing for the resources beyond nodes and pods, with the API server's columns
// (pkg/printers/internalversion/printers.go).
public static partial class Tables
{
    private const string NameDescription = "Name must be unique within a namespace.";
    private const string AgeDescription = "CreationTimestamp is a timestamp representing the server time when this object was created.";

    /// <summary>A Table of JSON objects: cells computed per object.</summary>
    public static JsonObject Of(string resource, IEnumerable<JsonObject> items, DateTimeOffset now, V1ListMeta listMeta, string includeObject)
    {
        ArgumentNullException.ThrowIfNull(listMeta);
        (JsonArray columns, Func<JsonObject, string?[]> cells) = resource switch
        {
            "poddisruptionbudgets" => (new JsonArray(
                Column("Name", "string", NameDescription, 0, "name"),
                Column("Min Available", "string", "The minimum number of pods that must be available simultaneously."),
                Column("Max Unavailable", "string", "The maximum number of pods that may be unavailable simultaneously."),
                Column("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
                Column("Age", "string", AgeDescription)),
                (Func<JsonObject, string?[]>)(o => [Str(o, "metadata", "name"), Str(o, "spec", "minAvailable") ?? "N/A", Str(o, "spec", "maxUnavailable") ?? "N/A",
                    Str(o, "status", "disruptionsAllowed"), AgeOf(o, now)])),
            "deployments" => (new JsonArray(
                Column("Name", "string", NameDescription, 0, "name"),
                Column("Ready", "string", "Number of the pod with ready state"),
                Column("Up-to-date", "string", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
                Column("Available", "string", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
                Column("Age", "string", AgeDescription),
                Column("Containers", "string", "Names of each container in the template.", 1),
                Column("Images", "string", "Images referenced by each container in the template.", 1),
                Column("Selector", "string", "Label selector for pods.", 1)),
                o => [Str(o, "metadata", "name"), $"{Num(o, "status", "readyReplicas")}/{Num(o, "spec", "replicas")}", Num(o, "status", "updatedReplicas"),
                    Num(o, "status", "availableReplicas"), AgeOf(o, now), Containers(o, "name"), Containers(o, "image"), SelectorText(o)]),
            "replicasets" => (new JsonArray(
                Column("Name", "string", NameDescription, 0, "name"),
                Column("Desired", "integer", "Replicas is the number of desired replicas."),
                Column("Current", "integer", "Replicas is the most recently observed number of replicas."),
                Column("Ready", "integer", "The number of ready replicas for this replica set."),
                Column("Age", "string", AgeDescription),
                Column("Containers", "string", "Names of each container in the template.", 1),
                Column("Images", "string", "Images referenced by each container in the template.", 1),
                Column("Selector", "string", "Label selector for pods.", 1)),
                o => [Str(o, "metadata", "name"), Num(o, "spec", "replicas"), Num(o, "status", "replicas"), Num(o, "status", "readyReplicas"), AgeOf(o, now),
                    Containers(o, "name"), Containers(o, "image"), SelectorText(o)]),
            "daemonsets" => (new JsonArray(
                Column("Name", "string", NameDescription, 0, "name"),
                Column("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
                Column("Current", "integer", "The number of nodes that are running at least 1 daemon pod."),
                Column("Ready", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready."),
                Column("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
                Column("Available", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available."),
                Column("Node Selector", "string", "NodeSelector is a selector which must be true for the pod to fit on a node."),
                Column("Age", "string", AgeDescription),
                Column("Containers", "string", "Names of each container in the template.", 1),
                Column("Images", "string", "Images referenced by each container in the template.", 1),
                Column("Selector", "string", "Label selector for pods.", 1)),
                o => [Str(o, "metadata", "name"), Num(o, "status", "desiredNumberScheduled"), Num(o, "status", "currentNumberScheduled"), Num(o, "status", "numberReady"),
                    Num(o, "status", "updatedNumberScheduled"), Num(o, "status", "numberAvailable"), NodeSelectorText(o), AgeOf(o, now),
                    Containers(o, "name"), Containers(o, "image"), SelectorText(o)]),
            "statefulsets" => (new JsonArray(
                Column("Name", "string", NameDescription, 0, "name"),
                Column("Ready", "string", "Number of the pod with ready state"),
                Column("Age", "string", AgeDescription),
                Column("Containers", "string", "Names of each container in the template.", 1),
                Column("Images", "string", "Images referenced by each container in the template.", 1)),
                o => [Str(o, "metadata", "name"), $"{Num(o, "status", "readyReplicas")}/{Num(o, "spec", "replicas")}", AgeOf(o, now), Containers(o, "name"), Containers(o, "image")]),
            "leases" => (new JsonArray(
                Column("Name", "string", NameDescription, 0, "name"),
                Column("Holder", "string", "The holder of the lease."),
                Column("Age", "string", AgeDescription)),
                o => [Str(o, "metadata", "name"), Str(o, "spec", "holderIdentity") ?? "", AgeOf(o, now)]),
            "events" => (new JsonArray(
                Column("Last Seen", "string", "Time when last event occurred"),
                Column("Type", "string", "Type of this event."),
                Column("Reason", "string", "Reason why this event was generated."),
                Column("Object", "string", "The object that this event is about."),
                Column("Subobject", "string", "Subobject of the event", 1),
                Column("Source", "string", "Source of the event", 1),
                Column("Message", "string", "A human-readable description of the status of this operation."),
                Column("First Seen", "string", "Time when first event occurred", 1),
                Column("Count", "string", "Number of times this event has occurred", 1),
                Column("Name", "string", NameDescription, 1, "name")),
                o => [Age(Time(o, "lastTimestamp"), now), Str(o, "type"), Str(o, "reason"),
                    $"{Str(o, "involvedObject", "kind")?.ToLowerInvariant()}/{Str(o, "involvedObject", "name")}", "",
                    $"{Str(o, "source", "component")}{(Str(o, "source", "host") is string h ? ", " + h : "")}", Str(o, "message"),
                    Age(Time(o, "firstTimestamp"), now), Num(o, "count"), Str(o, "metadata", "name")]),
            _ => (new JsonArray(
                Column("Name", "string", NameDescription, 0, "name"),
                Column("Status", "string", "The status of the namespace"),
                Column("Age", "string", AgeDescription)),
                o => [Str(o, "metadata", "name"), Str(o, "status", "phase"), AgeOf(o, now)]),
        };

        var rows = new JsonArray();
        foreach (JsonObject item in items)
        {
            var row = new JsonObject { ["cells"] = new JsonArray([.. cells(item).Select(c => (JsonNode?)JsonValue.Create(c))]) };
            if (includeObject == "Object")
            {
                row["object"] = item.DeepClone();
            }
            else if (includeObject != "None")
            {
                row["object"] = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = item["metadata"]?.DeepClone(),
                };
            }

            rows.Add(row);
        }

        return Table(columns, rows, listMeta);
    }

    private static string? Str(JsonObject o, params string[] path)
    {
        JsonNode? node = o;
        foreach (string p in path)
        {
            node = node?[p];
        }

        return node?.ToString();
    }

    private static string Num(JsonObject o, params string[] path) => Str(o, path) ?? "0";

    private static DateTime? Time(JsonObject o, string field) =>
        Str(o, field) is string t ? DateTime.Parse(t, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal) : null;

    private static string AgeOf(JsonObject o, DateTimeOffset now) =>
        Age(Str(o, "metadata", "creationTimestamp") is string t ? DateTime.Parse(t, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal) : null, now);

    private static string Containers(JsonObject o, string field) =>
        o["spec"]?["template"]?["spec"]?["containers"] is JsonArray a ? string.Join(',', a.Select(c => c?[field]?.ToString())) : "";

    private static string SelectorText(JsonObject o) =>
        o["spec"]?["selector"]?["matchLabels"] is JsonObject m ? string.Join(',', m.Select(kv => $"{kv.Key}={kv.Value}")) : "<none>";

    private static string NodeSelectorText(JsonObject o) =>
        o["spec"]?["template"]?["spec"]?["nodeSelector"] is JsonObject m && m.Count > 0 ? string.Join(',', m.Select(kv => $"{kv.Key}={kv.Value}")) : "<none>";
}
