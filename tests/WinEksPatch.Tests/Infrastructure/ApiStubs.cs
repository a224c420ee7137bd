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
        LaunchTemplateReference? launchTemplate = null, bool mixedInstancesPolicy = false, bool? capacityRebalance = null,
        IReadOnlyList<LaunchTemplateOverride>? overrides = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task SetDesiredCapacityAsync(string name, int desiredCapacity, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task TerminateInstanceInAutoScalingGroupAsync(string instanceId, bool decrementDesiredCapacity, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task SuspendProcessesAsync(string name, IReadOnlyCollection<string> processes, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task ResumeProcessesAsync(string name, IReadOnlyCollection<string> processes, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task CreateOrUpdateTagsAsync(string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task DeleteTagsAsync(string name, IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<ScalingActivity>> DescribeScalingActivitiesAsync(string name, int maxRecords = 20, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task<IReadOnlyList<LifecycleHookInfo>> DescribeLifecycleHooksAsync(string name, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task<IReadOnlyList<InstanceRefreshInfo>> DescribeInstanceRefreshesAsync(string name, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task<IReadOnlyList<AutoScalingGroupInstance>> DescribeWarmPoolInstancesAsync(string name, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();
}

public abstract class KubernetesApiStub : IKubernetesApi
{
    public virtual Task<IReadOnlyList<KubeNode>> ListNodesAsync(string? labelSelector = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<KubePod>> ListPodsAsync(string? @namespace = null, string? fieldSelector = null, string? labelSelector = null,
        CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task SetUnschedulableAsync(string nodeName, bool unschedulable, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task SetNodeLabelAsync(string nodeName, string key, string value, CancellationToken cancellationToken = default) => throw new NotSupportedException();

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

    public virtual Task<KubeLease?> GetLeaseAsync(string @namespace, string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<KubeLease?> CreateLeaseAsync(KubeLease lease, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<KubeLease?> ReplaceLeaseAsync(KubeLease lease, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<bool> DeleteLeaseAsync(string @namespace, string name, string resourceVersion, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();
}

public abstract class Ec2ApiStub : IEc2Api
{
    public virtual Task<IReadOnlyList<Ec2Instance>> DescribeInstancesAsync(IReadOnlyCollection<string> instanceIds, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task<IReadOnlyList<Ec2Image>> DescribeImagesAsync(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task<IReadOnlyList<Ec2Image>> DescribeImagesAsync(string owner, IReadOnlyDictionary<string, IReadOnlyCollection<string>> filters,
        CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<LaunchTemplateVersion> CreateLaunchTemplateVersionAsync(string launchTemplateId, long sourceVersion, string imageId, string description,
        CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task CreateTagsAsync(IReadOnlyCollection<string> resourceIds, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task DeleteTagsAsync(IReadOnlyCollection<string> resourceIds, IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task<LaunchTemplateVersion> DescribeLaunchTemplateVersionAsync(LaunchTemplateReference template, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task<IReadOnlyList<FastLaunchImage>> DescribeFastLaunchImagesAsync(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task<FastLaunchImage> EnableFastLaunchAsync(FastLaunchSettings settings, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task<FastLaunchImage> DisableFastLaunchAsync(string imageId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task<string?> GetConsoleOutputAsync(string instanceId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();
}

public abstract class SsmApiStub : ISsmApi
{
    public virtual Task<SsmParameter?> GetParameterAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<SsmParameter>> GetParametersByPathAsync(string path, bool recursive, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();
}

public abstract class ImageBuilderApiStub : IImageBuilderApi
{
    public virtual Task<IReadOnlyList<ImageBuilderVersion>> ListComponentsAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<string>> ListComponentBuildVersionsAsync(string componentVersionArn, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public virtual Task<ImageBuilderComponent> GetComponentAsync(string componentArn, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<string> CreateComponentAsync(ComponentSpec spec, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task DeleteComponentAsync(string componentBuildVersionArn, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<ImageBuilderVersion>> ListImageRecipesAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<ImageRecipeSpec> GetImageRecipeAsync(string imageRecipeArn, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<string> CreateImageRecipeAsync(ImageRecipeSpec spec, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task DeleteImageRecipeAsync(string imageRecipeArn, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<string>> ListInfrastructureConfigurationsAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<InfrastructureSpec> GetInfrastructureConfigurationAsync(string arn, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<string> CreateInfrastructureConfigurationAsync(InfrastructureSpec spec, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task DeleteInfrastructureConfigurationAsync(string arn, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<string>> ListDistributionConfigurationsAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<DistributionSpec> GetDistributionConfigurationAsync(string arn, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<string> CreateDistributionConfigurationAsync(DistributionSpec spec, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task DeleteDistributionConfigurationAsync(string arn, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<string> CreateImageAsync(ImageBuildRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task<ImageBuilderImage> GetImageAsync(string imageBuildVersionArn, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public virtual Task CancelImageCreationAsync(string imageBuildVersionArn, CancellationToken cancellationToken = default) => throw new NotSupportedException();
}
