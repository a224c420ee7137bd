using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using WinEksPatch.Errors;
using WinEksPatch.Model;

namespace WinEksPatch.Simulator;

/// <summary>A fault rule to add (the cmdlet's parameters): an API rule, a token-expiry rule or a fleet rule.</summary>
public sealed record SimulatorFaultSpec
{
    /// <summary>Api, TokenExpiry, LaunchFailure, NeverRegisters, RegistersNotReady, RegistersWithoutPodIps, CrashLoop, NodeFails
    /// or Alarm.</summary>
    public string Kind { get; init; } = "Api";
    /// <summary>CrashLoop, NodeFails and Alarm: the bad AMI.</summary>
    public string? ImageId { get; init; }
    /// <summary>NodeFails and Alarm: seconds after Ready.</summary>
    public double? AfterSeconds { get; init; }
    /// <summary>Alarm: the CloudWatch alarm the AMI's nodes trip.</summary>
    public string? AlarmName { get; init; }
    public string? Service { get; init; }
    public string? Operation { get; init; }
    public string? Resource { get; init; }
    public string? NodeGroup { get; init; }
    public bool Throttle { get; init; }
    public string? ErrorCode { get; init; }
    public int? StatusCode { get; init; }
    public string? Message { get; init; }
    public double? LatencySeconds { get; init; }
    public bool WallClockLatency { get; init; }
    public double? MaxTokenAgeSeconds { get; init; }
    public double? Probability { get; init; }
    public int? Count { get; init; }
    public int? Seed { get; init; }
}

/// <summary>
/// The simulator's control surface seen from the module: its report (GET /_sim/report) and fault rules (/_sim/faults),
/// for the simulator the session is pointed at.
/// </summary>
public sealed class SimulatorControl(string adminEndpoint, SimulatorTrust? trust = null, string? worldQuery = null) : IDisposable
{
    private static readonly Dictionary<string, string> KindsFromWire = new(StringComparer.Ordinal)
    {
        ["api"] = "Api",
        ["token-expiry"] = "TokenExpiry",
        ["launch-failure"] = "LaunchFailure",
        ["never-register"] = "NeverRegisters",
        ["not-ready"] = "RegistersNotReady",
        ["no-pod-ips"] = "RegistersWithoutPodIps",
        ["crash-loop"] = "CrashLoop",
        ["node-fails"] = "NodeFails",
        ["alarm"] = "Alarm",
    };

    private readonly HttpClient _http = SimulatorSession.CreateHttpClient(trust, TimeSpan.FromSeconds(60));

    /// <summary>The control of the session's simulator (one it started, connected to, or attached to through
    /// WINEKSPATCH_SIMULATOR_ENDPOINT); SimulatorNotRunning when there is none, SimulatorGone when it no longer serves.</summary>
    public static SimulatorControl ForSession() => ForSession(null, null);

    /// <summary>The control of one account and region of the session's simulator: <paramref name="profileName"/> names one
    /// of its accounts (the first when null), <paramref name="region"/> a region (the account's home region when null).
    /// ProfileNotFound when the simulator has no such account.</summary>
    public static SimulatorControl ForSession(string? profileName, string? region)
    {
        ModuleEnvironment.AttachFromEnvironment();
        var session = ModuleEnvironment.Simulator ?? throw new WinEksPatchException(ErrorIds.SimulatorNotRunning, ErrorKind.InvalidOperation,
            $"No simulator is running in this session. Start one with Start-WinEksSimulator (or name one with {ModuleEnvironment.SimulatorEndpointVariable}).", null);
        session.EnsureServing();
        string? query = null;
        if (profileName is not null || region is not null)
        {
            var accounts = session.Info.Accounts ?? [];
            var account = profileName is null ? accounts.FirstOrDefault() : session.Info.AccountByProfile(profileName);
            if (account is null)
            {
                throw new WinEksPatchException(ErrorIds.ProfileNotFound, ErrorKind.InvalidArgument,
                    $"-ProfileName: the simulator has no account with the profile '{profileName}' (its profiles: {string.Join(", ", accounts.Select(a => a.Profile))}).", profileName);
            }

            query = $"account={account.AccountId}&region={Uri.EscapeDataString(region ?? account.Region)}";
        }

        return new SimulatorControl(session.Info.AdminEndpoint, session.Trust, query);
    }

    public async Task<WinEksSimulatorReport> GetReportAsync(bool reset = false, CancellationToken cancellationToken = default)
    {
        JsonObject report = await SendAsync(HttpMethod.Get, "report", null, cancellationToken).ConfigureAwait(false);
        if (reset)
        {
            await SendAsync(HttpMethod.Post, "report/reset", null, cancellationToken).ConfigureAwait(false);
        }

        return ToReport(report);
    }

