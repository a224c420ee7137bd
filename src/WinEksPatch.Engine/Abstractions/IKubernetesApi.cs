namespace WinEksPatch.Abstractions;

/// <summary>The Kubernetes reads and writes the module needs, in the module's own types.</summary>
public interface IKubernetesApi
{
    /// <summary>Every node matching the label selector (all pages of one LIST).</summary>
    Task<IReadOnlyList<KubeNode>> ListNodesAsync(string? labelSelector = null, CancellationToken cancellationToken = default);
}

/// <summary>A node as the module sees it.</summary>
public sealed record KubeNode(
    string Name,
    IReadOnlyDictionary<string, string> Labels,
    string? ProviderId,
    string? KernelVersion,
    string? OsImage,
    bool Ready,
    bool Unschedulable,
    DateTimeOffset? CreatedAt)
{
    /// <summary>Instance id from <c>aws:///us-west-2a/i-0123...</c>.</summary>
    public string? InstanceId => ProviderId is { } id && id.StartsWith("aws://", StringComparison.Ordinal)
        ? id[(id.LastIndexOf('/') + 1)..] is { Length: > 0 } last && last.StartsWith("i-", StringComparison.Ordinal) ? last : null
        : null;

    public bool IsWindows => Labels.TryGetValue("kubernetes.io/os", out var os) && os == "windows";

    /// <summary>The EKS managed node group, from the label EKS puts on its nodes.</summary>
    public string? ManagedNodegroup => Labels.TryGetValue("eks.amazonaws.com/nodegroup", out var name) ? name : null;
}
