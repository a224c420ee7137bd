using System.Globalization;
using WinEksPatch.Simulator.Scenarios;

namespace WinEksPatch.Simulator.World;

/// <summary>
/// Warm pools as Auto Scaling runs them: the pool keeps its target size (prepared capacity beyond desired, at least its
/// minimum) with instances launched from the group's launch template at that time, warmed up (first boot, user data)
/// and then stopped (or left running); a scale-out takes a warmed instance before it launches a new one, and that
/// instance keeps the AMI it was launched with. Warm instances are not in the group's instance list (DescribeWarmPool
/// lists them). All methods expect <see cref="Gate"/> to be held.
/// </summary>
public sealed partial class SimWorld
{
    private static readonly string[] WarmedStates = ["Warmed:Stopped", "Warmed:Running", "Warmed:Hibernated"];

    /// <summary>Launches into the pool up to its target size, or terminates its newest instances beyond it.</summary>
    public void ReconcileWarmPool(AutoScalingGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (group.WarmPool is not { } pool || IsSuspended(group, "Launch"))
        {
            return;
        }

        int target = pool.TargetSize(group);
        for (int k = pool.InstanceIds.Count; k < target; k++)
        {
            if (!LaunchInto(group, null, k, k + 1, intoWarmPool: true))
            {
                break;
            }
        }

        foreach (string id in pool.InstanceIds.Skip(target).ToList())
        {
            TerminateWarm(group, Instances[id]);
        }
    }

    /// <summary>DeleteWarmPool: every warm instance is terminated and the pool is gone.</summary>
    public void DeleteWarmPool(AutoScalingGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        foreach (string id in group.WarmPool?.InstanceIds.ToList() ?? [])
        {
            TerminateWarm(group, Instances[id]);
        }

        group.WarmPool = null;
    }

    private void TerminateWarm(AutoScalingGroup group, Ec2Instance instance)
    {
        group.WarmPool?.InstanceIds.Remove(instance.InstanceId);
        instance.LifecycleState = "Warmed:Terminating";
        ShutDown(instance, null);
    }

    /// <summary>A new pool instance: first boot and user data, then it waits in the pool's state.</summary>
    private void WarmUp(AutoScalingGroup group, Ec2Instance instance, string cause, string details)
    {
        instance.LifecycleState = "Warmed:Pending";
        group.WarmPool!.InstanceIds.Add(instance.InstanceId);
        var activity = new ScalingActivity
        {
            ActivityId = Ids.Uuid($"activity/{group.Name}/{instance.InstanceId}/warm"),
            AutoScalingGroupName = group.Name,
            AutoScalingGroupArn = group.Arn,
            Description = "Launching a new EC2 instance into warm pool: " + instance.InstanceId,
            Cause = cause,
            StartTime = Scheduler.Now,
            StatusCode = "InProgress",
            Progress = 30,
            Details = details,
            InstanceId = instance.InstanceId,
        };
        ScalingActivities.Add(activity);
        Scheduler.After(Spread(FleetTimings.PendingSeconds), () => Locked(() =>
        {
            if (instance.State == "pending")
            {
                instance.State = "running";
                instance.Boot.RunningAt = Scheduler.Now;
                RaisePhase(instance, "InstanceRunning", instance.InstanceId, Scheduler.Now);
            }
        }));
        Scheduler.After(Spread(FleetTimings.WarmUpSeconds), () => Locked(() =>
        {
            if (instance.LifecycleState != "Warmed:Pending")
            {
                return;
            }

            // Warm-up is one modelled step: by its end a Windows instance's first boot (Sysprep specialize, OOBE) is long
            // done, so its console output holds "Windows is Ready to use" from here on.
            if (instance.Platform == "windows")
            {
                instance.Boot.OsReadyAt ??= Scheduler.Now;
            }

            string state = group.WarmPool?.PoolState ?? "Stopped";
            instance.LifecycleState = "Warmed:" + state;
            instance.State = state == "Running" ? "running" : "stopped";
            activity.StatusCode = "Successful";
            activity.Progress = 100;
            activity.EndTime = Scheduler.Now;
        }));
    }

    /// <summary>A scale-out's launch, served from the pool when it holds a warmed instance: that instance (on the AMI it
    /// was launched with) starts, joins the group and registers its node without a first boot.</summary>
    private bool TakeFromWarmPool(AutoScalingGroup group, string cause)
    {
        if (group.WarmPool is not { } pool || pool.InstanceIds.Find(id => WarmedStates.Contains(Instances[id].LifecycleState)) is not { } id)
        {
            return false;
        }

        Ec2Instance instance = Instances[id];
        pool.InstanceIds.Remove(id);
        group.InstanceIds.Add(id);
        instance.LifecycleState = "Pending";
        instance.State = "pending";
        instance.LaunchTime = Scheduler.Now; // EC2 reports the last start
        var activity = new ScalingActivity
        {
            ActivityId = Ids.Uuid($"activity/{group.Name}/{id}/from-warm-pool"),
            AutoScalingGroupName = group.Name,
            AutoScalingGroupArn = group.Arn,
            Description = "Launching a new EC2 instance from warm pool: " + id,
            Cause = cause,
            StartTime = Scheduler.Now,
            StatusCode = "PreInService",
            Progress = 30,
            InstanceId = id,
        };
        ScalingActivities.Add(activity);
        Scheduler.After(Spread(FleetTimings.PendingSeconds), () => Locked(() => InstanceRunning(instance, activity)));
        LaunchTemplateVersion? version = instance.LaunchTemplate is { } t ? LaunchTemplates.GetValueOrDefault(t.LaunchTemplateId)?.Resolve(t.Version) : null;
        if (ClusterOf(group) is { } clusterName && version is not null && Images.TryGetValue(instance.ImageId, out AmiImage? image))
        {
            var join = new NodeJoin(clusterName, group, NodegroupOf(group), image, version, StayNotReady: false, WithoutPodIps: false);
            Scheduler.After(Spread(image.OsFamily == "windows" ? FleetTimings.WarmStartRegisterSeconds : FleetTimings.LinuxRegisterSeconds),
                () => Locked(() => RegisterNode(instance, join)));
        }

        return true;
    }

    /// <summary>The pool's size as DescribeAutoScalingGroups reports it (WarmPoolSize).</summary>
    public static string WarmPoolSize(AutoScalingGroup group) => (group.WarmPool?.InstanceIds.Count ?? 0).ToString(CultureInfo.InvariantCulture);
}
