using System.Globalization;
using System.Text.Json.Nodes;
using System.Xml;
using WinEksPatch.Simulator.Accounts;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Automation;

/// <summary>A step that failed, with the message SSM records for it.</summary>
public sealed class StepFailedException(string message, string failureType = "Verification") : Exception(message)
{
    public string FailureType { get; } = failureType;
}

/// <summary>
/// Runs the steps of one (local) execution in order: aws:branch, aws:sleep (on the simulated clock), aws:approve (waits for
/// SendAutomationSignal; its timeout on the simulated clock) and aws:executeScript (PowerShell, in a process of its own;
/// its timeout in wall-clock seconds, the time the script itself sees). Each step's onFailure (Abort, Continue, step:Name),
/// nextStep and isEnd are honoured; outputs are picked by their selectors. State changes are made under the world's lock.
/// </summary>
internal sealed class AutomationRunner(AutomationEngine engine, SimWorld world, SimAccount account, AutomationExecution execution)
{
    private readonly AutomationVariables _variables = new(execution, () => world.Scheduler.Now);

    public async Task RunAsync()
    {
        CancellationToken stop = execution.Stop.Token;
        var steps = execution.Document.Steps.OfType<JsonObject>().ToList();
        try
        {
            int index = 0;
            while (index >= 0 && index < steps.Count)
            {
                stop.ThrowIfCancellationRequested();
                index = await RunStepAsync(steps, index, stop).ConfigureAwait(false);
            }

            Locked(() =>
            {
                foreach (string output in (execution.Document.Root["outputs"] as JsonArray ?? []).Select(SsmDocument.Text).OfType<string>())
                {
                    int dot = output.IndexOf('.', StringComparison.Ordinal);
                    if (dot > 0 && execution.StepExecutions.LastOrDefault(s => s.StepName == output[..dot])?.Outputs.GetValueOrDefault(output[(dot + 1)..]) is { } value)
                    {
                        execution.Outputs[output] = value;
                    }
                }

                Finish("Success", null);
            });
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Locked(() =>
            {
                if (execution.StepExecutions.LastOrDefault() is { ExecutionEndTime: null } current)
                {
                    current.StepStatus = "Cancelled";
                    current.ExecutionEndTime = world.Scheduler.Now;
                }

                Finish("Cancelled", execution.FailureMessage);
            });
        }
        catch (StepFailedException e)
        {
            Locked(() => Finish(e.FailureType == "Timeout" ? "TimedOut" : "Failed", e.Message));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Not the document's doing (a script that could not be started, a file that could not be copied): the step and
            // the execution fail saying so, rather than stay InProgress for ever.
            Locked(() =>
            {
                if (execution.StepExecutions.LastOrDefault() is { ExecutionEndTime: null } current)
                {
                    current.StepStatus = "Failed";
                    current.FailureMessage = "The simulator could not run the step: " + e.Message;
                    current.ExecutionEndTime = world.Scheduler.Now;
                }

                Finish("Failed", "The simulator could not run the execution: " + e.Message);
            });
        }
    }

    /// <summary>Runs the step at <paramref name="index"/>; returns the index of the next step (-1: the end).</summary>
    private async Task<int> RunStepAsync(List<JsonObject> steps, int index, CancellationToken stop)
    {
        JsonObject step = steps[index];
        string name = SsmDocument.Text(step["name"])!;
        string action = SsmDocument.Text(step["action"])!;
        var record = new StepExecution
        {
            StepName = name,
            Action = action,
            TimeoutSeconds = long.TryParse(SsmDocument.Text(step["timeoutSeconds"]), out long t) ? t : null,
            OnFailure = SsmDocument.Text(step["onFailure"]) ?? "Abort",
            MaxAttempts = int.TryParse(SsmDocument.Text(step["maxAttempts"]), out int m) && m > 0 ? m : 1,
            IsEnd = SsmDocument.Text(step["isEnd"]) == "true",
            NextStep = SsmDocument.Text(step["nextStep"]),
        };
        JsonObject inputs = [];
        Locked(() =>
        {
            execution.StepExecutions.Add(record);
            if (execution.Status is "Pending" or "Waiting")
            {
                execution.Status = "InProgress"; // never over a Cancelling that StopAutomationExecution set
            }

            execution.CurrentStepName = name;
            execution.CurrentAction = action;
            record.StepStatus = "InProgress";
            record.ExecutionStartTime = world.Scheduler.Now;
        });

        string? next = record.NextStep;
        bool failed = false;
        try
        {
            inputs = Locked(() => _variables.Fill(step["inputs"] ?? new JsonObject()) as JsonObject ?? []);
            Locked(() =>
            {
                foreach ((string key, JsonNode? value) in inputs)
                {
                    record.Inputs[key] = value is JsonValue v ? JsonValueText(v) : value?.ToJsonString() ?? "";
                }
            });
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    next = await RunActionAsync(action, step, inputs, record, stop).ConfigureAwait(false) ?? next;
                    break;
                }
                catch (StepFailedException) when (attempt < record.MaxAttempts && !stop.IsCancellationRequested)
                {
                }
            }

