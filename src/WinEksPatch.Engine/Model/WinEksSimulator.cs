namespace WinEksPatch.Model;

/// <summary>A running simulator the session is pointed at: output of <c>Start-WinEksSimulator</c>.</summary>
public sealed class WinEksSimulator
{
    public required string Scenario { get; init; }

    /// <summary>The AWS endpoint (every service; SigV4 checked against the simulator's credentials): http, or https
    /// with -Tls.</summary>
    public required string Endpoint { get; init; }

    /// <summary>The Kubernetes API (TLS); each cluster under /clusters/&lt;name&gt;.</summary>
    public required string KubernetesEndpoint { get; init; }

    /// <summary>A kubeconfig with one context per cluster, for kubectl and other clients.</summary>
    public required string KubeConfigPath { get; init; }

    /// <summary>The simulator's generated CA certificate (PEM): it signs the Kubernetes endpoint's certificate, and the
    /// AWS endpoint's with -Tls (for AWS_CA_BUNDLE, Connect-WinEksSimulator -CaCertPath).</summary>
    public string? CaCertPath { get; init; }

    public required string Region { get; init; }

    public IReadOnlyList<string> Clusters { get; init => field = ItemList.From(value); } = new ItemList<string>();

    /// <summary>Simulated seconds per wall-clock second.</summary>
    public double TimeScale { get; init; }

    public int ProcessId { get; init; }

    /// <summary>Every account of the scenario in each region it has clusters in (the first is the session's default).</summary>
    public IReadOnlyList<WinEksSimulatorAccount> Accounts { get; init => field = ItemList.From(value); } = new ItemList<WinEksSimulatorAccount>();

    /// <summary>A shared AWS config file with one profile per account (AWS_CONFIG_FILE for the AWS CLI and SDKs).</summary>
    public string? ConfigFile { get; init; }

    /// <summary>The output object for a simulator's information (<paramref name="processId"/> 0 when attached).</summary>
    public static WinEksSimulator From(Simulator.SimulatorInfo info, string scenario, double timeScale, int processId) => new()
    {
        Scenario = scenario,
        Endpoint = info.Endpoint,
        KubernetesEndpoint = info.KubernetesEndpoint,
        KubeConfigPath = info.KubeConfigPath,
        CaCertPath = info.CaCertPath,
        Region = info.Region,
        Clusters = info.Clusters,
        TimeScale = timeScale,
        ProcessId = processId,
        Accounts = [.. (info.Accounts ?? []).SelectMany(a => a.Regions.Select(r => new WinEksSimulatorAccount
        {
            AccountId = a.AccountId,
            ProfileName = a.Profile,
            Region = r.Region,
            Clusters = [.. r.Clusters.Keys],
        }))],
        ConfigFile = info.ConfigFile,
    };

    public override string ToString() => $"{Scenario} at {Endpoint}";
}