    public async Task<IReadOnlyList<WinEksSimulatorFault>> GetFaultsAsync(CancellationToken cancellationToken = default)
    {
        JsonObject all = await SendAsync(HttpMethod.Get, "faults", null, cancellationToken).ConfigureAwait(false);
        return [.. Array(all, "faults").Select(ToFault)];
    }

    public async Task<WinEksSimulatorFault> AddFaultAsync(SimulatorFaultSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var body = new JsonObject
        {
            ["kind"] = KindsFromWire.First(k => k.Value == spec.Kind).Key,
        };
        void Set(string name, JsonNode? value)
        {
            if (value is not null)
            {
                body[name] = value;
            }
        }

        Set("service", spec.Service);
        Set("operation", spec.Operation);
        Set("resource", spec.Resource);
        Set("group", spec.NodeGroup);
        Set("throttle", spec.Throttle ? true : null);
        Set("errorCode", spec.ErrorCode);
        Set("statusCode", spec.StatusCode);
        Set("message", spec.Message);
        Set("latencySeconds", spec.LatencySeconds);
        Set("latencyClock", spec.LatencySeconds is null ? null : spec.WallClockLatency ? "wall" : "simulated");
        Set("maxTokenAgeSeconds", spec.MaxTokenAgeSeconds);
        Set("probability", spec.Probability);
        Set("count", spec.Count);
        Set("seed", spec.Seed);
        Set("imageId", spec.ImageId);
        Set("afterSeconds", spec.AfterSeconds);
        Set("alarmName", spec.AlarmName);
        return ToFault(await SendAsync(HttpMethod.Post, "faults", body, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Removes one rule; SimulatorFaultNotFound when the simulator has none with that id.</summary>
    public async Task RemoveFaultAsync(string id, CancellationToken cancellationToken = default)
    {
        try
        {
            await SendAsync(HttpMethod.Delete, "faults/" + Uri.EscapeDataString(id), null, cancellationToken).ConfigureAwait(false);
        }
        catch (WinEksPatchException ex) when (ex.Kind == ErrorKind.ObjectNotFound)
        {
            throw new WinEksPatchException(ErrorIds.SimulatorFaultNotFound, ErrorKind.ObjectNotFound,
                $"The simulator has no fault rule with id '{id}' (Get-WinEksSimulatorFault lists them).", id, ex);
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task<JsonObject> SendAsync(HttpMethod method, string relative, JsonNode? body, CancellationToken cancellationToken)
    {
        string world = worldQuery is null ? "" : (relative.Contains('?', StringComparison.Ordinal) ? "&" : "?") + worldQuery;
        using var request = new HttpRequestMessage(method, new Uri($"{adminEndpoint}/{relative}{world}"));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new WinEksPatchException(ErrorIds.SimulatorFailed, ErrorKind.ConnectionError,
                $"The simulator at {adminEndpoint} did not answer ({ex.Message}). Start it again with Start-WinEksSimulator.", relative, ex);
        }

        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                string message = TryMessage(text) ?? text;
                throw response.StatusCode == HttpStatusCode.NotFound
                    ? new WinEksPatchException(ErrorIds.SimulatorFailed, ErrorKind.ObjectNotFound, $"The simulator has no {relative}: {message}", relative)
                    : new WinEksPatchException(ErrorIds.SimulatorFailed, ErrorKind.InvalidArgument, $"The simulator refused the request: {message}", relative);
            }

            return JsonNode.Parse(text) as JsonObject
                ?? throw new WinEksPatchException(ErrorIds.SimulatorFailed, ErrorKind.InvalidData, $"The simulator's answer to {relative} is not a JSON object.", relative);
        }
    }

    private static string? TryMessage(string text)
    {
        try
        {
            return (JsonNode.Parse(text) as JsonObject)?["message"]?.GetValue<string>();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    internal static WinEksSimulatorReport ToReport(JsonObject r) => new()
    {
        Since = Time(r["since"]),
        Now = Time(r["now"]),
        ApiCalls = [.. Array(r, "apiCalls").Select(c => new WinEksSimulatorApiCall
        {
            Service = Str(c["service"]) ?? "",
            Operation = Str(c["operation"]) ?? "",
            Count = Long(c["count"]),
            Errors = Long(c["errors"]),
            Throttled = Long(c["throttled"]),
        })],
        KubernetesRequests = [.. Array(r, "kubernetesRequests").Select(c => new WinEksSimulatorKubernetesRequest
        {
            Verb = Str(c["verb"]) ?? "",
            Resource = Str(c["resource"]) ?? "",
            Count = Long(c["count"]),
            Errors = Long(c["errors"]),
            Throttled = Long(c["throttled"]),
            Unauthorized = Long(c["unauthorized"]),
        })],
        Events = [.. Array(r, "events").Select(e => new WinEksSimulatorEvent
        {
            At = Time(e["at"]),
            Kind = Str(e["kind"]) ?? "",
            ClusterName = Str(e["cluster"]),
            NodeGroup = Str(e["nodeGroup"]),
            NodeName = Str(e["node"]),
            Namespace = Str(e["namespace"]),
            PodName = Str(e["pod"]),
            Detail = Str(e["detail"]),
        })],
        PdbViolations = [.. Array(r, "pdbViolations").Select(v => new WinEksSimulatorPdbViolation
        {
            At = Time(v["at"]),
            ClusterName = Str(v["cluster"]),
            Namespace = Str(v["namespace"]),
            PodDisruptionBudget = Str(v["pdb"]) ?? "",
            PodName = Str(v["pod"]),
            Cause = Str(v["cause"]),
            DesiredHealthy = (int)Long(v["desiredHealthy"]),
            HealthyAfter = (int)Long(v["healthyAfter"]),
        })],
        LowestReadyNodes = [.. Array(r, "lowestReadyNodes").Select(g => new WinEksSimulatorReadyNodes
        {
            ClusterName = Str(g["cluster"]),
            NodeGroup = Str(g["nodeGroup"]) ?? "",
            Lowest = (int)Long(g["lowest"]),
            At = Time(g["at"]),
            Current = (int)Long(g["current"]),
            Highest = (int)Long(g["highest"]),
        })],
        PodsDeletedNotEvicted = [.. Array(r, "podsDeletedNotEvicted").Select(d => new WinEksSimulatorPodDeletion
        {
            At = Time(d["at"]),
            ClusterName = Str(d["cluster"]),
            Namespace = Str(d["namespace"]),
            PodName = Str(d["pod"]) ?? "",
            NodeName = Str(d["node"]),
            Owner = Str(d["owner"]),
        })],
    };

    internal static WinEksSimulatorFault ToFault(JsonObject f)
    {
        string kind = KindsFromWire.GetValueOrDefault(Str(f["kind"]) ?? "api", "Api");
        bool badAmi = kind is "CrashLoop" or "NodeFails" or "Alarm";
        bool fleet = badAmi || kind is "LaunchFailure" or "NeverRegisters" or "RegistersNotReady" or "RegistersWithoutPodIps";
        return new WinEksSimulatorFault
        {
            Id = Str(f["id"]) ?? "",
            Kind = kind,
            Service = fleet ? null : Str(f["service"]),
            Operation = fleet || kind == "TokenExpiry" ? null : Str(f["operation"]),
            Resource = Str(f["resource"]),
            NodeGroup = Str(f["group"]),
            Throttle = f["throttle"]?.GetValue<bool>() ?? false,
            ErrorCode = badAmi || kind is "NeverRegisters" or "RegistersNotReady" or "RegistersWithoutPodIps" ? null : Str(f["errorCode"]),
            ImageId = badAmi ? Str(f["imageId"]) : null,
            AfterSeconds = kind is "NodeFails" or "Alarm" ? f["afterSeconds"]?.GetValue<double>() : null,
            AlarmName = kind == "Alarm" ? Str(f["alarmName"]) : null,
            StatusCode = f["statusCode"] is JsonNode s ? (int)Long(s) : null,
            LatencySeconds = f["latencySeconds"]?.GetValue<double>(),
            LatencyClock = f["latencySeconds"] is null ? null : Str(f["latencyClock"]),
            MaxTokenAgeSeconds = f["maxTokenAgeSeconds"]?.GetValue<double>(),
            Probability = f["probability"]?.GetValue<double>() ?? 1,
            Count = f["count"] is JsonNode c ? (int)Long(c) : null,
            Hits = (int)Long(f["hits"]),
        };
    }

    private static IEnumerable<JsonObject> Array(JsonObject o, string name) => (o[name] as JsonArray)?.OfType<JsonObject>() ?? [];

    private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    private static long Long(JsonNode? n) => n is JsonValue v ? (v.TryGetValue(out long l) ? l : v.TryGetValue(out double d) ? (long)d : 0) : 0;

    private static DateTimeOffset Time(JsonNode? n) =>
        Str(n) is string s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset t) ? t : default;
}
