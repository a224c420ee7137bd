using System.Globalization;
using System.Text.Json;
using WinEksPatch.Simulator.Clock;
using WinEksPatch.Simulator.Scenarios;

namespace WinEksPatch.Simulator.World;

/// <summary>
/// The fleet area's behaviour: Auto Scaling groups keep their desired capacity by launching instances from their
/// launch template's AMI and terminating surplus ones; an instance goes pending → running, and after a modelled
/// Windows (or Linux) boot its node registers with the cluster and turns Ready; a terminated instance's node goes
/// NotReady and is then deleted. Every step is a scaling activity as Auto Scaling reports it, and runs on the
/// virtual clock (<see cref="Scheduler"/>). How an instance boots and its node joins is in SimWorld.Boot.cs. All methods
/// here expect <see cref="Gate"/> to be held.
/// </summary>
public sealed partial class SimWorld
{
    /// <summary>The processes Auto Scaling lets you suspend.</summary>
    public static readonly string[] ScalingProcesses =
    [
        "Launch", "Terminate", "AddToLoadBalancer", "AlarmNotification", "AZRebalance", "HealthCheck", "InstanceRefresh",
        "ReplaceUnhealthy", "ScheduledActions",
    ];

    private SimScheduler? _scheduler;
    private Random? _fleetRandom;
    private long _launchSequence;
    private readonly Dictionary<string, int> _ipCounters = new(StringComparer.Ordinal);
    private readonly HashSet<string> _retryScheduled = new(StringComparer.Ordinal);
    private int _faultSequence;

    /// <summary>Runs the fleet's timed events on the virtual clock (also usable by other areas).</summary>
    public SimScheduler Scheduler => _scheduler ??= new SimScheduler(Clock);

    public FleetTimings FleetTimings { get; set; } = new();

    /// <summary>Every scaling activity, oldest first.</summary>
    public List<ScalingActivity> ScalingActivities { get; } = [];

    /// <summary>How a launch template names its AMI by a Systems Manager parameter instead of an id.</summary>
    public const string SsmImageAliasPrefix = "resolve:ssm:";

    /// <summary>
    /// A launch template's ImageId as EC2 launches it: an AMI id as it is, or "resolve:ssm:name", "resolve:ssm:name:version"
    /// resolved to what the parameter holds now (EC2 resolves the alias at each launch). Null when it does not resolve:
    /// no such parameter, another version than the one the simulator keeps, or a label (labels are not modelled).
    /// </summary>
    public string? ResolveImageAlias(string? imageId)
    {
        if (imageId is null || AliasParameter(imageId) is not { } alias)
        {
            return imageId;
        }

        // A label never equals the one version the simulator keeps, so it does not resolve (labels are not modelled).
        return SsmParameters.GetValueOrDefault(alias.Name) is { } parameter
            && (alias.Version.Length == 0 || alias.Version == parameter.Version.ToString(CultureInfo.InvariantCulture)) ? parameter.Value : null;
    }

