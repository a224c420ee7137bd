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
/// Bearer auth accepts the kubeconfig's static token and EKS tokens.
/// </summary>
public sealed class KubeApi(SimWorld world, EksTokenValidator tokens, ILogger logger)
{
    public const string ClusterPathPrefix = "/clusters/";

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

        string? authorization = http.Request.Headers.Authorization.FirstOrDefault();
        string? token = authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : null;
        EksTokenValidator.Result auth = tokens.Validate(token, clusterName);
        if (!auth.Ok)
        {
            logger.LogInformation("Kubernetes {Cluster} {Method} {Path}: 401 ({Reason})", clusterName, http.Request.Method, http.Request.Path, auth.Reason);
            await WriteStatusAsync(http, 401, "Unauthorized", "Unauthorized").ConfigureAwait(false);
            return;
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
        if (http.Request.Method != "GET")
        {
            return WriteStatusAsync(http, 405, "MethodNotAllowed", $"the server does not allow this method on the requested resource ({http.Request.Method})");
        }

        if (http.Request.Query["watch"] is { Count: > 0 } watch && watch[0] is "true" or "1")
        {
            return WriteStatusAsync(http, 405, "MethodNotAllowed", "watch is not supported by the simulator yet");
        }

        return path switch
        {
            ["version"] => WriteJsonAsync(http, VersionInfo(version)),
            ["api"] => WriteJsonAsync(http, new JsonObject
            {
                ["kind"] = "APIVersions",
                ["versions"] = new JsonArray("v1"),
                ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = http.Request.Host.Value }),
            }),
            ["apis"] => WriteJsonAsync(http, new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = new JsonArray() }),
            ["api", "v1"] => WriteObjectAsync(http, CoreResources()),
            ["api", "v1", "nodes"] => ListNodes(http, cluster),
            ["api", "v1", "nodes", string name] => GetNode(http, cluster, name),
            ["api", "v1", "pods"] => ListPods(http, cluster, null),
            ["api", "v1", "namespaces"] => ListNamespaces(http, cluster),
            ["api", "v1", "namespaces", string ns] => GetNamespace(http, cluster, ns),
            ["api", "v1", "namespaces", string ns, "pods"] => ListPods(http, cluster, ns),
            ["api", "v1", "namespaces", string ns, "pods", string name] => GetPod(http, cluster, ns, name),
            _ => WriteStatusAsync(http, 404, "NotFound", "the server could not find the requested resource"),
        };
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

    private static V1APIResourceList CoreResources() => new()
    {
        ApiVersion = "v1",
        Kind = "APIResourceList",
        GroupVersion = "v1",
        Resources =
        [
            new V1APIResource { Name = "namespaces", SingularName = "namespace", Namespaced = false, Kind = "Namespace", Verbs = ["get", "list"], ShortNames = ["ns"] },
            new V1APIResource { Name = "nodes", SingularName = "node", Namespaced = false, Kind = "Node", Verbs = ["get", "list"], ShortNames = ["no"] },
            new V1APIResource { Name = "pods", SingularName = "pod", Namespaced = true, Kind = "Pod", Verbs = ["get", "list"], ShortNames = ["po"], Categories = ["all"] },
        ],
    };

    // ---- nodes -------------------------------------------------------------------------------

    private static readonly Dictionary<string, Func<KubeNode, string>> NodeFields = new()
    {
        ["metadata.name"] = n => n.Name,
        ["spec.unschedulable"] = n => n.Unschedulable ? "true" : "false",
    };

    private Task ListNodes(HttpContext http, string cluster)
    {
        LabelSelector labels = LabelSelector.Parse(http.Request.Query["labelSelector"]);
        FieldSelector<KubeNode> fields = FieldSelector<KubeNode>.Parse(http.Request.Query["fieldSelector"], NodeFields);
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

    private static readonly Dictionary<string, Func<KubePod, string>> PodFields = new()
    {
        ["metadata.name"] = p => p.Name,
        ["metadata.namespace"] = p => p.Namespace,
        ["spec.nodeName"] = p => p.NodeName ?? "",
        ["status.phase"] = p => p.Phase,
        ["spec.restartPolicy"] = _ => "Always",
        ["spec.schedulerName"] = _ => "default-scheduler",
        ["spec.serviceAccountName"] = _ => "default",
        ["status.podIP"] = p => p.PodIp ?? "",
    };

    private Task ListPods(HttpContext http, string cluster, string? ns)
    {
        LabelSelector labels = LabelSelector.Parse(http.Request.Query["labelSelector"]);
        FieldSelector<KubePod> fields = FieldSelector<KubePod>.Parse(http.Request.Query["fieldSelector"], PodFields);
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
            return [.. world.Pods.Values.Where(p => p.ClusterName == cluster).Select(p => p.Namespace).Concat(BuiltInNamespaces).Distinct().Order(StringComparer.Ordinal)];
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

    private static async Task WriteJsonAsync(HttpContext http, JsonNode value)
    {
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(value.ToJsonString()).ConfigureAwait(false);
    }

    private static async Task WriteStatusAsync(HttpContext http, int code, string reason, string message, string? name = null, string? kind = null)
    {
        http.Response.StatusCode = code;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(KubeObjects.Status(code, reason, message, name, kind).ToJsonString()).ConfigureAwait(false);
    }
}
