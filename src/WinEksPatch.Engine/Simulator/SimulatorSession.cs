using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using WinEksPatch.Errors;

namespace WinEksPatch.Simulator;

/// <summary>The simulator's one-line JSON contract (see src/WinEksPatch.Simulator/README.md).</summary>
public sealed record SimulatorInfo(
    [property: JsonPropertyName("endpoint")] string Endpoint,
    [property: JsonPropertyName("kubernetesEndpoint")] string KubernetesEndpoint,
    [property: JsonPropertyName("region")] string Region,
    [property: JsonPropertyName("accessKeyId")] string AccessKeyId,
    [property: JsonPropertyName("secretAccessKey")] string SecretAccessKey,
    [property: JsonPropertyName("kubeConfigPath")] string KubeConfigPath,
    [property: JsonPropertyName("caCertPath")] string? CaCertPath,
    [property: JsonPropertyName("clusters")] IReadOnlyList<string> Clusters,
    [property: JsonPropertyName("timeScale")] double TimeScale,
    [property: JsonPropertyName("adminEndpoint")] string AdminEndpoint,
    [property: JsonPropertyName("registries")] IReadOnlyDictionary<string, string>? Registries = null,
    [property: JsonPropertyName("accounts")] IReadOnlyList<SimulatorAccount>? Accounts = null,
    [property: JsonPropertyName("configFile")] string? ConfigFile = null)
{
    /// <summary>The simulator's fixed test secret is not a credential of anyone's, but keep it out of output anyway.</summary>
    public override string ToString() => $"SimulatorInfo {{ Endpoint = {Endpoint}, Region = {Region}, Clusters = {string.Join(", ", Clusters)} }}";

    /// <summary>The simulator's account whose profile is <paramref name="profileName"/> (case as written), or null.</summary>
    public SimulatorAccount? AccountByProfile(string profileName) =>
        Accounts?.FirstOrDefault(a => string.Equals(a.Profile, profileName, StringComparison.Ordinal));

    /// <summary>The account whose access key this is, or null (a key of no simulated account).</summary>
    public SimulatorAccount? AccountByAccessKey(string accessKeyId) =>
        Accounts?.FirstOrDefault(a => string.Equals(a.AccessKeyId, accessKeyId, StringComparison.Ordinal));
}

/// <summary>An account of the simulator's scenario: its profile (what -ProfileName names while a session is pointed at
/// the simulator), home region, test credentials and the clusters of each of its regions.</summary>
public sealed record SimulatorAccount(
    [property: JsonPropertyName("accountId")] string AccountId,
    [property: JsonPropertyName("profile")] string Profile,
    [property: JsonPropertyName("region")] string Region,
    [property: JsonPropertyName("accessKeyId")] string AccessKeyId,
    [property: JsonPropertyName("secretAccessKey")] string SecretAccessKey,
    [property: JsonPropertyName("regions")] IReadOnlyList<SimulatorRegion> Regions)
{
    public override string ToString() => $"{Profile} ({AccountId})";
}

/// <summary>The clusters of a simulator account in one region, by name, each with its Kubernetes API URL.</summary>
public sealed record SimulatorRegion(
    [property: JsonPropertyName("region")] string Region,
    [property: JsonPropertyName("clusters")] IReadOnlyDictionary<string, string> Clusters);

