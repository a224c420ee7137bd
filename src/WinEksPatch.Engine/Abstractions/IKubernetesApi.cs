namespace WinEksPatch.Abstractions;

/// <summary>The Kubernetes reads and writes the module needs, in the module's own types.</summary>
public interface IKubernetesApi
{
    /// <summary>Every node matching the label selector (all pages of one LIST).</summary>
    Task<IReadOnlyList<KubeNode>> ListNodesAsync(string? labelSelector = null, CancellationToken cancellationToken = default);

    /// <summary>Every pod (of one namespace, or all when null) matching the selectors (all pages of one LIST).</summary>
    Task<IReadOnlyList<KubePod>> ListPodsAsync(string? @namespace = null, string? fieldSelector = null, string? labelSelector = null,
        CancellationToken cancellationToken = default);
}

/// <summary>A container of a pod: its image as the spec names it and, once pulled, the image id the kubelet reports.</summary>
public sealed record KubeContainer(string Name, string Image, string? ImageId);

/// <summary>A pod as the module sees it.</summary>
public sealed record KubePod(
    string Namespace,
    string Name,
    string? Uid,
    string? NodeName,
    string? Phase,
    string? OwnerKind,
    string? OwnerName,
    IReadOnlyList<KubeContainer> Containers,
    IReadOnlyDictionary<string, string> Labels,
    bool IsMirror,
    bool HasLocalStorage,
    long? TerminationGracePeriodSeconds,
    DateTimeOffset? DeletionTimestamp)
{
    /// <summary>Pending or Running: a pod that occupies its node.</summary>
    public bool IsActive => Phase is not ("Succeeded" or "Failed");
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
