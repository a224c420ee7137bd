namespace WinEksPatch.Model;

/// <summary>How one target of a fleet plan ended.</summary>
public enum FleetTargetResult
{
    /// <summary>Patched, and its health gates held through the soak.</summary>
    Succeeded,

    /// <summary>Its cycle failed or a gate failed (and no rollback was asked for, or it failed too).</summary>
    Failed,

    /// <summary>A gate or its cycle failed, and its groups were rolled back to the AMI they ran before.</summary>
    RolledBack,

    /// <summary>Not started: the plan stopped before it (or it is in a later wave).</summary>
    NotStarted,

    /// <summary>-WhatIf: planned, nothing changed.</summary>
    Planned,

    /// <summary>Its cycle was stopped (Ctrl+C, a stop of the run): its report says how far it got.</summary>
    Stopped,

    /// <summary>Succeeded in an earlier run of the same plan (the report resumed from): not run again.</summary>
    AlreadyDone,
}

/// <summary>
/// What a fleet plan did: per wave and per target, the result, when, the target's own patch report, and which gate
/// failed with what evidence. Written to -ReportPath after every target, so a stopped or killed run leaves it behind and
/// a new run resumes from it (-ResumeFrom): targets that succeeded are not patched twice.
/// </summary>
public sealed class WinEksFleetReport
{
    public required string PlanName { get; init; }

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Succeeded (every target did), Failed (a wave went over its MaxErrors; later waves never started),
    /// Stopped (Ctrl+C or a stop), Planned (-WhatIf).</summary>
    public string Result { get; set; } = "Running";

    /// <summary>Why the plan stopped, when it did.</summary>
    public string? Error { get; set; }

    public List<WinEksFleetWaveReport> Waves { get; init; } = [];

    /// <summary>Targets by result, e.g. Succeeded 4, NotStarted 2.</summary>
    public string Summary => string.Join(", ", Waves.SelectMany(w => w.Targets).GroupBy(t => t.Result).Select(g => $"{g.Key} {g.Count()}"));

    public override string ToString() => $"{PlanName}: {Result} ({Summary})";
}

/// <summary>One wave of a fleet report.</summary>
public sealed class WinEksFleetWaveReport
{
    public required string Name { get; init; }

    /// <summary>Succeeded, CompletedWithErrors (some targets failed, no more than MaxErrors), Failed (more did: the plan
    /// stopped), NotStarted, Planned, Stopped.</summary>
    public string Result { get; set; } = "NotStarted";

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>When the wave waited for its maintenance window, the time it waited until.</summary>
    public DateTimeOffset? WaitedForWindowUntil { get; set; }

    /// <summary>Targets of the wave that failed (its MaxErrors was the limit).</summary>
    public int Errors { get; set; }

    /// <summary>With the SsmAutomation engine: the wave's execution (SSM Automation's AutomationExecutionId), which a
    /// resumed run follows instead of starting another.</summary>
    public string? AutomationExecutionId { get; set; }

    /// <summary>With the SsmAutomation engine: the ClientToken the wave's StartAutomationExecution is sent with, written
    /// before it is sent, so a run killed before it learnt the execution's id sends the same start again and gets the
    /// same execution, not a second one.</summary>
    public string? AutomationClientToken { get; set; }

    public List<WinEksFleetTargetReport> Targets { get; init; } = [];
}

/// <summary>One target (a cluster in an account and region) of a fleet report.</summary>
public sealed class WinEksFleetTargetReport
{
    public string? ProfileName { get; init; }

    public required string Region { get; init; }

    public required string ClusterName { get; init; }

    /// <summary>A <see cref="FleetTargetResult"/> name (text, so ConvertTo-Json writes the name).</summary>
    public string Result { get; set; } = nameof(FleetTargetResult.NotStarted);

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>The end of the target's soak, when its gates held (or the time a gate failed).</summary>
    public DateTimeOffset? SoakedUntil { get; set; }

    /// <summary>The gate that failed (NodesReady, PodsReady, Restarts, PendingPods), when one did.</summary>
    public string? FailedGate { get; set; }

    /// <summary>What the failed gate saw: the nodes, pods or alarms and their state.</summary>
    public string? GateEvidence { get; set; }

    /// <summary>Why the target failed (its cycle's error, or the gate's).</summary>
    public string? Error { get; set; }

    /// <summary>With a canary: the cycle that replaced its one node (then soaked), before the target's whole cycle.</summary>
    public WinEksPatchReport? CanaryReport { get; set; }

    /// <summary>The target's patch cycle report (Invoke-WinEksPatch's), groups and API calls included.</summary>
    public WinEksPatchReport? Report { get; set; }

    /// <summary>The rollback's patch cycle reports (one per group rolled back), when the target was rolled back.</summary>
    public List<WinEksPatchReport> RollbackReports { get; init; } = [];

    public string Key => $"{ProfileName ?? "(default)"}/{Region}/{ClusterName}";

    public override string ToString() => $"{Key}: {Result}";
}
