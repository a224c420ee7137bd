using System.Globalization;
using WinEksPatch.Simulator.Scenarios;

namespace WinEksPatch.Simulator.World;

/// <summary>
/// EKS managed node group updates as EKS documents them ("Understand each phase of node updates"):
/// setup (a new version of the group's launch template with the new AMI; the ASG moves to it), scale up (ASG max and
/// desired + max(2 × zones, maxUnavailable), capped by the outdated nodes; wait for the new nodes; taint every outdated
/// node eks.amazonaws.com/nodegroup=unschedulable:NoSchedule), upgrade (up to maxUnavailable outdated nodes at a time:
/// evict their pods, failing with PodEvictionFailure after 15 minutes unless forced; cordon; wait 60 s; terminate
/// through the ASG, which launches a replacement), scale down (ASG back to its sizes). Runs on the virtual clock.
/// </summary>
public sealed partial class SimWorld
{
    public const string NodegroupUnschedulableTaint = "eks.amazonaws.com/nodegroup";

    /// <summary>Every EKS update, oldest first.</summary>
    public List<EksUpdate> EksUpdates { get; } = [];

    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan EvictionLimit = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan CordonWait = TimeSpan.FromSeconds(60);

    /// <summary>Starts a version update: the ASG's launch template gets a new version for <paramref name="image"/>.</summary>
    public EksUpdate StartNodegroupVersionUpdate(EksNodegroup nodegroup, AmiImage image, string? userDataBase64, bool force, List<(string Type, string Value)> parameters)
    {
        ArgumentNullException.ThrowIfNull(nodegroup);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(parameters);
        var update = NewUpdate(nodegroup, "VersionUpdate", parameters);
        AutoScalingGroup group = AutoScalingGroups[nodegroup.AutoScalingGroupName];
        LaunchTemplate template = LaunchTemplates[group.LaunchTemplate.LaunchTemplateId];
        LaunchTemplateVersion current = ResolvedVersion(group) ?? template.Versions[^1];
        var version = new LaunchTemplateVersion
        {
            VersionNumber = template.LatestVersionNumber + 1,
            ImageId = image.ImageId,
            InstanceType = current.InstanceType,
            UserData = userDataBase64 ?? current.UserData,
            IamInstanceProfileArn = current.IamInstanceProfileArn,
            CreateTime = Scheduler.Now,
        };
        template.Versions.Add(version);
        group.LaunchTemplate = group.LaunchTemplate with { Version = version.VersionNumber.ToString(CultureInfo.InvariantCulture) };
        nodegroup.Status = "UPDATING";
        nodegroup.ModifiedAt = Scheduler.Now;

        string target = group.LaunchTemplate.Version;
        List<Ec2Instance> outdated = ActiveMembers(group).Where(i => i.LaunchTemplate?.Version != target).ToList();
        int zones = Math.Max(1, group.AvailabilityZones.Count);
        int surge = Math.Min(Math.Max(2 * zones, nodegroup.MaxUnavailable), outdated.Count);
        // The sizes to come back to are the node group's scaling config (a failed update may have left the group surged).
        var run = new ManagedUpdateRun(update, nodegroup, group, target, nodegroup.MaxSize, nodegroup.DesiredSize, force, image, version);
        if (surge > 0)
        {
            group.MaxSize += surge;
            int before = group.DesiredCapacity;
            group.DesiredCapacity += surge;
            ReconcileGroup(group, $"At {Stamp()} a user request update of AutoScalingGroup constraints to min: {group.MinSize}, max: {group.MaxSize}, desired: {group.DesiredCapacity} changing the desired capacity from {before} to {group.DesiredCapacity}.");
        }

        Scheduler.After(PollInterval, () => Locked(() => ScaleUpStep(run)));
        return update;
    }

    /// <summary>A config update (scaling, labels, update config) applies at once and completes shortly after.</summary>
    public EksUpdate StartNodegroupConfigUpdate(EksNodegroup nodegroup, List<(string Type, string Value)> parameters)
    {
        ArgumentNullException.ThrowIfNull(nodegroup);
        EksUpdate update = NewUpdate(nodegroup, "ConfigUpdate", parameters);
        nodegroup.Status = "UPDATING";
        Scheduler.After(TimeSpan.FromSeconds(20), () => Locked(() => Finish(update, nodegroup, "Successful")));
        return update;
    }

