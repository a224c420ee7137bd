namespace WinEksPatch.Simulator.World;

/// <summary>Instances detached from their group (DetachInstances). All methods expect <see cref="Gate"/> to be held.</summary>
public sealed partial class SimWorld
{
    /// <summary>DetachInstances: the instance is Detaching for a while, then leaves the group and runs on its own.</summary>
    public void Detach(AutoScalingGroup group, Ec2Instance instance, ScalingActivity activity)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(activity);
        instance.LifecycleState = "Detaching";
        Scheduler.After(TimeSpan.FromSeconds(FleetTimings.DetachSeconds), () => Locked(() =>
        {
            instance.LifecycleState = "Detached";
            group.InstanceIds.Remove(instance.InstanceId);
            instance.AutoScalingGroupName = null;
            activity.StatusCode = "Successful";
            activity.Progress = 100;
            activity.EndTime = Scheduler.Now;
        }));
    }
}
