namespace WinEksPatch.Model;

/// <summary>An EKS cluster and its Windows footprint: output of <c>Get-WinEksCluster</c>.</summary>
public sealed class WinEksCluster
{
    /// <summary>Cluster name; binds to <c>-ClusterName</c> of the other cmdlets.</summary>
    public required string ClusterName { get; init; }

    public required string Region { get; init; }

    public string? KubernetesVersion { get; init; }

    public string? Status { get; init; }

    public string? Endpoint { get; init; }

    public string? PlatformVersion { get; init; }

    public string? Arn { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>Windows node groups: managed (EKS) and self-managed (Auto Scaling groups with Windows nodes).</summary>
    public IReadOnlyList<string> WindowsNodeGroups { get; init => field = ItemList.From(value); } = new ItemList<string>();

    public int WindowsNodeCount { get; init; }

    /// <summary>The cluster's tags (e.g. environment=prod): what New-WinEksFleetPlan -WaveBy Tag:&lt;key&gt; groups by.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init => field = value as ItemMap ?? new ItemMap(value); } = new ItemMap();

    /// <summary>The account the cluster is in (from its ARN), so a fleet plan built from it checks it reaches that account.</summary>
    public string? AccountId { get; init; }

    /// <summary>The AWS profile the cluster was read through (-ProfileName), so a fleet plan built from it reaches it again;
    /// null for the default identity.</summary>
    public string? ProfileName { get; init; }

    public override string ToString() => ClusterName;
}
