using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Kubernetes;

// policy/v1 PodDisruptionBudget writes, as the API server takes them (kubectl create pdb, kubectl delete pdb): create
// (409 AlreadyExists; 422 Invalid without exactly one of spec.minAvailable and spec.maxUnavailable, or with a selector
// other than matchLabels) and delete. The disruption controller (SimWorld) keeps their status from then on.
public sealed partial class KubeApi
{
    private const string PdbResource = "poddisruptionbudgets";

    private async Task CreatePdbAsync(HttpContext http, string cluster, string ns)
    {
        string? name = null;
        try
        {
            JsonObject body = ParseObject(await ReadBodyAsync(http).ConfigureAwait(false)) ?? throw new PatchException(400, "BadRequest", "the request body is empty");
            name = body["metadata"]?["name"]?.GetValue<string>() ?? throw InvalidPdb("", "metadata.name: Required value: name or generateName is required");
            JsonNode? spec = body["spec"];
            string? minAvailable = spec?["minAvailable"]?.ToString();
            string? maxUnavailable = spec?["maxUnavailable"]?.ToString();
            if ((minAvailable is null) == (maxUnavailable is null))
            {
                throw InvalidPdb(name, minAvailable is null
                    ? "spec: Invalid value: \"\": one of minAvailable or maxUnavailable must be set"
                    : "spec: Invalid value: policy.PodDisruptionBudgetSpec: minAvailable and maxUnavailable cannot be both set");
            }

            if (spec?["selector"]?["matchExpressions"] is JsonArray { Count: > 0 })
            {
                throw InvalidPdb(name, "spec.selector.matchExpressions: Unsupported value: the simulator's budgets select by matchLabels only");
            }

            JsonObject created;
            lock (world.Gate)
            {
                if (!Namespaces(cluster).Contains(ns))
                {
                    throw new PatchException(404, "NotFound", $"namespaces \"{ns}\" not found");
                }

                if (world.PodDisruptionBudgets.ContainsKey((cluster, ns, name)))
                {
                    throw new PatchException(409, "AlreadyExists", $"poddisruptionbudgets.policy \"{name}\" already exists");
                }

                var pdb = new KubePdb
                {
                    ClusterName = cluster,
                    Namespace = ns,
                    Name = name,
                    Uid = Guid.NewGuid().ToString(),
                    CreationTimestamp = world.Clock.GetUtcNow(),
                    MinAvailable = minAvailable,
                    MaxUnavailable = maxUnavailable,
                    ResourceVersion = world.NextResourceVersion(),
                };
                foreach ((string key, JsonNode? value) in spec?["selector"]?["matchLabels"]?.AsObject() ?? [])
                {
                    pdb.Selector[key] = value?.GetValue<string>() ?? "";
                }

                if (!IsDryRun(http, null))
                {
                    world.PodDisruptionBudgets[(cluster, ns, name)] = pdb;
                }

                created = KubeObjects.Pdb(world, pdb);
            }

            await WriteJsonAsync(http, created, 201).ConfigureAwait(false);
        }
        catch (PatchException e)
        {
            await WriteStatusAsync(http, e.Code, e.Reason, e.Message, name, PdbResource).ConfigureAwait(false);
        }
    }

    private async Task DeletePdbAsync(HttpContext http, string cluster, string ns, string name)
    {
        try
        {
            JsonObject? options = ParseObject(await ReadBodyAsync(http).ConfigureAwait(false));
            string uid;
            lock (world.Gate)
            {
                KubePdb pdb = world.PodDisruptionBudgets.GetValueOrDefault((cluster, ns, name))
                    ?? throw new PatchException(404, "NotFound", $"poddisruptionbudgets.policy \"{name}\" not found");
                uid = pdb.Uid;
                if (!IsDryRun(http, options))
                {
                    world.PodDisruptionBudgets.Remove((cluster, ns, name));
                }
            }

            await WriteDeletedAsync(http, name, "policy", PdbResource, uid).ConfigureAwait(false);
        }
        catch (PatchException e)
        {
            await WriteStatusAsync(http, e.Code, e.Reason, e.Message, name, PdbResource).ConfigureAwait(false);
        }
    }

    private static PatchException InvalidPdb(string name, string detail) =>
        new(422, "Invalid", $"PodDisruptionBudget.policy \"{name}\" is invalid: {detail}");
}
