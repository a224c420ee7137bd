using WinEksPatch.Simulator.Report;

namespace WinEksPatch.Simulator.World;

/// <summary>
/// How a launched instance boots and joins its cluster, as a chain of timed events on the virtual clock, each scheduled
/// when the one before fires and each checking that the instance is still pending or running (a termination in between
/// ends the chain). Windows: launch → running → OS ready (Sysprep specialize and Windows OOBE, or a short start when EC2
/// restores a Fast Launch pre-provisioned snapshot) → EKS bootstrap (the user data's Start-EKSBootstrap.ps1; kubelet
/// registers the node) → Ready → pod IPs advertised. Linux and warm-pool starts register in one step after launch (their
/// boots are not modelled in phases). Every phase is recorded on the instance (<see cref="Ec2Instance.Boot"/>); the ones
/// Kubernetes does not show are raised as <see cref="InstancePhaseReached"/> for the report's timeline. All methods
/// expect <see cref="Gate"/> to be held. Figures: <see cref="FleetTimings"/>.
/// </summary>
public sealed partial class SimWorld
{
    /// <summary>Report timeline events for boot phases no Kubernetes object shows (InstanceLaunched, InstanceRunning,
    /// OsReady, NodeUsable), raised with the world's lock held at the phase's simulated time.</summary>
    public event Action<ReportEvent>? InstancePhaseReached;

    /// <summary>What an instance's bootstrap registers, decided at launch (the fleet faults included).</summary>
    private sealed record NodeJoin(string ClusterName, AutoScalingGroup Group, EksNodegroup? Nodegroup, AmiImage Image, LaunchTemplateVersion Version,
        bool StayNotReady, bool WithoutPodIps);

    /// <summary>A group's new instance (not a warm-pool one): pending → running, then Windows boots in phases and Linux
    /// registers after its one modelled step. <paramref name="join"/> is null when no node is to register (no cluster,
    /// or a never-register fault: the OS still boots).</summary>
    private void StartBoot(Ec2Instance instance, AmiImage image, ScalingActivity activity, NodeJoin? join)
    {
        bool windows = image.OsFamily == "windows";
        Scheduler.After(Spread(FleetTimings.PendingSeconds), () => Locked(() =>
        {
            InstanceRunning(instance, activity);
            if (windows)
            {
                BootWindows(instance, join);
            }
        }));
        if (!windows && join is not null)
        {
            Scheduler.After(Spread(FleetTimings.LinuxRegisterSeconds), () => Locked(() => RegisterNode(instance, join)));
        }
    }

    private void InstanceRunning(Ec2Instance instance, ScalingActivity activity)
    {
        if (instance.State != "pending")
        {
            return;
        }

        instance.State = "running";
        instance.Boot.RunningAt = Scheduler.Now;
        RaisePhase(instance, "InstanceRunning", instance.InstanceId, Scheduler.Now);
        if (instance.LifecycleState != "Pending")
        {
            LaunchHooksDone(null, instance, activity, "CONTINUE", keepState: true);
            return;
        }

        // The group's launch hooks hold it in Pending:Wait; ABANDON terminates it and the group launches another.
        AutoScalingGroup? group = instance.AutoScalingGroupName is { } name ? AutoScalingGroups.GetValueOrDefault(name) : null;
        if (group is not null && HoldForHooks(group, instance, LifecycleHook.Launching, activity, result =>
            {
                if (instance.LifecycleState == "Pending:Wait") // not terminated meanwhile
                {
                    LaunchHooksDone(group, instance, activity, result);
                }
            }))
        {
            return;
        }

        LaunchHooksDone(group, instance, activity, "CONTINUE");
    }

    /// <summary>Running → OS ready. The OS boots whatever Auto Scaling's lifecycle state (a launch hook's Pending:Wait is
    /// exactly when user scripts run), so only the EC2 state is checked.</summary>
    private void BootWindows(Ec2Instance instance, NodeJoin? join)
    {
        if (instance.State != "running")
        {
            return;
        }

        double[] range = instance.Boot.FromFastLaunchSnapshot ? FleetTimings.WindowsFastLaunchOsReadySeconds : FleetTimings.WindowsOsReadySeconds;
        Scheduler.After(Spread(range), () => Locked(() => WindowsOsReady(instance, join)));
    }