    public bool HasUpdateInProgress(EksNodegroup nodegroup) =>
        EksUpdates.Exists(u => u.ClusterName == nodegroup.ClusterName && u.NodegroupName == nodegroup.Name && u.Status == "InProgress");

    private EksUpdate NewUpdate(EksNodegroup nodegroup, string type, List<(string Type, string Value)> parameters)
    {
        var update = new EksUpdate
        {
            Id = Ids.Uuid($"update/{nodegroup.ClusterName}/{nodegroup.Name}/{EksUpdates.Count}"),
            ClusterName = nodegroup.ClusterName,
            NodegroupName = nodegroup.Name,
            Type = type,
            CreatedAt = Scheduler.Now,
        };
        update.Params.AddRange(parameters);
        EksUpdates.Add(update);
        return update;
    }

    private sealed record ManagedUpdateRun(EksUpdate Update, EksNodegroup Nodegroup, AutoScalingGroup Group, string TargetVersion,
        int OriginalMax, int OriginalDesired, bool Force, AmiImage Image, LaunchTemplateVersion Version)
    {
        /// <summary>Outdated instances being drained, with when their eviction started.</summary>
        public Dictionary<string, DateTimeOffset> Draining { get; } = new(StringComparer.Ordinal);

        /// <summary>Drained and cordoned instances in their 60 s wait before the termination request; they still hold their
        /// maxUnavailable slot (EKS works through drain, cordon, wait, terminate per node).</summary>
        public HashSet<string> AwaitingTermination { get; } = new(StringComparer.Ordinal);

        public int Unavailable => Draining.Count + AwaitingTermination.Count;
    }

    private List<Ec2Instance> Outdated(ManagedUpdateRun run) =>
        ActiveMembers(run.Group).Where(i => i.LaunchTemplate?.Version != run.TargetVersion).ToList();

    private bool NewNodesReady(ManagedUpdateRun run) =>
        ActiveMembers(run.Group).Where(i => i.LaunchTemplate?.Version == run.TargetVersion)
            .All(i => NodeOf(i) is { Ready: true });

    private void ScaleUpStep(ManagedUpdateRun run)
    {
        if (run.Update.Status != "InProgress")
        {
            return;
        }

        if (ActiveMembers(run.Group).Count < run.Group.DesiredCapacity || !NewNodesReady(run))
        {
            Scheduler.After(PollInterval, () => Locked(() => ScaleUpStep(run)));
            return;
        }

        foreach (Ec2Instance instance in Outdated(run))
        {
            if (NodeOf(instance) is { } node && !node.Taints.Exists(t => t.Key == NodegroupUnschedulableTaint))
            {
                node.Taints.Add((NodegroupUnschedulableTaint, "unschedulable", "NoSchedule"));
                node.ResourceVersion = NextResourceVersion();
                NodeChanged(node);
            }
        }

        UpgradeStep(run);
    }

