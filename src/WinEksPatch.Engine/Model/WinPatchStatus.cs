namespace WinEksPatch.Model;

/// <summary>Where a Windows node group stands against the newest AMI it could run: output of <c>Get-WinPatchStatus</c>.</summary>
public sealed class WinPatchStatus
{
    public required string ClusterName { get; init; }

    public required string NodeGroupName { get; init; }

    /// <summary>Managed or SelfManaged: a <see cref="NodeGroupKind"/> name, kept as text so ConvertTo-Json writes the name.</summary>
    public required string Kind { get; init; }

    public string? WindowsVersion { get; init; }

    public string? KubernetesVersion { get; init; }

    /// <summary>The AMI the group launches new nodes from.</summary>
    public string? ImageId { get; init; }

    /// <summary>Every AMI its nodes run now (more than one during or after an interrupted rollout).</summary>
    public IReadOnlyList<string> CurrentImageIds { get; init => field = ItemList.From(value); } = new ItemList<string>();

    /// <summary>The oldest OS build among its nodes (or its AMI's when it has none).</summary>
    public string? OsBuild { get; init; }

    /// <summary>The newest candidate AMI for the group's Windows version and edition and the cluster's Kubernetes
    /// version: the latest EKS-optimized one, or a newer one built by New-WinNodeAmi.</summary>
    public string? LatestImageId { get; init; }

    public string? LatestOsBuild { get; init; }

    /// <summary>Eks or ImageBuilder: an <see cref="AmiSource"/> name (text, so ConvertTo-Json writes the name).</summary>
    public string? LatestSource { get; init; }

    public int NodeCount { get; init; }

    /// <summary>Nodes whose OS build is older than the latest candidate's.</summary>
    public int OutdatedNodes { get; init; }

    /// <summary>Monthly Windows patches between the oldest node and the latest candidate.</summary>
    public int? MonthsBehind { get; init; }

    public string? OldestNode { get; init; }

    public TimeSpan? OldestNodeAge { get; init; }

    public bool UpToDate => OutdatedNodes == 0 && (MonthsBehind ?? 0) == 0;

    public override string ToString() => $"{ClusterName}/{NodeGroupName}";
}
