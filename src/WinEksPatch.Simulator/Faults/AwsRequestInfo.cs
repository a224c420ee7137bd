using System.Text.Json.Nodes;
using WinEksPatch.Simulator.Aws;
using WinEksPatch.Simulator.Aws.Protocols;

namespace WinEksPatch.Simulator.Faults;

/// <summary>
/// Names the operation of an AWS request before the service handles it (fault rules match on it, the report counts
/// by it), from the protocol: the Action parameter (awsQuery, EC2), the X-Amz-Target suffix (JSON 1.1), or the
/// route (rest-json: EKS paths, Image Builder's /OperationName paths). Never throws.
/// </summary>
public static class AwsRequestInfo
{
    public static string Operation(AwsService service, AwsCall call)
    {
        try
        {
            return service.Protocol switch
            {
                AwsProtocol.Query or AwsProtocol.Ec2 => call.FormOrQuery.Get("Action") is { Length: > 0 } action ? action : "(no action)",
                AwsProtocol.Json => call.Http.Request.Headers["X-Amz-Target"].FirstOrDefault() is { } target && target.Contains('.', StringComparison.Ordinal)
                    ? target[(target.LastIndexOf('.') + 1)..] : "(no target)",
                _ => RestJsonOperation(service.SigningName, call.Http.Request.Method, Segments(call.RawPath)),
            };
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or AwsException)
        {
            return "(unparsable)";
        }
    }

    /// <summary>Resource names in the request, for a rule's resource pattern: parameter values, path segments and
    /// the JSON body's string members (top level and lists).</summary>
    public static IEnumerable<string> Resources(AwsService service, AwsCall call)
    {
        var names = new List<string>();
        switch (service.Protocol)
        {
            case AwsProtocol.Query or AwsProtocol.Ec2:
                QueryParams form = call.FormOrQuery;
                names.AddRange(form.Names.Where(n => n is not ("Action" or "Version")).Select(n => form.Get(n) ?? ""));
                break;
            default:
                names.AddRange(Segments(call.RawPath));
                names.AddRange(call.Query.Names.Select(n => call.Query.Get(n) ?? ""));
                if (call.Body.Length > 0 && JsonNode.Parse(call.Body) is JsonObject body)
                {
                    foreach (KeyValuePair<string, JsonNode?> member in body)
                    {
                        if (member.Value is JsonValue v && v.TryGetValue(out string? s))
                        {
                            names.Add(s);
                        }
                        else if (member.Value is JsonArray array)
                        {
                            names.AddRange(array.OfType<JsonValue>().Select(x => x.TryGetValue(out string? t) ? t : null).OfType<string>());
                        }
                    }
                }

                break;
        }

        return names;
    }

    /// <summary>The path's segments, percent-decoded (rest-json routes).</summary>
    public static string[] Segments(string rawPath) =>
        rawPath.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();

    private static string RestJsonOperation(string service, string method, string[] path)
    {
        if (service != "eks")
        {
            // Image Builder: every operation is its own path (/CreateComponent, /GetImage?imageBuildVersionArn=...).
            return path.Length > 0 ? path[0] : "(no operation)";
        }

        bool get = method == "GET";
        return path switch
        {
            ["clusters"] when get => "ListClusters",
            ["clusters", _] when get => "DescribeCluster",
            ["clusters", _, "node-groups"] when get => "ListNodegroups",
            ["clusters", _, "node-groups", _] when get => "DescribeNodegroup",
            ["clusters", _, "node-groups", _, "update-version"] => "UpdateNodegroupVersion",
            ["clusters", _, "node-groups", _, "update-config"] => "UpdateNodegroupConfig",
            ["clusters", _, "updates"] when get => "ListUpdates",
            ["clusters", _, "updates", _] when get => "DescribeUpdate",
            _ => $"{method} /{string.Join('/', path.Take(1))}",
        };
    }

    /// <summary>Whether an error code is a throttling error (as SDKs classify them).</summary>
    public static bool IsThrottling(int status, string? code) =>
        status == 429 || code is "Throttling" or "ThrottlingException" or "RequestLimitExceeded" or "TooManyRequestsException"
            or "CallRateLimitExceededException" or "RequestThrottled" or "RequestThrottledException" or "ThrottledException"
            or "SlowDown" or "TooManyRequests";
}
