using WinEksPatch.Simulator.Scenarios;
using System.Text.Json;

namespace WinEksPatch.Simulator.World;

/// <summary>
/// Instances leaving an Auto Scaling group: scale-in and TerminateInstanceInAutoScalingGroup (a managed node group's
/// instance drained first, as EKS's termination lifecycle hook does; the group's own termination hooks), EC2
/// TerminateInstances, and the shutdown that takes the node with it. All methods expect <see cref="Gate"/> to be held.
/// </summary>
public sealed partial class SimWorld
{
    /// <summary>Takes an instance out of service and terminates it (scale-in, TerminateInstanceInAutoScalingGroup).</summary>
    public ScalingActivity BeginTermination(AutoScalingGroup group, Ec2Instance instance, string cause)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(instance);
        var activity = new ScalingActivity
        {
            ActivityId = Ids.Uuid($"activity/{group.Name}/{instance.InstanceId}/terminate/{ScalingActivities.Count}"),
            AutoScalingGroupName = group.Name,
            AutoScalingGroupArn = group.Arn,
            Description = "Terminating EC2 instance: " + instance.InstanceId,
            Cause = cause,
            StartTime = Scheduler.Now,
            StatusCode = "InProgress",
            Progress = 0,
            Details = JsonSerializer.Serialize(new Dictionary<string, string> { ["Subnet ID"] = instance.SubnetId, ["Availability Zone"] = instance.AvailabilityZone }),
            InstanceId = instance.InstanceId,
        };
        ScalingActivities.Add(activity);
        EndLifecycleWait(instance.InstanceId); // a launch still waiting on its hooks is over
        if (Nodegroups.Values.Any(n => n.AutoScalingGroupName == group.Name) && NodeOf(instance) is { } node && PodsToDrain(node).Count > 0)
        {
            // A managed node group's termination lifecycle hook: EKS drains the node before the instance goes.
            instance.LifecycleState = "Terminating:Wait";
            DrainBeforeTermination(instance, node, activity, Scheduler.Now);
            return activity;
        }

        // The group's termination hooks (the Node Termination Handler's, a Lambda's) hold it in Terminating:Wait first.
        if (HoldForHooks(group, instance, LifecycleHook.Terminating, activity, _ =>
            {
                instance.LifecycleState = "Terminating:Proceed";
                activity.StatusCode = "InProgress";
                ShutDown(instance, activity);
            }))
        {
            return activity;
        }

        instance.LifecycleState = "Terminating";
        ShutDown(instance, activity);
        return activity;
    }

    private static readonly TimeSpan LifecycleDrainRetry = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan LifecycleDrainLimit = TimeSpan.FromMinutes(15);

    /// <summary>
    /// EKS's drain on a managed node's termination (scale-in, the update's scale-down): cordon, evict the pods through
    /// their budgets every 10 s; when none is left, or after 15 minutes (the hook's timeout, which continues), shut down.
    /// </summary>
    private void DrainBeforeTermination(Ec2Instance instance, KubeNode node, ScalingActivity activity, DateTimeOffset since)
    {
        if (!node.Unschedulable)
        {
            node.Unschedulable = true;
            node.ResourceVersion = NextResourceVersion();
            NodeChanged(node);
        }

        foreach (KubePod pod in PodsToDrain(node))
        {
            EvictPod(pod.ClusterName, pod.Namespace, pod.Name, null, dryRun: false);
        }

        if (PodsToDrain(node).Count > 0 && Scheduler.Now - since < LifecycleDrainLimit)
        {
            Scheduler.After(LifecycleDrainRetry, () => Locked(() => DrainBeforeTermination(instance, node, activity, since)));
            return;
        }

        instance.LifecycleState = "Terminating";
        ShutDown(instance, activity);
    }

    /// <summary>The node's pods a drain evicts: not DaemonSet pods, not those already terminating.</summary>
    private List<KubePod> PodsToDrain(KubeNode node) =>
        Pods.Values.Where(p => p.ClusterName == node.ClusterName && p.NodeName == node.Name && p.OwnerKind != "DaemonSet" && p.DeletionTimestamp is null).ToList();

    /// <summary>EC2 TerminateInstances: the instance shuts down; if an Auto Scaling group owns it, the group's health
    /// check takes it out of service and launches a replacement to keep the desired capacity.</summary>
    public void TerminateFromEc2(Ec2Instance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (instance.State is "shutting-down" or "terminated")
        {
            return;
        }

        AutoScalingGroup? group = instance.AutoScalingGroupName is { } name ? AutoScalingGroups.GetValueOrDefault(name) : null;
        if (group is not null && instance.LifecycleState is not ("Terminating" or "Terminated"))
        {
            BeginTermination(group, instance, $"At {Stamp()} an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.");
            ReconcileGroup(group, null);
            return;
        }

        ShutDown(instance, null);
    }

    private void ShutDown(Ec2Instance instance, ScalingActivity? activity)
    {
        if (instance.State is "shutting-down" or "terminated")
        {
            return;
        }

        instance.State = "shutting-down";
        // The kubelet stops with the instance: the node controller marks the node NotReady.
        if (NodeOf(instance) is { } node && node.Ready)
        {
            node.Ready = false;
            node.ReadySince = Scheduler.Now;
            node.ResourceVersion = NextResourceVersion();
            NodeChanged(node);
        }

        bool windows = instance.Platform == "windows";
        Scheduler.After(Spread(windows ? FleetTimings.WindowsShutdownSeconds : FleetTimings.LinuxShutdownSeconds), () => Locked(() =>
        {
            instance.State = "terminated";
            if (activity is not null)
            {
                activity.StatusCode = "Successful";
                activity.Progress = 100;
                activity.EndTime = Scheduler.Now;
            }

            if (instance.AutoScalingGroupName is { } name && AutoScalingGroups.TryGetValue(name, out AutoScalingGroup? group))
            {
                instance.LifecycleState = "Terminated";
                group.InstanceIds.Remove(instance.InstanceId);
            }

            // The cloud node lifecycle controller deletes the node of a terminated instance.
            if (NodeOf(instance) is { } gone)
            {
                Nodes.Remove((gone.ClusterName, gone.Name));
                NodeRemoved(gone);
            }
        }));
    }
}
