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
    IReadOnlyList<string> SuspendedProcesses);

public sealed record AutoScalingGroupInstance(
    string InstanceId,
    string? LifecycleState,
    string? HealthStatus,
    string? AvailabilityZone,
    bool ProtectedFromScaleIn,
    LaunchTemplateReference? LaunchTemplate);

public sealed record AutoScalingInstance(string InstanceId, string AutoScalingGroupName, string? LifecycleState, string? HealthStatus);
