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

    /// <summary>Managed or SelfManaged: a <see cref="NodeGroupKind"/> name, kept as text so ConvertTo-Json writes the name.</summary>
    public required string Kind { get; init; }

    /// <summary>A <see cref="GroupPatchResult"/> name: text, so ConvertTo-Json writes the name.</summary>
    public string Result => Outcome.ToString();

    /// <summary>The engine's typed view of <see cref="Result"/>.</summary>
    internal GroupPatchResult Outcome { get; set; }

    /// <summary>The AMI every node of the group ran before the cycle (null when they ran different ones).</summary>
    public string? BeforeImageId { get; init; }

    /// <summary>The oldest OS build the group's nodes reported before the cycle.</summary>
    public string? BeforeOsBuild { get; init; }

    /// <summary>The AMI the cycle patched (or, under -WhatIf, would patch) the group to; null for one still to be built.</summary>
    public string? TargetImageId { get; set; }

    /// <summary>The OS build of <see cref="TargetImageId"/>.</summary>
    public string? TargetOsBuild { get; set; }

    /// <summary>Monthly patches between the group's oldest node and the target AMI.</summary>
    public int? MonthsBehind { get; set; }

    /// <summary>The AMI every node of the group runs after the cycle, read from the nodes again (null when they run
    /// different AMIs, and under -WhatIf).</summary>
    public string? AfterImageId { get; set; }

    /// <summary>The oldest OS build the group's nodes report after the cycle (null under -WhatIf).</summary>
    public string? AfterOsBuild { get; set; }

    /// <summary>Nodes of the group after the cycle, and how many of them run <see cref="TargetImageId"/>.</summary>
    public int? NodeCount { get; set; }

    /// <summary>Of <see cref="NodeCount"/>, the nodes on the target AMI.</summary>
    public int? NodesOnTarget { get; set; }

    public int NodesReplaced { get; set; }

    public TimeSpan Duration { get; set; }

    /// <summary>Pods and PodDisruptionBudgets that held drains up.</summary>
    public ItemList<string> Blockers { get; } = [];

    /// <summary>Pods deleted instead of evicted because a budget still blocked them after the drain timeout (only with
    /// -OverridePodDisruptionBudget).</summary>
    public ItemList<string> PodsDeleted { get; } = [];

    public string? Error { get; set; }

    public ItemList<NodeReplacementResult> Nodes { get; } = [];

    /// <summary>The new nodes' boot phases summed up: the mean of each and the slowest; null when no node's boot was read.</summary>
    public NodeBootSummary? Boot => NodeBootSummary.Of([.. Nodes.Select(n => n.Boot).OfType<NodeBoot>()]);

    /// <summary>The AWS and Kubernetes calls this group's part made (groups run one after another, so each call is one group's).</summary>
    public IReadOnlyList<ApiCallCount> ApiCalls { get; set => field = ItemList.From(value); } = new ItemList<ApiCallCount>();

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

    /// <summary>The region the cycle ran in (null when it stopped before it could read the cluster).</summary>
    public string? Region { get; set; }

    public required string ImageSource { get; init; }

    /// <summary>Times on the module's clock (the simulator's virtual clock when connected to one).</summary>
    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset FinishedAt { get; set; }

    public TimeSpan Duration => FinishedAt - StartedAt;

    /// <summary>At least one group, and every group Patched, UpToDate or Planned. A group declined at the confirmation prompt
    /// (NotAttempted) makes it false without being an error; a Failed group, or a check that failed before any change
    /// (<see cref="Error"/>), is also a terminating error (PatchCycleFailed).</summary>
    public bool Succeeded => Error == null && Groups.Count > 0
        && Groups.All(g => g.Outcome is GroupPatchResult.Patched or GroupPatchResult.UpToDate or GroupPatchResult.Planned);

    /// <summary>What ended the cycle when it did not succeed: "ErrorId: message" of the failed group or of the check before
    /// the first change that failed (a node group that does not exist, a cluster without Windows groups).</summary>
    public string? Error { get; set; }

    public ItemList<WinEksPatchGroupReport> Groups { get; } = [];

    public int NodesReplaced => Groups.Sum(g => g.NodesReplaced);

    /// <summary>Every call of the run: the groups' and the assessment before them.</summary>
    public IReadOnlyList<ApiCallCount> ApiCalls { get; set => field = ItemList.From(value); } = new ItemList<ApiCallCount>();

    public override string ToString() => $"{ClusterName}: {(Succeeded ? "succeeded" : "failed")}, {NodesReplaced} node(s) replaced in {Duration}";
}
