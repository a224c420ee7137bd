using System.Text.Json.Serialization;

namespace WinEksPatch.Simulator.Hosting;

/// <summary>
/// What a client needs to use a running simulator; printed by the executable as one JSON line.
/// The property names are the contract (camelCase, in this order).
/// </summary>
public sealed record SimulatorInfo
{
    [JsonPropertyName("endpoint")]
    public required string Endpoint { get; init; }

    [JsonPropertyName("kubernetesEndpoint")]
    public required string KubernetesEndpoint { get; init; }

    [JsonPropertyName("region")]
    public required string Region { get; init; }

    [JsonPropertyName("accessKeyId")]
    public required string AccessKeyId { get; init; }

    [JsonPropertyName("secretAccessKey")]
    public required string SecretAccessKey { get; init; }

    [JsonPropertyName("kubeConfigPath")]
    public required string KubeConfigPath { get; init; }

    [JsonPropertyName("caCertPath")]
    public required string CaCertPath { get; init; }

    [JsonPropertyName("clusters")]
    public required IReadOnlyList<string> Clusters { get; init; }

    [JsonPropertyName("timeScale")]
    public required double TimeScale { get; init; }

    [JsonPropertyName("adminEndpoint")]
    public required string AdminEndpoint { get; init; }

    /// <summary>Container registry host (as in image references) → its OCI distribution base URL in the simulator.</summary>
    [JsonPropertyName("registries")]
    public IReadOnlyDictionary<string, string> Registries { get; init; } = new Dictionary<string, string>();

    /// <summary>Every account of the scenario, the first being the one above (a scenario without accounts has one).</summary>
    [JsonPropertyName("accounts")]
    public IReadOnlyList<SimulatorAccountInfo> Accounts { get; init; } = [];

    /// <summary>A shared AWS config file with one profile per account (credentials, region, endpoint_url).</summary>
    [JsonPropertyName("configFile")]
    public string? ConfigFile { get; init; }

    /// <summary>The Kubernetes API URL of one cluster (what DescribeCluster returns as endpoint).</summary>
    public string ClusterEndpoint(string cluster) => $"{KubernetesEndpoint}/clusters/{cluster}";
}

/// <summary>An account of the simulator's scenario: its id, profile, credentials (test ones, opening only this
/// simulator) and the clusters of each of its regions.</summary>
public sealed record SimulatorAccountInfo
{
    [JsonPropertyName("accountId")]
    public required string AccountId { get; init; }

    [JsonPropertyName("profile")]
    public required string Profile { get; init; }

    /// <summary>The account's home region (its profile's region).</summary>
    [JsonPropertyName("region")]
    public required string Region { get; init; }

    [JsonPropertyName("accessKeyId")]
    public required string AccessKeyId { get; init; }

    [JsonPropertyName("secretAccessKey")]
    public required string SecretAccessKey { get; init; }

    [JsonPropertyName("regions")]
    public required IReadOnlyList<SimulatorRegionInfo> Regions { get; init; }
}

/// <summary>The clusters of one account in one region, each with its Kubernetes API URL (DescribeCluster's endpoint).</summary>
public sealed record SimulatorRegionInfo
{
    [JsonPropertyName("region")]
    public required string Region { get; init; }

    [JsonPropertyName("clusters")]
    public required IReadOnlyDictionary<string, string> Clusters { get; init; }
}
