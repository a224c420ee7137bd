namespace WinEksPatch.Simulator.Scenarios;

// The shape of a scenario data file (Scenarios/*.json). A scenario says what exists; the loader
// derives the details (ids, IPs, node names, pod names) deterministically from it and the seed.

public sealed partial class ScenarioDefinition
{
    public string Description { get; set; } = "";
    public string Region { get; set; } = "us-west-2";
    public string AccountId { get; set; } = "111122223333";
    /// <summary>Seed for every derived name and id, so a scenario always produces the same world.</summary>
    public int Seed { get; set; } = 1;
    public AmiCatalogDefinition AmiCatalog { get; set; } = new();
    public List<ClusterDefinition> Clusters { get; set; } = [];
    /// <summary>Container image catalogue (ContainerImageDefinitions.cs); null loads the shipped "container-images".</summary>
    public ContainerImageCatalogDefinition? ContainerImages { get; set; }
    /// <summary>IAM instance profiles that exist (Image Builder infrastructure configurations name one); null: the defaults of ImageBuilderScenario.</summary>
    public List<string>? InstanceProfiles { get; set; }
    /// <summary>Fault rules in force from the start (the shape of POST /_sim/faults; README "Faults").</summary>
    public List<System.Text.Json.JsonElement>? Faults { get; set; }
    /// <summary>CloudWatch metric alarms of the account and region (OK unless a state is given).</summary>
    public List<AlarmDefinition>? Alarms { get; set; }
}

/// <summary>A CloudWatch metric alarm as PutMetricAlarm describes one, and the state it starts in.</summary>
public sealed class AlarmDefinition
{
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    public string Namespace { get; set; } = "";
    public string MetricName { get; set; } = "";
    public string Statistic { get; set; } = "Sum";
    public Dictionary<string, string> Dimensions { get; set; } = [];
    public int Period { get; set; } = 60;
    public int EvaluationPeriods { get; set; } = 1;
    public double Threshold { get; set; }
    public string ComparisonOperator { get; set; } = "GreaterThanThreshold";
    /// <summary>OK, ALARM or INSUFFICIENT_DATA.</summary>
    public string State { get; set; } = "OK";
}

public sealed class AmiCatalogDefinition
{
    public List<string> KubernetesVersions { get; set; } = ["1.30", "1.31", "1.32"];
    /// <summary>First patch month (yyyy-MM) with EKS-optimized AMIs in the catalog.</summary>
    public string FirstMonth { get; set; } = "2025-06";
    /// <summary>Last patch month (yyyy-MM); default: the newest month in the build calendar released before the clock's start.</summary>
    public string? LastMonth { get; set; }
    public List<string> WindowsServers { get; set; } = ["2019", "2022", "2025"];
    public List<string> Editions { get; set; } = ["Core", "Full"];
    /// <summary>Days between Patch Tuesday and the EKS-optimized AMI release.</summary>
    public int ReleaseLagDays { get; set; } = 3;
    public bool Linux { get; set; } = true;
    /// <summary>Accounts that share with this one a copy of each newest EKS-optimized Windows AMI (named "&lt;name&gt;-shared",
    /// owned by that account, not public): AMIs a user could be handed that are neither this account's nor Amazon's.</summary>
    public List<string> SharedCopiesFrom { get; set; } = [];
}

public sealed class ClusterDefinition
{
    public string Name { get; set; } = "";
    public string Version { get; set; } = "1.31";
    public string PlatformVersion { get; set; } = "eks.1";
    public DateTimeOffset CreatedAt { get; set; } = new(2025, 1, 15, 9, 30, 0, TimeSpan.Zero);
    public Dictionary<string, string> Tags { get; set; } = [];
    public List<NodeGroupDefinition> NodeGroups { get; set; } = [];
    public List<WorkloadDefinition> Workloads { get; set; } = [];
    public List<PodDisruptionBudgetDefinition> PodDisruptionBudgets { get; set; } = [];
}

public sealed class NodeGroupDefinition
{
    public string Name { get; set; } = "";
    /// <summary>"managed" (EKS managed node group) or "self-managed" (a plain Auto Scaling group).</summary>
    public string Type { get; set; } = "managed";
    /// <summary>EKS AMI type of a managed group, e.g. WINDOWS_CORE_2022_x86_64 or AL2023_x86_64_STANDARD.</summary>
    public string? AmiType { get; set; }
    /// <summary>Self-managed groups: "windows" or "linux".</summary>
    public string? Os { get; set; }
    /// <summary>Self-managed Windows groups: 2019, 2022 or 2025.</summary>
    public string? WindowsServer { get; set; }
    public string? Edition { get; set; }
    /// <summary>How many monthly AMIs behind the newest one the group's nodes run (0 = current).</summary>
    public int MonthsBehind { get; set; }
    public string InstanceType { get; set; } = "m5.xlarge";
    public int MinSize { get; set; } = 1;
    public int MaxSize { get; set; } = 4;
    public int DesiredSize { get; set; } = 2;
    /// <summary>Managed groups: give the group a custom launch template (common for Windows groups).</summary>
    public bool LaunchTemplate { get; set; }
    /// <summary>Self-managed groups: launch through a MixedInstancesPolicy (e.g. Spot and On-Demand) rather than a plain launch template.</summary>
    public bool MixedInstancesPolicy { get; set; }
    public Dictionary<string, string> Labels { get; set; } = [];
    public Dictionary<string, string> Tags { get; set; } = [];
    /// <summary>Self-managed groups: Capacity Rebalancing on (Spot groups).</summary>
    public bool CapacityRebalance { get; set; }
    /// <summary>Self-managed groups: the Auto Scaling group's lifecycle hooks.</summary>
    public List<LifecycleHookDefinition> LifecycleHooks { get; set; } = [];
}

/// <summary>A lifecycle hook on a self-managed group's Auto Scaling group (as PutLifecycleHook takes it).</summary>
public sealed class LifecycleHookDefinition
{
    public string Name { get; set; } = "";
    /// <summary>autoscaling:EC2_INSTANCE_TERMINATING (the default) or autoscaling:EC2_INSTANCE_LAUNCHING.</summary>
    public string Transition { get; set; } = "autoscaling:EC2_INSTANCE_TERMINATING";
    public int HeartbeatTimeout { get; set; } = 3600;
    public string DefaultResult { get; set; } = "ABANDON";
    /// <summary>A handler (the Node Termination Handler, a Lambda) completes each action with CONTINUE after this many
    /// seconds; absent: nobody does, and the heartbeat timeout applies the default result.</summary>
    public double? CompleteAfterSeconds { get; set; }
}

public sealed class WorkloadDefinition
{
    public string Namespace { get; set; } = "default";
    public string Name { get; set; } = "";
    /// <summary>Deployment or DaemonSet.</summary>
    public string Kind { get; set; } = "Deployment";
    public int Replicas { get; set; } = 1;
    /// <summary>"windows" or "linux": the pods' kubernetes.io/os node selector.</summary>
    public string Os { get; set; } = "linux";
    public List<ContainerDefinition> Containers { get; set; } = [];
    public Dictionary<string, string> Labels { get; set; } = [];
}

public sealed class ContainerDefinition
{
    public string Name { get; set; } = "";
    public string Image { get; set; } = "";
}
