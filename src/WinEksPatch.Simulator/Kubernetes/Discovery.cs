using System.Text.Json.Nodes;

namespace WinEksPatch.Simulator.Kubernetes;

/// <summary>
/// Legacy discovery documents (/api/v1, /apis, /apis/{group}, /apis/{group}/{version}) for what the simulator
/// serves, with the verbs it serves. kubectl builds its REST mapping from these, and `kubectl drain` looks for the
/// pods/eviction subresource (group policy, version v1) in /api/v1 to decide that it can evict.
/// </summary>
public static class Discovery
{
    private static JsonObject Resource(string name, string singular, bool namespaced, string kind, string[] verbs, string[]? shortNames = null,
        string? group = null, string? version = null, bool all = false)
    {
        var r = new JsonObject
        {
            ["name"] = name,
            ["singularName"] = singular,
            ["namespaced"] = namespaced,
            ["kind"] = kind,
            ["verbs"] = new JsonArray([.. verbs.Select(v => (JsonNode?)v)]),
        };
        if (group is not null)
        {
            r["group"] = group;
            r["version"] = version;
        }

        if (shortNames is not null)
        {
            r["shortNames"] = new JsonArray([.. shortNames.Select(v => (JsonNode?)v)]);
        }

        if (all)
        {
            r["categories"] = new JsonArray("all");
        }

        return r;
    }

    private static JsonObject List(string groupVersion, params JsonObject[] resources) => new()
    {
        ["kind"] = "APIResourceList",
        ["apiVersion"] = "v1",
        ["groupVersion"] = groupVersion,
        ["resources"] = new JsonArray([.. resources]),
    };

    public static JsonObject CoreResources() => List("v1",
        Resource("events", "event", true, "Event", ["get", "list"], ["ev"]),
        Resource("namespaces", "namespace", false, "Namespace", ["get", "list"], ["ns"]),
        Resource("nodes", "node", false, "Node", ["delete", "get", "list", "patch", "update", "watch"], ["no"]),
        Resource("pods", "pod", true, "Pod", ["delete", "get", "list", "watch"], ["po"], all: true),
        Resource("pods/eviction", "", true, "Eviction", ["create"], group: "policy", version: "v1"));

    private static readonly (string Group, string[] Versions)[] GroupVersions = [("apps", ["v1"]), ("coordination.k8s.io", ["v1"]), ("policy", ["v1"])];

    private static JsonObject GroupObject(string name, string[] versions) => new()
    {
        ["name"] = name,
        ["versions"] = new JsonArray([.. versions.Select(v => (JsonNode?)new JsonObject { ["groupVersion"] = $"{name}/{v}", ["version"] = v })]),
        ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{name}/{versions[0]}", ["version"] = versions[0] },
    };

    public static JsonObject Groups() => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray([.. GroupVersions.Select(g => (JsonNode?)GroupObject(g.Group, g.Versions))]),
    };

    public static JsonObject? Group(string name)
    {
        foreach ((string group, string[] versions) in GroupVersions)
        {
            if (group == name)
            {
                JsonObject g = GroupObject(group, versions);
                g["kind"] = "APIGroup";
                g["apiVersion"] = "v1";
                return g;
            }
        }

        return null;
    }

    public static JsonObject? Resources(string group, string version) => (group, version) switch
    {
        ("apps", "v1") => List("apps/v1",
            Resource("daemonsets", "daemonset", true, "DaemonSet", ["get", "list"], ["ds"], all: true),
            Resource("deployments", "deployment", true, "Deployment", ["get", "list"], ["deploy"], all: true),
            Resource("deployments/scale", "", true, "Scale", ["get", "patch", "update"], group: "autoscaling", version: "v1"),
            Resource("replicasets", "replicaset", true, "ReplicaSet", ["get", "list"], ["rs"], all: true),
            Resource("replicasets/scale", "", true, "Scale", ["get", "patch", "update"], group: "autoscaling", version: "v1"),
            Resource("statefulsets", "statefulset", true, "StatefulSet", ["get", "list"], ["sts"], all: true),
            Resource("statefulsets/scale", "", true, "Scale", ["get", "patch", "update"], group: "autoscaling", version: "v1")),
        ("coordination.k8s.io", "v1") => List("coordination.k8s.io/v1",
            Resource("leases", "lease", true, "Lease", ["create", "delete", "get", "list", "update"])),
        ("policy", "v1") => List("policy/v1",
            Resource("poddisruptionbudgets", "poddisruptionbudget", true, "PodDisruptionBudget", ["create", "delete", "get", "list"], ["pdb"])),
        _ => null,
    };
}
