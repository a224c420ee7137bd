using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using WinEksPatch.Simulator.Accounts;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Automation;

/// <summary>One location of a multi-account, multi-Region execution and the rate control of its TargetLocation.</summary>
public sealed record AutomationLocation(SimAccount Account, string Region, int EntryIndex);

/// <summary>
/// SSM Automation for every account and Region of the simulator: starts executions and runs them in the background
/// (<see cref="AutomationRunner"/>), a multi-account, multi-Region one as a parent that runs one child execution per
/// account and Region of its TargetLocations (TargetLocationMaxConcurrency at once, no new one past
/// TargetLocationMaxErrors), and stops an execution whose CloudWatch alarm goes into ALARM, cancelling its running
/// children and starting no other. The documents that <see cref="Register"/> is given exist in every world, as after a
/// deployment to every account and Region.
/// </summary>
public sealed class AutomationEngine(SimOrganization organization)
{
    private readonly ConcurrentDictionary<string, (SimWorld World, AutomationExecution Execution)> _all = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _done = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<(string Name, string Path)> _shipped = [];
    private readonly ConcurrentBag<Task> _running = [];

    public SimOrganization Organization => organization;

    /// <summary>pwsh, or pwsh.dll (run with dotnet), for aws:executeScript; null: such steps fail saying so.</summary>
    public string? PowerShell { get; set; }

    /// <summary>The simulator's AWS endpoint, which scripts are pointed at.</summary>
    public string Endpoint { get; set; } = "";

    /// <summary>The CA scripts trust for it (https only).</summary>
    public string? CaCertPath { get; set; }

