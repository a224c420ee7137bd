using System.Text.Json.Nodes;

namespace WinEksPatch.Simulator.Automation;

/// <summary>
/// One Automation execution in one account and region, as GetAutomationExecution describes it. A multi-account,
/// multi-Region execution (TargetLocations) is a parent whose steps each run a child execution in one target account and
/// Region (<see cref="ParentAutomationExecutionId"/>). Changed under its world's lock.
/// </summary>
public sealed class AutomationExecution
{
    /// <summary>The statuses after which nothing changes.</summary>
    public static readonly string[] Finished = ["Success", "Failed", "TimedOut", "Cancelled"];

    public required string AutomationExecutionId { get; init; }
    public required SsmDocument Document { get; init; }
    public required string AccountId { get; init; }
    public required string Region { get; init; }
    public string Status { get; set; } = "Pending";
    public string Mode { get; init; } = "Auto";
    public string ExecutedBy { get; init; } = "";
    public DateTimeOffset ExecutionStartTime { get; init; }
    public DateTimeOffset? ExecutionEndTime { get; set; }
    public Dictionary<string, List<string>> Parameters { get; init; } = new(StringComparer.Ordinal);
    public Dictionary<string, List<string>> Outputs { get; } = new(StringComparer.Ordinal);
    public List<StepExecution> StepExecutions { get; } = [];
    public string? FailureMessage { get; set; }
    public string? CurrentStepName { get; set; }
    public string? CurrentAction { get; set; }
    public string? ParentAutomationExecutionId { get; init; }

    /// <summary>The TargetLocations the execution was started with, as sent (a parent); or its one location (a child).</summary>
    public JsonArray? TargetLocations { get; init; }

    /// <summary>CrossAccount for a parent of TargetLocations, Local otherwise.</summary>
    public string AutomationType => TargetLocations is not null && ParentAutomationExecutionId is null ? "CrossAccount" : "Local";

    /// <summary>The alarm that stops it (AlarmConfiguration, or the TargetLocationAlarmConfiguration of a child's location).</summary>
    public string? AlarmName { get; init; }
    public bool IgnorePollAlarmFailure { get; init; }
    public List<(string Name, string State)> TriggeredAlarms { get; } = [];

    /// <summary>While an aws:approve step waits: who may approve (IAM user or role names or ARNs).</summary>
    public List<string>? Approvers { get; set; }

    /// <summary>Approve or Reject signals waiting for the current aws:approve step (the runner takes them).</summary>
    public List<(string Signal, string Approver, string? Comment)> Signals { get; } = [];

    /// <summary>Cancelled by StopAutomationExecution, an alarm, or the simulator stopping.</summary>
    public CancellationTokenSource Stop { get; } = new();

    /// <summary>Wakes the runner when a signal arrives.</summary>
    public SemaphoreSlim SignalArrived { get; } = new(0);

    public bool IsFinished => Finished.Contains(Status);
}

/// <summary>One step of an execution (DescribeAutomationStepExecutions' StepExecution).</summary>
public sealed class StepExecution
{
    public required string StepName { get; init; }
    public required string Action { get; init; }
    public string StepExecutionId { get; } = Guid.NewGuid().ToString();
    public string StepStatus { get; set; } = "Pending";
    public DateTimeOffset? ExecutionStartTime { get; set; }
    public DateTimeOffset? ExecutionEndTime { get; set; }
    public long? TimeoutSeconds { get; init; }
    public string OnFailure { get; init; } = "Abort";
    public int MaxAttempts { get; init; } = 1;
    public bool IsEnd { get; init; }
    public string? NextStep { get; set; }
    public Dictionary<string, string> Inputs { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, List<string>> Outputs { get; } = new(StringComparer.Ordinal);
    public string? Response { get; set; }
    public string? FailureMessage { get; set; }
    public string? FailureType { get; set; }

    /// <summary>A parent's step: the account and Region of the child it runs.</summary>
    public (string Account, string Region)? TargetLocation { get; init; }
}
