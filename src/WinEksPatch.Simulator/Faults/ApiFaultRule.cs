using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace WinEksPatch.Simulator.Faults;

/// <summary>
/// One API fault rule (README "Faults"): requests of a service (SigV4 scope name: ec2, autoscaling, eks, ssm, sts, ecr,
/// imagebuilder, or kubernetes) whose operation (an AWS operation name, or a Kubernetes verb + resource such as
/// "create pods/eviction", "list pods", "patch nodes") and optional resource match get an error in the service's own
/// shape and/or added latency, with a probability (seeded) and/or a count. Kind "token-expiry" makes the Kubernetes
/// endpoint treat EKS tokens as expired instead. Patterns are globs (* and ?), case-insensitive.
/// </summary>
public sealed class ApiFaultRule
{
    public const string ApiKind = "api";
    public const string TokenExpiryKind = "token-expiry";

    /// <summary>Assigned when the rule is added ("api-N").</summary>
    public string Id { get; set; } = "";

    /// <summary>"api" (default) or "token-expiry".</summary>
    public string Kind { get; set; } = ApiKind;

    /// <summary>SigV4 scope name of the service, or "kubernetes"; a glob.</summary>
    public string Service { get; set; } = "*";

    /// <summary>AWS operation name (DescribeAutoScalingGroups) or Kubernetes "verb resource" (list pods); a glob.</summary>
    public string Operation { get; set; } = "*";

    /// <summary>Optional glob matched against the request's resource names: AWS parameter values and path segments;
    /// Kubernetes object name, namespace/name, or the cluster name.</summary>
    public string? Resource { get; set; }

    /// <summary>Shorthand for the service's own throttling error (Throttling, ThrottlingException, RequestLimitExceeded,
    /// 429 TooManyRequests) when no <see cref="ErrorCode"/> is given.</summary>
    public bool Throttle { get; set; }

    /// <summary>The error code to answer (AccessDenied, ThrottlingException, InternalFailure, ...; Kubernetes: a Status reason).</summary>
    public string? ErrorCode { get; set; }

    /// <summary>HTTP status; default by code (throttling 400/429/503 as the service answers, access denied 403, internal 500, unavailable 503).</summary>
    public int? StatusCode { get; set; }

    /// <summary>Error message; default: a message like the service's.</summary>
    public string? Message { get; set; }

    /// <summary>Added latency in seconds before the answer.</summary>
    public double? LatencySeconds { get; set; }

    /// <summary>"simulated" (default: the latency passes on the simulated clock) or "wall".</summary>
    public string LatencyClock { get; set; } = "simulated";

    /// <summary>Chance (0..1] that a matching request is hit.</summary>
    public double Probability { get; set; } = 1.0;

    /// <summary>How many requests it hits (token-expiry: requests with an EKS token it refuses; default 1); null: every one until removed.</summary>
    public int? Count { get; set; }

    /// <summary>token-expiry: while the rule exists, EKS tokens older than this (simulated seconds) are refused.</summary>
    public double? MaxTokenAgeSeconds { get; set; }

    /// <summary>Seed of the rule's own random sequence (probability); default: derived from the id.</summary>
    public int? Seed { get; set; }

    /// <summary>How many requests it has hit so far.</summary>
    public int Hits { get; set; }

    /// <summary>Whether the count is used up (the rule stays listed, but no longer fires).</summary>
    [JsonIgnore]
    public bool Spent => Count is int c && Hits >= c;

    [JsonIgnore]
    internal Random? Random { get; set; }

    /// <summary>A problem with the rule as given, or null.</summary>
    public string? Validate()
    {
        if (Kind is not (ApiKind or TokenExpiryKind))
        {
            return $"kind must be one of {ApiKind}, {TokenExpiryKind}, launch-failure, never-register, not-ready, no-pod-ips";
        }

        if (string.IsNullOrWhiteSpace(Service) || string.IsNullOrWhiteSpace(Operation))
        {
            return "service and operation must not be empty";
        }

        if (Count is < 1)
        {
            return "count must be at least 1";
        }

        if (!(Probability > 0 && Probability <= 1))
        {
            return "probability must be in (0, 1]";
        }

        if (LatencySeconds is < 0 || LatencySeconds is double l && (double.IsNaN(l) || double.IsInfinity(l) || l > 3600))
        {
            return "latencySeconds must be between 0 and 3600";
        }

        if (LatencyClock is not ("simulated" or "wall"))
        {
            return "latencyClock must be simulated or wall";
        }

        if (StatusCode is int s && (s < 400 || s > 599))
        {
            return "statusCode must be an HTTP error status (400-599)";
        }

        if (Kind == ApiKind && !Throttle && ErrorCode is null && StatusCode is null && LatencySeconds is null)
        {
            return "an api rule needs errorCode, statusCode, throttle or latencySeconds";
        }

        if (MaxTokenAgeSeconds is <= 0)
        {
            return "maxTokenAgeSeconds must be positive";
        }

        return null;
    }

    /// <summary>Whether the rule injects an error (rather than only latency).</summary>
    [JsonIgnore]
    public bool InjectsError => Throttle || ErrorCode is not null || StatusCode is not null;

    internal bool Matches(string service, string operation, IEnumerable<string> resources) =>
        Glob(Service, service) && Glob(Operation, operation) && (Resource is null || resources.Any(r => Glob(Resource, r)));

    internal static bool Glob(string pattern, string value)
    {
        string regex = "^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$";
        return Regex.IsMatch(value, regex, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }
}