/// <summary>
/// A simulator the module started in its own process (Kestrel needs the ASP.NET Core runtime, which a pwsh session does
/// not load) and that the session's cmdlets are pointed at: AWS calls go to its endpoint with its credentials, and the
/// module's clock is the simulator's virtual clock.
/// </summary>
public sealed class SimulatorSession : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Process? _process;

    private SimulatorSession(Process? process, SimulatorInfo info, SimulatorTimeProvider clock, SimulatorTrust? trust)
    {
        _process = process;
        Info = info;
        Clock = clock;
        Trust = trust;
    }

    /// <summary>Connects to a simulator another process started (its AWS endpoint, e.g. http://127.0.0.1:4566): reads its
    /// information and clock from the admin path. An https endpoint (a simulator started with -Tls) is trusted through
    /// the simulator's CA certificate <paramref name="caCertPath"/> (its caCertPath), for that endpoint only. Disposing
    /// only disconnects.</summary>
    public static async Task<SimulatorSession> AttachAsync(string endpoint, string? caCertPath = null, CancellationToken cancellationToken = default)
    {
        var admin = endpoint.TrimEnd('/') + "/_sim";
        var trust = Uri.TryCreate(endpoint, UriKind.Absolute, out _) ? SimulatorTrust.For(endpoint, caCertPath) : null;
        try
        {
            SimulatorInfo? info;
            try
            {
                using var http = CreateHttpClient(trust, TimeSpan.FromSeconds(10));
                info = await http.GetFromJsonAsync<SimulatorInfo>(new Uri(admin + "/info"), Json, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex) when (ex.InnerException is System.Security.Authentication.AuthenticationException
                && endpoint.StartsWith("https:", StringComparison.OrdinalIgnoreCase))
            {
                var what = trust is null
                    ? $"name its CA certificate (the caCertPath it printed) with -CaCertPath or {ModuleEnvironment.SimulatorCaVariable}"
                    : $"its certificate does not chain to the CA certificate '{caCertPath}' (use the caCertPath it printed)";
                throw new WinEksPatchException(ErrorIds.SimulatorCertificateUntrusted, ErrorKind.AuthenticationError,
                    $"-Endpoint: the simulator at {endpoint} serves TLS with its own CA: {what}.", endpoint, ex);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or UriFormatException)
            {
                throw new WinEksPatchException(ErrorIds.SimulatorNotRunning, ErrorKind.ConnectionError,
                    $"-Endpoint: no WinEksPatch simulator answers at {endpoint} ({ex.Message}).", endpoint, ex);
            }

            info = info ?? throw new WinEksPatchException(ErrorIds.SimulatorNotRunning, ErrorKind.InvalidData, $"-Endpoint: {endpoint} sent no simulator information.", endpoint);
            var clock = await SimulatorTimeProvider.ConnectAsync(info.AdminEndpoint, trust, cancellationToken).ConfigureAwait(false);
            return new SimulatorSession(null, info, clock, trust);
        }
        catch
        {
            trust?.Dispose();
            throw;
        }
    }

    /// <summary>True when this session started the simulator process (Stop-WinEksSimulator stops it); false when attached.</summary>
    public bool OwnsProcess => _process != null;

    public SimulatorInfo Info { get; }

    public SimulatorTimeProvider Clock { get; }

    /// <summary>Trust in the simulator's CA for its AWS endpoint when that is https (-Tls); null for http.</summary>
    public SimulatorTrust? Trust { get; }

    /// <summary>An HttpClient for the simulator's AWS endpoint, admin path and registries (trusting its CA with -Tls).</summary>
    public HttpClient CreateHttpClient(TimeSpan timeout) => CreateHttpClient(Trust, timeout);

    internal static HttpClient CreateHttpClient(SimulatorTrust? trust, TimeSpan timeout) =>
        trust?.CreateHttpClient(timeout) ?? new HttpClient { Timeout = timeout };

    public int ProcessId => _process?.Id ?? 0;

    public bool HasExited => _process?.HasExited == true;

    /// <summary>Starts <c>dotnet WinEksPatch.Simulator.dll</c> and waits for its JSON line; with <paramref name="tls"/> its AWS
    /// endpoint is https with a certificate of its generated CA, which this session then trusts for that endpoint.
    /// <paramref name="powershell"/>: the pwsh (or pwsh.dll) its Automation runs aws:executeScript steps with;
    /// <paramref name="documents"/>: Automation documents (name, file) it has in every account and Region.</summary>
    public static async Task<SimulatorSession> StartAsync(string simulatorDll, string scenario, double timeScale, bool tls = false,
        string? faultsFile = null, string? iamPolicyFile = null, CancellationToken cancellationToken = default,
        string? powershell = null, IReadOnlyList<(string Name, string Path)>? documents = null)
    {
        if (!File.Exists(simulatorDll))
        {
            throw new WinEksPatchException(ErrorIds.SimulatorNotFound, ErrorKind.ObjectNotFound,
                $"The simulator is not installed with the module (expected {simulatorDll}).", simulatorDll);
        }

        // On Unix the simulator gets a session (and process group) of its own through setsid, which execs dotnet in the same
        // process: the terminal's Ctrl+C, Ctrl+\ and Ctrl+Z go to the console's foreground process group and must not stop
        // or suspend a rehearsal's simulator. (On Windows, and on Unix too, --ignore-interrupt makes it ignore SIGINT: it
        // stops when this session closes its stdin or exits.)
        var setsid = OperatingSystem.IsWindows() ? null : new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);
        var start = new ProcessStartInfo(setsid ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (setsid != null)
        {
            start.ArgumentList.Add("dotnet");
        }

        foreach (var argument in new[] { simulatorDll, "--scenario", scenario, "--time-scale", timeScale.ToString(System.Globalization.CultureInfo.InvariantCulture), "--parent-pid", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--ignore-interrupt" })
        {
            start.ArgumentList.Add(argument);
        }

        if (tls)
        {
            start.ArgumentList.Add("--tls");
        }

        if (faultsFile != null)
        {
            start.ArgumentList.Add("--faults");
            start.ArgumentList.Add(faultsFile);
        }

        if (iamPolicyFile != null)
        {
            start.ArgumentList.Add("--iam-policy");
            start.ArgumentList.Add(iamPolicyFile);
        }

        if (powershell != null)
        {
            start.ArgumentList.Add("--powershell");
            start.ArgumentList.Add(powershell);
        }

        foreach (var (name, path) in documents ?? [])
        {
            start.ArgumentList.Add("--document");
            start.ArgumentList.Add($"{name}={path}");
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new WinEksPatchException(ErrorIds.SimulatorFailed, ErrorKind.InvalidOperation,
                $"The simulator could not be started: 'dotnet' (with the ASP.NET Core runtime) must be on PATH. {ex.Message}", simulatorDll, ex);
        }

        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        string? line;
        bool timedOut = false;
        try
        {
            line = await process.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            line = null;
            timedOut = true;
        }

        if (string.IsNullOrWhiteSpace(line))
        {
            TryKill(process);
            // Its output ended without the line: it exited, and says why on stderr. That text may still be on its way (a
            // busy machine): wait for it, a little, rather than report a silence that did not happen.
            var said = timedOut ? null : await Task.WhenAny(stderr, Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None)).ConfigureAwait(false) == stderr
                ? (await stderr.ConfigureAwait(false)).Trim() : null;
            var error = said is { Length: > 0 } ? said
                : timedOut ? "it did not answer within 60 s"
                : $"it exited without a word{(process.HasExited ? $" (exit code {process.ExitCode})" : "")}";
            throw new WinEksPatchException(ErrorIds.SimulatorFailed, ErrorKind.InvalidOperation,
                $"The simulator did not start (scenario '{scenario}'): {error}", scenario);
        }

        SimulatorTrust? trust = null;
        try
        {
            var info = JsonSerializer.Deserialize<SimulatorInfo>(line, Json)
                ?? throw new WinEksPatchException(ErrorIds.SimulatorFailed, ErrorKind.InvalidData, "The simulator wrote no information.", scenario);
            trust = SimulatorTrust.For(info.Endpoint, info.CaCertPath);
            var clock = await SimulatorTimeProvider.ConnectAsync(info.AdminEndpoint, trust, cancellationToken).ConfigureAwait(false);
            return new SimulatorSession(process, info, clock, trust);
        }
        catch
        {
            trust?.Dispose();
            TryKill(process);
            process.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Fails with SimulatorGone when the simulator this session is pointed at no longer serves: the process this session
    /// started has exited, or an attached simulator does not answer on its admin path. The session stays pointed at it, so
    /// nothing falls back to the AWS SDK's default chain (a rehearsal on a jump box with an instance role would otherwise
    /// reach production) until Start-WinEksSimulator or Stop-WinEksSimulator says otherwise.
    /// </summary>
    public void EnsureServing()
    {
        const string Next = "This session stays pointed at it and will not fall back to AWS: start another with Start-WinEksSimulator, " +
            "or run Stop-WinEksSimulator to use AWS again.";
        if (HasExited)
        {
            throw new WinEksPatchException(ErrorIds.SimulatorGone, ErrorKind.ConnectionError,
                $"The simulator this session started (process {_process!.Id}, {Info.Endpoint}) has exited. {Next}", Info.Endpoint);
        }

        // The clock resyncs every second: a recent answer says the simulator serves, with no request of our own.
        if (_process != null || Clock.SinceLastAnswer < TimeSpan.FromSeconds(3))
        {
            return;
        }

        try
        {
            using var http = CreateHttpClient(TimeSpan.FromSeconds(5));
            using var response = http.GetAsync(new Uri(Info.AdminEndpoint + "/info")).GetAwaiter().GetResult();
            response.EnsureSuccessStatusCode();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            throw new WinEksPatchException(ErrorIds.SimulatorGone, ErrorKind.ConnectionError,
                $"The simulator this session is attached to ({Info.Endpoint}) does not answer: {ex.Message} {Next}", Info.Endpoint);
        }
    }

    /// <summary>Whether <paramref name="server"/> (a kubeconfig cluster's server) is this simulator's Kubernetes endpoint.</summary>
    public bool ServesKubernetesAt(string? server) =>
        Uri.TryCreate(server, UriKind.Absolute, out var uri) && Uri.TryCreate(Info.KubernetesEndpoint, UriKind.Absolute, out var own)
        && uri.IsLoopback && own.Port == uri.Port && string.Equals(uri.Scheme, own.Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>Stops the simulator: closing its stdin asks it to stop; it is killed if it has not after 10 s.</summary>
    public void Dispose()
    {
        Clock.Dispose();
        Trust?.Dispose();
        if (_process == null)
        {
            return; // attached: the simulator belongs to another process
        }

        if (!_process.HasExited)
        {
            try
            {
                _process.StandardInput.Close();
                if (!_process.WaitForExit(10_000))
                {
                    TryKill(_process);
                }
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
        }

        _process.Dispose();
    }

    /// <summary>GET on the simulator's admin path, e.g. "report".</summary>
    public async Task<JsonDocument> GetAdminAsync(string relative, CancellationToken cancellationToken = default)
    {
        using var http = CreateHttpClient(TimeSpan.FromSeconds(100));
        var stream = await http.GetStreamAsync(new Uri($"{Info.AdminEndpoint}/{relative}"), cancellationToken).ConfigureAwait(false);
        return await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST on the simulator's admin path with an optional JSON body.</summary>
    public async Task PostAdminAsync(string relative, object? body = null, CancellationToken cancellationToken = default)
    {
        using var http = CreateHttpClient(TimeSpan.FromSeconds(100));
        using var response = await http.PostAsync(new Uri($"{Info.AdminEndpoint}/{relative}"),
            body == null ? null : JsonContent.Create(body), cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new WinEksPatchException(ErrorIds.SimulatorFailed, ErrorKind.InvalidArgument,
                $"The simulator refused {relative}: {(int)response.StatusCode} {text}", relative);
        }
    }

    private static void TryKill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
    }
}
