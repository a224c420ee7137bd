using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Admin;

/// <summary>
/// Fleet fault rules at runtime, under /_sim/fleet on the AWS port (loopback, no auth):
/// GET /_sim/fleet/faults → {"faults":[rule...]}; POST /_sim/fleet/faults with a rule
/// {"kind":"launch-failure|never-register|not-ready|no-pod-ips|crash-loop|node-fails|alarm","group":"glob","count":n,"probability":p,
/// "errorCode":"...","imageId":"ami-...","afterSeconds":n,"alarmName":"..."} → the rule
/// with its id; DELETE /_sim/fleet/faults → removes all; DELETE /_sim/fleet/faults/{id} → removes one.
/// POST /_sim/fleet/nodes/{cluster}/{node}/kubelet with {"running": false|true} stops or starts a node's kubelet (a hung
/// node: NotReady, Ready Unknown, its deleted pods stay Terminating) → {"node": name, "ready": bool}.
/// POST /_sim/fleet/instances/{id}/rebalance-recommendation: EC2 signals elevated Spot interruption risk for the instance;
/// a group with Capacity Rebalancing replaces it → {"instanceId": id, "replacing": bool}.
/// </summary>
public sealed class FleetAdmin(SimWorld world)
{
    public const string Prefix = "/_sim/fleet";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task HandleAsync(HttpContext http)
    {
        string path = http.Request.Path.Value?.TrimEnd('/') ?? "";
        string method = http.Request.Method;
        if (path == "/_sim/fleet/faults" && method == "GET")
        {
            await WriteAsync(http, 200, Faults()).ConfigureAwait(false);
        }
        else if (path == "/_sim/fleet/faults" && method == "POST")
        {
            FleetFaultRule? rule;
            try
            {
                rule = await JsonSerializer.DeserializeAsync<FleetFaultRule>(http.Request.Body, Json).ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                await WriteAsync(http, 400, new JsonObject { ["message"] = "malformed fault rule: " + e.Message }).ConfigureAwait(false);
                return;
            }

            string? problem = rule is null ? "a fault rule object is required" : rule.Problem();
            if (problem is not null)
            {
                await WriteAsync(http, 400, new JsonObject { ["message"] = problem }).ConfigureAwait(false);
                return;
            }

            lock (world.Gate)
            {
                problem = world.FleetFaultProblem(rule!);
                if (problem is null)
                {
                    rule!.Hits = 0;
                    world.AddFleetFault(rule);
                }
            }

            if (problem is not null)
            {
                await WriteAsync(http, 400, new JsonObject { ["message"] = problem }).ConfigureAwait(false);
                return;
            }

            await WriteAsync(http, 200, JsonSerializer.SerializeToNode(rule, Json)!).ConfigureAwait(false);
        }
        else if (path == "/_sim/fleet/faults" && method == "DELETE")
        {
            lock (world.Gate)
            {
                world.FleetFaults.Clear();
            }

            await WriteAsync(http, 200, Faults()).ConfigureAwait(false);
        }
        else if (path.StartsWith("/_sim/fleet/faults/", StringComparison.Ordinal) && method == "DELETE")
        {
            string id = path["/_sim/fleet/faults/".Length..];
            int removed;
            lock (world.Gate)
            {
                removed = world.FleetFaults.RemoveAll(r => r.Id == id);
            }

            await WriteAsync(http, removed == 0 ? 404 : 200, removed == 0 ? new JsonObject { ["message"] = $"no fault rule {id}" } : Faults()).ConfigureAwait(false);
        }
        else if (path.Split('/') is ["", "_sim", "fleet", "instances", var instanceId, "rebalance-recommendation"] && method == "POST")
        {
            bool? acted;
            lock (world.Gate)
            {
                acted = world.Instances.TryGetValue(instanceId, out Ec2Instance? instance) ? world.RecommendRebalance(instance) : null;
            }

            await WriteAsync(http, acted is null ? 404 : 200, acted is null
                ? new JsonObject { ["message"] = $"no instance {instanceId}" }
                : new JsonObject { ["instanceId"] = instanceId, ["replacing"] = acted.Value }).ConfigureAwait(false);
        }
        else if (path.Split('/') is ["", "_sim", "fleet", "nodes", var cluster, var nodeName, "kubelet"] && method == "POST")
        {
            JsonObject? body;
            try
            {
                body = (await JsonNode.ParseAsync(http.Request.Body).ConfigureAwait(false)) as JsonObject;
            }
            catch (JsonException)
            {
                body = null;
            }

            if (body?["running"] is not JsonValue running || !running.TryGetValue(out bool run))
            {
                await WriteAsync(http, 400, new JsonObject { ["message"] = "a body {\"running\": true|false} is required" }).ConfigureAwait(false);
                return;
            }

            bool? ready = null;
            lock (world.Gate)
            {
                if (world.Nodes.TryGetValue((cluster, nodeName), out KubeNode? node))
                {
                    world.SetKubelet(node, run);
                    ready = node.Ready;
                }
            }

            await WriteAsync(http, ready is null ? 404 : 200, ready is null
                ? new JsonObject { ["message"] = $"no node {nodeName} in cluster {cluster}" }
                : new JsonObject { ["node"] = nodeName, ["ready"] = ready }).ConfigureAwait(false);
        }
        else
        {
            await WriteAsync(http, 404, new JsonObject { ["message"] = $"no admin route {method} {path}" }).ConfigureAwait(false);
        }
    }

    private JsonObject Faults()
    {
        lock (world.Gate)
        {
            return new JsonObject { ["faults"] = JsonSerializer.SerializeToNode(world.FleetFaults, Json) };
        }
    }

    private static async Task WriteAsync(HttpContext http, int status, JsonNode body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body.ToJsonString()).ConfigureAwait(false);
    }
}
