using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using WinEksPatch.Simulator.Faults;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Admin;

/// <summary>
/// Fault rules and the report, on the AWS port (loopback, no auth):
/// GET /_sim/faults → {"faults":[rule...]} (API, token-expiry and fleet rules); POST /_sim/faults with one rule →
/// the rule with its id (kind api | token-expiry, or a fleet kind launch-failure | never-register | not-ready | no-pod-ips |
/// crash-loop | node-fails, which
/// goes to the fleet's rules as POST /_sim/fleet/faults would); DELETE /_sim/faults → removes all;
/// DELETE /_sim/faults/{id} → removes one. GET /_sim/report → the report; POST /_sim/report/reset → counting starts afresh.
/// </summary>
public sealed class ControlAdmin(SimWorld world)
{
    public const string FaultsPrefix = "/_sim/faults";
    public const string ReportPrefix = "/_sim/report";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static bool Handles(HttpContext http) =>
        http.Request.Path.StartsWithSegments(FaultsPrefix) || http.Request.Path.StartsWithSegments(ReportPrefix);

    public async Task HandleAsync(HttpContext http)
    {
        string path = http.Request.Path.Value?.TrimEnd('/') ?? "";
        string method = http.Request.Method;
        switch (method, path)
        {
            case ("GET", FaultsPrefix):
                await WriteAsync(http, 200, Faults()).ConfigureAwait(false);
                break;
            case ("POST", FaultsPrefix):
                JsonElement body;
                try
                {
                    body = await JsonSerializer.DeserializeAsync<JsonElement>(http.Request.Body, Json).ConfigureAwait(false);
                }
                catch (JsonException e)
                {
                    await WriteAsync(http, 400, new JsonObject { ["message"] = "malformed fault rule: " + e.Message }).ConfigureAwait(false);
                    return;
                }

                (JsonNode? added, string? problem) = AddRule(world, body);
                await WriteAsync(http, problem is null ? 200 : 400, added ?? new JsonObject { ["message"] = problem }).ConfigureAwait(false);
                break;
            case ("DELETE", FaultsPrefix):
                world.ApiFaults.Clear();
                lock (world.Gate)
                {
                    world.FleetFaults.Clear();
                }

                await WriteAsync(http, 200, Faults()).ConfigureAwait(false);
                break;
            case ("DELETE", _) when path.StartsWith(FaultsPrefix + "/", StringComparison.Ordinal):
                string id = path[(FaultsPrefix.Length + 1)..];
                bool removed = world.ApiFaults.Remove(id);
                lock (world.Gate)
                {
                    removed |= world.FleetFaults.RemoveAll(r => r.Id == id) > 0;
                }

                await WriteAsync(http, removed ? 200 : 404, removed ? Faults() : new JsonObject { ["message"] = $"no fault rule {id}" }).ConfigureAwait(false);
                break;
            case ("GET", ReportPrefix):
                await WriteAsync(http, 200, world.Report.ToJson()).ConfigureAwait(false);
                break;
            case ("POST", ReportPrefix + "/reset"):
                world.Report.Reset();
                await WriteAsync(http, 200, world.Report.ToJson()).ConfigureAwait(false);
                break;
            default:
                await WriteAsync(http, 404, new JsonObject { ["message"] = $"no admin route {method} {path}" }).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Adds one rule given as JSON (admin POST, --faults file, scenario "faults"): the added rule, or a problem.</summary>
    public static (JsonNode? Rule, string? Problem) AddRule(SimWorld world, JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return (null, "a fault rule object is required");
        }

        string kind = body.TryGetProperty("kind", out JsonElement k) && k.ValueKind == JsonValueKind.String ? k.GetString()! : ApiFaultRule.ApiKind;
        try
        {
            if (FleetFaultRule.Kinds.Contains(kind))
            {
                FleetFaultRule fleet = body.Deserialize<FleetFaultRule>(Json)!;
                if (fleet.Problem() is string fleetProblem)
                {
                    return (null, fleetProblem);
                }

                lock (world.Gate)
                {
                    if (world.FleetFaultProblem(fleet) is string here)
                    {
                        return (null, here);
                    }

                    fleet.Hits = 0;
                    world.AddFleetFault(fleet);
                    return (JsonSerializer.SerializeToNode(fleet, Json), null);
                }
            }

            ApiFaultRule rule = body.Deserialize<ApiFaultRule>(Json)!;
            if (rule.Validate() is string problem)
            {
                return (null, problem);
            }

            return (JsonSerializer.SerializeToNode(world.ApiFaults.Add(rule), Json), null);
        }
        catch (JsonException e)
        {
            return (null, "malformed fault rule: " + e.Message);
        }
    }

    /// <summary>Rules given at start: a JSON array of rules, or an object with a "faults" array (--faults file, scenario field).</summary>
    public static void AddStartupRules(SimWorld world, IEnumerable<JsonElement> rules, string source)
    {
        foreach (JsonElement rule in rules)
        {
            (_, string? problem) = AddRule(world, rule);
            if (problem is not null)
            {
                throw new InvalidDataException($"{source}: bad fault rule: {problem}");
            }
        }
    }

    /// <summary>Reads a --faults file: [rule, ...] or {"faults": [rule, ...]}.</summary>
    public static List<JsonElement> ReadFaultsFile(string path)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        JsonElement root = doc.RootElement;
        JsonElement list = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("faults", out JsonElement f) ? f : root;
        if (list.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"The faults file '{path}' must hold an array of rules or an object with a \"faults\" array.");
        }

        return [.. list.EnumerateArray().Select(e => e.Clone())];
    }

    private JsonObject Faults()
    {
        var all = new JsonArray();
        foreach (ApiFaultRule rule in world.ApiFaults.List())
        {
            all.Add(JsonSerializer.SerializeToNode(rule, Json));
        }

        lock (world.Gate)
        {
            foreach (FleetFaultRule rule in world.FleetFaults)
            {
                all.Add(JsonSerializer.SerializeToNode(rule, Json));
            }
        }

        return new JsonObject { ["faults"] = all };
    }

    private static async Task WriteAsync(HttpContext http, int status, JsonNode body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body.ToJsonString()).ConfigureAwait(false);
    }
}
