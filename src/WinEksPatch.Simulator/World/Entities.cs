namespace WinEksPatch.Simulator.World;

// The simulated world's entities. Plain mutable classes: they are only touched while holding
// SimWorld.Gate, and services copy what they need into a response before releasing it.

public sealed class Tag
{
    public required string Key { get; init; }
    public string Value { get; set; } = "";
    /// <summary>Auto Scaling only: whether the tag is copied to instances the group launches.</summary>
    public bool PropagateAtLaunch { get; set; } = true;
}

public sealed class AmiImage
{
    public required string ImageId { get; init; }
    public required string Name { get; init; }
    public string Description { get; init; } = "";
    public required string OwnerId { get; init; }
    public string? OwnerAlias { get; init; }
    /// <summary>"windows" for Windows AMIs, null otherwise (that is how EC2 reports it).</summary>
    public string? Platform { get; init; }
    public string PlatformDetails { get; init; } = "Linux/UNIX";
    public string Architecture { get; init; } = "x86_64";
    public DateTimeOffset CreationDate { get; init; }
    public bool Public { get; init; } = true;
    public string State { get; set; } = "available";
    public List<Tag> Tags { get; } = [];

    // Modelled facts that EC2 does not return but the world needs.
    /// <summary>Full OS version of the image, e.g. 10.0.20348.2849 (Windows) or a kernel version (Linux).</summary>
    public required string OsVersion { get; init; }
    public required string KubernetesVersion { get; init; }
    /// <summary>"windows" or "linux".</summary>
    public required string OsFamily { get; init; }
    /// <summary>Windows Server release (2019, 2022, 2025) or null.</summary>
    public string? WindowsServer { get; init; }
    /// <summary>Core or Full for Windows, null otherwise.</summary>
    public string? WindowsEdition { get; init; }
    /// <summary>Patch month this AMI was built for (first of the month).</summary>
    public DateOnly PatchMonth { get; init; }
    /// <summary>Windows: the AMI was created after Sysprep with the shutdown option (generalized), as EC2 Fast Launch
    /// requires; false for an AMI made from a running, specialized instance (Fast Launch then fails to enable).</summary>
    public bool SysprepGeneralized { get; set; } = true;
}

public sealed class LaunchTemplateVersion
{
    public required long VersionNumber { get; init; }
    /// <summary>Null for a managed node group's own template that leaves the AMI to EKS.</summary>
    public string? ImageId { get; set; }
    public string InstanceType { get; set; } = "m5.xlarge";
    /// <summary>Base64, as EC2 stores it.</summary>
    public string? UserData { get; set; }
    public string? VersionDescription { get; set; }
    public DateTimeOffset CreateTime { get; init; }
    /// <summary>The instance profile (its ARN) the instances launch with: a self-managed node group's node role. Auto
    /// Scaling checks iam:PassRole on its role when a group is set to the template.</summary>
    public string? IamInstanceProfileArn { get; init; }
}

public sealed class LaunchTemplate
{
    public required string LaunchTemplateId { get; init; }
    public required string LaunchTemplateName { get; init; }
    public long DefaultVersionNumber { get; set; } = 1;
    public DateTimeOffset CreateTime { get; init; }
    public List<LaunchTemplateVersion> Versions { get; } = [];
    public List<Tag> Tags { get; } = [];

    public long LatestVersionNumber => Versions.Count == 0 ? 0 : Versions.Max(v => v.VersionNumber);

    /// <summary>Resolves "$Latest", "$Default" or a number as an Auto Scaling group or node group would.</summary>
    public LaunchTemplateVersion? Resolve(string? version)
    {
        long wanted = version switch
        {
            null or "" or "$Default" => DefaultVersionNumber,
            "$Latest" => LatestVersionNumber,
            _ => long.TryParse(version, out long n) ? n : -1,
        };
        return Versions.Find(v => v.VersionNumber == wanted);
    }
}

/// <summary>How a group or instance refers to a launch template.</summary>
public sealed record LaunchTemplateRef(string LaunchTemplateId, string LaunchTemplateName, string Version);