    /// <summary>EC2Launch v2 reports "Windows is Ready to use"; then it runs the user data, whose EKS bootstrap starts kubelet.</summary>
    private void WindowsOsReady(Ec2Instance instance, NodeJoin? join)
    {
        if (instance.State is not ("pending" or "running"))
        {
            return;
        }

        instance.Boot.OsReadyAt = Scheduler.Now;
        RaisePhase(instance, "OsReady", instance.Boot.FastLaunchSnapshotId is { } snapshot
            ? "restored from pre-provisioned snapshot " + snapshot
            : "Sysprep specialize and OOBE", instance.Boot.OsReadyAt.Value);
        if (join is not null)
        {
            Scheduler.After(Spread(FleetTimings.WindowsBootstrapSeconds), () => Locked(() => RegisterNode(instance, join)));
        }
    }

    private void RegisterNode(Ec2Instance instance, NodeJoin join)
    {
        if (instance.State is not ("pending" or "running"))
        {
            return;
        }

        KubeNode node = NodeRegistration.Build(this, Clusters[join.ClusterName], instance, join.Image, join.Group, join.Nodegroup, join.Version, Scheduler.Now);
        node.Ready = false;
        node.ReadySince = Scheduler.Now;
        node.ResourceVersion = NextResourceVersion();
        Nodes[(join.ClusterName, node.Name)] = node;
        instance.Boot.RegisteredAt = Scheduler.Now;
        NodeChanged(node);
        if (join.StayNotReady)
        {
            return;
        }

        Scheduler.After(Spread(FleetTimings.ReadySeconds), () => Locked(() =>
        {
            if (Nodes.GetValueOrDefault((join.ClusterName, node.Name)) != node || instance.State != "running")
            {
                return;
            }

            node.Ready = true;
            node.ReadySince = Scheduler.Now;
            node.ResourceVersion = NextResourceVersion();
            instance.Boot.ReadyAt = Scheduler.Now;
            NodeChanged(node);
            FailLaterIfBadAmi(node, instance);
            TripAlarmLaterIfBadAmi(node, instance);
            if (node.OperatingSystem != "windows")
            {
                // A Linux pod needs no extended resource: the node takes pods once Ready.
                instance.Boot.UsableAt = Scheduler.Now;
                RaisePhase(instance, "NodeUsable", "Ready (Linux pods request no pod IP resource)", Scheduler.Now);
            }
            else if (!join.WithoutPodIps)
            {
                Scheduler.After(Spread(FleetTimings.WindowsIpamSeconds), () => Locked(() => AdvertisePodIps(node, instance)));
            }
        }));
    }

    /// <summary>
    /// The VPC resource controller (Windows IPAM) gives a Ready Windows node its pod IPs as the extended resource
    /// vpc.amazonaws.com/PrivateIPv4Address; EKS's admission webhook makes every Windows pod request one, so until then
    /// the scheduler places no Windows pod on the node even though it is Ready.
    /// </summary>
    private void AdvertisePodIps(KubeNode node, Ec2Instance instance)
    {
        if (Nodes.GetValueOrDefault((node.ClusterName, node.Name)) != node || instance.State != "running")
        {
            return;
        }

        string count = WindowsPodIps.For(instance.InstanceType);
        node.ExtendedResources[WindowsPodIps.ResourceName] = count;
        node.ResourceVersion = NextResourceVersion();
        instance.Boot.UsableAt = Scheduler.Now;
        NodeChanged(node);
        RaisePhase(instance, "NodeUsable", $"pod IPs advertised ({WindowsPodIps.ResourceName}: {count})", Scheduler.Now);
    }

    /// <summary>One timeline event for an instance at <paramref name="at"/> (the time recorded on the instance: outside a
    /// scheduled event, as in a launch request, the clock keeps moving), with the cluster, node group and node the report uses for node events:
    /// the managed node group, else the Auto Scaling group; the node's name once registered, else the instance's private
    /// DNS name (which the node will be named).</summary>
    private void RaisePhase(Ec2Instance instance, string kind, string? detail, DateTimeOffset at)
    {
        if (InstancePhaseReached is not { } raise)
        {
            return;
        }

        AutoScalingGroup? group = instance.AutoScalingGroupName is { } name ? AutoScalingGroups.GetValueOrDefault(name) : null;
        string cluster = (group is null ? null : ClusterOf(group)) ?? "(none)";
        string nodeGroup = (group is null ? null : NodegroupOf(group)?.Name) ?? instance.AutoScalingGroupName ?? "(none)";
        string node = NodeOf(instance)?.Name ?? instance.PrivateDnsName;
        raise(new ReportEvent(at, kind, cluster, nodeGroup, node, null, null, detail));
    }
}
