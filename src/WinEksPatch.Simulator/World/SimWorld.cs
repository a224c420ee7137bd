using WinEksPatch.Simulator.Clock;

namespace WinEksPatch.Simulator.World;

/// <summary>
/// The whole simulated world: one in-memory state guarded by one lock (<see cref="Gate"/>).
/// One lock keeps every cross-service invariant simple (an instance, its ASG membership and its node
/// change together); the world is small enough that contention does not matter. Services take the lock,
/// read or change entities, copy what they answer, and release it before writing to the network.
/// The scenario loader fills it; it knows nothing about wire protocols.
/// </summary>
public sealed partial class SimWorld(SimClock clock, string region, string accountId)
{
    public object Gate { get; } = new();
    public SimClock Clock { get; } = clock;
    public string Region { get; } = region;
    public string AccountId { get; } = accountId;

    public Dictionary<string, AmiImage> Images { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, LaunchTemplate> LaunchTemplates { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, AutoScalingGroup> AutoScalingGroups { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, Ec2Instance> Instances { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, EksCluster> Clusters { get; } = new(StringComparer.Ordinal);
    /// <summary>Keyed by (cluster, node group name).</summary>
    public Dictionary<(string Cluster, string Name), EksNodegroup> Nodegroups { get; } = [];
    /// <summary>Keyed by (cluster, node name).</summary>
    public Dictionary<(string Cluster, string Name), KubeNode> Nodes { get; } = [];
    /// <summary>Keyed by (cluster, namespace, pod name).</summary>
    public Dictionary<(string Cluster, string Namespace, string Name), KubePod> Pods { get; } = [];
    public Dictionary<string, SsmParameter> SsmParameters { get; } = new(StringComparer.Ordinal);

    private long _resourceVersion = 1000;

    /// <summary>Kubernetes resourceVersion counter shared by all clusters (only ordering matters).</summary>
    public long NextResourceVersion() => ++_resourceVersion;

    public long CurrentResourceVersion => _resourceVersion;

    // Hooks between the areas of the simulator (fleet: EC2/Auto Scaling/EKS; Kubernetes: API, scheduler,
    // controllers; images: registry, Image Builder, pull times). The area that changes the state calls the hook;
    // the area that reacts implements the partial method in its own SimWorld.<Area>.cs file. Called with Gate held.

    /// <summary>A node was added or changed (Ready, schedulable, taints, labels): watchers hear it and the scheduler
    /// may place pending pods.</summary>
    public void NodeChanged(KubeNode node) => OnNodeChanged(node);

    /// <summary>A node is gone (its instance terminated): its pods are gone with it and controllers replace them.</summary>
    public void NodeRemoved(KubeNode node) => OnNodeRemoved(node);

    /// <summary>A pod was added, changed or deleted: watchers hear it, PDB status is recomputed.</summary>
    public void PodChanged(KubePod pod, bool deleted) => OnPodChanged(pod, deleted);

    partial void OnNodeChanged(KubeNode node);

    partial void OnNodeRemoved(KubeNode node);

    partial void OnPodChanged(KubePod pod, bool deleted);
}