    /// <summary>The parameter an ImageId "resolve:ssm:name[:version|:label]" names, with its version or label ("" for
    /// none); null for an AMI id.</summary>
    public static (string Name, string Version)? AliasParameter(string imageId)
    {
        if (!imageId.StartsWith(SsmImageAliasPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        string name = imageId[SsmImageAliasPrefix.Length..];
        int colon = name.LastIndexOf(':');
        return colon > 0 ? (name[..colon], name[(colon + 1)..]) : (name, "");
    }

    public List<FleetFaultRule> FleetFaults { get; } = [];

    /// <summary>When each (group, process) was suspended, for SuspendedProcesses' SuspensionReason.</summary>
    public Dictionary<(string Group, string Process), DateTimeOffset> ProcessSuspendedAt { get; } = [];

    private Random FleetRandom => _fleetRandom ??= new Random(20348);

    /// <summary>Stops every pending timed event (the host calls it on stop).</summary>
    public void StopScheduler() => _scheduler?.Dispose();

    public FleetFaultRule AddFleetFault(FleetFaultRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        rule.Id = "fault-" + (++_faultSequence).ToString(CultureInfo.InvariantCulture);
        FleetFaults.Add(rule);
        return rule;
    }

    // ---- lookups -----------------------------------------------------------------------------

    /// <summary>The EKS cluster an Auto Scaling group's instances join (eks:cluster-name or kubernetes.io/cluster/&lt;name&gt; tag).</summary>
    public string? ClusterOf(AutoScalingGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        string? name = group.Tags.Find(t => t.Key == "eks:cluster-name")?.Value
            ?? group.Tags.Find(t => t.Key.StartsWith("kubernetes.io/cluster/", StringComparison.Ordinal))?.Key["kubernetes.io/cluster/".Length..];
        return name is not null && Clusters.ContainsKey(name) ? name : null;
    }

    public EksNodegroup? NodegroupOf(AutoScalingGroup group) =>
        Nodegroups.Values.FirstOrDefault(n => n.AutoScalingGroupName == group.Name);

    public KubeNode? NodeOf(Ec2Instance instance) =>
        Nodes.Values.FirstOrDefault(n => n.InstanceId == instance.InstanceId);

    /// <summary>Instances that count toward the group's capacity: not leaving it, not in Standby (which Auto Scaling
    /// keeps in the group but out of its desired capacity), and not being replaced by Capacity Rebalancing.</summary>
    public List<Ec2Instance> ActiveMembers(AutoScalingGroup group) =>
        group.InstanceIds.Select(id => Instances[id])
            .Where(i => i.LifecycleState is "Pending" or "Pending:Wait" or "Pending:Proceed" or "InService" && !AtRisk.Contains(i.InstanceId))
            .ToList();

    public bool IsSuspended(AutoScalingGroup group, string process) => group.SuspendedProcesses.Contains(process);

    // ---- keeping desired capacity ------------------------------------------------------------

    /// <summary>
    /// Launches or terminates instances until the group's active instances equal its desired capacity, as Auto
    /// Scaling does after any change (unless Launch/Terminate are suspended). <paramref name="trigger"/> is the first
    /// sentence of the activities' cause (what changed the capacity), or null.
    /// </summary>
    public void ReconcileGroup(AutoScalingGroup group, string? trigger)
    {
        ArgumentNullException.ThrowIfNull(group);
        List<Ec2Instance> active = ActiveMembers(group);
        if (active.Count < group.DesiredCapacity && !IsSuspended(group, "Launch"))
        {
            int missing = group.DesiredCapacity - active.Count;
            for (int k = 0; k < missing; k++)
            {
                if (!LaunchInto(group, trigger, active.Count + k, active.Count + k + 1))
                {
                    break;
                }
            }
        }
        else if (active.Count > group.DesiredCapacity && !IsSuspended(group, "Terminate"))
        {
            int surplus = active.Count - group.DesiredCapacity;
            foreach (Ec2Instance victim in ScaleInOrder(group, active).Take(surplus))
            {
                int before = ActiveMembers(group).Count;
                string cause = Sentence(trigger) + $"At {Stamp()} an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from {before} to {before - 1}.";
                BeginTermination(group, victim, cause);
            }
        }

        ReconcileWarmPool(group);
    }

    /// <summary>
    /// Scale-in choice, after Auto Scaling's default termination policy: never protected instances; the zone with
    /// most instances first; then instances not on the group's current launch template version; then the oldest.
    /// </summary>
    private List<Ec2Instance> ScaleInOrder(AutoScalingGroup group, List<Ec2Instance> active)
    {
        var perZone = active.GroupBy(i => i.AvailabilityZone).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        string current = ResolvedVersion(group)?.VersionNumber.ToString(CultureInfo.InvariantCulture) ?? "";
        return active.Where(i => !i.ProtectedFromScaleIn)
            .OrderByDescending(i => perZone[i.AvailabilityZone])
            .ThenBy(i => i.LaunchTemplate?.Version == current ? 1 : 0)
            .ThenBy(i => i.LaunchTime)
            .ToList();
    }

    public LaunchTemplateVersion? ResolvedVersion(AutoScalingGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return LaunchTemplates.GetValueOrDefault(group.LaunchTemplate.LaunchTemplateId)?.Resolve(group.LaunchTemplate.Version);
    }

    /// <summary>The instance type and launch template the group's next launch uses: a mixed instances policy's first
    /// override (with its own launch template, if it has one), else the group's template.</summary>
    private (string? InstanceType, LaunchTemplateRef Template) LaunchSource(AutoScalingGroup group)
    {
        string? type = group.UseMixedInstancesPolicy && group.InstanceTypeOverrides.Count > 0 ? group.InstanceTypeOverrides[0] : null;
        return (type, type is not null && group.OverrideTemplates.TryGetValue(type, out LaunchTemplateRef? own) ? own : group.LaunchTemplate);
    }

    /// <summary>Starts one launch; false when it failed (a fault or a broken launch template) and a retry is scheduled.</summary>
    private bool LaunchInto(AutoScalingGroup group, string? trigger, int capacityBefore, int capacityAfter, bool intoWarmPool = false)
    {
        DateTimeOffset now = Scheduler.Now;
        string cause = Sentence(trigger) + $"At {Stamp()} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from {capacityBefore} to {capacityAfter}.";
        if (!intoWarmPool && TakeFromWarmPool(group, cause))
        {
            return true; // a scale-out takes a warmed instance first
        }

        EksNodegroup? nodegroup = NodegroupOf(group);
        (string? overrideType, LaunchTemplateRef source) = LaunchSource(group);
        LaunchTemplateVersion? version = LaunchTemplates.GetValueOrDefault(source.LaunchTemplateId)?.Resolve(source.Version);
        (string az, string subnet) = PickZone(group);
        string details = JsonSerializer.Serialize(new Dictionary<string, string> { ["Subnet ID"] = subnet, ["Availability Zone"] = az });

        string? failure = null;
        string? imageId = ResolveImageAlias(version?.ImageId);
        if (imageId is null || !Images.TryGetValue(imageId, out AmiImage? image))
        {
            failure = version is null
                ? $"The specified launch template version {source.Version} of {source.LaunchTemplateName} does not exist. Launching EC2 instance failed."
                : imageId is null && version.ImageId is { } alias
                    ? $"Unable to resolve the SSM parameter {alias[SsmImageAliasPrefix.Length..]}. Launching EC2 instance failed."
                    : $"The image id '[{version.ImageId}]' does not exist. Launching EC2 instance failed.";
            image = null;
        }
        else if (TakeFault("launch-failure", group, nodegroup) is { } fault)
        {
            failure = fault.ErrorCode == "InsufficientInstanceCapacity"
                ? $"We currently do not have sufficient {version!.InstanceType} capacity in the Availability Zone you requested ({az}). Our system will be working on provisioning additional capacity. You can currently get {version.InstanceType} capacity by not specifying an Availability Zone in your request or choosing {string.Join(", ", group.AvailabilityZones.Where(z => z != az))}. Launching EC2 instance failed."
                : $"{fault.ErrorCode}. Launching EC2 instance failed.";
        }

        if (failure is not null)
        {
            ScalingActivities.Add(new ScalingActivity
            {
                ActivityId = Ids.Uuid($"activity/{group.Name}/{++_launchSequence}"),
                AutoScalingGroupName = group.Name,
                AutoScalingGroupArn = group.Arn,
                Description = "Launching a new EC2 instance.  Status Reason: " + failure,
                Cause = cause,
                StartTime = now,
                EndTime = now,
                StatusCode = "Failed",
                StatusMessage = failure,
                Progress = 100,
                Details = details,
            });
            ScheduleRetry(group);
            return false;
        }

        string instanceId = Ids.Instance($"launch/{group.Name}/{++_launchSequence}");
        string? clusterName = ClusterOf(group);
        string ip = AllocateIp(clusterName ?? group.Name, group.AvailabilityZones.IndexOf(az));
        var reference = source with { Version = version!.VersionNumber.ToString(CultureInfo.InvariantCulture) };
        var instance = new Ec2Instance
        {
            InstanceId = instanceId,
            ImageId = image!.ImageId,
            InstanceType = overrideType ?? version.InstanceType,
            AvailabilityZone = az,
            SubnetId = subnet,
            VpcId = clusterName is null ? "vpc-" + Ids.Hex("vpc/" + group.Name, 17) : Clusters[clusterName].VpcId,
            PrivateIpAddress = ip,
            PrivateDnsName = $"ip-{ip.Replace('.', '-')}.{Region}.compute.internal",
            LaunchTime = now,
            State = "pending",
            Platform = image.Platform,
            Architecture = image.Architecture,
            AutoScalingGroupName = group.Name,
            LaunchTemplate = reference,
            LifecycleState = "Pending",
            ProtectedFromScaleIn = false,
        };
        foreach (Tag tag in group.Tags.Where(t => t.PropagateAtLaunch))
        {
            instance.Tags.Add(new Tag { Key = tag.Key, Value = tag.Value });
        }

        instance.Tags.Add(new Tag { Key = "aws:autoscaling:groupName", Value = group.Name });
        instance.Tags.Add(new Tag { Key = "aws:ec2launchtemplate:id", Value = reference.LaunchTemplateId });
        instance.Tags.Add(new Tag { Key = "aws:ec2launchtemplate:version", Value = reference.Version });
        if (nodegroup is not null && !instance.Tags.Exists(t => t.Key == "Name"))
        {
            instance.Tags.Add(new Tag { Key = "Name", Value = $"{nodegroup.ClusterName}-{nodegroup.Name}-Node" });
        }

        Instances[instanceId] = instance;
        instance.Boot.LaunchedAt = now;
        RaisePhase(instance, "InstanceLaunched", image.ImageId, now);
        if (intoWarmPool)
        {
            WarmUp(group, instance, cause, details);
            return true;
        }

        // EC2 Fast Launch: a Windows AMI with pre-provisioned snapshots ready boots from one (Sysprep specialize and OOBE
        // already done); an empty pool, or an AMI without Fast Launch, boots the standard way.
        bool windows = image.OsFamily == "windows";
        if (windows && TryTakeFastLaunchSnapshot(image.ImageId, out string? snapshotId))
        {
            instance.Boot.FastLaunchSnapshotId = snapshotId;
        }

        group.InstanceIds.Add(instanceId);
        var activity = new ScalingActivity
        {
            ActivityId = Ids.Uuid($"activity/{group.Name}/{instanceId}/launch"),
            AutoScalingGroupName = group.Name,
            AutoScalingGroupArn = group.Arn,
            Description = "Launching a new EC2 instance: " + instanceId,
            Cause = cause,
            StartTime = now,
            StatusCode = "PreInService",
            Progress = 30,
            Details = details,
            InstanceId = instanceId,
        };
        ScalingActivities.Add(activity);

        NodeJoin? join = null;
        if (clusterName is not null && TakeFault("never-register", group, nodegroup) is null)
        {
            bool notReady = TakeFault("not-ready", group, nodegroup) is not null;
            bool noPodIps = windows && !notReady && TakeFault("no-pod-ips", group, nodegroup) is not null;
            join = new NodeJoin(clusterName, group, nodegroup, image, version, notReady, noPodIps);
        }

        StartBoot(instance, image, activity, join);
        return true;
    }

    private void LaunchHooksDone(AutoScalingGroup? group, Ec2Instance instance, ScalingActivity activity, string result, bool keepState = false)
    {
        activity.Progress = 100;
        activity.EndTime = Scheduler.Now;
        if (result == "ABANDON" && group is not null)
        {
            string token = LifecycleActions.LastOrDefault(a => a.InstanceId == instance.InstanceId)?.Token ?? "";
            activity.StatusCode = "Cancelled";
            activity.StatusMessage = $"Instance failed to complete user's Lifecycle Action: Lifecycle Action with token {token} was abandoned: Lifecycle Action Completed with ABANDON Result";
            instance.LifecycleState = "Terminating";
            ShutDown(instance, null);
            ReconcileGroup(group, null);
            return;
        }

        if (!keepState)
        {
            instance.LifecycleState = "InService";
        }

        activity.StatusCode = "Successful";
    }

    // ---- helpers -----------------------------------------------------------------------------

    private void ScheduleRetry(AutoScalingGroup group)
    {
        if (!_retryScheduled.Add(group.Name))
        {
            return;
        }

        Scheduler.After(TimeSpan.FromSeconds(FleetTimings.LaunchRetrySeconds), () => Locked(() =>
        {
            _retryScheduled.Remove(group.Name);
            if (AutoScalingGroups.ContainsKey(group.Name))
            {
                ReconcileGroup(group, null);
            }
        }));
    }

    private FleetFaultRule? TakeFault(string kind, AutoScalingGroup group, EksNodegroup? nodegroup)
    {
        foreach (FleetFaultRule rule in FleetFaults)
        {
            if (rule.Kind != kind || !rule.Matches(group.Name, nodegroup?.Name) || (rule.Count is int n && rule.Hits >= n))
            {
                continue;
            }

            if (rule.Probability < 1.0 && FleetRandom.NextDouble() >= rule.Probability)
            {
                continue;
            }

            rule.Hits++;
            return rule;
        }

        return null;
    }

    /// <summary>The zone with the fewest active instances (Auto Scaling balances zones), with the group's subnet there.</summary>
    private (string Zone, string Subnet) PickZone(AutoScalingGroup group)
    {
        List<Ec2Instance> active = ActiveMembers(group);
        int best = 0;
        for (int z = 1; z < group.AvailabilityZones.Count; z++)
        {
            if (active.Count(i => i.AvailabilityZone == group.AvailabilityZones[z]) < active.Count(i => i.AvailabilityZone == group.AvailabilityZones[best]))
            {
                best = z;
            }
        }

        string zone = group.AvailabilityZones.Count > 0 ? group.AvailabilityZones[best] : Region + "a";
        string subnet = best < group.SubnetIds.Count ? group.SubnetIds[best] : "subnet-" + Ids.Hex("subnet/" + zone, 17);
        return (zone, subnet);
    }

    /// <summary>Private IPs for launched instances: the cluster's 10.&lt;cluster&gt;.x.y range, above the scenario's own nodes.</summary>
    private string AllocateIp(string cluster, int zoneIndex)
    {
        int clusterIndex = Math.Max(0, Clusters.Keys.ToList().IndexOf(cluster));
        int n = _ipCounters.GetValueOrDefault(cluster);
        _ipCounters[cluster] = n + 1;
        int zone = Math.Max(0, zoneIndex);
        return $"10.{clusterIndex}.{(zone * 32) + 16 + (n / 200 % 16)}.{20 + (n % 200)}";
    }

    private TimeSpan Spread(double[] range) => range.Length switch
    {
        0 => TimeSpan.Zero,
        1 => TimeSpan.FromSeconds(range[0]),
        _ => TimeSpan.FromSeconds(range[0] + (FleetRandom.NextDouble() * (range[1] - range[0]))),
    };

    /// <summary>Runs a timed event under the world's lock.</summary>
    private void Locked(Action action)
    {
        lock (Gate)
        {
            action();
        }
    }

    /// <summary>Auto Scaling's timestamps in causes: 2026-10-02T09:14:07Z.</summary>
    public string Stamp() => Scheduler.Now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Sentence(string? trigger) => string.IsNullOrEmpty(trigger) ? "" : trigger + "  ";
}
