namespace WinEksPatch.Abstractions;

/// <summary>The SSM Automation operations the fleet engine uses: start a multi-account, multi-Region execution and read
/// it, each of its locations with its child execution's steps.</summary>
public interface ISsmAutomationApi
{
    /// <summary>StartAutomationExecution with one TargetLocation; returns the execution id.</summary>
    Task<string> StartAsync(AutomationStart start, CancellationToken cancellationToken = default);

    /// <summary>GetAutomationExecution of the parent, and of each location's child.</summary>
    Task<AutomationProgress> GetAsync(string executionId, CancellationToken cancellationToken = default);
}

/// <summary>What StartAutomationExecution is given: the document and its parameters, the accounts and Regions
/// (TargetLocations) with their rate control, the central account's alarm that stops the execution, and the idempotency
/// token that makes a second start of the same request return the first's execution.</summary>
public sealed record AutomationStart(
    string DocumentName,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Parameters,
    IReadOnlyList<string> Accounts,
    IReadOnlyList<string> Regions,
    string MaxConcurrency,
    string MaxErrors,
    string? ExecutionRoleName,
    string? StopAlarmName,
    string? ClientToken = null)
{
    /// <summary>The request as the AWS CLI would take it, for -WhatIf and messages.</summary>
    public override string ToString() =>
        $"StartAutomationExecution {DocumentName}: TargetLocations Accounts {string.Join(",", Accounts)} Regions {string.Join(",", Regions)} " +
        $"(TargetLocationMaxConcurrency {MaxConcurrency}, TargetLocationMaxErrors {MaxErrors}{(ExecutionRoleName is null ? "" : $", ExecutionRoleName {ExecutionRoleName}")})" +
        (StopAlarmName is null ? "" : $", AlarmConfiguration {StopAlarmName}") + "; Parameters " +
        string.Join("; ", Parameters.Select(p => $"{p.Key}={string.Join(",", p.Value)}"));
}

/// <summary>An execution as GetAutomationExecution describes it.</summary>
public sealed record AutomationProgress(string ExecutionId, string Status, string? FailureMessage, IReadOnlyList<string> TriggeredAlarms,
    IReadOnlyList<AutomationLocationProgress> Locations)
{
    public bool IsFinished => Status is "Success" or "Failed" or "Cancelled" or "TimedOut" or "CompletedWithSuccess" or "CompletedWithFailure"
        or "Exited" or "Rejected" or "ChangeCalendarOverrideRejected";
}

/// <summary>One account and Region of an execution: its child execution's status and steps.</summary>
public sealed record AutomationLocationProgress(string Account, string Region, string Status, string? ChildExecutionId, string? FailureMessage,
    IReadOnlyList<AutomationStepProgress> Steps);

public sealed record AutomationStepProgress(string Name, string Status, string? FailureMessage, IReadOnlyDictionary<string, IReadOnlyList<string>> Outputs);
