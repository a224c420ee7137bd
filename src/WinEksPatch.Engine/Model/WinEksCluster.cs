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

    public override string ToString() => ClusterName;
}
