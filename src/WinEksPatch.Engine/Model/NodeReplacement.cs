namespace WinEksPatch.Model;

/// <summary>How one old node's replacement ended.</summary>
public enum ReplacementOutcome
{
    /// <summary>Drained (every pod evicted and gone) and terminated; a node on the target AMI took its place.</summary>
    Replaced,

    /// <summary>Replaced, but pods a PodDisruptionBudget still blocked after the drain timeout were deleted instead of
    /// evicted (-OverridePodDisruptionBudget); PodsDeleted names them.</summary>
    ReplacedPodsDeleted,

    /// <summary>The drain timed out: the node was uncordoned and kept.</summary>
    DrainTimedOut,

    /// <summary>-BlockedNodeAction Skip: the drain could not finish, so the node was left cordoned and labelled
    /// winekspatch.io/drain-status=blocked, with its replacement kept; Blockers say why. A re-run drains it first.</summary>
    DrainBlocked,

    /// <summary>The step failed; the node was kept.</summary>
    Failed,

    /// <summary>Declined at the -Confirm prompt; the node was left as it was.</summary>
    Skipped,
}

/// <summary>One replaced node: output of <c>Invoke-NodeReplacement</c>, written as soon as the node is done.</summary>
public sealed class NodeReplacementResult
{
    public required string ClusterName { get; init; }

    public required string NodeGroupName { get; init; }

    public int Batch { get; init; }

    public string? OldNodeName { get; init; }

    public required string OldInstanceId { get; init; }

    public string? OldImageId { get; init; }

    public string? NewNodeName { get; internal set; }

    public string? NewInstanceId { get; internal set; }

    public string? NewImageId { get; internal set; }

    /// <summary>A <see cref="ReplacementOutcome"/> name: text, so ConvertTo-Json writes the name.</summary>
    public string Result => Outcome.ToString();

    /// <summary>The engine's typed view of <see cref="Result"/>.</summary>
    internal ReplacementOutcome Outcome { get; init; }

    public int PodsEvicted { get; init; }

    /// <summary>Pods deleted rather than evicted (only with -OverridePodDisruptionBudget, after the drain timeout).</summary>
    public IReadOnlyList<string> PodsDeleted { get; init => field = ItemList.From(value); } = new ItemList<string>();

    /// <summary>From the cordon to the last evicted pod gone; null for a managed group, whose drain EKS runs unseen.</summary>
    public TimeSpan? DrainDuration { get; init; }

    /// <summary>Pods and PodDisruptionBudgets that held the drain up, and for how long.</summary>
    public IReadOnlyList<string> Blockers { get; init => field = ItemList.From(value); } = new ItemList<string>();

    /// <summary>How the new node came into service, phase by phase (null for a managed group, whose nodes EKS launches unseen).</summary>
    public NodeBoot? Boot { get; internal set; }

    public override string ToString() => $"{OldInstanceId} -> {NewInstanceId} ({Result})";
}

/// <summary>Something the pre-flight found that will shape the rollout, and what it will do.</summary>
public sealed record PreflightFinding(string Kind, string Subject, string Effect)
{
    /// <summary>How a list view and a -join print it: "SingleReplica: shop/payments: …".</summary>
    public override string ToString() => $"{Kind}: {Subject}: {Effect}";
}

/// <summary>The plan of a rollout: what <c>Invoke-NodeReplacement -WhatIf</c> shows; re-validated before each step.</summary>
public sealed class NodeReplacementPlan
{
    public required string ClusterName { get; init; }

    public required string NodeGroupName { get; init; }

    /// <summary>Managed or SelfManaged: a <see cref="NodeGroupKind"/> name, kept as text so ConvertTo-Json writes the name.</summary>
    public required string Kind { get; init; }

    public required string TargetImageId { get; init; }

    public int DesiredSize { get; init; }

    public int MaxSurge { get; init; }

    public int MaxUnavailable { get; init; }

    /// <summary>Ready, schedulable nodes the group never goes below: desired − MaxUnavailable.</summary>
    public int CapacityFloor { get; init; }

    /// <summary>How many old nodes are in progress at once (MaxSurge + MaxUnavailable, at least 1; for a managed group,
    /// EKS's maxUnavailable): a sliding window, not batches. The next node is cordoned as soon as one in progress is
    /// terminated and the floor still holds.</summary>
    public int Window { get; init; }

    /// <summary>The old instances (not on the target AMI) in the order the rollout takes them, each with why it comes
    /// there and which earlier step must end before it starts.</summary>
    public IReadOnlyList<ReplacementStep> Steps { get; init => field = ItemList.From(value); } = new ItemList<ReplacementStep>();

    public int NodesToReplace => Steps.Count;

    public IReadOnlyList<PreflightFinding> Preflight { get; init => field = ItemList.From(value); } = new ItemList<PreflightFinding>();

    /// <summary>From the group's observed boot and drain times (boots from EC2 Fast Launch snapshots counted faster).</summary>
    public TimeSpan EstimatedDuration { get; init; }

    /// <summary>Pre-provisioned snapshots of the target AMI (EC2 Fast Launch enabled) estimated on hand now, to compare with
    /// <see cref="Window"/> and <see cref="NodesToReplace"/>: the rounds EC2 can have finished since the state changed, up
    /// to its target (EC2 reports no ready count); null when the AMI has no Fast Launch.</summary>
    public int? FastLaunchSnapshots { get; init; }

    /// <summary>-PaceToFastLaunch with a target AMI whose launches can take pre-provisioned snapshots: a launch waits until
    /// the estimate has a snapshot for it rather than boot the standard way; <see cref="EstimatedDuration"/> counts the wait.
    /// False when not asked for, or when there is nothing to pace against (no Fast Launch, or not enabled).</summary>
    public bool PacedToFastLaunch { get; init; }

    /// <summary>True when a previous run of the same rollout was found (tags on the Auto Scaling group) and continues.</summary>
    public bool Resuming { get; init; }

    public override string ToString() =>
        $"{ClusterName}/{NodeGroupName}: {NodesToReplace} node(s) to {TargetImageId}, {Window} at a time, floor {CapacityFloor}, ~{EstimatedDuration:hh\\:mm}";
}

/// <summary>One old node's place in a rollout's plan.</summary>
public sealed record ReplacementStep(int Step, string InstanceId, string? NodeName, string Reason, int? AfterStep)
{
    public override string ToString() =>
        $"{Step}. {InstanceId}{(NodeName == null ? "" : $" ({NodeName})")}: {Reason}" + (AfterStep is { } after ? $"; starts once step {after} is done and the floor holds" : "; in the first window");
}
