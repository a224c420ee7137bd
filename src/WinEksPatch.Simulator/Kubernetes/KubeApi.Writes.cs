using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using Microsoft.AspNetCore.Http;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Kubernetes;

// Writes: node PATCH/PUT (cordon, taints, labels, annotations), pod DELETE, the pods/eviction subresource and the
// scale subresource of Deployments, ReplicaSets and StatefulSets. Each change goes through the world's hooks, so
// watchers, the scheduler and the controllers see it.
public sealed partial class KubeApi
{
    private static readonly string[] TaintEffects = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

    private static async Task<string> ReadBodyAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync(http.RequestAborted).ConfigureAwait(false);
    }

    private static JsonObject? ParseObject(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw new PatchException(400, "BadRequest", "the request body is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new PatchException(400, "BadRequest", "the object provided is unrecognized: " + e.Message);
        }
    }

    // ---- nodes -------------------------------------------------------------------------------

    private async Task PatchNodeAsync(HttpContext http, string cluster, string name)
    {
        string body = await ReadBodyAsync(http).ConfigureAwait(false);
        bool replace = http.Request.Method == "PUT";
        string? result = null;
        try
        {
            lock (world.Gate)
            {
                if (world.Nodes.TryGetValue((cluster, name), out KubeNode? node))
                {
                    DateTimeOffset now = world.Clock.GetUtcNow();
                    JsonNode current = JsonNode.Parse(KubernetesJson.Serialize(KubeObjects.Node(node, now)))!;
                    JsonNode desired = replace
                        ? ParseObject(body) ?? throw new PatchException(400, "BadRequest", "the request body is empty")
                        : JsonPatches.Apply(current, http.Request.ContentType, body);
                    if (ApplyNodeFields(node, desired, "nodes") && !IsDryRun(http, null))
                    {
                        world.NodeChanged(node);
                    }

                    result = KubernetesJson.Serialize(KubeObjects.Node(node, now));
                }
            }
        }
        catch (PatchException e)
        {
            await WriteStatusAsync(http, e.Code, e.Reason, e.Message, name, "nodes").ConfigureAwait(false);
            return;
        }

        if (result is null)
        {
            await WriteStatusAsync(http, 404, "NotFound", $"nodes \"{name}\" not found", name, "nodes").ConfigureAwait(false);
            return;
        }

        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(result).ConfigureAwait(false);
    }

    /// <summary>DELETE of a node object (kubectl delete node): the node leaves the API and its pods go with it, as
    /// when its instance terminates. The instance itself is the fleet's business and keeps running.</summary>
    private async Task DeleteNodeAsync(HttpContext http, string cluster, string name)
    {
        string? result = null;
        lock (world.Gate)
        {
            if (world.Nodes.TryGetValue((cluster, name), out KubeNode? node))
            {
                if (!IsDryRun(http, null))
                {
                    world.NodeRemoved(node);
                }

                result = KubernetesJson.Serialize(KubeObjects.Node(node, world.Clock.GetUtcNow()));
            }
        }

        if (result is null)
        {
            await WriteStatusAsync(http, 404, "NotFound", $"nodes \"{name}\" not found", name, "nodes").ConfigureAwait(false);
            return;
        }

        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(result).ConfigureAwait(false);
    }

    /// <summary>Validates the fields the simulator models in a patched node and applies them; false when nothing changed.</summary>
    private static bool ApplyNodeFields(KubeNode node, JsonNode desired, string kind)
    {
        JsonNode? metadata = desired["metadata"];
        string? newName = metadata?["name"]?.GetValue<string>();
        if (newName is not null && newName != node.Name)
        {
            throw new PatchException(400, "BadRequest", $"the name of the object ({newName}) does not match the name on the URL ({node.Name})");
        }

        string? rv = metadata?["resourceVersion"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(rv) && rv != node.ResourceVersion.ToString(CultureInfo.InvariantCulture))
        {
            throw new PatchException(409, "Conflict", $"Operation cannot be fulfilled on {kind} \"{node.Name}\": the object has been modified; please apply your changes to the latest version and try again");
        }

        Dictionary<string, string> labels = StringMap(metadata?["labels"], "metadata.labels", node.Name);
        Dictionary<string, string> annotations = StringMap(metadata?["annotations"], "metadata.annotations", node.Name);
        JsonNode? spec = desired["spec"];
        bool unschedulable = spec?["unschedulable"] is JsonValue u && u.TryGetValue(out bool b) && b;
        var taints = new List<(string Key, string? Value, string Effect)>();
        if (spec?["taints"] is JsonArray taintArray)
        {
            for (int i = 0; i < taintArray.Count; i++)
            {
                string? key = taintArray[i]?["key"]?.GetValue<string>();
                string? value = taintArray[i]?["value"]?.GetValue<string>();
                string? effect = taintArray[i]?["effect"]?.GetValue<string>();
                if (string.IsNullOrEmpty(key))
                {
                    throw new PatchException(422, "Invalid", $"Node \"{node.Name}\" is invalid: spec.taints[{i}].key: Invalid value: \"\": name part must be non-empty");
                }

                if (effect is null || !TaintEffects.Contains(effect))
                {
                    throw new PatchException(422, "Invalid", $"Node \"{node.Name}\" is invalid: spec.taints[{i}].effect: Unsupported value: \"{effect}\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"");
                }

                taints.Add((key, string.IsNullOrEmpty(value) ? null : value, effect));
            }
        }

        bool changed = unschedulable != node.Unschedulable
            || !Same(labels, node.Labels) || !Same(annotations, node.Annotations)
            || !taints.SequenceEqual(node.Taints);
        if (!changed)
        {
            return false;
        }

        node.Unschedulable = unschedulable;
        Replace(node.Labels, labels);
        Replace(node.Annotations, annotations);
        node.Taints.Clear();
        node.Taints.AddRange(taints);
        return true;
    }

    private static Dictionary<string, string> StringMap(JsonNode? node, string field, string name)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is null)
        {
            return map;
        }

        if (node is not JsonObject o)
        {
            throw new PatchException(422, "Invalid", $"Node \"{name}\" is invalid: {field}: Invalid value: must be a map of strings");
        }

        foreach ((string key, JsonNode? value) in o)
        {
            if (value is not JsonValue v || !v.TryGetValue(out string? s))
            {
                throw new PatchException(422, "Invalid", $"Node \"{name}\" is invalid: {field}[{key}]: Invalid value: must be a string");
            }

            map[key] = s;
        }

        return map;
    }

    private static bool Same(Dictionary<string, string> a, Dictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out string? v) && v == kv.Value);

    private static void Replace(Dictionary<string, string> target, Dictionary<string, string> source)
    {
        target.Clear();
        foreach (KeyValuePair<string, string> kv in source)
        {
            target[kv.Key] = kv.Value;
        }
    }

    private static bool IsDryRun(HttpContext http, JsonNode? options) =>
        http.Request.Query["dryRun"].Contains("All")
        || (options?["dryRun"] is JsonArray a && a.Any(x => x?.GetValue<string>() == "All"));

    // ---- pods --------------------------------------------------------------------------------

    private async Task DeletePodAsync(HttpContext http, string cluster, string ns, string name)
    {
        string result;
        try
        {
            JsonObject? options = ParseObject(await ReadBodyAsync(http).ConfigureAwait(false));
            long? grace = GracePeriod(http, options);
            string? uid = options?["preconditions"]?["uid"]?.GetValue<string>();
            lock (world.Gate)
            {
                if (!world.Pods.TryGetValue((cluster, ns, name), out KubePod? pod))
                {
                    throw new PatchException(404, "NotFound", $"pods \"{name}\" not found");
                }

                if (uid is not null && uid != pod.Uid)
                {
                    throw new PatchException(409, "Conflict", $"Operation cannot be fulfilled on Pod \"{name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {pod.Uid}");
                }

                if (!IsDryRun(http, options))
                {
                    world.DeletePodGracefully(pod, grace, PodDeletionCause.Delete);
                }

                result = KubernetesJson.Serialize(KubeObjects.Pod(pod));
            }
        }
        catch (PatchException e)
        {
            await WriteStatusAsync(http, e.Code, e.Reason, e.Message, name, "pods").ConfigureAwait(false);
            return;
        }

        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(result).ConfigureAwait(false);
    }

    private static long? GracePeriod(HttpContext http, JsonNode? options)
    {
        string? text = http.Request.Query["gracePeriodSeconds"];
        if (!string.IsNullOrEmpty(text))
        {
            return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long g)
                ? g
                : throw new PatchException(400, "BadRequest", $"gracePeriodSeconds: Invalid value: \"{text}\"");
        }

        return options?["gracePeriodSeconds"] is JsonValue v && v.TryGetValue(out long seconds) ? seconds : null;
    }

    /// <summary>
    /// POST pods/{name}/eviction with a policy/v1 or policy/v1beta1 Eviction. Answers as the API server's eviction
    /// REST handler does: 201 Success Status; 429 TooManyRequests with a DisruptionBudget cause; 500 when several
    /// PDBs select the pod; 404 for a pod that is gone.
    /// </summary>
    private async Task EvictPodAsync(HttpContext http, string cluster, string ns, string name)
    {
        EvictionOutcome outcome;
        try
        {
            JsonObject eviction = ParseObject(await ReadBodyAsync(http).ConfigureAwait(false))
                ?? throw new PatchException(400, "BadRequest", "the request body is empty");
            string? apiVersion = eviction["apiVersion"]?.GetValue<string>();
            string? kind = eviction["kind"]?.GetValue<string>();
            if (apiVersion is not (null or "policy/v1" or "policy/v1beta1") || kind is not (null or "Eviction"))
            {
                throw new PatchException(400, "BadRequest", $"no kind \"{kind}\" is registered for version \"{apiVersion}\" in scheme \"k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30\"");
            }

            string? bodyName = eviction["metadata"]?["name"]?.GetValue<string>();
            if (bodyName is not null && bodyName != name)
            {
                throw new PatchException(400, "BadRequest", "name in URL does not match name in Eviction object");
            }

            JsonNode? options = eviction["deleteOptions"];
            long? grace = GracePeriod(http, options);
            bool dryRun = IsDryRun(http, options);
            lock (world.Gate)
            {
                outcome = world.EvictPod(cluster, ns, name, grace, dryRun);
            }
        }
        catch (PatchException e)
        {
            await WriteStatusAsync(http, e.Code, e.Reason, e.Message).ConfigureAwait(false);
            return;
        }

        switch (outcome.Code)
        {
            case 404:
                await WriteStatusAsync(http, 404, "NotFound", $"pods \"{name}\" not found", name, "pods").ConfigureAwait(false);
                break;
            case 429:
                JsonObject tooMany = KubeObjects.Status(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.");
                tooMany["details"] = new JsonObject
                {
                    ["causes"] = new JsonArray(new JsonObject
                    {
                        ["reason"] = "DisruptionBudget",
                        ["message"] = string.Create(CultureInfo.InvariantCulture,
                            $"The disruption budget {outcome.PdbName} needs {outcome.PdbStatus!.DesiredHealthy} healthy pods and has {outcome.PdbStatus.CurrentHealthy} currently"),
                    }),
                };
                await WriteJsonAsync(http, tooMany, 429).ConfigureAwait(false);
                break;
            case 500:
                // Returned as a Status object without a reason, as the eviction handler builds it.
                await WriteJsonAsync(http, new JsonObject
                {
                    ["kind"] = "Status",
                    ["apiVersion"] = "v1",
                    ["metadata"] = new JsonObject(),
                    ["status"] = "Failure",
                    ["message"] = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
                    ["code"] = 500,
                }, 500).ConfigureAwait(false);
                break;
            default:
                await WriteJsonAsync(http, new JsonObject
                {
                    ["kind"] = "Status",
                    ["apiVersion"] = "v1",
                    ["metadata"] = new JsonObject(),
                    ["status"] = "Success",
                    ["code"] = 201,
                }, 201).ConfigureAwait(false);
                break;
        }
    }

    // ---- scale subresource -------------------------------------------------------------------

    private async Task ScaleAsync(HttpContext http, string cluster, string ns, string resource, string name)
    {
        string kind = AppsResources.Kinds[resource];
        string body = http.Request.Method == "GET" ? "" : await ReadBodyAsync(http).ConfigureAwait(false);
        JsonObject? result = null;
        try
        {
            lock (world.Gate)
            {
                if (world.Workloads.TryGetValue((cluster, kind, ns, name), out KubeWorkload? workload))
                {
                    if (http.Request.Method != "GET")
                    {
                        JsonNode current = KubeObjects.Scale(workload);
                        JsonNode desired = http.Request.Method == "PUT"
                            ? ParseObject(body) ?? throw new PatchException(400, "BadRequest", "the request body is empty")
                            : JsonPatches.Apply(current, http.Request.ContentType, body);
                        if (desired["spec"]?["replicas"] is not JsonValue v || !v.TryGetValue(out int replicas) || replicas < 0)
                        {
                            throw new PatchException(422, "Invalid", $"Scale.autoscaling \"{name}\" is invalid: spec.replicas: Invalid value: must be greater than or equal to 0");
                        }

                        if (!IsDryRun(http, null))
                        {
                            world.ScaleWorkload(workload, replicas);
                        }
                    }

                    result = KubeObjects.Scale(workload);
                }
            }
        }
        catch (PatchException e)
        {
            await WriteStatusAsync(http, e.Code, e.Reason, e.Message, name, resource).ConfigureAwait(false);
            return;
        }

        if (result is null)
        {
            await WriteStatusAsync(http, 404, "NotFound", $"{resource}.apps \"{name}\" not found", name, resource).ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(http, result).ConfigureAwait(false);
    }
}
