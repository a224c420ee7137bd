namespace WinEksPatch.Abstractions;

/// <summary>The Kubernetes reads and writes the module needs, in the module's own types.</summary>
public interface IKubernetesApi
{
    /// <summary>Every node matching the label selector (all pages of one LIST).</summary>
    Task<IReadOnlyList<KubeNode>> ListNodesAsync(string? labelSelector = null, CancellationToken cancellationToken = default);

    /// <summary>Every pod (of one namespace, or all when null) matching the selectors (all pages of one LIST).</summary>
    Task<IReadOnlyList<KubePod>> ListPodsAsync(string? @namespace = null, string? fieldSelector = null, string? labelSelector = null,
        CancellationToken cancellationToken = default);

    /// <summary>Sets or clears spec.unschedulable (cordon / uncordon).</summary>
    Task SetUnschedulableAsync(string nodeName, bool unschedulable, CancellationToken cancellationToken = default);

    /// <summary>Sets a label on a node (merge patch of metadata.labels).</summary>
    Task SetNodeLabelAsync(string nodeName, string key, string value, CancellationToken cancellationToken = default);

    /// <summary>Asks the eviction subresource (policy/v1) to evict a pod; PDBs decide.</summary>
    Task<EvictionOutcome> EvictAsync(string @namespace, string podName, CancellationToken cancellationToken = default);

    /// <summary>Deletes a pod outright (only for -Force after a drain timeout).</summary>
    Task DeletePodAsync(string @namespace, string podName, CancellationToken cancellationToken = default);

    /// <summary>Every PodDisruptionBudget (policy/v1) of the cluster with its live status.</summary>
    Task<IReadOnlyList<KubePdb>> ListPdbsAsync(CancellationToken cancellationToken = default);

    /// <summary>Watches nodes from a resource version; ends when the server closes the watch (the caller re-lists/re-watches).</summary>
    IAsyncEnumerable<WatchEvent<KubeNode>> WatchNodesAsync(string? labelSelector, string? resourceVersion, CancellationToken cancellationToken = default);

    /// <summary>Watches pods (all namespaces) from a resource version.</summary>
    IAsyncEnumerable<WatchEvent<KubePod>> WatchPodsAsync(string? fieldSelector, string? resourceVersion, CancellationToken cancellationToken = default);

    /// <summary>Lists nodes and returns the list's resource version, to start a watch from.</summary>
    Task<(IReadOnlyList<KubeNode> Items, string? ResourceVersion)> ListNodesForWatchAsync(string? labelSelector, CancellationToken cancellationToken = default);

    /// <summary>Lists pods and returns the list's resource version, to start a watch from.</summary>
    Task<(IReadOnlyList<KubePod> Items, string? ResourceVersion)> ListPodsForWatchAsync(string? fieldSelector, CancellationToken cancellationToken = default);

    /// <summary>A coordination.k8s.io/v1 Lease, or null when there is none.</summary>
    Task<KubeLease?> GetLeaseAsync(string @namespace, string name, CancellationToken cancellationToken = default);

    /// <summary>Creates a Lease; null when one of that name exists already (409 AlreadyExists: someone else was first).</summary>
    Task<KubeLease?> CreateLeaseAsync(KubeLease lease, CancellationToken cancellationToken = default);

    /// <summary>Replaces a Lease at the resource version it carries; null when the Lease changed since (409 Conflict) or is gone.</summary>
    Task<KubeLease?> ReplaceLeaseAsync(KubeLease lease, CancellationToken cancellationToken = default);

    /// <summary>Deletes a Lease if it is still at <paramref name="resourceVersion"/> (a delete precondition); false when it
    /// changed since or is gone.</summary>
    Task<bool> DeleteLeaseAsync(string @namespace, string name, string resourceVersion, CancellationToken cancellationToken = default);
}

/// <summary>A coordination.k8s.io/v1 Lease: who holds it, since when, when it was last renewed and for how long a renewal
/// counts. <see cref="Annotations"/> carry what a holder wants others to see of it.</summary>
public sealed record KubeLease(
    string Namespace,
    string Name,
    string? HolderIdentity,
    int? LeaseDurationSeconds,
    DateTimeOffset? AcquireTime,
    DateTimeOffset? RenewTime,
    int LeaseTransitions,
    IReadOnlyDictionary<string, string> Annotations,
    string? ResourceVersion = null)
{
    /// <summary>When the holder's claim lapses unless renewed; null when nobody holds it.</summary>
    public DateTimeOffset? ExpiresAt => string.IsNullOrEmpty(HolderIdentity) ? null : (RenewTime ?? AcquireTime) + TimeSpan.FromSeconds(LeaseDurationSeconds ?? 0);
}

