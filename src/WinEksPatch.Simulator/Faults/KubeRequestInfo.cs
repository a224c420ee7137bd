namespace WinEksPatch.Simulator.Faults;

/// <summary>
/// The API server's view of a request (its RequestInfo): verb (get, list, watch, create, update, patch, delete) and
/// resource with subresource ("pods/eviction", "deployments/scale"), plus namespace and name. Discovery and /version
/// are non-resource requests ("get" with the path as resource).
/// </summary>
public sealed record KubeRequestInfo(string Verb, string Resource, string? Namespace, string? Name)
{
    /// <summary>"verb resource", what fault rules' operation patterns match.</summary>
    public string Operation => $"{Verb} {Resource}";

    /// <summary>Names a resource pattern can match: the object name, namespace/name, the namespace.</summary>
    public IEnumerable<string> Names(string cluster)
    {
        yield return cluster;
        if (Name is not null)
        {
            yield return Name;
        }

        if (Namespace is not null)
        {
            yield return Namespace;
            if (Name is not null)
            {
                yield return $"{Namespace}/{Name}";
            }
        }
    }

    /// <summary>Parses a path below /clusters/{name}/ (segments) with the method and whether it asks for a watch.</summary>
    public static KubeRequestInfo Parse(string method, string[] path, bool watch)
    {
        // /api/v1/... or /apis/{group}/{version}/...; the old /api/v1/watch/... paths are watches.
        int start = path switch
        {
            ["api", "v1", ..] => 2,
            ["apis", _, _, ..] => 3,
            _ => -1,
        };
        if (start < 0 || path.Length == start)
        {
            return new KubeRequestInfo(method == "GET" ? "get" : method.ToLowerInvariant(), "/" + string.Join('/', path), null, null);
        }

        string[] rest = path[start..];
        if (rest is ["watch", ..])
        {
            watch = true;
            rest = rest[1..];
        }

        string? ns = null;
        if (rest is ["namespaces", string n, _, ..])
        {
            ns = n;
            rest = rest[2..];
        }

        string resource = rest.Length > 0 ? rest[0] : "";
        string? name = rest.Length > 1 ? rest[1] : null;
        if (rest.Length > 2)
        {
            resource += "/" + rest[2];
        }

        if (ns is null && resource == "namespaces" && name is not null)
        {
            ns = name;
        }

        string verb = method switch
        {
            "GET" or "HEAD" => watch ? "watch" : name is null ? "list" : "get",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => name is null ? "deletecollection" : "delete",
            _ => method.ToLowerInvariant(),
        };
        return new KubeRequestInfo(verb, resource, ns, name);
    }
}
