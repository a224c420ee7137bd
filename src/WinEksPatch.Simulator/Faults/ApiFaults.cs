using System.Globalization;
using System.Text;
using WinEksPatch.Simulator.Auth;

namespace WinEksPatch.Simulator.Faults;

/// <summary>What a matching rule does to one request: an error to answer (null: none) and latency to add first.</summary>
public sealed record FaultDecision(string RuleId, int? Status, string? Code, string? Message, TimeSpan Latency, bool WallClockLatency);

/// <summary>
/// The API fault rules in force (thread-safe; requests consult them outside the world lock). Rules are tried in the
/// order they were added; the first that matches and fires (count not used up, probability drawn from its own seeded
/// sequence) decides. Token-expiry rules answer 401 to the next requests carrying an EKS token, as an API server does
/// for an expired one; a client that signs a new token (or retries) after that gets through.
/// </summary>
public sealed class ApiFaults(string accountId)
{
    /// <summary>The service name of the simulator's OCI registries in fault rules; operations: v2, token, manifests, blobs, tags.</summary>
    public const string RegistryService = "registry";

    private readonly object _lock = new();
    private readonly List<ApiFaultRule> _rules = [];
    private int _sequence;

    public ApiFaultRule Add(ApiFaultRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        lock (_lock)
        {
            rule.Id = "api-" + (++_sequence).ToString(CultureInfo.InvariantCulture);
            rule.Hits = 0;
            if (rule.Kind == ApiFaultRule.TokenExpiryKind)
            {
                rule.Service = "kubernetes";
                rule.Count ??= rule.MaxTokenAgeSeconds is null ? 1 : null;
            }

            rule.Random = new Random(rule.Seed ?? (int)(StableHash(rule.Id) & 0x7fffffff));
            _rules.Add(rule);
            return rule;
        }
    }

    /// <summary>Copies of the rules (id, hits and all), oldest first.</summary>
    public List<ApiFaultRule> List()
    {
        lock (_lock)
        {
            return _rules.Select(Copy).ToList();
        }
    }

    public bool Remove(string id)
    {
        lock (_lock)
        {
            return _rules.RemoveAll(r => r.Id == id) > 0;
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _rules.Clear();
        }
    }

    /// <summary>The decision for one request, or null when no rule fires. Counts the hit.</summary>
    public FaultDecision? Match(string service, string operation, Func<IEnumerable<string>> resources)
    {
        lock (_lock)
        {
            if (_rules.Count == 0)
            {
                return null;
            }

            List<string>? names = null;
            foreach (ApiFaultRule rule in _rules)
            {
                if (rule.Kind != ApiFaultRule.ApiKind || rule.Spent)
                {
                    continue;
                }

                if (rule.Resource is not null)
                {
                    names ??= SafeResources(resources);
                }

                if (!rule.Matches(service, operation, names ?? []))
                {
                    continue;
                }

                if (rule.Probability < 1.0 && rule.Random!.NextDouble() >= rule.Probability)
                {
                    continue;
                }

                rule.Hits++;
                (int? status, string? code, string? message) = (null, null, null);
                if (rule.InjectsError)
                {
                    (status, code, message) = ErrorFor(rule, service, operation);
                }

                return new FaultDecision(rule.Id, status, code, message,
                    TimeSpan.FromSeconds(rule.LatencySeconds ?? 0), rule.LatencyClock == "wall");
            }

            return null;
        }
    }

