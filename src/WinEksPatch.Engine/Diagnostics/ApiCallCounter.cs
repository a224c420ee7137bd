using System.Collections.Concurrent;
using Amazon.Runtime;
using WinEksPatch.Aws.Thin;

namespace WinEksPatch.Diagnostics;

/// <summary>One kind of call and how often it was made.</summary>
public sealed record ApiCallCount(string Service, string Operation, int Count, bool Mutating)
{
    public override string ToString() => $"{Service} {Operation} {Count}";
}

/// <summary>
/// Counts the calls one invocation makes: every AWS request attempt (retries included, from the SDK's own
/// BeforeRequestEvent) by service and operation, and every Kubernetes request by verb and resource (a watch counted as
/// such, not as a list). Reports and benchmarks use it to show the API economy of a rollout.
/// </summary>
public sealed class ApiCallCounter
{
    private readonly ConcurrentDictionary<(string Service, string Operation), int> _counts = new();

    /// <summary>Operations that change something (for the "mutating calls per node" figure).</summary>
    public static bool IsMutating(string operation) =>
        !(operation.StartsWith("Describe", StringComparison.Ordinal) || operation.StartsWith("List", StringComparison.Ordinal)
          || operation.StartsWith("Get", StringComparison.Ordinal) || operation.StartsWith("get ", StringComparison.Ordinal)
          || operation.StartsWith("list ", StringComparison.Ordinal) || operation.StartsWith("watch ", StringComparison.Ordinal));

    public void Attach(AmazonServiceClient client, string service) =>
        client.BeforeRequestEvent += (_, e) =>
        {
            if (e is WebServiceRequestEventArgs args)
            {
                var operation = args.Request is ThinRequest thin ? thin.Operation : args.Request.GetType().Name.Replace("Request", "", StringComparison.Ordinal);
                Add(service, operation);
            }
        };

    public void Add(string service, string operation) => _counts.AddOrUpdate((service, operation), 1, (_, n) => n + 1);

    public IReadOnlyList<ApiCallCount> Snapshot() =>
        [.. _counts.Select(kv => new ApiCallCount(kv.Key.Service, kv.Key.Operation, kv.Value, IsMutating(kv.Key.Operation)))
            .OrderBy(c => c.Service, StringComparer.Ordinal).ThenBy(c => c.Operation, StringComparer.Ordinal)];

    /// <summary>The calls made since <paramref name="earlier"/> (a snapshot of this counter): what one step cost.</summary>
    public IReadOnlyList<ApiCallCount> Since(IReadOnlyList<ApiCallCount> earlier)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        var before = earlier.ToDictionary(c => (c.Service, c.Operation), c => c.Count);
        return [.. Snapshot().Select(c => c with { Count = c.Count - before.GetValueOrDefault((c.Service, c.Operation)) }).Where(c => c.Count > 0)];
    }

    /// <summary>A handler for KubernetesClient that counts requests as "verb resource" (list pods, watch nodes, create pods/eviction).</summary>
    public DelegatingHandler KubernetesHandler() => new CountingHandler(this);

    private sealed class CountingHandler(ApiCallCounter counter) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            counter.Add("kubernetes", Describe(request));
            return base.SendAsync(request, cancellationToken);
        }

        internal static string Describe(HttpRequestMessage request)
        {
            var path = request.RequestUri?.AbsolutePath ?? "";
            var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).ToList();

            // Drop a path prefix before api/apis (the simulator serves clusters under /clusters/<name>).
            var start = segments.FindIndex(s => s is "api" or "apis");
            segments = start < 0 ? segments : segments.Skip(start).ToList();
            var rest = segments.Skip(segments.FirstOrDefault() == "apis" ? 3 : 2).ToList();
            if (rest.FirstOrDefault() == "namespaces" && rest.Count > 2)
            {
                rest = rest.Skip(2).ToList();
            }

            var resource = rest.Count switch
            {
                0 => "discovery",
                1 or 2 => rest[0],
                _ => $"{rest[0]}/{rest[2]}",
            };
            var named = rest.Count >= 2;
            var query = request.RequestUri?.Query ?? "";
            var verb = request.Method.Method switch
            {
                "GET" when query.Contains("watch=true", StringComparison.Ordinal) || query.Contains("watch=1", StringComparison.Ordinal) => "watch",
                "GET" => named ? "get" : "list",
                "POST" => "create",
                "PATCH" => "patch",
                "PUT" => "update",
                "DELETE" => "delete",
                var m => m.ToLowerInvariant(),
            };
            return $"{verb} {resource}";
        }
    }
}
