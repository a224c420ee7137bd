using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using WinEksPatch.Simulator.Auth;
using WinEksPatch.Simulator.Aws;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Kubernetes;

/// <summary>
/// The Kubernetes API of every simulated cluster, on one TLS port: cluster "x" is served under
/// https://127.0.0.1:port/clusters/x (KubernetesClient and kubectl both keep a server URL's path).
/// Bearer auth accepts the kubeconfig's static token and EKS tokens. One instance serves the clusters of one world
/// (one account in one region); <c>Hosting.WorldRouter</c> picks it.
/// </summary>
public sealed partial class KubeApi(SimWorld world, EksTokenValidator tokens, ILogger logger)
{
    private readonly KubeWatchHub _watches = new(world);

    public const string ClusterPathPrefix = "/clusters/";

    /// <summary>A 404 Status for a path that names no world with clusters.</summary>
    public static Task NotFoundAsync(HttpContext http, string message) => WriteStatusAsync(http, 404, "NotFound", message);

    public async Task HandleAsync(HttpContext http)
    {
        string[] all = (http.Request.Path.Value ?? "/").Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (all.Length < 2 || all[0] != "clusters")
        {
            await WriteStatusAsync(http, 404, "NotFound", $"the server could not find the requested resource (no cluster in path {http.Request.Path})").ConfigureAwait(false);
            return;
        }

        string clusterName = all[1];
        string[] path = all[2..];
        string version;
        lock (world.Gate)
        {
            if (!world.Clusters.TryGetValue(clusterName, out EksCluster? cluster))
            {
                version = "";
            }
            else
            {
                version = cluster.Version;
            }
        }

        if (version.Length == 0)
        {
            await WriteStatusAsync(http, 404, "NotFound", $"no cluster named {clusterName}").ConfigureAwait(false);
            return;
        }

        // Every answer carries an Audit-Id, as kube-apiserver's do: the id the cluster's audit log knows the request by.
        http.Response.Headers["Audit-Id"] = Guid.NewGuid().ToString();

        // The report counts every request by verb and resource (watches when they start); fault rules may refuse it.
        Faults.KubeRequestInfo request = Faults.KubeRequestInfo.Parse(http.Request.Method, path, IsWatch(http));
        world.Report.RecordKubernetes(request.Verb, request.Resource);
        try
        {
            await AuthorizeAndRouteAsync(http, clusterName, version, path, request).ConfigureAwait(false);
        }
        finally
        {
            world.Report.CompleteKubernetes(request.Verb, request.Resource, http.Response.StatusCode);
        }
    }

    private async Task AuthorizeAndRouteAsync(HttpContext http, string clusterName, string version, string[] path, Faults.KubeRequestInfo request)
    {
        string? authorization = http.Request.Headers.Authorization.FirstOrDefault();
        string? token = authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : null;
        EksTokenValidator.Result auth = tokens.Validate(token, clusterName);
        if (auth.Ok && world.ApiFaults.RefuseToken(token!, clusterName, world.Clock.GetUtcNow()) is string refused)
        {
            auth = new EksTokenValidator.Result(false, null, refused);
        }

        if (!auth.Ok)
        {
            logger.LogInformation("Kubernetes {Cluster} {Method} {Path}: 401 ({Reason})", clusterName, http.Request.Method, http.Request.Path, auth.Reason);
            await WriteStatusAsync(http, 401, "Unauthorized", "Unauthorized").ConfigureAwait(false);
            return;
        }

        if (world.ApiFaults.Match("kubernetes", request.Operation, () => request.Names(clusterName)) is Faults.FaultDecision fault)
        {
            await Faults.FaultInjection.DelayAsync(world, fault, http.RequestAborted).ConfigureAwait(false);
            if (fault.Status is int status)
            {
                if (status == 429)
                {
                    http.Response.Headers.RetryAfter = "1";
                }

                await WriteStatusAsync(http, status, fault.Code!, fault.Message!).ConfigureAwait(false);
                return;
            }
        }

        try
        {
            await RouteAsync(http, clusterName, version, path).ConfigureAwait(false);
            logger.LogInformation("Kubernetes {Cluster} {Method} {Path}{Query} -> {Status}", clusterName, http.Request.Method, http.Request.Path, http.Request.QueryString, http.Response.StatusCode);
        }
        catch (SelectorException e)
        {
            await WriteStatusAsync(http, 400, "BadRequest", e.Message).ConfigureAwait(false);
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            // A simulator bug: answer as an API server would (500 InternalError Status), and log it.
            logger.LogError(e, "Kubernetes {Cluster} {Path} failed", clusterName, http.Request.Path);
            await WriteStatusAsync(http, 500, "InternalError", "the simulator failed: " + e.Message).ConfigureAwait(false);
        }
    }