    /// <summary>
    /// For a request to <paramref name="cluster"/> with a valid EKS token: why a token-expiry rule refuses it (the API
    /// server then answers 401), or null. A rule with a count refuses that many requests; a rule with
    /// maxTokenAgeSeconds refuses older tokens while it exists.
    /// </summary>
    public string? RefuseToken(string token, string cluster, DateTimeOffset now)
    {
        if (!token.StartsWith(EksTokenValidator.Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        lock (_lock)
        {
            foreach (ApiFaultRule rule in _rules)
            {
                if (rule.Kind != ApiFaultRule.TokenExpiryKind || (rule.Resource is not null && !ApiFaultRule.Glob(rule.Resource, cluster)))
                {
                    continue;
                }

                if (rule.MaxTokenAgeSeconds is double maxAge && SignedAt(token) is DateTimeOffset signed && (now - signed).TotalSeconds > maxAge)
                {
                    rule.Hits++;
                    return $"token older than {maxAge} s (fault rule {rule.Id})";
                }

                if (rule.Count is not null && !rule.Spent && (rule.Probability >= 1.0 || rule.Random!.NextDouble() < rule.Probability))
                {
                    rule.Hits++;
                    return $"token expired (fault rule {rule.Id})";
                }
            }

            return null;
        }
    }

    /// <summary>The X-Amz-Date of an EKS token's presigned URL.</summary>
    internal static DateTimeOffset? SignedAt(string token)
    {
        try
        {
            string b64 = token[EksTokenValidator.Prefix.Length..].Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=');
            var url = new Uri(Encoding.UTF8.GetString(Convert.FromBase64String(b64)), UriKind.Absolute);
            string? date = SigV4Verifier.ParseQuery(url.Query).Find(p => p.Key == "X-Amz-Date").Value;
            return DateTimeOffset.TryParseExact(date, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset t) ? t : null;
        }
        catch (Exception e) when (e is FormatException or UriFormatException)
        {
            return null;
        }
    }

    private static List<string> SafeResources(Func<IEnumerable<string>> resources)
    {
        try
        {
            return resources().Where(r => !string.IsNullOrEmpty(r)).ToList();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or System.Text.Json.JsonException or Aws.AwsException)
        {
            return [];
        }
    }

    /// <summary>Status, code and message of the error a rule injects, in the terms of the service it hits.</summary>
    internal (int Status, string Code, string Message) ErrorFor(ApiFaultRule rule, string service, string operation)
    {
        bool kubernetes = service == "kubernetes";
        string? code = rule.ErrorCode;
        int? status = rule.StatusCode;
        if (service == RegistryService)
        {
            // Distribution-spec error codes; without either, a registry that refuses the credentials it was given.
            code ??= rule.Throttle || status == 429 ? "TOOMANYREQUESTS" : status is null or 401 ? "UNAUTHORIZED" : status == 403 ? "DENIED" : status == 404 ? "NAME_UNKNOWN" : "UNKNOWN";
            status ??= code switch
            {
                "UNAUTHORIZED" => 401,
                "DENIED" => 403,
                "TOOMANYREQUESTS" => 429,
                "NAME_UNKNOWN" or "MANIFEST_UNKNOWN" or "BLOB_UNKNOWN" => 404,
                _ => 500,
            };
            return (status.Value, code, rule.Message ?? (status == 401 ? "authentication required" : $"{operation} was refused: {code}"));
        }

        if (code is null && (rule.Throttle || status == 429))
        {
            (string throttleCode, int throttleStatus) = ThrottlingFor(service);
            code = throttleCode;
            status ??= throttleStatus;
        }

        code ??= kubernetes ? KubeReasonFor(status ?? 500) : AwsCodeFor(service, status ?? 500);
        status ??= kubernetes ? KubeStatusFor(code) : AwsStatusFor(service, code);
        string message = rule.Message ?? DefaultMessage(service, operation, code, status.Value);
        return (status.Value, code, message);
    }

    /// <summary>The throttling error each service answers.</summary>
    internal static (string Code, int Status) ThrottlingFor(string service) => service switch
    {
        "ec2" => ("RequestLimitExceeded", 503),
        "autoscaling" or "sts" or "monitoring" => ("Throttling", 400),
        "ssm" or "ecr" => ("ThrottlingException", 400),
        "eks" => ("ThrottlingException", 429),
        "imagebuilder" => ("CallRateLimitExceededException", 429),
        "kubernetes" => ("TooManyRequests", 429),
        _ => ("ThrottlingException", 400),
    };

    private static bool JsonService(string service) => service is "ssm" or "ecr" or "eks" or "imagebuilder";

    private static string AwsCodeFor(string service, int status) => status switch
    {
        429 => ThrottlingFor(service).Code,
        403 => JsonService(service) ? "AccessDeniedException" : service == "ec2" ? "UnauthorizedOperation" : "AccessDenied",
        404 => "ResourceNotFoundException",
        400 => JsonService(service) ? "ValidationException" : service == "ec2" ? "InvalidParameterValue" : "ValidationError",
        503 => service == "ec2" ? "Unavailable" : "ServiceUnavailable",
        _ => service == "ec2" ? "InternalError" : service is "eks" or "imagebuilder" ? (service == "eks" ? "ServerException" : "ServiceException") : "InternalFailure",
    };

    private static int AwsStatusFor(string service, string code) => code switch
    {
        "Throttling" or "ThrottlingException" => service is "eks" or "imagebuilder" ? 429 : 400,
        "RequestLimitExceeded" => 503,
        "TooManyRequestsException" or "CallRateLimitExceededException" => 429,
        "InternalFailure" or "InternalError" or "InternalServerError" or "InternalServerException" or "ServerException" or "ServiceException" => 500,
        "ServiceUnavailable" or "ServiceUnavailableException" or "Unavailable" => 503,
        "AccessDenied" or "AccessDeniedException" or "UnauthorizedOperation" or "UnauthorizedException" => 403,
        "ExpiredToken" or "ExpiredTokenException" or "InvalidClientTokenId" or "UnrecognizedClientException" => 403,
        "AuthFailure" => 401,
        _ when code.EndsWith("NotFoundException", StringComparison.Ordinal) => 404,
        _ => 400,
    };

    private static string KubeReasonFor(int status) => status switch
    {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        410 => "Expired",
        422 => "Invalid",
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "InternalError",
    };

    private static int KubeStatusFor(string reason) => reason switch
    {
        "BadRequest" => 400,
        "Unauthorized" => 401,
        "Forbidden" => 403,
        "NotFound" => 404,
        "MethodNotAllowed" => 405,
        "Conflict" or "AlreadyExists" => 409,
        "Expired" or "Gone" => 410,
        "Invalid" => 422,
        "TooManyRequests" => 429,
        "ServiceUnavailable" => 503,
        "Timeout" => 504,
        _ => 500,
    };

    private string DefaultMessage(string service, string operation, string code, int status)
    {
        if (service == "kubernetes")
        {
            return status switch
            {
                429 => "the server has received too many requests and has asked us to try again later",
                403 => $"forbidden: User \"{SimCredentials.UserName}\" cannot {operation}",
                503 => "the server is currently unable to handle the request",
                _ => "an error on the server (\"\") has prevented the request from succeeding",
            };
        }

        return code switch
        {
            "RequestLimitExceeded" => "Request limit exceeded.",
            "CallRateLimitExceededException" => "You have exceeded the permitted request rate for this operation.",
            _ when code.Contains("Throttl", StringComparison.Ordinal) || status == 429 => "Rate exceeded",
            _ when status == 403 => $"User: arn:aws:iam::{accountId}:user/{SimCredentials.UserName} is not authorized to perform: {service}:{operation}",
            _ when status == 503 => "Service Unavailable",
            _ when status >= 500 => "An internal error has occurred",
            _ => $"{operation} was refused: {code}",
        };
    }

    private static ApiFaultRule Copy(ApiFaultRule r) => new()
    {
        Id = r.Id,
        Kind = r.Kind,
        Service = r.Service,
        Operation = r.Operation,
        Resource = r.Resource,
        Throttle = r.Throttle,
        ErrorCode = r.ErrorCode,
        StatusCode = r.StatusCode,
        Message = r.Message,
        LatencySeconds = r.LatencySeconds,
        LatencyClock = r.LatencyClock,
        Probability = r.Probability,
        Count = r.Count,
        MaxTokenAgeSeconds = r.MaxTokenAgeSeconds,
        Seed = r.Seed,
        Hits = r.Hits,
    };

    private static uint StableHash(string s)
    {
        uint h = 2166136261;
        foreach (char c in s)
        {
            h = (h ^ c) * 16777619;
        }

        return h;
    }
}
