namespace WinEksPatch.Abstractions;

/// <summary>The Auto Scaling operations the module uses.</summary>
public interface IAutoScalingApi
{
    /// <summary>Groups by name and/or filters (e.g. <c>tag-key</c> = <c>kubernetes.io/cluster/demo</c>); all pages.</summary>
    Task<IReadOnlyList<AutoScalingGroup>> DescribeAutoScalingGroupsAsync(
        IReadOnlyCollection<string>? names = null,
        IReadOnlyDictionary<string, IReadOnlyCollection<string>>? filters = null,
        CancellationToken cancellationToken = default);

    /// <summary>Which group each instance belongs to; instance ids not in any group are simply absent. Batched by 50.</summary>
    Task<IReadOnlyList<AutoScalingInstance>> DescribeAutoScalingInstancesAsync(
        IReadOnlyCollection<string> instanceIds, CancellationToken cancellationToken = default);

    /// <summary>Changes sizes, the launch template version (of the group's launch template, or of its mixed instances
    /// policy's), the policy's overrides (the whole list) and/or Capacity Rebalancing; null leaves a field as it is.</summary>
    Task UpdateAutoScalingGroupAsync(string name, int? minSize = null, int? maxSize = null, int? desiredCapacity = null,
        LaunchTemplateReference? launchTemplate = null, bool mixedInstancesPolicy = false, bool? capacityRebalance = null,
        IReadOnlyList<LaunchTemplateOverride>? overrides = null, CancellationToken cancellationToken = default);

    Task SetDesiredCapacityAsync(string name, int desiredCapacity, CancellationToken cancellationToken = default);

    /// <summary>Terminates one instance of its group; with <paramref name="decrementDesiredCapacity"/> the group does not replace it.</summary>
    Task TerminateInstanceInAutoScalingGroupAsync(string instanceId, bool decrementDesiredCapacity, CancellationToken cancellationToken = default);

    Task SuspendProcessesAsync(string name, IReadOnlyCollection<string> processes, CancellationToken cancellationToken = default);

    Task ResumeProcessesAsync(string name, IReadOnlyCollection<string> processes, CancellationToken cancellationToken = default);

    /// <summary>Creates or updates tags on a group (not propagated to instances).</summary>
    Task CreateOrUpdateTagsAsync(string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default);

    Task DeleteTagsAsync(string name, IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default);

    /// <summary>The group's lifecycle hooks (PutLifecycleHook).</summary>
    Task<IReadOnlyList<LifecycleHookInfo>> DescribeLifecycleHooksAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The group's instance refreshes, newest first (one page: the running one, if any, is among them).</summary>
    Task<IReadOnlyList<InstanceRefreshInfo>> DescribeInstanceRefreshesAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The group's warm pool instances (DescribeWarmPool, all pages); empty when it has no warm pool.</summary>
    Task<IReadOnlyList<AutoScalingGroupInstance>> DescribeWarmPoolInstancesAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The <paramref name="maxRecords"/> most recent scaling activities of a group, newest first, over as many pages as that takes.</summary>
    Task<IReadOnlyList<ScalingActivity>> DescribeScalingActivitiesAsync(string name, int maxRecords = 20, CancellationToken cancellationToken = default);
}

/// <summary>A scaling activity (launch or termination) and how it went.</summary>
public sealed record ScalingActivity(string ActivityId, string? Description, string? Cause, string? StatusCode, string? StatusMessage,
    DateTimeOffset? StartTime, DateTimeOffset? EndTime);

/// <summary>A lifecycle hook: instances wait in Pending:Wait or Terminating:Wait on it until it is completed or its
/// heartbeat timeout applies its default result.</summary>
public sealed record LifecycleHookInfo(string Name, string Transition, int HeartbeatTimeoutSeconds, string? DefaultResult)
{
    public const string Launching = "autoscaling:EC2_INSTANCE_LAUNCHING";
    public const string Terminating = "autoscaling:EC2_INSTANCE_TERMINATING";
}

/// <summary>An instance refresh (StartInstanceRefresh) and where it is.</summary>
public sealed record InstanceRefreshInfo(string InstanceRefreshId, string Status, string? StatusReason, DateTimeOffset? StartTime, int? PercentageComplete)
{
    /// <summary>Pending, InProgress, Cancelling, RollbackInProgress and Baking: the refresh is still replacing (or about to
    /// replace) the group's instances.</summary>
    public bool IsActive => Status is "Pending" or "InProgress" or "Cancelling" or "RollbackInProgress" or "Baking";
}

/// <summary>A launch template reference as Auto Scaling stores it (version may be a number, <c>$Latest</c> or <c>$Default</c>).</summary>
public sealed record LaunchTemplateReference(string? Id, string? Name, string? Version);

public sealed record AutoScalingGroup(
    string Name,
    int MinSize,
    int MaxSize,
    int DesiredCapacity,
    LaunchTemplateReference? LaunchTemplate,
    bool UsesMixedInstancesPolicy,
    IReadOnlyList<AutoScalingGroupInstance> Instances,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyList<string> SuspendedProcesses,
    bool CapacityRebalance = false,
    IReadOnlyList<LaunchTemplateOverride>? Overrides = null);

/// <summary>An override of a mixed instances policy: an instance type, and the launch template its instances launch
/// from when not the policy's own.</summary>
public sealed record LaunchTemplateOverride(string InstanceType, LaunchTemplateReference? LaunchTemplate);

public sealed record AutoScalingGroupInstance(
    string InstanceId,
    string? LifecycleState,
    string? HealthStatus,
    string? AvailabilityZone,
    bool ProtectedFromScaleIn,
    LaunchTemplateReference? LaunchTemplate);

public sealed record AutoScalingInstance(string InstanceId, string AutoScalingGroupName, string? LifecycleState, string? HealthStatus);