    /// <summary>How often an execution's alarm is read (wall-clock time).</summary>
    public TimeSpan AlarmPollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Registers a document file (YAML or JSON; its attachments are the files beside it that its <c>files</c>
    /// section names) in every world that exists and every one made later.</summary>
    public void Register(string name, string path)
    {
        lock (_shipped)
        {
            _shipped.Add((name, path));
        }

        foreach (SimWorld world in organization.Worlds)
        {
            AddShipped(world, name, path);
        }
    }

    /// <summary>Gives a world made after start the registered documents.</summary>
    public void WorldMade(SimWorld world)
    {
        lock (_shipped)
        {
            foreach ((string name, string path) in _shipped)
            {
                AddShipped(world, name, path);
            }
        }
    }

    private static void AddShipped(SimWorld world, string name, string path)
    {
        string content = File.ReadAllText(path);
        string format = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? "JSON" : "YAML";
        (JsonObject? root, string? problem) = SsmDocument.Parse(content, format, "Automation");
        if (root is null)
        {
            throw new InvalidDataException($"The document {path} cannot be registered: {problem}");
        }

        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var document = new SsmDocument
        {
            Name = name,
            DocumentType = "Automation",
            DocumentFormat = format,
            Content = content,
            Root = root,
            Owner = world.AccountId,
            CreatedDate = world.Clock.GetUtcNow(),
        };
        foreach (string file in (root["files"] as JsonObject ?? []).Select(f => f.Key))
        {
            if (File.Exists(Path.Combine(directory, file)))
            {
                document.Attachments[file] = Path.Combine(directory, file);
            }
        }

        lock (world.Gate)
        {
            world.Documents[name] = document;
        }
    }

    /// <summary>Starts an execution in <paramref name="world"/> (a parent when <paramref name="locations"/> are given).</summary>
    public AutomationExecution Start(SimWorld world, SimAccount caller, SsmDocument document, Dictionary<string, List<string>> parameters,
        JsonArray? targetLocations, IReadOnlyList<AutomationLocation>? locations, string? alarmName, bool ignorePollAlarmFailure)
    {
        var execution = new AutomationExecution
        {
            AutomationExecutionId = Guid.NewGuid().ToString(),
            Document = document,
            AccountId = world.AccountId,
            Region = world.Region,
            ExecutedBy = caller.UserArn,
            ExecutionStartTime = world.Scheduler.Now,
            Parameters = parameters,
            TargetLocations = targetLocations,
            AlarmName = alarmName,
            IgnorePollAlarmFailure = ignorePollAlarmFailure,
        };
        Track(world, execution);
        // An alarm already in ALARM stops it before its first step.
        if (AlarmStops(world, execution))
        {
            execution.Stop.Cancel();
        }

        _running.Add(Task.Run(() => locations is null
            ? new AutomationRunner(this, world, caller, execution).RunAsync()
            : RunParentAsync(world, execution, locations)));
        WatchAlarm(world, execution);
        return execution;
    }

    /// <summary>The execution of this id in the caller's world, or a child (in any world) of a parent in it.</summary>
    public (SimWorld World, AutomationExecution Execution)? Find(SimWorld callerWorld, string id)
    {
        if (!_all.TryGetValue(id, out var found))
        {
            return null;
        }

        return found.World == callerWorld || (found.Execution.ParentAutomationExecutionId is { } parent && _all.TryGetValue(parent, out var p) && p.World == callerWorld)
            ? found : null;
    }

    /// <summary>The children of a parent execution, in start order.</summary>
    public IReadOnlyList<(SimWorld World, AutomationExecution Execution)> ChildrenOf(string parentId) =>
        [.. _all.Values.Where(e => e.Execution.ParentAutomationExecutionId == parentId).OrderBy(e => e.Execution.ExecutionStartTime)];

    /// <summary>Called (under the world's lock) when an execution reaches its final status.</summary>
    internal void Finished(AutomationExecution execution) => _done.GetOrAdd(execution.AutomationExecutionId, _ => new()).TrySetResult();

    /// <summary>Waits for <paramref name="delay"/> of simulated time.</summary>
    internal Task DelayAsync(SimWorld world, TimeSpan delay, CancellationToken cancellationToken)
    {
        var due = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        world.Scheduler.After(delay, () => due.TrySetResult());
        return due.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Stops every execution (the simulator is stopping) and waits, up to <paramref name="deadline"/>, for their
    /// runners to end: running scripts are killed with their process trees.</summary>
    public async Task StopAllAsync(TimeSpan deadline)
    {
        _stopping.Cancel();
        foreach ((_, AutomationExecution execution) in _all.Values)
        {
            execution.Stop.Cancel();
        }

        await Task.WhenAny(Task.WhenAll(_running), Task.Delay(deadline)).ConfigureAwait(false);
    }

    private void Track(SimWorld world, AutomationExecution execution)
    {
        _all[execution.AutomationExecutionId] = (world, execution);
        _done.GetOrAdd(execution.AutomationExecutionId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (world.Gate)
        {
            world.AutomationExecutions[execution.AutomationExecutionId] = execution;
        }
    }

    /// <summary>The parent of a multi-account, multi-Region execution: one step per account and Region, each running the
    /// document there as a child; each TargetLocation's locations at most its TargetLocationMaxConcurrency at once, and
    /// none started once more than its TargetLocationMaxErrors have failed.</summary>
    private async Task RunParentAsync(SimWorld world, AutomationExecution parent, IReadOnlyList<AutomationLocation> locations)
    {
        lock (world.Gate)
        {
            parent.Status = "InProgress";
        }

        int failed = 0;
        bool overErrors = false;
        try
        {
            foreach (var entry in locations.GroupBy(l => l.EntryIndex))
            {
                JsonObject spec = parent.TargetLocations![entry.Key] as JsonObject ?? [];
                var all = entry.ToList();
                int concurrency = Rate(SsmDocument.Text(spec["TargetLocationMaxConcurrency"]) ?? "1", all.Count, atLeastOne: true);
                int maxErrors = Rate(SsmDocument.Text(spec["TargetLocationMaxErrors"]) ?? "0", all.Count, atLeastOne: false);
                string? alarm = SsmDocument.Text((spec["TargetLocationAlarmConfiguration"] as JsonObject)?["Alarms"]?.AsArray().FirstOrDefault()?["Name"]);
                var running = new List<Task<bool>>();
                int entryFailed = 0;
                foreach (AutomationLocation location in all)
                {
                    while (running.Count >= concurrency)
                    {
                        Task<bool> ended = await Task.WhenAny(running).ConfigureAwait(false);
                        running.Remove(ended);
                        entryFailed += await ended.ConfigureAwait(false) ? 0 : 1;
                    }

                    if (entryFailed > maxErrors || parent.Stop.IsCancellationRequested)
                    {
                        overErrors |= entryFailed > maxErrors;
                        break;
                    }

                    running.Add(RunChildSafelyAsync(world, parent, location, spec, alarm));
                }

                foreach (Task<bool> child in running)
                {
                    entryFailed += await child.ConfigureAwait(false) ? 0 : 1;
                }

                failed += entryFailed;
                overErrors |= entryFailed > maxErrors;
                if (overErrors || parent.Stop.IsCancellationRequested)
                {
                    break;
                }
            }
        }
        finally
        {
            lock (world.Gate)
            {
                var failedSteps = parent.StepExecutions.Where(s => s.StepStatus != "Success").Select(s => $"{s.StepName} {s.StepStatus}").ToList();
                // From the steps, not the count: a location that ended any other way than Success is a failure.
                parent.Status = parent.Stop.IsCancellationRequested ? "Cancelled" : failed > 0 || failedSteps.Count > 0 ? "Failed" : "Success";
                parent.FailureMessage ??= failedSteps.Count == 0 ? null
                    : $"{failedSteps.Count} of {parent.StepExecutions.Count} target location(s) did not succeed ({string.Join(", ", failedSteps)})" +
                      (overErrors ? "; TargetLocationMaxErrors was exceeded, so no further location started." : ".");
                parent.ExecutionEndTime = world.Scheduler.Now;
                parent.CurrentStepName = null;
                parent.CurrentAction = null;
                Finished(parent);
            }
        }
    }

    /// <summary><see cref="RunChildAsync"/>, a failure of the simulator's own recorded as the location's failure.</summary>
    private async Task<bool> RunChildSafelyAsync(SimWorld parentWorld, AutomationExecution parent, AutomationLocation location, JsonObject spec, string? alarm)
    {
        try
        {
            return await RunChildAsync(parentWorld, parent, location, spec, alarm).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            lock (parentWorld.Gate)
            {
                if (parent.StepExecutions.LastOrDefault(s => s.TargetLocation == (location.Account.Id, location.Region)) is { ExecutionEndTime: null } step)
                {
                    step.StepStatus = "Failed";
                    step.FailureMessage = "The simulator could not run the location: " + e.Message;
                    step.ExecutionEndTime = parentWorld.Scheduler.Now;
                }
            }

            return false;
        }
    }

    /// <summary>One account and Region of a parent: its step, and the child execution that runs the document there. True
    /// when the child succeeded.</summary>
    private async Task<bool> RunChildAsync(SimWorld parentWorld, AutomationExecution parent, AutomationLocation location, JsonObject spec, string? alarm)
    {
        SimWorld world = organization.WorldOf(location.Account, location.Region);
        var step = new StepExecution
        {
            StepName = $"{location.Account.Id}:{location.Region}",
            Action = "aws:executeAutomation",
            TargetLocation = (location.Account.Id, location.Region),
        };
        lock (parentWorld.Gate)
        {
            step.StepStatus = "InProgress";
            step.ExecutionStartTime = parentWorld.Scheduler.Now;
            parent.StepExecutions.Add(step);
            parent.CurrentStepName = step.StepName;
            parent.CurrentAction = step.Action;
        }

        var location1 = (JsonObject)spec.DeepClone();
        location1["Accounts"] = new JsonArray(location.Account.Id);
        location1["Regions"] = new JsonArray(location.Region);
        var child = new AutomationExecution
        {
            AutomationExecutionId = Guid.NewGuid().ToString(),
            Document = parent.Document,
            AccountId = location.Account.Id,
            Region = location.Region,
            ExecutedBy = $"arn:aws:sts::{location.Account.Id}:assumed-role/{SsmDocument.Text(spec["ExecutionRoleName"]) ?? "AWS-SystemsManager-AutomationExecutionRole"}/{parent.AutomationExecutionId}",
            ExecutionStartTime = world.Scheduler.Now,
            Parameters = parent.Parameters,
            ParentAutomationExecutionId = parent.AutomationExecutionId,
            TargetLocations = [location1],
            AlarmName = alarm,
        };
        Track(world, child);
        lock (parentWorld.Gate)
        {
            step.Outputs["ExecutionId"] = [child.AutomationExecutionId];
        }

        // A stop of the parent (StopAutomationExecution, its alarm) stops the child.
        using CancellationTokenRegistration link = parent.Stop.Token.Register(() => child.Stop.Cancel());
        if (AlarmStops(world, child))
        {
            child.Stop.Cancel();
        }

        WatchAlarm(world, child);
        await new AutomationRunner(this, world, location.Account, child).RunAsync().ConfigureAwait(false);
        string status;
        lock (world.Gate)
        {
            status = child.Status;
        }

        lock (parentWorld.Gate)
        {
            step.StepStatus = status;
            step.ExecutionEndTime = parentWorld.Scheduler.Now;
            step.Outputs["ExecutionStatus"] = [status];
            if (status != "Success")
            {
                step.FailureMessage = child.FailureMessage ?? status;
            }
        }

        return status == "Success";
    }

    /// <summary>Reads the execution's alarm until it ends; in ALARM (or unreadable, unless told to ignore that) it stops
    /// the execution.</summary>
    private void WatchAlarm(SimWorld world, AutomationExecution execution)
    {
        if (execution.AlarmName is not { } name)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            Task done = _done[execution.AutomationExecutionId].Task;
            while (!done.IsCompleted && !_stopping.IsCancellationRequested)
            {
                if (AlarmStops(world, execution))
                {
                    // Outside the world's lock: cancelling runs the execution's callbacks (its children's stops) inline.
                    execution.Stop.Cancel();
                    return;
                }

                await Task.WhenAny(done, Task.Delay(AlarmPollInterval)).ConfigureAwait(false);
            }
        });
    }

    /// <summary>Whether the execution's alarm is in ALARM (or cannot be read, unless told to ignore that): then it is
    /// recorded as the reason, and the caller stops the execution.</summary>
    private static bool AlarmStops(SimWorld world, AutomationExecution execution)
    {
        if (execution.AlarmName is not { } name)
        {
            return false;
        }

        lock (world.Gate)
        {
            MetricAlarm? alarm = world.Alarms.GetValueOrDefault(name);
            if (execution.IsFinished || execution.TriggeredAlarms.Count > 0 || !(alarm?.StateValue == "ALARM" || (alarm is null && !execution.IgnorePollAlarmFailure)))
            {
                return false;
            }

            execution.TriggeredAlarms.Add((name, alarm?.StateValue ?? "UNKNOWN"));
            execution.FailureMessage = alarm is null
                ? $"The CloudWatch alarm {name} could not be read (it does not exist in {world.AccountId}, {world.Region}); the execution was stopped."
                : $"The CloudWatch alarm {name} went into ALARM ({alarm.StateReason}); the execution was stopped.";
            return true;
        }
    }

    /// <summary>A rate ("10" or "10%") of <paramref name="total"/> locations.</summary>
    internal static int Rate(string value, int total, bool atLeastOne)
    {
        int count = value.EndsWith('%')
            ? (int)Math.Floor(total * int.Parse(value[..^1], CultureInfo.InvariantCulture) / 100.0)
            : int.Parse(value, CultureInfo.InvariantCulture);
        return atLeastOne ? Math.Max(1, count) : count;
    }
}
