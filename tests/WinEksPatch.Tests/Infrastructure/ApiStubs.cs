using WinEksPatch.Abstractions;

namespace WinEksPatch.Tests.Infrastructure;

// Bases for hand-written fakes of the outside systems: every operation throws until a fake overrides it, so a workflow
// that calls something its test did not expect fails loudly (a read-only workflow that writes, say).

public abstract class EksApiStub : IEksApi
{
    public virtual Task<IReadOnlyList<string>> ListClustersAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<EksCluster> DescribeClusterAsync(string clusterName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<string>> ListNodegroupsAsync(string clusterName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<EksNodegroup> DescribeNodegroupAsync(string clusterName, string nodegroupName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<EksUpdate> UpdateNodegroupVersionAsync(string clusterName, string nodegroupName, LaunchTemplateReference? launchTemplate, string? releaseVersion, bool force,
        CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<EksUpdate> DescribeUpdateAsync(string clusterName, string nodegroupName, string updateId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<string>> ListUpdatesAsync(string clusterName, string nodegroupName, CancellationToken cancellationToken = default) => throw new NotSupportedException();
}

public abstract class AutoScalingApiStub : IAutoScalingApi
{
    public virtual Task<IReadOnlyList<AutoScalingGroup>> DescribeAutoScalingGroupsAsync(IReadOnlyCollection<string>? names = null,
        IReadOnlyDictionary<string, IReadOnlyCollection<string>>? filters = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<AutoScalingInstance>> DescribeAutoScalingInstancesAsync(IReadOnlyCollection<string> instanceIds, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task UpdateAutoScalingGroupAsync(string name, int? minSize = null, int? maxSize = null, int? desiredCapacity = null,
        LaunchTemplateReference? launchTemplate = null, bool mixedInstancesPolicy = false, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task SetDesiredCapacityAsync(string name, int desiredCapacity, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task TerminateInstanceInAutoScalingGroupAsync(string instanceId, bool decrementDesiredCapacity, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task SuspendProcessesAsync(string name, IReadOnlyCollection<string> processes, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task ResumeProcessesAsync(string name, IReadOnlyCollection<string> processes, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task CreateOrUpdateTagsAsync(string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task DeleteTagsAsync(string name, IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<ScalingActivity>> DescribeScalingActivitiesAsync(string name, int maxRecords = 20, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();
}

public abstract class KubernetesApiStub : IKubernetesApi
{
    public virtual Task<IReadOnlyList<KubeNode>> ListNodesAsync(string? labelSelector = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<KubePod>> ListPodsAsync(string? @namespace = null, string? fieldSelector = null, string? labelSelector = null,
        CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task SetUnschedulableAsync(string nodeName, bool unschedulable, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<EvictionOutcome> EvictAsync(string @namespace, string podName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task DeletePodAsync(string @namespace, string podName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<KubePdb>> ListPdbsAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual IAsyncEnumerable<WatchEvent<KubeNode>> WatchNodesAsync(string? labelSelector, string? resourceVersion, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual IAsyncEnumerable<WatchEvent<KubePod>> WatchPodsAsync(string? fieldSelector, string? resourceVersion, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task<(IReadOnlyList<KubeNode> Items, string? ResourceVersion)> ListNodesForWatchAsync(string? labelSelector, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task<(IReadOnlyList<KubePod> Items, string? ResourceVersion)> ListPodsForWatchAsync(string? fieldSelector, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();
}
