using WinEksPatch.Diagnostics;

namespace WinEksPatch.Model;

/// <summary>How one node group's part of a patch cycle ended.</summary>
public enum GroupPatchResult
{
    /// <summary>Its nodes run the target AMI now.</summary>
    Patched,

    /// <summary>It already ran the target AMI: nothing to do.</summary>
    UpToDate,

    /// <summary>Not attempted: an earlier group failed, or the change was declined at the confirmation prompt.</summary>
    NotAttempted,

    /// <summary>-WhatIf: planned (the plan was written), nothing changed.</summary>
    Planned,

    Failed,
}

/// <summary>One node group in a patch cycle.</summary>
public sealed class WinEksPatchGroupReport
{
    public required string NodeGroupName { get; init; }

    public NodeGroupKind Kind { get; init; }

    public GroupPatchResult Result { get; set; }

    public string? BeforeImageId { get; init; }

    public string? BeforeOsBuild { get; init; }

    /// <summary>Monthly patches between the group's oldest node and the target AMI.</summary>
    public int? MonthsBehind { get; set; }

    public string? AfterImageId { get; set; }

    public string? AfterOsBuild { get; set; }

    public int NodesReplaced { get; set; }

    public TimeSpan Duration { get; set; }

    /// <summary>Pods and PodDisruptionBudgets that held drains up.</summary>
    public List<string> Blockers { get; } = [];

    /// <summary>Pods deleted instead of evicted because a budget still blocked them after the drain timeout (only with
    /// -OverridePodDisruptionBudget).</summary>
    public List<string> PodsDeleted { get; } = [];

    public string? Error { get; set; }

    public List<NodeReplacementResult> Nodes { get; } = [];

    /// <summary>The AWS and Kubernetes calls this group's part made (groups run one after another, so each call is one group's).</summary>
    public IReadOnlyList<ApiCallCount> ApiCalls { get; set; } = [];

    public override string ToString() =>
        $"{NodeGroupName}: {Result}" + (NodesReplaced > 0 ? $", {NodesReplaced} node(s) replaced" : "")
        + (AfterOsBuild != null && AfterOsBuild != BeforeOsBuild ? $", {BeforeOsBuild} -> {AfterOsBuild}" : "")
        + (Blockers.Count > 0 ? $", {Blockers.Count} blocker(s)" : "")
        + (PodsDeleted.Count > 0 ? $", {PodsDeleted.Count} pod(s) deleted" : "");
}

/// <summary>What Invoke-WinEksPatch did: per group before/after AMI and OS build, nodes replaced, durations, blockers met
/// and the API calls it made. Written as JSON with -ReportPath.</summary>
public sealed class WinEksPatchReport
{
    public required string ClusterName { get; init; }

    public required string Region { get; init; }

    public required string ImageSource { get; init; }

    /// <summary>Times on the module's clock (the simulator's virtual clock when connected to one).</summary>
    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset FinishedAt { get; set; }

    public TimeSpan Duration => FinishedAt - StartedAt;

    /// <summary>Every group Patched, UpToDate or Planned. A group declined at the confirmation prompt (NotAttempted) makes
    /// it false without being an error; a Failed group is also a terminating error (PatchCycleFailed).</summary>
    public bool Succeeded => Groups.All(g => g.Result is GroupPatchResult.Patched or GroupPatchResult.UpToDate or GroupPatchResult.Planned);

    public List<WinEksPatchGroupReport> Groups { get; } = [];

    public int NodesReplaced => Groups.Sum(g => g.NodesReplaced);

    /// <summary>Every call of the run: the groups' and the assessment before them.</summary>
    public IReadOnlyList<ApiCallCount> ApiCalls { get; set; } = [];

    public override string ToString() => $"{ClusterName}: {(Succeeded ? "succeeded" : "failed")}, {NodesReplaced} node(s) replaced in {Duration}";
}
