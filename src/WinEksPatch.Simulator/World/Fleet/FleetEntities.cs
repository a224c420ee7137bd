using System.Text.RegularExpressions;

namespace WinEksPatch.Simulator.World;

// Entities of the fleet area (EC2, Auto Scaling, EKS managed node groups) that exist only while the world runs:
// scaling activities, EKS updates, fault rules and the boot model. Touched only while holding SimWorld.Gate.

/// <summary>One Auto Scaling scaling activity (DescribeScalingActivities).</summary>
public sealed class ScalingActivity
{
    public required string ActivityId { get; init; }
    public required string AutoScalingGroupName { get; init; }
    public required string AutoScalingGroupArn { get; init; }
    public required string Description { get; init; }
    public required string Cause { get; init; }
    public required DateTimeOffset StartTime { get; init; }
    public DateTimeOffset? EndTime { get; set; }
    /// <summary>PreInService, InProgress, Successful, Failed, Cancelled (the Auto Scaling status codes used here).</summary>
    public string StatusCode { get; set; } = "InProgress";
    public string? StatusMessage { get; set; }
    public int Progress { get; set; }
    /// <summary>JSON object text, e.g. {"Subnet ID":"subnet-…","Availability Zone":"us-west-2a"}.</summary>
    public string Details { get; init; } = "{}";
    public string? InstanceId { get; init; }
}

/// <summary>An EKS update (UpdateNodegroupVersion, UpdateNodegroupConfig): DescribeUpdate, ListUpdates.</summary>
public sealed class EksUpdate
{
    public required string Id { get; init; }
    public required string ClusterName { get; init; }
    public string? NodegroupName { get; init; }
    /// <summary>VersionUpdate or ConfigUpdate.</summary>
    public required string Type { get; init; }
    /// <summary>InProgress, Failed, Cancelled, Successful.</summary>
    public string Status { get; set; } = "InProgress";
    public required DateTimeOffset CreatedAt { get; init; }
    public List<(string Type, string Value)> Params { get; } = [];
    public List<(string Code, string Message, List<string> ResourceIds)> Errors { get; } = [];
}

/// <summary>
/// A fault injected into the fleet (admin path /_sim/fleet/faults or the scenario's fleetFaults):
/// <c>launch-failure</c>: the group's launches fail (scaling activity Failed with <see cref="ErrorCode"/>);
/// <c>never-register</c>: the instance runs but its node never joins the cluster;
/// <c>not-ready</c>: the node joins but stays NotReady;
/// <c>no-pod-ips</c>: a Windows node turns Ready but never gets its pod IPs (Windows IPAM not enabled in the
/// amazon-vpc-cni ConfigMap, or the cluster role without AmazonEKSVPCResourceController).
/// </summary>
public sealed class FleetFaultRule
{
    public static readonly string[] Kinds = ["launch-failure", "never-register", "not-ready", "no-pod-ips", "crash-loop", "node-fails", "alarm"];

    /// <summary>The kinds that make an AMI bad (<see cref="ImageId"/>): its nodes join and look healthy, and then workloads
    /// crash-loop on them (crash-loop), or the nodes turn NotReady <see cref="AfterSeconds"/> after they became Ready
    /// (node-fails), or the CloudWatch alarm <see cref="AlarmName"/> goes into ALARM <see cref="AfterSeconds"/> after one
    /// turned Ready (alarm). They hit every node of that AMI in the matching groups: <see cref="Count"/> and
    /// <see cref="Probability"/> do not apply.</summary>
    public static readonly string[] BadAmiKinds = ["crash-loop", "node-fails", "alarm"];

    public string Id { get; set; } = "";
    public string Kind { get; set; } = "launch-failure";
    /// <summary>Auto Scaling group name or EKS node group name; * and ? are wildcards.</summary>
    public string Group { get; set; } = "*";
    /// <summary>How many launches it hits; null: every one (until removed).</summary>
    public int? Count { get; set; }
    /// <summary>Chance (0..1] that a launch that matches is hit.</summary>
    public double Probability { get; set; } = 1.0;
    /// <summary>launch-failure only: the EC2 error in the scaling activity's status message.</summary>
    public string ErrorCode { get; set; } = "InsufficientInstanceCapacity";
    /// <summary>crash-loop, node-fails and alarm: the bad AMI.</summary>
    public string? ImageId { get; set; }
    /// <summary>node-fails: seconds after a node of the AMI turned Ready that its kubelet stops; alarm: that the alarm trips.</summary>
    public double AfterSeconds { get; set; } = 300;
    /// <summary>alarm: the CloudWatch alarm (of the same account and region) that goes into ALARM.</summary>
    public string? AlarmName { get; set; }
    /// <summary>How many launches (for a bad AMI: nodes or pods) it has hit so far.</summary>
    public int Hits { get; set; }