public sealed class AutoScalingGroup
{
    public required string Name { get; init; }
    public required string Arn { get; init; }
    public required LaunchTemplateRef LaunchTemplate { get; set; }
    /// <summary>Managed node groups' ASGs use a MixedInstancesPolicy instead of a plain LaunchTemplate.</summary>
    public bool UseMixedInstancesPolicy { get; init; }
    public List<string> InstanceTypeOverrides { get; } = [];
    /// <summary>A mixed instances policy's per-override launch templates (Overrides[].LaunchTemplateSpecification), by
    /// instance type: instances of that type launch from it instead of the policy's own template.</summary>
    public Dictionary<string, LaunchTemplateRef> OverrideTemplates { get; } = new(StringComparer.Ordinal);
    public int MinSize { get; set; }
    public int MaxSize { get; set; }
    public int DesiredCapacity { get; set; }
    public List<string> AvailabilityZones { get; } = [];
    public List<string> SubnetIds { get; } = [];
    public string HealthCheckType { get; set; } = "EC2";
    public int HealthCheckGracePeriod { get; set; } = 300;
    public DateTimeOffset CreatedTime { get; init; }
    public List<Tag> Tags { get; } = [];
    public List<string> InstanceIds { get; } = [];
    public List<string> SuspendedProcesses { get; } = [];
    public string? ServiceLinkedRoleArn { get; init; }
    /// <summary>Lifecycle hooks (PutLifecycleHook), in creation order.</summary>
    public List<LifecycleHook> LifecycleHooks { get; } = [];
    /// <summary>The group's warm pool (PutWarmPool), if it has one.</summary>
    public WarmPool? WarmPool { get; set; }
    /// <summary>Capacity Rebalancing: on an EC2 rebalance recommendation for one of its (Spot) instances the group
    /// launches a replacement, then terminates the instance at risk.</summary>
    public bool CapacityRebalance { get; set; }
}

public sealed class Ec2Instance
{
    public required string InstanceId { get; init; }
    public required string ImageId { get; init; }
    public string InstanceType { get; init; } = "m5.xlarge";
    public required string AvailabilityZone { get; init; }
    public required string SubnetId { get; init; }
    public required string VpcId { get; init; }
    public required string PrivateIpAddress { get; init; }
    public required string PrivateDnsName { get; init; }
    /// <summary>When the instance was launched, or last started from stopped (a warm pool instance taken into its group).</summary>
    public DateTimeOffset LaunchTime { get; set; }
    /// <summary>EC2 state name: pending, running, shutting-down, terminated, stopping, stopped.</summary>
    public string State { get; set; } = "running";
    public string? Platform { get; init; }
    public string Architecture { get; init; } = "x86_64";
    public List<Tag> Tags { get; } = [];
    public string? AutoScalingGroupName { get; set; }
    public LaunchTemplateRef? LaunchTemplate { get; init; }
    /// <summary>Auto Scaling lifecycle state (InService, Pending, Terminating, ...).</summary>
    public string LifecycleState { get; set; } = "InService";
    public string HealthStatus { get; set; } = "Healthy";
    public bool ProtectedFromScaleIn { get; set; }
    /// <summary>When the instance reached each boot phase, and the Fast Launch snapshot it was restored from (not an EC2
    /// field: the simulator's record, see <see cref="InstanceBoot"/>).</summary>
    public InstanceBoot Boot { get; } = new();

    public static int StateCode(string state) => state switch
    {
        "pending" => 0,
        "running" => 16,
        "shutting-down" => 32,
        "terminated" => 48,
        "stopping" => 64,
        "stopped" => 80,
        _ => 16,
    };
}

public sealed class EksCluster
{
    public required string Name { get; init; }
    public required string Arn { get; init; }
    public required string Version { get; set; }
    public string PlatformVersion { get; set; } = "eks.1";
    public string Status { get; set; } = "ACTIVE";
    public DateTimeOffset CreatedAt { get; init; }
    public required string VpcId { get; init; }
    public List<string> SubnetIds { get; } = [];
    public string RoleArn { get; init; } = "";
    public Dictionary<string, string> Tags { get; } = [];
    /// <summary>Set by the host once the Kubernetes listener's port is known.</summary>
    public string Endpoint { get; set; } = "";
    public string Id { get; init; } = "";
}

public sealed class EksNodegroup
{
    public required string ClusterName { get; init; }
    public required string Name { get; init; }
    public required string Arn { get; init; }
    public required string Version { get; set; }
    public required string ReleaseVersion { get; set; }
    public required string AmiType { get; init; }
    public string CapacityType { get; init; } = "ON_DEMAND";
    public string Status { get; set; } = "ACTIVE";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset ModifiedAt { get; set; }
    public int MinSize { get; set; }
    public int MaxSize { get; set; }
    public int DesiredSize { get; set; }
    public List<string> InstanceTypes { get; } = [];
    public List<string> Subnets { get; } = [];
    public string NodeRole { get; init; } = "";
    public Dictionary<string, string> Labels { get; } = [];
    public LaunchTemplateRef? LaunchTemplate { get; set; }
    public int? DiskSize { get; init; }
    public required string AutoScalingGroupName { get; init; }
    public int MaxUnavailable { get; set; } = 1;
    public Dictionary<string, string> Tags { get; } = [];

