using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using WinEksPatch.Simulator.Accounts;
using WinEksPatch.Simulator.Admin;
using WinEksPatch.Simulator.Kubernetes;
using WinEksPatch.Simulator.Scenarios;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Hosting;

/// <summary>The handlers that serve one world: its clusters' Kubernetes API and its admin paths (faults, report).</summary>
internal sealed record WorldHandlers(KubeApi Kubernetes, FleetAdmin Fleet, ControlAdmin Control);

/// <summary>
/// Which world a Kubernetes request or an admin request is about. The primary world's clusters are served at
/// /clusters/{name} (as before there were accounts); another world's at /{account}/{region}/clusters/{name}, the
/// endpoint its EKS DescribeCluster returns. Admin requests name a world with ?account=&amp;region= (either may be left
/// out: the primary account, the account's home region); without them they are about the primary world.
/// </summary>
internal sealed class WorldRouter(SimOrganization organization, Func<SimWorld, WorldHandlers> create)
{
    private readonly ConcurrentDictionary<SimWorld, WorldHandlers> _handlers = new();

    /// <summary>The handlers of a world, made on first use: call it before the world is loaded (the Kubernetes API's watch
    /// history must see every object from the start).</summary>
    public WorldHandlers For(SimWorld world) => _handlers.GetOrAdd(world, create);

    /// <summary>The path of a cluster's Kubernetes API under the Kubernetes port.</summary>
    public static string ClusterPath(SimOrganization organization, SimWorld world, string cluster) =>
        ReferenceEquals(world, organization.Primary)
            ? KubeApi.ClusterPathPrefix + cluster
            : $"/{world.AccountId}/{world.Region}{KubeApi.ClusterPathPrefix}{cluster}";

    public Task HandleKubernetesAsync(HttpContext http)
    {
        string[] segments = (http.Request.Path.Value ?? "/").Split('/', 4, StringSplitOptions.RemoveEmptyEntries);
        SimWorld world = organization.Primary;
        if (segments.Length >= 3 && segments[0] != "clusters" && segments[2].StartsWith("clusters", StringComparison.Ordinal))
        {
            // Only worlds that exist: a Kubernetes request never makes a region (no cluster is there to answer it).
            SimWorld? named = organization.Worlds.FirstOrDefault(w => w.AccountId == segments[0] && w.Region == segments[1]);
            if (named is null)
            {
                return KubeApi.NotFoundAsync(http, $"no account {segments[0]} with clusters in {segments[1]}");
            }

            world = named;
            string prefix = $"/{segments[0]}/{segments[1]}";
            http.Request.PathBase = prefix;
            http.Request.Path = new PathString(http.Request.Path.Value![prefix.Length..]);
        }

        return For(world).Kubernetes.HandleAsync(http);
    }

    /// <summary>The world an admin request names (?account=, ?region=), or null after answering 400/404.</summary>
    public async Task<SimWorld?> AdminWorldAsync(HttpContext http)
    {
        string? accountId = http.Request.Query["account"];
        string? region = http.Request.Query["region"];
        if (string.IsNullOrEmpty(accountId) && string.IsNullOrEmpty(region))
        {
            return organization.Primary;
        }

        SimAccount? account = string.IsNullOrEmpty(accountId) ? organization.PrimaryAccount : organization.AccountById(accountId);
        string? problem = account is null ? $"no account {accountId} in this simulator (accounts: {string.Join(", ", organization.Accounts.Select(a => a.Id))})"
            : !string.IsNullOrEmpty(region) && !ScenarioDefinition.RegionPattern().IsMatch(region) ? $"'{region}' is not a region code (e.g. us-west-2)"
            : null;
        if (problem is not null)
        {
            http.Response.StatusCode = account is null ? 404 : 400;
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(new JsonObject { ["message"] = problem }.ToJsonString()).ConfigureAwait(false);
            return null;
        }

        return organization.WorldOf(account!, string.IsNullOrEmpty(region) ? account!.HomeRegion : region);
    }
}