            Locked(() =>
            {
                record.StepStatus = "Success";
                record.ExecutionEndTime = world.Scheduler.Now;
            });
        }
        catch (Exception e) when (e is StepFailedException or AutomationVariableException)
        {
            var failure = e as StepFailedException ?? new StepFailedException(e.Message);
            Locked(() =>
            {
                record.StepStatus = failure.FailureType == "Timeout" ? "TimedOut" : "Failed";
                record.FailureMessage = failure.Message;
                record.FailureType = failure.FailureType;
                record.ExecutionEndTime = world.Scheduler.Now;
            });
            failed = true;
            if (record.OnFailure == "Continue")
            {
                next = record.NextStep;
            }
            else if (record.OnFailure.StartsWith("step:", StringComparison.Ordinal))
            {
                next = record.OnFailure[5..];
            }
            else
            {
                throw new StepFailedException($"Step {name} failed: {failure.Message}", failure.FailureType);
            }
        }

        // isEnd ends the execution after the step succeeded; a failure goes where onFailure says.
        return record.IsEnd && !failed ? -1 : next is null ? index + 1 : steps.FindIndex(s => SsmDocument.Text(s["name"]) == next);
    }

    /// <summary>Runs one action; returns the step to go to when the action chooses (aws:branch).</summary>
    private async Task<string?> RunActionAsync(string action, JsonObject step, JsonObject inputs, StepExecution record, CancellationToken stop)
    {
        switch (action)
        {
            case "aws:branch":
                return Branch.Choose(inputs) ?? throw new StepFailedException("No choice matched and the step has no Default.");

            case "aws:sleep":
                await SleepAsync(inputs, stop).ConfigureAwait(false);
                return null;

            case "aws:approve":
                await ApprovalAsync(inputs, record, stop).ConfigureAwait(false);
                return null;

            default:
                TimeSpan timeout = TimeSpan.FromSeconds(record.TimeoutSeconds ?? 600);
                string? attachment = SsmDocument.Text(inputs["Attachment"]);
                string? attachmentPath = attachment is null ? null
                    : execution.Document.Attachments.GetValueOrDefault(attachment) ?? throw new StepFailedException($"The document has no attachment named {attachment}.");
                JsonNode? payload = await ScriptRunner.RunAsync(engine, world, account, SsmDocument.Text(inputs["Runtime"]) ?? "", SsmDocument.Text(inputs["Script"]) ?? "",
                    inputs["InputPayload"] ?? new JsonObject(), attachment, attachmentPath, timeout, stop).ConfigureAwait(false);
                var response = new JsonObject { ["Payload"] = payload?.DeepClone() };
                Locked(() =>
                {
                    record.Outputs["OutputPayload"] = [response.ToJsonString()];
                    foreach (JsonObject output in (step["outputs"] as JsonArray ?? []).OfType<JsonObject>())
                    {
                        if (SsmDocument.Text(output["Name"]) is { } outputName && SsmDocument.Text(output["Selector"]) is { } selector)
                        {
                            record.Outputs[outputName] = AutomationVariables.AsStrings(AutomationVariables.Select(response, selector));
                        }
                    }
                });
                return null;
        }
    }

    private async Task SleepAsync(JsonObject inputs, CancellationToken stop)
    {
        TimeSpan delay;
        if (SsmDocument.Text(inputs["Duration"]) is { } duration)
        {
            try
            {
                delay = XmlConvert.ToTimeSpan(duration);
            }
            catch (FormatException)
            {
                throw new StepFailedException($"Duration '{duration}' is not an ISO 8601 duration (PT10M).", "InputValidation");
            }
        }
        else if (SsmDocument.Text(inputs["Timestamp"]) is { } timestamp
            && DateTimeOffset.TryParse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset until))
        {
            delay = until - world.Scheduler.Now;
        }
        else
        {
            throw new StepFailedException("aws:sleep takes Duration (PT10M) or Timestamp (ISO 8601).", "InputValidation");
        }

        if (delay > TimeSpan.FromDays(7))
        {
            throw new StepFailedException("aws:sleep sleeps at most 7 days.", "InputValidation");
        }

        await engine.DelayAsync(world, delay, stop).ConfigureAwait(false);
    }

    /// <summary>Waits for MinRequiredApprovals Approve signals from the approvers; one Reject fails the step. The execution
    /// is Waiting meanwhile.</summary>
    private async Task ApprovalAsync(JsonObject inputs, StepExecution record, CancellationToken stop)
    {
        List<string> approvers = AutomationVariables.AsStrings(inputs["Approvers"]).Where(a => a.Trim().Length > 0).ToList();
        int needed = int.TryParse(SsmDocument.Text(inputs["MinRequiredApprovals"]), out int n) && n > 0 ? n : 1;
        if (approvers.Count == 0)
        {
            throw new StepFailedException("aws:approve needs at least one approver.", "InputValidation");
        }

        TimeSpan timeout = TimeSpan.FromSeconds(record.TimeoutSeconds ?? 7 * 24 * 3600);
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(stop);
        using var timedOut = CancellationTokenSource.CreateLinkedTokenSource(stop);
        Task due = engine.DelayAsync(world, timeout, timer.Token);
        Task waitingForTimeout = due.ContinueWith(t =>
        {
            if (t.IsCompletedSuccessfully)
            {
                timedOut.Cancel();
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        Locked(() =>
        {
            execution.Status = "Waiting";
            record.StepStatus = "Waiting";
            execution.Signals.Clear();
            execution.Approvers = approvers;
        });
        var approvedBy = new List<string>();
        try
        {
            while (approvedBy.Count < needed)
            {
                await execution.SignalArrived.WaitAsync(timedOut.Token).ConfigureAwait(false);
                (string Signal, string Approver, string? Comment)[] signals = Locked(() =>
                {
                    var taken = execution.Signals.ToArray();
                    execution.Signals.Clear();
                    return taken;
                });
                foreach ((string signal, string approver, string? comment) in signals)
                {
                    Locked(() => record.Outputs["ApproverDecisions"] = [.. record.Outputs.GetValueOrDefault("ApproverDecisions") ?? [],
                        new JsonObject { ["Approver"] = approver, ["Decision"] = signal, ["Comment"] = comment }.ToJsonString()]);
                    if (signal == "Reject")
                    {
                        Locked(() => record.Outputs["ApprovalStatus"] = ["Rejected"]);
                        throw new StepFailedException($"The approval was rejected by {approver}{(comment is null ? "" : $": {comment}")}.");
                    }

                    if (!approvedBy.Contains(approver))
                    {
                        approvedBy.Add(approver);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            throw new StepFailedException($"No decision within {timeout.TotalSeconds:0} seconds.", "Timeout");
        }
        finally
        {
            // The timer goes first, and its continuation has run before the token sources are disposed.
            await timer.CancelAsync().ConfigureAwait(false);
            await waitingForTimeout.ConfigureAwait(false);
            Locked(() =>
            {
                execution.Approvers = null;
                if (execution.Status == "Waiting")
                {
                    execution.Status = "InProgress";
                }
            });
        }

        Locked(() => record.Outputs["ApprovalStatus"] = ["Approved"]);
    }

    private void Finish(string status, string? failure)
    {
        execution.Status = status;
        execution.FailureMessage = failure;
        execution.ExecutionEndTime = world.Scheduler.Now;
        execution.CurrentStepName = null;
        execution.CurrentAction = null;
        engine.Finished(execution);
    }

    private static string JsonValueText(JsonValue value) => SsmDocument.Text(value) ?? value.ToJsonString();

    private void Locked(Action action)
    {
        lock (world.Gate)
        {
            action();
        }
    }

    private T Locked<T>(Func<T> func)
    {
        lock (world.Gate)
        {
            return func();
        }
    }
}
