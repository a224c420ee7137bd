using WinEksPatch.Abstractions;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>
/// The safety rules a drain may be told to override, each by its own switch (never by -Force, which only skips prompts).
/// Like kubectl drain: evictions honour PodDisruptionBudgets and pods that no controller recreates are refused, unless
/// the user says otherwise in so many words.
/// </summary>
[Flags]
public enum DrainOverrides
{
    None = 0,

    /// <summary>-OverridePodDisruptionBudget: pods a budget still blocks after -DrainTimeout are deleted (kubectl drain
    /// --disable-eviction); for managed groups, EKS's update is started with force.</summary>
    DeletePodsBlockedByBudget = 1,

    /// <summary>-EvictUnreplicatedPods: pods with no controller (nothing recreates them) are evicted and lost (kubectl
    /// drain --force).</summary>
    EvictUnreplicatedPods = 2,
}

/// <summary>What a rollout does with an old node whose drain cannot finish (a budget still blocks it at -DrainTimeout, a
/// pod no controller recreates, a pod under two budgets). AKS's undrainableNodeBehavior is the model.</summary>
public enum BlockedNodeAction
{
    /// <summary>Uncordon the node and stop the rollout, naming what blocked it (the default).</summary>
    Stop,

    /// <summary>Leave the node cordoned and labelled (its pods keep running, nothing new lands there) with its replacement
    /// kept, go on with the other nodes, and end with an error that names it.</summary>
    Skip,
}

/// <summary>What Invoke-NodeReplacement (or Invoke-WinEksPatch for each group) was asked for, parsed and checked at the
/// cmdlet boundary.</summary>
public sealed record ReplacementOptions
{
    public RolloutLimit MaxSurge { get; init; } = new(1, false);

    public RolloutLimit MaxUnavailable { get; init; } = new(0, false);

    /// <summary>How long one node's drain may take.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How long new nodes may take to become usable.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromMinutes(40);

    /// <summary>How long a new node must have stayed Ready before it counts (-MinReadyTime; for user data that restarts a
    /// node after it joined). Zero by default: usability comes from the node's own signals, see NodeTracker.IsUsable.</summary>
    public TimeSpan MinReadyTime { get; init; } = TimeSpan.Zero;

    public DrainOverrides Overrides { get; init; } = DrainOverrides.None;

    public BlockedNodeAction BlockedNodeAction { get; init; } = BlockedNodeAction.Stop;

    public bool WhatIf { get; init; }

    /// <summary>Replace at most this many old nodes in this run (a fleet plan's canary): the rest keep their AMI, and the
    /// group is left whole (sizes, processes, no state tag); the next run replaces them. Null: every old node.</summary>
    public int? NodeLimit { get; init; }

    /// <summary>-PaceToFastLaunch: a launch waits until the target AMI's EC2 Fast Launch has a pre-provisioned snapshot for
    /// it (estimated: EC2 reports no ready count) rather than boot the standard way.</summary>
    public bool PaceToFastLaunch { get; init; }

    /// <summary>Whether the user gave any of the limits (managed groups warn that they do not apply).</summary>
    public bool LimitsGiven { get; init; }

    /// <summary>With WhatIf: plan for this AMI rather than the one the group's launch template names (Invoke-WinEksPatch
    /// -WhatIf plans before Set-NodeGroupAmi has run); <see cref="AmiToBeBuilt"/> when the AMI does not exist yet.</summary>
    public string? PlannedImageId { get; init; }

    /// <summary>With WhatIf and <see cref="AmiToBeBuilt"/>: the Fast Launch the AMI will have (-ImageSource Build -FastLaunch).</summary>
    public FastLaunchPreflight? PlannedFastLaunch { get; init; }

    /// <summary>The planned AMI of Invoke-WinEksPatch -ImageSource Build -WhatIf: every node is replaced by it.</summary>
    public const string AmiToBeBuilt = "(the AMI New-WinNodeAmi builds)";

    /// <summary>-OverridePodDisruptionBudget: also what starts an EKS managed update with force.</summary>
    public bool DeletesPodsBlockedByBudget => Overrides.HasFlag(DrainOverrides.DeletePodsBlockedByBudget);

    /// <summary>The AMI a rollout replaces nodes with: under WhatIf the planned one if given, else the group's.</summary>
    internal string? TargetOr(string? groupTarget) => WhatIf && PlannedImageId != null ? PlannedImageId : groupTarget;

    /// <summary>The target AMI as EC2 describes it; null when it does not exist (yet: <see cref="AmiToBeBuilt"/>).</summary>
    internal static async Task<Ec2Image?> DescribeTargetAsync(IEc2Api ec2, string target, CancellationToken cancellationToken) =>
        target == AmiToBeBuilt ? null : (await ec2.DescribeImagesAsync([target], cancellationToken).ConfigureAwait(false)).SingleOrDefault();
}
