namespace WinEksPatch.Simulator.World;

/// <summary>
/// Capacity Rebalancing as Auto Scaling runs it: when EC2 sends a rebalance recommendation for an instance of a group
/// with CapacityRebalance on (Spot capacity at elevated risk of interruption), the group launches a replacement first
/// (for a while it runs above desired capacity), and once the replacement is in service, or after 10 minutes, it
/// terminates the instance at risk (through its termination lifecycle hooks, as any termination). With Capacity
/// Rebalancing off, a recommendation changes nothing. All methods expect <see cref="Gate"/> to be held.
/// </summary>
public sealed partial class SimWorld
{
    private static readonly TimeSpan RebalanceCheck = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan RebalanceLimit = TimeSpan.FromMinutes(10);

    /// <summary>Instances a rebalance recommendation marked: still in service, no longer counted toward capacity.</summary>
    public HashSet<string> AtRisk { get; } = new(StringComparer.Ordinal);

    /// <summary>An EC2 rebalance recommendation for <paramref name="instance"/>; true when its group acts on it.</summary>
    public bool RecommendRebalance(Ec2Instance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (instance.AutoScalingGroupName is not { } name || !AutoScalingGroups.TryGetValue(name, out AutoScalingGroup? group)
            || !group.CapacityRebalance || instance.LifecycleState != "InService" || !AtRisk.Add(instance.InstanceId))
        {
            return false;
        }

        var before = group.InstanceIds.ToHashSet(StringComparer.Ordinal);
        ReconcileGroup(group, $"At {Stamp()} an instance was launched in response to an EC2 instance rebalance recommendation for {instance.InstanceId}.");
        string? replacement = group.InstanceIds.FirstOrDefault(id => !before.Contains(id));
        DateTimeOffset since = Scheduler.Now;
        void Check()
        {
            bool ready = replacement is not null && Instances.TryGetValue(replacement, out Ec2Instance? r) && r.LifecycleState == "InService";
            if (!ready && Scheduler.Now - since < RebalanceLimit && AutoScalingGroups.ContainsKey(group.Name))
            {
                Scheduler.After(RebalanceCheck, () => Locked(Check));
                return;
            }

            AtRisk.Remove(instance.InstanceId);
            if (group.InstanceIds.Contains(instance.InstanceId) && instance.LifecycleState == "InService")
            {
                BeginTermination(group, instance, $"At {Stamp()} an instance was taken out of service in response to an EC2 instance rebalance recommendation.");
            }
        }

        Scheduler.After(RebalanceCheck, () => Locked(Check));
        return true;
    }
}