public enum WatchEventType
{
    Added,
    Modified,
    Deleted,
}

public sealed record WatchEvent<T>(WatchEventType Type, T Item);

/// <summary>What the eviction subresource answered.</summary>
public enum EvictionResult
{
    /// <summary>201: accepted; the pod terminates gracefully.</summary>
    Evicted,

    /// <summary>404: the pod is already gone.</summary>
    NotFound,

    /// <summary>429: a PodDisruptionBudget allows no disruption now; retry later.</summary>
    Blocked,

    /// <summary>500: more than one PodDisruptionBudget selects the pod; evictions cannot proceed.</summary>
    MultipleBudgets,
}

public sealed record EvictionOutcome(EvictionResult Result, string? Message, string? BudgetName);

/// <summary>A PodDisruptionBudget and its live status.</summary>
public sealed record KubePdb(
    string Namespace,
    string Name,
    IReadOnlyDictionary<string, string> MatchLabels,
    IReadOnlyList<(string Key, string Operator, IReadOnlyList<string> Values)> MatchExpressions,
    string? MinAvailable,
    string? MaxUnavailable,
    int DisruptionsAllowed,
    int CurrentHealthy,
    int DesiredHealthy,
    int ExpectedPods)
{
    /// <summary>Whether the budget's selector selects <paramref name="pod"/> (same namespace; an empty selector selects nothing).</summary>
    public bool Selects(KubePod pod)
    {
        if (pod.Namespace != Namespace || (MatchLabels.Count == 0 && MatchExpressions.Count == 0))
        {
            return false;
        }

        if (MatchLabels.Any(l => !pod.Labels.TryGetValue(l.Key, out var v) || v != l.Value))
        {
            return false;
        }

        return MatchExpressions.All(e => e.Operator switch
        {
            "In" => pod.Labels.TryGetValue(e.Key, out var v) && e.Values.Contains(v),
            "NotIn" => !pod.Labels.TryGetValue(e.Key, out var v) || !e.Values.Contains(v),
            "Exists" => pod.Labels.ContainsKey(e.Key),
            "DoesNotExist" => !pod.Labels.ContainsKey(e.Key),
            _ => false,
        });
    }
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

    /// <summary>When its first container started running (the earliest containerStatuses[].state.running.startedAt); null
    /// while none runs.</summary>
    public DateTimeOffset? RunningSince { get; init; }

    /// <summary>Its Ready condition is True.</summary>
    public bool Ready { get; init; }

    /// <summary>Container restarts so far, summed over its containers (containerStatuses[].restartCount).</summary>
    public int RestartCount { get; init; }

    /// <summary>The scheduler found no node for it (PodScheduled False, reason Unschedulable).</summary>
    public bool Unschedulable { get; init; }

    /// <summary>Why a container waits, when one does (e.g. CrashLoopBackOff, ImagePullBackOff).</summary>
    public string? WaitingReason { get; init; }
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

    /// <summary>When the Ready condition last changed (its lastTransitionTime): for a Ready node, since when it is Ready.</summary>
    public DateTimeOffset? ReadySince { get; init; }

    /// <summary>Keys of the node's taints (EKS's managed updates mark outdated nodes with eks.amazonaws.com/nodegroup
    /// before they drain them, and only cordon them afterwards).</summary>
    public IReadOnlyList<string> TaintKeys { get; init; } = [];

    /// <summary>Extended resources the node offers (allocatable, above zero): device plugins' and controllers' resources
    /// such as vpc.amazonaws.com/PrivateIPv4Address, the pod IPs EKS's VPC resource controller gives a Windows node.</summary>
    public IReadOnlyList<string> ExtendedResources { get; init; } = [];

    /// <summary>Kubernetes' definition: a domain-prefixed resource name outside the kubernetes.io domains.</summary>
    public static bool IsExtendedResource(string name) =>
        name.IndexOf('/', StringComparison.Ordinal) is > 0 and var slash
        && name[..slash] is var domain && domain != "kubernetes.io" && !domain.EndsWith(".kubernetes.io", StringComparison.Ordinal);

    /// <summary>Taints a node carries until it can take pods (kubelet, cloud provider and network not yet done).</summary>
    public static readonly IReadOnlyList<string> StartupTaints =
        ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable", "node.kubernetes.io/network-unavailable", "node.cloudprovider.kubernetes.io/uninitialized"];
}