    private void UpgradeStep(ManagedUpdateRun run)
    {
        if (run.Update.Status != "InProgress")
        {
            return;
        }

        List<Ec2Instance> outdated = Outdated(run);
        if (outdated.Count == 0 && run.Unavailable == 0)
        {
            ScaleDownStep(run);
            return;
        }

        // Keep up to maxUnavailable outdated nodes draining, and only while the new nodes are Ready.
        if (NewNodesReady(run))
        {
            foreach (Ec2Instance next in outdated.Where(i => !run.Draining.ContainsKey(i.InstanceId) && !run.AwaitingTermination.Contains(i.InstanceId))
                .OrderBy(i => i.InstanceId, StringComparer.Ordinal))
            {
                if (run.Unavailable >= Math.Max(1, run.Nodegroup.MaxUnavailable))
                {
                    break;
                }

                run.Draining[next.InstanceId] = Scheduler.Now;
            }
        }

        foreach ((string instanceId, DateTimeOffset since) in run.Draining.ToList())
        {
            Ec2Instance instance = Instances[instanceId];
            KubeNode? node = NodeOf(instance);
            List<KubePod> blocked = node is null ? [] : EvictAll(node);
            if (blocked.Count > 0 && Scheduler.Now - since >= EvictionLimit)
            {
                if (!run.Force)
                {
                    // The group stays where the update stopped: scaling in now could pick an old node that was never drained.
                    run.Update.Errors.Add(("PodEvictionFailure", $"Reached max retries while trying to evict pods from nodes in node group {run.Nodegroup.Name}", [node!.Name]));
                    Finish(run.Update, run.Nodegroup, "Failed");
                    return;
                }

                foreach (KubePod pod in blocked)
                {
                    DeletePod(pod);
                }

                blocked.Clear();
            }

            if (blocked.Count == 0)
            {
                run.Draining.Remove(instanceId);
                run.AwaitingTermination.Add(instanceId);
                if (node is not null && !node.Unschedulable)
                {
                    node.Unschedulable = true;
                    node.ResourceVersion = NextResourceVersion();
                    NodeChanged(node);
                }

                // EKS waits 60 s after the cordon, then asks the ASG to terminate the node (which replaces it).
                Scheduler.After(CordonWait, () => Locked(() =>
                {
                    run.AwaitingTermination.Remove(instanceId);
                    if (instance.LifecycleState == "InService" && run.Update.Status == "InProgress")
                    {
                        BeginTermination(run.Group, instance, $"At {Stamp()} instance {instance.InstanceId} was taken out of service in response to a user request.");
                        ReconcileGroup(run.Group, null);
                    }
                }));
            }
        }

        Scheduler.After(PollInterval, () => Locked(() => UpgradeStep(run)));
    }

    /// <summary>Tries to evict every pod of the node that a drain evicts (not DaemonSet pods) through the eviction
    /// subresource's rules (PodDisruptionBudgets); returns those still blocked. Pods already terminating are not blocked.</summary>
    private List<KubePod> EvictAll(KubeNode node)
    {
        var blocked = new List<KubePod>();
        foreach (KubePod pod in PodsToDrain(node))
        {
            if (EvictPod(pod.ClusterName, pod.Namespace, pod.Name, null, dryRun: false).Code is 429 or 500)
            {
                blocked.Add(pod);
            }
        }

        return blocked;
    }

    /// <summary>A forced update's way past a budget: a direct delete (the report counts the PDB violation).</summary>
    private void DeletePod(KubePod pod)
    {
        if (Pods.ContainsKey((pod.ClusterName, pod.Namespace, pod.Name)) && pod.DeletionTimestamp is null)
        {
            DeletePodGracefully(pod, null, PodDeletionCause.Delete);
        }
    }

    private void ScaleDownStep(ManagedUpdateRun run)
    {
        if (run.Update.Status != "InProgress")
        {
            return;
        }

        // Wait for the terminations to finish before shrinking, so the replacements are not the ones scaled in.
        if (run.Group.InstanceIds.Select(id => Instances[id]).Any(i => i.LifecycleState is "Terminating" or "Terminating:Wait") || !NewNodesReady(run))
        {
            Scheduler.After(PollInterval, () => Locked(() => ScaleDownStep(run)));
            return;
        }

        RestoreSizes(run);
        run.Nodegroup.ReleaseVersion = EksNodegroup.ReleaseVersionOf(run.Image, run.Nodegroup.AmiType);
        run.Nodegroup.Version = run.Image.KubernetesVersion;
        Finish(run.Update, run.Nodegroup, "Successful");
    }

    private void RestoreSizes(ManagedUpdateRun run)
    {
        int before = run.Group.DesiredCapacity;
        run.Group.MaxSize = Math.Max(run.OriginalMax, run.Group.MinSize);
        run.Group.DesiredCapacity = Math.Clamp(run.OriginalDesired, run.Group.MinSize, run.Group.MaxSize);
        if (before != run.Group.DesiredCapacity)
        {
            ReconcileGroup(run.Group, $"At {Stamp()} a user request update of AutoScalingGroup constraints to min: {run.Group.MinSize}, max: {run.Group.MaxSize}, desired: {run.Group.DesiredCapacity} changing the desired capacity from {before} to {run.Group.DesiredCapacity}.");
        }
    }

    private void Finish(EksUpdate update, EksNodegroup nodegroup, string status)
    {
        if (update.Status != "InProgress")
        {
            return;
        }

        update.Status = status;
        nodegroup.Status = "ACTIVE";
        nodegroup.ModifiedAt = Scheduler.Now;
    }
}
