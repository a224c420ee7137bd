using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Kubernetes;

// Reads of events, PodDisruptionBudgets and apps/v1 workloads: lists (all namespaces or one, label selectors,
// limit/continue), single objects, and Tables for kubectl.
public sealed partial class KubeApi
{
    private static readonly Dictionary<string, string> ListKinds = new(StringComparer.Ordinal)
    {
        ["events"] = "EventList",
        ["poddisruptionbudgets"] = "PodDisruptionBudgetList",
        ["deployments"] = "DeploymentList",
        ["replicasets"] = "ReplicaSetList",
        ["daemonsets"] = "DaemonSetList",
        ["statefulsets"] = "StatefulSetList",
        ["leases"] = "LeaseList",
    };

    private static string ApiVersionOf(string resource) => resource switch
    {
        "events" => "v1",
        "poddisruptionbudgets" => "policy/v1",
        "leases" => "coordination.k8s.io/v1",
        _ => "apps/v1",
    };

    /// <summary>Writes a list (or its Table) of JSON objects already filtered and sorted; pages with limit/continue.</summary>
    private Task WriteListAsync(HttpContext http, string resource, List<JsonObject> all)
    {
        LabelSelector labels = LabelSelector.Parse(http.Request.Query["labelSelector"]);
        List<JsonObject> matches = all.Where(o => labels.Matches(LabelsOf(o))).ToList();
        (int limit, int offset) = ListParameters(http);
        List<JsonObject> page;
        V1ListMeta meta;
        lock (world.Gate)
        {
            (page, meta) = Page(matches, offset, limit);
        }

        if (Tables.Wanted(http.Request.Headers.Accept))
        {
            return WriteJsonAsync(http, Tables.Of(resource, page, world.Clock.GetUtcNow(), meta, IncludeObject(http)));
        }

        var metadata = new JsonObject { ["resourceVersion"] = meta.ResourceVersion };
        if (meta.ContinueProperty is not null)
        {
            metadata["continue"] = meta.ContinueProperty;
            metadata["remainingItemCount"] = meta.RemainingItemCount;
        }

        return WriteJsonAsync(http, new JsonObject
        {
            ["kind"] = ListKinds[resource],
            ["apiVersion"] = ApiVersionOf(resource),
            ["metadata"] = metadata,
            ["items"] = new JsonArray([.. page]),
        });
    }

    private static Dictionary<string, string> LabelsOf(JsonObject o) =>
        o["metadata"]?["labels"] is JsonObject l ? l.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString() ?? "", StringComparer.Ordinal) : [];

    private Task WriteOneAsync(HttpContext http, string resource, JsonObject? item, string name)
    {
        if (item is null)
        {
            string group = resource switch { "events" => "", "poddisruptionbudgets" => ".policy", "leases" => ".coordination.k8s.io", _ => ".apps" };
            return WriteStatusAsync(http, 404, "NotFound", $"{resource}{group} \"{name}\" not found", name, resource);
        }

        return Tables.Wanted(http.Request.Headers.Accept)
            ? WriteJsonAsync(http, Tables.Of(resource, [item], world.Clock.GetUtcNow(), new V1ListMeta { ResourceVersion = item["metadata"]?["resourceVersion"]?.ToString() }, IncludeObject(http)))
            : WriteJsonAsync(http, item);
    }

    private static JsonObject ToJson(object value) => (JsonObject)JsonNode.Parse(KubernetesJson.Serialize(value))!;

    private Task ListEvents(HttpContext http, string cluster, string? ns)
    {
        List<JsonObject> items;
        lock (world.Gate)
        {
            items = world.KubeEvents.Where(e => e.ClusterName == cluster && (ns is null || e.Namespace == ns))
                .Select(e => ToJson(KubeObjects.Event(e))).ToList();
        }

        return WriteListAsync(http, "events", items);
    }

    private Task ListPdbs(HttpContext http, string cluster, string? ns)
    {
        List<JsonObject> items;
        lock (world.Gate)
        {
            items = world.PodDisruptionBudgets.Values.Where(b => b.ClusterName == cluster && (ns is null || b.Namespace == ns))
                .OrderBy(b => b.Namespace, StringComparer.Ordinal).ThenBy(b => b.Name, StringComparer.Ordinal)
                .Select(b => KubeObjects.Pdb(world, b)).ToList();
        }

        return WriteListAsync(http, "poddisruptionbudgets", items);
    }

    private Task GetPdb(HttpContext http, string cluster, string ns, string name)
    {
        JsonObject? item;
        lock (world.Gate)
        {
            item = world.PodDisruptionBudgets.TryGetValue((cluster, ns, name), out KubePdb? pdb) ? KubeObjects.Pdb(world, pdb) : null;
        }

        return WriteOneAsync(http, "poddisruptionbudgets", item, name);
    }

    private Task ListWorkloads(HttpContext http, string cluster, string? ns, string resource)
    {
        string kind = AppsResources.Kinds[resource];
        List<JsonObject> items;
        lock (world.Gate)
        {
            items = world.Workloads.Values.Where(w => w.ClusterName == cluster && w.Kind == kind && (ns is null || w.Namespace == ns))
                .OrderBy(w => w.Namespace, StringComparer.Ordinal).ThenBy(w => w.Name, StringComparer.Ordinal)
                .Select(w => ToJson(KubeObjects.Workload(world, w))).ToList();
        }

        return WriteListAsync(http, resource, items);
    }

    private Task GetWorkload(HttpContext http, string cluster, string ns, string resource, string name)
    {
        JsonObject? item;
        lock (world.Gate)
        {
            item = world.Workloads.TryGetValue((cluster, AppsResources.Kinds[resource], ns, name), out KubeWorkload? w) ? ToJson(KubeObjects.Workload(world, w)) : null;
        }

        return WriteOneAsync(http, resource, item, name);
    }
}