    private Task RouteAsync(HttpContext http, string cluster, string version, string[] path)
    {
        string method = http.Request.Method;
        if (IsWatch(http) && method == "GET")
        {
            return path switch
            {
                ["api", "v1", "nodes"] => WatchAsync(http, cluster, "nodes", null),
                ["api", "v1", "pods"] => WatchAsync(http, cluster, "pods", null),
                ["api", "v1", "namespaces", string ns, "pods"] => WatchAsync(http, cluster, "pods", ns),
                _ => NotFoundOrNotAllowed(http, path),
            };
        }

        // The deprecated /watch/ paths (still served by the API server).
        if (path is ["api", "v1", "watch", ..] && method == "GET")
        {
            return path switch
            {
                ["api", "v1", "watch", "nodes"] => WatchAsync(http, cluster, "nodes", null),
                ["api", "v1", "watch", "pods"] => WatchAsync(http, cluster, "pods", null),
                ["api", "v1", "watch", "namespaces", string ns, "pods"] => WatchAsync(http, cluster, "pods", ns),
                _ => NotFoundOrNotAllowed(http, path),
            };
        }

        return (method, path) switch
        {
            ("GET", ["version"]) => WriteJsonAsync(http, VersionInfo(version)),
            ("GET", ["api"]) => WriteJsonAsync(http, new JsonObject
            {
                ["kind"] = "APIVersions",
                ["versions"] = new JsonArray("v1"),
                ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = http.Request.Host.Value }),
            }),
            ("GET", ["apis"]) => WriteJsonAsync(http, Discovery.Groups()),
            ("GET", ["apis", string group]) when Discovery.Group(group) is JsonObject g => WriteJsonAsync(http, g),
            ("GET", ["apis", string group, string gv]) when Discovery.Resources(group, gv) is JsonObject r => WriteJsonAsync(http, r),
            ("GET", ["api", "v1"]) => WriteJsonAsync(http, Discovery.CoreResources()),
            ("GET", ["api", "v1", "nodes"]) => ListNodes(http, cluster),
            ("GET", ["api", "v1", "nodes", string name]) => GetNode(http, cluster, name),
            ("PATCH", ["api", "v1", "nodes", string name]) => PatchNodeAsync(http, cluster, name),
            ("PUT", ["api", "v1", "nodes", string name]) => PatchNodeAsync(http, cluster, name),
            ("DELETE", ["api", "v1", "nodes", string name]) => DeleteNodeAsync(http, cluster, name),
            ("GET", ["api", "v1", "pods"]) => ListPods(http, cluster, null),
            ("GET", ["api", "v1", "namespaces"]) => ListNamespaces(http, cluster),
            ("GET", ["api", "v1", "namespaces", string ns]) => GetNamespace(http, cluster, ns),
            ("GET", ["api", "v1", "namespaces", string ns, "pods"]) => ListPods(http, cluster, ns),
            ("GET", ["api", "v1", "namespaces", string ns, "pods", string name]) => GetPod(http, cluster, ns, name),
            ("DELETE", ["api", "v1", "namespaces", string ns, "pods", string name]) => DeletePodAsync(http, cluster, ns, name),
            ("POST", ["api", "v1", "namespaces", string ns, "pods", string name, "eviction"]) => EvictPodAsync(http, cluster, ns, name),
            ("GET", ["api", "v1", "events"]) => ListEvents(http, cluster, null),
            ("GET", ["api", "v1", "namespaces", string ns, "events"]) => ListEvents(http, cluster, ns),
            ("GET", ["apis", "policy", "v1", "poddisruptionbudgets"]) => ListPdbs(http, cluster, null),
            ("GET", ["apis", "policy", "v1", "namespaces", string ns, "poddisruptionbudgets"]) => ListPdbs(http, cluster, ns),
            ("GET", ["apis", "policy", "v1", "namespaces", string ns, "poddisruptionbudgets", string name]) => GetPdb(http, cluster, ns, name),
            ("POST", ["apis", "policy", "v1", "namespaces", string ns, "poddisruptionbudgets"]) => CreatePdbAsync(http, cluster, ns),
            ("DELETE", ["apis", "policy", "v1", "namespaces", string ns, "poddisruptionbudgets", string name]) => DeletePdbAsync(http, cluster, ns, name),
            ("GET", ["apis", "coordination.k8s.io", "v1", "leases"]) => ListLeases(http, cluster, null),
            ("GET", ["apis", "coordination.k8s.io", "v1", "namespaces", string ns, "leases"]) => ListLeases(http, cluster, ns),
            ("POST", ["apis", "coordination.k8s.io", "v1", "namespaces", string ns, "leases"]) => CreateLeaseAsync(http, cluster, ns),
            ("GET", ["apis", "coordination.k8s.io", "v1", "namespaces", string ns, "leases", string name]) => GetLease(http, cluster, ns, name),
            ("PUT", ["apis", "coordination.k8s.io", "v1", "namespaces", string ns, "leases", string name]) => ReplaceLeaseAsync(http, cluster, ns, name),
            ("DELETE", ["apis", "coordination.k8s.io", "v1", "namespaces", string ns, "leases", string name]) => DeleteLeaseAsync(http, cluster, ns, name),
            ("GET", ["apis", "apps", "v1", string resource]) when AppsResources.Kinds.ContainsKey(resource) => ListWorkloads(http, cluster, null, resource),
            ("GET", ["apis", "apps", "v1", "namespaces", string ns, string resource]) when AppsResources.Kinds.ContainsKey(resource) => ListWorkloads(http, cluster, ns, resource),
            ("GET", ["apis", "apps", "v1", "namespaces", string ns, string resource, string name]) when AppsResources.Kinds.ContainsKey(resource) => GetWorkload(http, cluster, ns, resource, name),
            ("GET" or "PATCH" or "PUT", ["apis", "apps", "v1", "namespaces", string ns, string resource, string name, "scale"]) when AppsResources.Kinds.ContainsKey(resource) && resource != "daemonsets"
                => ScaleAsync(http, cluster, ns, resource, name),
            _ => NotFoundOrNotAllowed(http, path),
        };
    }

    private static bool IsWatch(HttpContext http) => http.Request.Query["watch"] is { Count: > 0 } watch && watch[0] is "true" or "1";

    /// <summary>A known path with a method it does not serve gets 405; anything else 404.</summary>
    private static Task NotFoundOrNotAllowed(HttpContext http, string[] path)
    {
        bool known = path is ["api", "v1", "nodes", ..] or ["api", "v1", "pods"] or ["api", "v1", "namespaces", ..] or ["apis", "apps" or "policy" or "coordination.k8s.io", "v1", ..];
        return known && http.Request.Method != "GET"
            ? WriteStatusAsync(http, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
            : WriteStatusAsync(http, 404, "NotFound", "the server could not find the requested resource");
    }

    private static JsonObject VersionInfo(string version)
    {
        string[] parts = version.Split('.');
        return new JsonObject
        {
            ["major"] = parts[0],
            ["minor"] = parts.Length > 1 ? parts[1] + "+" : "0",
            ["gitVersion"] = $"v{version}.4-eks-{Scenarios.Ids.Hex("apiserver/" + version, 7)}",
            ["gitCommit"] = Scenarios.Ids.Hex("apiserver-commit/" + version, 40),
            ["gitTreeState"] = "clean",
            ["buildDate"] = "2025-10-01T00:00:00Z",
            ["goVersion"] = "go1.24.6",
            ["compiler"] = "gc",
            ["platform"] = "linux/amd64",
        };
    }

    // ---- nodes -------------------------------------------------------------------------------

    private Task ListNodes(HttpContext http, string cluster)
    {
        LabelSelector labels = LabelSelector.Parse(http.Request.Query["labelSelector"]);
        FieldSelector<KubeNode> fields = FieldSelector<KubeNode>.Parse(http.Request.Query["fieldSelector"], KubeFields.Node);
        (int limit, int offset) = ListParameters(http);
        List<V1Node> items;
        V1ListMeta meta;
        DateTimeOffset now = world.Clock.GetUtcNow();
        lock (world.Gate)
        {
            List<KubeNode> matches = world.Nodes.Values
                .Where(n => n.ClusterName == cluster && labels.Matches(n.Labels) && fields.Matches(n))
                .OrderBy(n => n.Name, StringComparer.Ordinal)
                .ToList();
            (List<KubeNode> page, meta) = Page(matches, offset, limit);
            items = page.Select(n => KubeObjects.Node(n, now)).ToList();
        }

        return Tables.Wanted(http.Request.Headers.Accept)
            ? WriteJsonAsync(http, Tables.Nodes(items, now, meta, IncludeObject(http)))
            : WriteObjectAsync(http, new V1NodeList { ApiVersion = "v1", Kind = "NodeList", Metadata = meta, Items = items });
    }

    private Task GetNode(HttpContext http, string cluster, string name)
    {
        V1Node? node;
        DateTimeOffset now = world.Clock.GetUtcNow();
        lock (world.Gate)
        {
            node = world.Nodes.TryGetValue((cluster, name), out KubeNode? n) ? KubeObjects.Node(n, now) : null;
        }

        if (node is null)
        {
            return WriteStatusAsync(http, 404, "NotFound", $"nodes \"{name}\" not found", name, "nodes");
        }

        return Tables.Wanted(http.Request.Headers.Accept)
            ? WriteJsonAsync(http, Tables.Nodes([node], now, new V1ListMeta { ResourceVersion = node.Metadata.ResourceVersion }, IncludeObject(http)))
            : WriteObjectAsync(http, node);
    }

    // ---- pods --------------------------------------------------------------------------------

    private Task ListPods(HttpContext http, string cluster, string? ns)
    {
        LabelSelector labels = LabelSelector.Parse(http.Request.Query["labelSelector"]);
        FieldSelector<KubePod> fields = FieldSelector<KubePod>.Parse(http.Request.Query["fieldSelector"], KubeFields.Pod);
        (int limit, int offset) = ListParameters(http);
        List<V1Pod> items;
        V1ListMeta meta;
        DateTimeOffset now = world.Clock.GetUtcNow();
        lock (world.Gate)
        {
            List<KubePod> matches = world.Pods.Values
                .Where(p => p.ClusterName == cluster && (ns is null || p.Namespace == ns) && labels.Matches(p.Labels) && fields.Matches(p))
                .OrderBy(p => p.Namespace, StringComparer.Ordinal)
                .ThenBy(p => p.Name, StringComparer.Ordinal)
                .ToList();
            (List<KubePod> page, meta) = Page(matches, offset, limit);
            items = page.Select(KubeObjects.Pod).ToList();
        }

        return Tables.Wanted(http.Request.Headers.Accept)
            ? WriteJsonAsync(http, Tables.Pods(items, now, meta, IncludeObject(http)))
            : WriteObjectAsync(http, new V1PodList { ApiVersion = "v1", Kind = "PodList", Metadata = meta, Items = items });
    }

    private Task GetPod(HttpContext http, string cluster, string ns, string name)
    {
        V1Pod? pod;
        DateTimeOffset now = world.Clock.GetUtcNow();
        lock (world.Gate)
        {
            pod = world.Pods.TryGetValue((cluster, ns, name), out KubePod? p) ? KubeObjects.Pod(p) : null;
        }

        if (pod is null)
        {
            return WriteStatusAsync(http, 404, "NotFound", $"pods \"{name}\" not found", name, "pods");
        }

        return Tables.Wanted(http.Request.Headers.Accept)
            ? WriteJsonAsync(http, Tables.Pods([pod], now, new V1ListMeta { ResourceVersion = pod.Metadata.ResourceVersion }, IncludeObject(http)))
            : WriteObjectAsync(http, pod);
    }

    // ---- namespaces --------------------------------------------------------------------------

    private static readonly string[] BuiltInNamespaces = ["default", "kube-node-lease", "kube-public", "kube-system"];

    private List<string> Namespaces(string cluster)
    {
        lock (world.Gate)
        {
            return [.. world.Pods.Values.Where(p => p.ClusterName == cluster).Select(p => p.Namespace)
                .Concat(world.Workloads.Values.Where(w => w.ClusterName == cluster).Select(w => w.Namespace))
                .Concat(world.PodDisruptionBudgets.Values.Where(b => b.ClusterName == cluster).Select(b => b.Namespace))
                .Concat(BuiltInNamespaces).Distinct().Order(StringComparer.Ordinal)];
        }
    }

    private Task ListNamespaces(HttpContext http, string cluster)
    {
        DateTimeOffset created;
        lock (world.Gate)
        {
            created = world.Clusters[cluster].CreatedAt;
        }

        var list = new V1NamespaceList
        {
            ApiVersion = "v1",
            Kind = "NamespaceList",
            Metadata = new V1ListMeta { ResourceVersion = CurrentResourceVersion() },
            Items = Namespaces(cluster).Select(n => KubeObjects.Namespace(n, created)).ToList(),
        };
        return WriteObjectAsync(http, list);
    }

    private Task GetNamespace(HttpContext http, string cluster, string name)
    {
        DateTimeOffset created;
        lock (world.Gate)
        {
            created = world.Clusters[cluster].CreatedAt;
        }

        return Namespaces(cluster).Contains(name)
            ? WriteObjectAsync(http, KubeObjects.Namespace(name, created))
            : WriteStatusAsync(http, 404, "NotFound", $"namespaces \"{name}\" not found", name, "namespaces");
    }

    // ---- shared ------------------------------------------------------------------------------

    private string CurrentResourceVersion()
    {
        lock (world.Gate)
        {
            return world.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture);
        }
    }

    private (List<T> Page, V1ListMeta Meta) Page<T>(List<T> items, int offset, int limit)
    {
        // Called under the world lock.
        (List<T> page, string? next) = Paging.Page(items, offset, limit <= 0 ? int.MaxValue : limit);
        var meta = new V1ListMeta
        {
            ResourceVersion = world.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture),
            ContinueProperty = next,
            RemainingItemCount = next is null ? null : items.Count - offset - page.Count,
        };
        return (page, meta);
    }

    private static (int Limit, int Offset) ListParameters(HttpContext http)
    {
        int limit = 0;
        string? limitText = http.Request.Query["limit"];
        if (limitText is not null && (!int.TryParse(limitText, NumberStyles.Integer, CultureInfo.InvariantCulture, out limit) || limit < 0))
        {
            throw new SelectorException($"invalid limit: {limitText}");
        }

        if (!Paging.TryDecode(http.Request.Query["continue"], out int offset))
        {
            throw new SelectorException("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
        }

        return (limit, offset);
    }

    private static string IncludeObject(HttpContext http) => http.Request.Query["includeObject"].FirstOrDefault() ?? "Metadata";

    private static async Task WriteObjectAsync(HttpContext http, object value, int status = 200)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(KubernetesJson.Serialize(value)).ConfigureAwait(false);
    }

    private static async Task WriteJsonAsync(HttpContext http, JsonNode value, int status = 200)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(value.ToJsonString(KubeObjects.JsonOptions)).ConfigureAwait(false);
    }

    private static async Task WriteStatusAsync(HttpContext http, int code, string reason, string message, string? name = null, string? kind = null)
    {
        http.Response.StatusCode = code;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(KubeObjects.Status(code, reason, message, name, kind).ToJsonString(KubeObjects.JsonOptions)).ConfigureAwait(false);
    }
}
