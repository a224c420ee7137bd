using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using WinEksPatch.Aws.Thin;

namespace WinEksPatch.Diagnostics;

/// <summary>One kind of call and how often it was made.</summary>
public sealed record ApiCallCount(string Service, string Operation, int Count, bool Mutating)
{
    public override string ToString() => $"{Service} {Operation} {Count}";
}

/// <summary>One call as -Verbose shows it: "AWS eks DescribeCluster (us-west-2): 200 in 12 ms"; -Debug adds the request id
/// (AWS's x-amzn-RequestId, Kubernetes's Audit-Id), the id AWS Support and cluster audit logs know it by.</summary>
public sealed record ApiCallTrace(string Api, string Operation, string Target, TimeSpan Duration, string Outcome, string? RequestId)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Api} {Operation} ({Target}): {Outcome} in {Duration.TotalMilliseconds:0} ms");
}

/// <summary>
/// Counts the calls one invocation makes: every AWS request attempt (retries included, from the SDK's own
/// BeforeRequestEvent) by service and operation, and every Kubernetes request by verb and resource (a watch counted as
/// such, not as a list). Reports and benchmarks use it to show the API economy of a rollout.
/// </summary>
public sealed class ApiCallCounter
{
    private readonly ConcurrentDictionary<(string Service, string Operation), int> _counts = new();
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<AmazonWebServiceRequest, StrongBox<long>> _started = new();

    /// <summary>Told of every call as it ends (-Verbose and -Debug of the cmdlet that is running), or null.</summary>
    public Action<ApiCallTrace>? Trace { get; set; }

    /// <summary>Operations that change something (for the "mutating calls per node" figure).</summary>
    public static bool IsMutating(string operation) =>
        !(operation.StartsWith("Describe", StringComparison.Ordinal) || operation.StartsWith("List", StringComparison.Ordinal)
          || operation.StartsWith("Get", StringComparison.Ordinal) || operation.StartsWith("get ", StringComparison.Ordinal)
          || operation.StartsWith("list ", StringComparison.Ordinal) || operation.StartsWith("watch ", StringComparison.Ordinal));

    public void Attach(AmazonServiceClient client, string service)
    {
        ArgumentNullException.ThrowIfNull(client);
        var region = client.Config.RegionEndpoint?.SystemName ?? client.Config.AuthenticationRegion;
        client.BeforeRequestEvent += (_, e) =>
        {
            if (e is WebServiceRequestEventArgs args)
            {
                Add(service, OperationOf(args.Request));
                _started.AddOrUpdate(args.Request, new StrongBox<long>(Stopwatch.GetTimestamp()));
            }
        };
        client.AfterResponseEvent += (_, e) =>
        {
            if (Trace is { } trace && e is WebServiceResponseEventArgs args)
            {
                trace(new ApiCallTrace("AWS", $"{service} {OperationOf(args.Request)}", region, Elapsed(args.Request),
                    ((int?)args.Response?.HttpStatusCode)?.ToString(CultureInfo.InvariantCulture) ?? "ok", args.Response?.ResponseMetadata?.RequestId));
            }
        };
        client.ExceptionEvent += (_, e) =>
        {
            if (Trace is { } trace && e is WebServiceExceptionEventArgs args)
            {
                var failure = args.Exception is AmazonServiceException service_ ? $"{(int)service_.StatusCode} {service_.ErrorCode}" : args.Exception?.GetType().Name ?? "failed";
                trace(new ApiCallTrace("AWS", $"{service} {OperationOf(args.Request)}", region, Elapsed(args.Request), failure,
                    (args.Exception as AmazonServiceException)?.RequestId));
            }
        };
    }

    private static string OperationOf(AmazonWebServiceRequest request) =>
        request is ThinRequest thin ? thin.Operation : request.GetType().Name.Replace("Request", "", StringComparison.Ordinal);

    private TimeSpan Elapsed(AmazonWebServiceRequest request) =>
        _started.TryGetValue(request, out var started) ? Stopwatch.GetElapsedTime(started.Value) : TimeSpan.Zero;

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
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var operation = Describe(request);
            counter.Add("kubernetes", operation);
            if (counter.Trace is not { } trace)
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }

            // The path without the query (a label selector, a continue token) names the target well enough.
            var target = request.RequestUri?.AbsolutePath ?? "";
            var started = Stopwatch.GetTimestamp();
            try
            {
                var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
                trace(new ApiCallTrace("Kubernetes", operation, target, Stopwatch.GetElapsedTime(started),
                    ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture),
                    response.Headers.TryGetValues("Audit-Id", out var ids) ? ids.FirstOrDefault() : null));
                return response;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                trace(new ApiCallTrace("Kubernetes", operation, target, Stopwatch.GetElapsedTime(started), ex.GetType().Name, null));
                throw;
            }
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
