namespace WinEksPatch.Workflows.AmiBuild;

/// <summary>What New-WinNodeAmi was asked for.</summary>
public sealed record AmiBuildOptions
{
    public required string ClusterName { get; init; }
    public string? NodeGroupName { get; init; }
    public string? WindowsVersion { get; init; }
    public string? Edition { get; init; }
    public string? ParentImageId { get; init; }
    public IReadOnlyList<string> CacheImages { get; init; } = [];
    public IReadOnlyList<string> Components { get; init; } = [];
    public string? InstanceType { get; init; }
    public string? SubnetId { get; init; }
    public IReadOnlyList<string> SecurityGroupIds { get; init; } = [];
    public string? InstanceProfileName { get; init; }
    public IReadOnlyList<string> DistributionRegions { get; init; } = [];
    public bool NoWait { get; init; }

    /// <summary>EC2 Fast Launch on the output AMI (in this region), through the distribution configuration; null: none.</summary>
    public AmiFastLaunchOptions? FastLaunch { get; init; }

    /// <summary>New-WinNodeAmi -WhatIf: the plan is written to the pipeline as well as the What if: text. Callers that
    /// show only the text (Invoke-WinEksPatch -WhatIf) leave it off.</summary>
    public bool WritePlan { get; init; }
}

/// <summary>New-WinNodeAmi -FastLaunch: the snapshots to keep on hand (null: sized to the rollout the AMI prepares, the
/// group's node count, at least EC2's default of 5), the parallel pre-provisioning launches and their launch template.</summary>
public sealed record AmiFastLaunchOptions
{
    public int? TargetSnapshotCount { get; init; }
    public int MaxParallelLaunches { get; init; } = FastLaunch.FastLaunchSetup.MinParallelLaunches;
    public string? LaunchTemplateId { get; init; }
    public string? LaunchTemplateVersion { get; init; }
    public int ParallelLaunchQuota { get; init; } = FastLaunch.FastLaunchSetup.DefaultParallelLaunchQuota;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Hand the AMI on once Fast Launch is enabled, without waiting until its snapshots are estimated on hand.</summary>
    public bool NoSnapshotWait { get; init; }
}
