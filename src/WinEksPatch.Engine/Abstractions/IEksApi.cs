namespace WinEksPatch.Abstractions;

/// <summary>The EKS operations the module uses. Implemented by <c>Aws.Eks.EksClient</c> over the wire and by fakes in tests.</summary>
public interface IEksApi
{
    /// <summary>Names of every cluster in the region (all pages).</summary>
    Task<IReadOnlyList<string>> ListClustersAsync(CancellationToken cancellationToken = default);

    Task<EksCluster> DescribeClusterAsync(string clusterName, CancellationToken cancellationToken = default);

    /// <summary>Names of every managed node group of the cluster (all pages).</summary>
    Task<IReadOnlyList<string>> ListNodegroupsAsync(string clusterName, CancellationToken cancellationToken = default);

    Task<EksNodegroup> DescribeNodegroupAsync(string clusterName, string nodegroupName, CancellationToken cancellationToken = default);

    /// <summary>Starts a managed node group update to a launch template version, or to an EKS release version.</summary>
    Task<EksUpdate> UpdateNodegroupVersionAsync(string clusterName, string nodegroupName, LaunchTemplateReference? launchTemplate,
        string? releaseVersion, bool force, CancellationToken cancellationToken = default);

    Task<EksUpdate> DescribeUpdateAsync(string clusterName, string nodegroupName, string updateId, CancellationToken cancellationToken = default);

    /// <summary>Ids of the node group's updates (all pages), newest first as EKS lists them.</summary>
    Task<IReadOnlyList<string>> ListUpdatesAsync(string clusterName, string nodegroupName, CancellationToken cancellationToken = default);
}

/// <summary>An EKS update: its status (InProgress, Successful, Failed, Cancelled) and errors (e.g. PodEvictionFailure).</summary>
public sealed record EksUpdate(string Id, string? Status, string? Type, DateTimeOffset? CreatedAt, IReadOnlyList<EksUpdateError> Errors);

public sealed record EksUpdateError(string? ErrorCode, string? ErrorMessage, IReadOnlyList<string> ResourceIds);

/// <summary>An EKS cluster as DescribeCluster returns it (the parts the module reads).</summary>
public sealed record EksCluster(
    string Name,
    string? Arn,
    string? Version,
    string? Status,
    string? Endpoint,
    string? CertificateAuthorityData,
    string? PlatformVersion,
    DateTimeOffset? CreatedAt)
{
    /// <summary>The cluster's tags (DescribeCluster's tags), e.g. environment=prod.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>The account the cluster is in, from its ARN (arn:&lt;partition&gt;:eks:&lt;region&gt;:&lt;account&gt;:cluster/&lt;name&gt;);
    /// null when the ARN names none.</summary>
    public string? AccountId => Arn?.Split(':') is { Length: 6 } parts && parts[4].Length == 12 ? parts[4] : null;
}

/// <summary>An EKS managed node group as DescribeNodegroup returns it (the parts the module reads).</summary>
public sealed record EksNodegroup(
    string Name,
    string ClusterName,
    string? AmiType,
    string? ReleaseVersion,
    string? Version,
    string? Status,
    string? CapacityType,
    int? MinSize,
    int? MaxSize,
    int? DesiredSize,
    string? LaunchTemplateId,
    string? LaunchTemplateName,
    string? LaunchTemplateVersion,
    IReadOnlyList<string> AutoScalingGroupNames,
    IReadOnlyList<string> InstanceTypes)
{
    /// <summary>AMI types EKS documents for Windows: WINDOWS_CORE_2019_x86_64, WINDOWS_FULL_2022_x86_64, ...</summary>
    public bool IsWindowsAmiType => AmiType?.StartsWith("WINDOWS_", StringComparison.Ordinal) == true;

    /// <summary>The group's update config: how many nodes EKS's own updates take down at once (a count or a percentage).</summary>
    public int? MaxUnavailable { get; init; }

    public int? MaxUnavailablePercentage { get; init; }
}