    /// <summary>What is wrong with a rule a client sent, or null when it can be added.</summary>
    public string? Problem() =>
        !Kinds.Contains(Kind) ? $"kind must be one of {string.Join(", ", Kinds)}"
        : Count is < 1 ? "count must be at least 1"
        : !(Probability > 0 && Probability <= 1) ? "probability must be in (0, 1]"
        : string.IsNullOrEmpty(Group) ? "group must not be empty"
        : BadAmiKinds.Contains(Kind) && (ImageId is null || !ImageId.StartsWith("ami-", StringComparison.Ordinal)) ? $"a {Kind} rule names the bad AMI: imageId (ami-...)"
        : Kind == "alarm" && string.IsNullOrEmpty(AlarmName) ? "an alarm rule names the alarm it trips: alarmName"
        : Kind is "node-fails" or "alarm" && !(AfterSeconds >= 0 && AfterSeconds <= 86_400) ? "afterSeconds must be from 0 to 86400"
        : null;

    public bool Matches(string asgName, string? nodegroupName)
    {
        string pattern = "^" + Regex.Escape(Group).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$";
        return Regex.IsMatch(asgName, pattern, RegexOptions.None, TimeSpan.FromSeconds(1))
            || (nodegroupName is not null && Regex.IsMatch(nodegroupName, pattern, RegexOptions.None, TimeSpan.FromSeconds(1)));
    }
}

/// <summary>
/// How long instances take, in simulated seconds, each as [min, max] with a uniform spread. A Windows launch goes through
/// sequential phases, each timed from the one before: pending → running (<see cref="PendingSeconds"/>) → OS ready
/// (<see cref="WindowsOsReadySeconds"/>, or <see cref="WindowsFastLaunchOsReadySeconds"/> when EC2 restores a Fast Launch
/// pre-provisioned snapshot) → node registered (<see cref="WindowsBootstrapSeconds"/>) → Ready (<see cref="ReadySeconds"/>)
/// → pod IPs advertised (<see cref="WindowsIpamSeconds"/>). The standard figures add up to a median of ~330 s from launch to
/// registration (35 + 230 + 65), inside AWS's "often take 15 minutes or longer" for everything a Windows launch does
/// (EC2 User Guide, Use EC2 Fast Launch for your Windows instances); a Fast Launch boot to registration takes ~132 s,
/// 60 % less, as AWS's "up to 65% faster" (EC2 API Reference, EnableFastLaunch). Linux and warm-pool starts are one
/// step from launch to registration (<see cref="LinuxRegisterSeconds"/>, <see cref="WarmStartRegisterSeconds"/>).
/// </summary>
public sealed class FleetTimings
{
    /// <summary>Launch request → EC2 reports running (modelled: EC2 typically reports a Nitro instance running within a
    /// minute).</summary>
    public double[] PendingSeconds { get; set; } = [25, 45];

    /// <summary>Running → Windows is ready to use after a standard boot: Sysprep specialize and Windows OOBE, with their
    /// reboots, then EC2Launch v2's boot, network and preReady stages. Modelled (AWS documents only the whole launch:
    /// "several reboots, and often take 15 minutes or longer").</summary>
    public double[] WindowsOsReadySeconds { get; set; } = [170, 290];

    /// <summary>Running → Windows is ready to use when the root volume is restored from a Fast Launch pre-provisioned
    /// snapshot: Sysprep specialize and OOBE were done before the snapshot was taken, so only a start and EC2Launch v2's
    /// stages remain. Modelled, to make the launch "up to 65% faster" (EC2 API Reference, EnableFastLaunch).</summary>
    public double[] WindowsFastLaunchOsReadySeconds { get; set; } = [20, 45];

    /// <summary>OS ready → node registered: EC2Launch v2 runs the user data (Start-EKSBootstrap.ps1 of the EKS-optimized
    /// AMI), which writes the kubelet configuration and starts kubelet, and kubelet registers the node. Modelled.</summary>
    public double[] WindowsBootstrapSeconds { get; set; } = [45, 85];

    /// <summary>Launch → node registered, Linux (one step: Amazon Linux boots and nodeadm joins in about a minute).</summary>
    public double[] LinuxRegisterSeconds { get; set; } = [50, 80];

    /// <summary>Node registered → Ready (the CNI and kube-proxy come up; modelled).</summary>
    public double[] ReadySeconds { get; set; } = [20, 60];

    /// <summary>Ready Windows node → its pod IPs advertised by the VPC resource controller (until then no Windows pod can be
    /// scheduled there; modelled).</summary>
    public double[] WindowsIpamSeconds { get; set; } = [5, 20];
    public double[] WindowsShutdownSeconds { get; set; } = [60, 120];
    /// <summary>A new warm pool instance: launch, first boot and its user data, until it stops (or waits running) in the pool.</summary>
    public double[] WarmUpSeconds { get; set; } = [300, 480];
    /// <summary>A warmed Windows instance taken into the group: start from the pool → node registered (no first boot).</summary>
    public double[] WarmStartRegisterSeconds { get; set; } = [60, 120];
    public double[] LinuxShutdownSeconds { get; set; } = [20, 40];
    /// <summary>DetachInstances: how long an instance stays Detaching before it leaves its group.</summary>
    public double DetachSeconds { get; set; } = 30;
    /// <summary>How soon Auto Scaling retries after a failed launch.</summary>
    public double LaunchRetrySeconds { get; set; } = 30;
}