    /// <summary>EKS's release version for a group running <paramref name="image"/>: "1.31-2026.09.11" for Windows,
    /// "1.31.4-20260915" for Amazon Linux, the AMI id itself for AMI type CUSTOM.</summary>
    public static string ReleaseVersionOf(AmiImage image, string amiType) =>
        amiType == "CUSTOM" ? image.ImageId
        : image.OsFamily == "windows" ? $"{image.KubernetesVersion}-{image.CreationDate:yyyy.MM.dd}"
        : $"{image.KubernetesVersion}.4-{image.CreationDate:yyyyMMdd}";
}

public sealed class KubeNode
{
    public required string ClusterName { get; init; }
    public required string Name { get; init; }
    public required string Uid { get; init; }
    public DateTimeOffset CreationTimestamp { get; init; }
    public Dictionary<string, string> Labels { get; } = [];
    public Dictionary<string, string> Annotations { get; } = [];
    public required string ProviderId { get; init; }
    public required string InstanceId { get; init; }
    public bool Unschedulable { get; set; }
    public List<(string Key, string? Value, string Effect)> Taints { get; } = [];
    public bool Ready { get; set; } = true;
    public DateTimeOffset ReadySince { get; set; }
    /// <summary>False once the node's kubelet stopped posting status (a hung or crashed node): the node is NotReady with
    /// Ready Unknown, and pods deleted on it stay Terminating, since no kubelet confirms that their containers stopped.</summary>
    public bool KubeletRunning { get; set; } = true;
    public required string InternalIp { get; init; }
    public required string KernelVersion { get; init; }
    public required string OsImage { get; init; }
    public required string OperatingSystem { get; init; }
    public string Architecture { get; init; } = "amd64";
    public required string KubeletVersion { get; init; }
    public required string ContainerRuntimeVersion { get; init; }
    public string CpuCapacity { get; init; } = "4";
    public string MemoryCapacity { get; init; } = "16093756Ki";
    public string PodCapacity { get; init; } = "110";
    /// <summary>Extended resources in capacity and allocatable, e.g. the Windows pod IPs the VPC resource controller
    /// advertises as vpc.amazonaws.com/PrivateIPv4Address.</summary>
    public Dictionary<string, string> ExtendedResources { get; } = new(StringComparer.Ordinal);
    public long ResourceVersion { get; set; }
}

public sealed class KubeContainer
{
    public required string Name { get; init; }
    public required string Image { get; init; }
}

public sealed class KubePod
{
    public required string ClusterName { get; init; }
    public required string Namespace { get; init; }
    public required string Name { get; init; }
    public required string Uid { get; init; }
    public DateTimeOffset CreationTimestamp { get; init; }
    public Dictionary<string, string> Labels { get; } = [];
    public Dictionary<string, string> NodeSelector { get; } = [];
    public string? NodeName { get; set; }
    /// <summary>Pending, Running, Succeeded, Failed.</summary>
    public string Phase { get; set; } = "Running";
    public bool Ready { get; set; } = true;
    public string? PodIp { get; set; }
    public string? HostIp { get; set; }
    public List<KubeContainer> Containers { get; } = [];
    public string? OwnerKind { get; init; }
    public string? OwnerName { get; init; }
    public string? OwnerUid { get; init; }
    /// <summary>When the kubelet took the pod (status.startTime): set when it is bound to a node.</summary>
    public DateTimeOffset? StartTime { get; set; }
    /// <summary>When its containers started running (containerStatuses[].state.running.startedAt, and the Ready
    /// conditions' time): after the image pull, so later than <see cref="StartTime"/>. Null for a pod of the scenario that
    /// was running from the start (then <see cref="StartTime"/> stands for it).</summary>
    public DateTimeOffset? RunningSince { get; set; }
    /// <summary>Its containers start and exit over and over (a crash-loop fault of its node's AMI): Running, never Ready,
    /// restarting with the kubelet's back-off.</summary>
    public bool CrashLooping { get; set; }
    public int RestartCount { get; set; }
    public long ResourceVersion { get; set; }
    /// <summary>Set when a graceful deletion started (the pod is Terminating); it is gone once the grace period ends.</summary>
    public DateTimeOffset? DeletionTimestamp { get; set; }
    public long? DeletionGracePeriodSeconds { get; set; }
    public long TerminationGracePeriodSeconds { get; set; } = 30;
    public List<KubeToleration> Tolerations { get; } = [];
    public Dictionary<string, string> Annotations { get; } = [];
}

public sealed class SsmParameter
{
    public required string Name { get; init; }
    public string Type { get; init; } = "String";
    public required string Value { get; set; }
    public long Version { get; set; } = 1;
    public DateTimeOffset LastModifiedDate { get; set; }
    public string DataType { get; init; } = "text";
}
