using System.Text.Json.Nodes;
using WinEksPatch.Simulator.Aws.Protocols;

namespace WinEksPatch.Simulator.Automation;

/// <summary>The SSM API's shapes of an execution (AutomationExecution, AutomationExecutionMetadata) and a step
/// (StepExecution). Called with the execution's world's lock held.</summary>
internal static class AutomationJson
{
    public static JsonObject Execution(AutomationExecution e, bool includeSteps)
    {
        var o = new JsonObject
        {
            ["AutomationExecutionId"] = e.AutomationExecutionId,
            ["DocumentName"] = e.Document.Name,
            ["DocumentVersion"] = e.Document.DocumentVersion,
            ["AutomationExecutionStatus"] = e.Status,
            ["ExecutionStartTime"] = JsonProtocol.Time(e.ExecutionStartTime),
            ["ExecutedBy"] = e.ExecutedBy,
            ["Mode"] = e.Mode,
            ["Outputs"] = Map(e.Outputs),
        };
        Optional(o, "ExecutionEndTime", e.ExecutionEndTime is { } end ? JsonProtocol.Time(end) : null);
        Optional(o, "FailureMessage", e.FailureMessage);
        Optional(o, "CurrentStepName", e.CurrentStepName);
        Optional(o, "CurrentAction", e.CurrentAction);
        Optional(o, "ParentAutomationExecutionId", e.ParentAutomationExecutionId);
        Optional(o, "TargetLocations", e.TargetLocations?.DeepClone());
        if (e.AlarmName is { } alarm)
        {
            o["AlarmConfiguration"] = new JsonObject { ["Alarms"] = new JsonArray(new JsonObject { ["Name"] = alarm }), ["IgnorePollAlarmFailure"] = e.IgnorePollAlarmFailure };
        }

        if (e.TriggeredAlarms.Count > 0)
        {
            o["TriggeredAlarms"] = new JsonArray([.. e.TriggeredAlarms.Select(a => (JsonNode)new JsonObject { ["Name"] = a.Name, ["State"] = a.State })]);
        }

        if (!includeSteps)
        {
            o["AutomationType"] = e.AutomationType; // AutomationExecutionMetadata only
        }
        else
        {
            o["Parameters"] = Map(e.Parameters);
            o["StepExecutions"] = new JsonArray([.. e.StepExecutions.Select(Step)]);
            o["StepExecutionsTruncated"] = false;
            o["ProgressCounters"] = new JsonObject
            {
                ["TotalSteps"] = e.StepExecutions.Count,
                ["SuccessSteps"] = e.StepExecutions.Count(s => s.StepStatus == "Success"),
                ["FailedSteps"] = e.StepExecutions.Count(s => s.StepStatus == "Failed"),
                ["CancelledSteps"] = e.StepExecutions.Count(s => s.StepStatus == "Cancelled"),
                ["TimedOutSteps"] = e.StepExecutions.Count(s => s.StepStatus == "TimedOut"),
            };
        }

        return o;
    }

    public static JsonObject Step(StepExecution s)
    {
        var o = new JsonObject
        {
            ["StepName"] = s.StepName,
            ["Action"] = s.Action,
            ["StepExecutionId"] = s.StepExecutionId,
            ["StepStatus"] = s.StepStatus,
            ["OnFailure"] = s.OnFailure,
            ["MaxAttempts"] = s.MaxAttempts,
            ["IsEnd"] = s.IsEnd,
            ["Inputs"] = new JsonObject([.. s.Inputs.Select(i => KeyValuePair.Create(i.Key, (JsonNode?)JsonValue.Create(i.Value)))]),
            ["Outputs"] = Map(s.Outputs),
        };
        Optional(o, "TimeoutSeconds", s.TimeoutSeconds is long t ? JsonValue.Create(t) : null);
        Optional(o, "ExecutionStartTime", s.ExecutionStartTime is { } start ? JsonProtocol.Time(start) : null);
        Optional(o, "ExecutionEndTime", s.ExecutionEndTime is { } end ? JsonProtocol.Time(end) : null);
        Optional(o, "NextStep", s.NextStep);
        Optional(o, "Response", s.Response);
        if (s.FailureMessage is { } failure)
        {
            o["FailureMessage"] = failure;
            o["FailureDetails"] = new JsonObject { ["FailureStage"] = "Execution", ["FailureType"] = s.FailureType ?? "Verification" };
        }

        if (s.TargetLocation is { } location)
        {
            o["TargetLocation"] = new JsonObject { ["Accounts"] = new JsonArray(location.Account), ["Regions"] = new JsonArray(location.Region) };
        }

        return o;
    }

    private static JsonObject Map(Dictionary<string, List<string>> values) =>
        new([.. values.Select(v => KeyValuePair.Create(v.Key, (JsonNode?)new JsonArray([.. v.Value.Select(x => (JsonNode?)JsonValue.Create(x))])))]);

    private static void Optional(JsonObject o, string name, JsonNode? value)
    {
        if (value is not null)
        {
            o[name] = value;
        }
    }

    private static void Optional(JsonObject o, string name, string? value)
    {
        if (value is not null)
        {
            o[name] = value;
        }
    }
}
