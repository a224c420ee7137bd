namespace WinEksPatch.Simulator.World;

// Kubernetes objects beyond nodes and pods: workload controllers, PodDisruptionBudgets, events, and the
// record of disruptions the simulator report needs. Plain mutable classes touched only under SimWorld.Gate.

/// <summary>A pod toleration (operator Equal or Exists; effect empty = all effects).</summary>
public sealed record KubeToleration(string? Key, string Operator, string? Value, string? Effect, long? TolerationSeconds = null)
{
    public bool Tolerates(string key, string? value, string effect) =>
        (string.IsNullOrEmpty(Effect) || Effect == effect)
        && (Operator == "Exists" ? string.IsNullOrEmpty(Key) || Key == key : Key == key && (Value ?? "") == (value ?? ""));
}

/// <summary>What a workload stamps its pods from.</summary>
public sealed class KubePodTemplate
{
    public Dictionary<string, string> Labels { get; } = [];
    public Dictionary<string, string> NodeSelector { get; } = [];
    public List<KubeContainer> Containers { get; } = [];
    public List<KubeToleration> Tolerations { get; } = [];
    public long TerminationGracePeriodSeconds { get; set; } = 30;
}

/// <summary>
/// A workload object: Deployment, ReplicaSet, DaemonSet or StatefulSet (apps/v1). A Deployment owns one current
/// ReplicaSet; ReplicaSets, DaemonSets and StatefulSets own pods. Status is computed from the pods when read.
/// </summary>
public sealed class KubeWorkload
{
    public required string ClusterName { get; init; }
    /// <summary>Deployment, ReplicaSet, DaemonSet or StatefulSet.</summary>
    public required string Kind { get; init; }
    public required string Namespace { get; init; }
    public required string Name { get; init; }
    public required string Uid { get; init; }
    public DateTimeOffset CreationTimestamp { get; init; }
    public Dictionary<string, string> Labels { get; } = [];
    /// <summary>spec.selector.matchLabels.</summary>
    public Dictionary<string, string> Selector { get; } = [];
    public KubePodTemplate Template { get; } = new();
    /// <summary>Desired replicas (not used by DaemonSets).</summary>
    public int Replicas { get; set; } = 1;
    public long Generation { get; set; } = 1;
    public long ResourceVersion { get; set; }
    /// <summary>ReplicaSets of a Deployment: the owning Deployment.</summary>
    public string? OwnerKind { get; init; }
    public string? OwnerName { get; init; }
    public string? OwnerUid { get; init; }
    /// <summary>pod-template-hash (ReplicaSet) or controller-revision-hash (DaemonSet, StatefulSet).</summary>
    public string TemplateHash { get; init; } = "";
    /// <summary>Name suffixes handed out so far, so a recreated pod never reuses a name.</summary>
    public int PodsCreated { get; set; }
}

/// <summary>A policy/v1 PodDisruptionBudget; its status is computed from the pods (<see cref="SimWorld.PdbStatus"/>).</summary>
public sealed class KubePdb
{
    public required string ClusterName { get; init; }
    public required string Namespace { get; init; }
    public required string Name { get; init; }
    public required string Uid { get; init; }
    public DateTimeOffset CreationTimestamp { get; init; }
    /// <summary>An integer ("5") or a percentage ("50%"); exactly one of MinAvailable and MaxUnavailable is set.</summary>
    public string? MinAvailable { get; set; }
    public string? MaxUnavailable { get; set; }
    /// <summary>matchLabels; an empty selector selects every pod of the namespace (policy/v1).</summary>
    public Dictionary<string, string> Selector { get; } = [];
    public long Generation { get; set; } = 1;
    public long ResourceVersion { get; set; }
}

/// <summary>Live status of a PDB as the disruption controller computes it.</summary>
public sealed record PdbStatusSnapshot(int CurrentHealthy, int DesiredHealthy, int ExpectedPods, int DisruptionsAllowed);

/// <summary>A core/v1 Event.</summary>
public sealed class KubeEvent
{
    public required string ClusterName { get; init; }
    public required string Namespace { get; init; }
    public required string Name { get; init; }
    public required string Uid { get; init; }
    public required string InvolvedKind { get; init; }
    public required string InvolvedName { get; init; }
    public string? InvolvedNamespace { get; init; }
    public string? InvolvedUid { get; init; }
    public string InvolvedApiVersion { get; init; } = "v1";
    /// <summary>Normal or Warning.</summary>
    public required string Type { get; init; }
    public required string Reason { get; init; }
    public required string Message { get; init; }
    public required string SourceComponent { get; init; }
    public string? SourceHost { get; init; }
    public DateTimeOffset FirstTimestamp { get; init; }
    public DateTimeOffset LastTimestamp { get; set; }
    public int Count { get; set; } = 1;
    public long ResourceVersion { get; set; }
}

/// <summary>How a pod came to be deleted.</summary>
public enum PodDeletionCause
{
    /// <summary>Through the eviction subresource (PDB-gated).</summary>
    Eviction,

    /// <summary>A direct DELETE of the pod (not PDB-gated).</summary>
    Delete,

    /// <summary>Its node was removed (instance terminated) while it ran there.</summary>
    NodeRemoved,

    /// <summary>Its controller removed it (scale down, DaemonSet node no longer matching).</summary>
    Controller,

    /// <summary>The taint manager deleted it: its node has a NoExecute taint the pod does not tolerate.</summary>
    TaintManager,
}

/// <summary>One pod deletion, for the simulator report ("pods deleted rather than evicted").</summary>
public sealed record PodDeletionRecord(
    DateTimeOffset At, string Cluster, string Namespace, string Name, string Uid, string? NodeName,
    string? OwnerKind, string? OwnerName, PodDeletionCause Cause, bool WasReady);

/// <summary>A healthy pod disrupted while its PDB allowed no disruption (only possible outside the eviction API).</summary>
public sealed record PdbViolationRecord(
    DateTimeOffset At, string Cluster, string Namespace, string PdbName, string PodName, PodDeletionCause Cause,
    int DesiredHealthy, int HealthyAfter);
