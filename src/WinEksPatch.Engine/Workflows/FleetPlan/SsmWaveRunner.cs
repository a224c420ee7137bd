using System.Globalization;
using System.Text.RegularExpressions;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;

namespace WinEksPatch.Workflows.FleetPlan;

/// <summary>The SsmAutomation engine's settings: the central account's SSM Automation, the fleet runbook's name, the
/// execution role of the target accounts, the central alarm that stops an execution, and how often it is read.</summary>
public sealed record SsmFleetEngine(ISsmAutomationApi Automation, string DocumentName = "WinEksPatch-Fleet", string? ExecutionRoleName = null,
    string? StopAlarmName = null)
{
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The waves of a fleet plan handed to SSM Automation, after the same pre-flight as the local engine: each wave, in its
/// maintenance window, is one execution of the fleet runbook, started from the central account with TargetLocations (the
/// wave's accounts and Regions, its MaxConcurrency and MaxErrors as TargetLocationMaxConcurrency and
/// TargetLocationMaxErrors) and followed until it ends; the next wave starts only after it succeeded. Each account and
/// Region patches, soaks and (with the plan's rollback) rolls back its own targets. A stopped session leaves the
/// execution running in AWS: the report names it, and a run resumed from that report follows it rather than start another.
/// </summary>
internal sealed partial class SsmWaveRunner(
    WinEksFleetPlan plan,
    FleetRunOptions options,
    SsmFleetEngine engine,
    WinEksFleetReport report,
    IReadOnlyDictionary<string, (IFleetTarget Session, IReadOnlyList<string> Groups)> sessions,
    IWorkflowHost host,
    TimeProvider time)
{
    /// <summary>-WhatIf: the execution each wave would start, as the host's what-if message; nothing is started.</summary>
    public async Task<WinEksPatchException?> PlanAsync(CancellationToken cancellationToken)
    {
        for (int w = 0; w < plan.Waves.Count; w++)
        {
            var toDo = ToDo(w);
            if (toDo.Count == 0)
            {
                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            _ = await host.ShouldProcessAsync(plan.Waves[w].Name, "Start SSM Automation", StartOf(plan.Waves[w], toDo).ToString()).ConfigureAwait(false);
            report.Waves[w].Result = "Planned";
            toDo.ForEach(t => t.Entry.Result = nameof(FleetTargetResult.Planned));
        }

        report.Result = "Planned";
        return null;
    }

    public async Task<WinEksPatchException?> RunAsync(CancellationToken cancellationToken)
    {
        for (int w = 0; w < plan.Waves.Count; w++)
        {
            var wave = plan.Waves[w];
            var waveReport = report.Waves[w];
            var toDo = ToDo(w);
            if (toDo.Count == 0)
            {
                waveReport.Result = "Succeeded";
                continue;
            }

            string? id = null;
            try
            {
                waveReport.StartedAt = time.GetUtcNow();
                waveReport.Result = "Running";
                // A wave whose execution an earlier run left running (that session stopped) is followed, not started again;
                // one it was starting when it died is started again with the same token, which returns that execution.
                var earlier = options.ResumeFrom?.Waves.ElementAtOrDefault(w) is { Result: "Running" or "Stopped" } left ? left : null;
                id = earlier?.AutomationExecutionId;
                if (id is null)
                {
                    if (wave.MaintenanceWindow is { } window)
                    {
                        await WaveRunner.WaitForWindowAsync(MaintenanceWindowSchedule.Parse(window, $"waves[{w}].maintenanceWindow"), wave, waveReport, host, time,
                            () => FleetPatchRun.Checkpoint(options, report), cancellationToken).ConfigureAwait(false);
                    }

                    var start = StartOf(wave, toDo) with { ClientToken = earlier?.AutomationClientToken ?? Guid.NewGuid().ToString() };
                    waveReport.AutomationClientToken = start.ClientToken;
                    await FleetPatchRun.Checkpoint(options, report).ConfigureAwait(false); // the token is on disk before the start
                    host.Verbose($"Wave {wave.Name}: {start}");
                    id = await engine.Automation.StartAsync(start, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    host.Verbose($"Wave {wave.Name}: following SSM Automation execution {id}, started by the run this one resumes.");
                }

                waveReport.AutomationExecutionId = id;
                toDo.ForEach(t => t.Entry.StartedAt ??= time.GetUtcNow());
                await FleetPatchRun.Checkpoint(options, report).ConfigureAwait(false);
                var progress = await FollowAsync(wave, id, toDo, cancellationToken).ConfigureAwait(false);
                waveReport.FinishedAt = time.GetUtcNow();
                // A target the execution did not run (its account and Region had no location in it) did not succeed.
                foreach (var (target, entry) in toDo.Where(t => t.Entry.Result is nameof(FleetTargetResult.NotStarted) or "Running" && t.Entry.Error is null))
                {
                    entry.Result = nameof(FleetTargetResult.Failed);
                    entry.Error ??= $"SSM Automation execution {id} ended {progress.Status} without running {target.Key} (no location of {AccountOf(target)}, {target.Region}).";
                }

                waveReport.Errors = toDo.Count(t => t.Entry.Result is nameof(FleetTargetResult.Failed) or nameof(FleetTargetResult.RolledBack));
                // Failed targets within MaxErrors, every other one done: the wave completed with errors and the plan goes
                // on, as on the local engine.
                bool withinErrors = progress.Status is "Failed" or "CompletedWithFailure" && waveReport.Errors <= wave.MaxErrors
                    && toDo.All(t => t.Entry.Result is nameof(FleetTargetResult.Succeeded) or nameof(FleetTargetResult.Failed) or nameof(FleetTargetResult.RolledBack));
                if ((progress.Status is not ("Success" or "CompletedWithSuccess") || waveReport.Errors > 0) && !withinErrors)
                {
                    // Failed, also when SSM cancelled it (its alarm, someone's StopAutomationExecution): "Stopped" is this
                    // session's stop only, the one state a resumed run follows the execution of.
                    waveReport.Result = "Failed";
                    report.Result = "Failed";
                    report.Error = $"Wave {wave.Name}: SSM Automation execution {id} ended {progress.Status}" +
                        (progress.FailureMessage is { } why ? $": {why}" : ".") +
                        (progress.TriggeredAlarms.Count > 0 ? $" Alarms: {string.Join(", ", progress.TriggeredAlarms)}." : "");
                    await FleetPatchRun.Checkpoint(options, report).ConfigureAwait(false);
                    return new WinEksPatchException(ErrorIds.FleetPlanFailed, ErrorKind.InvalidOperation, report.Error, plan.Name);
                }

                waveReport.Result = waveReport.Errors > 0 ? "CompletedWithErrors" : "Succeeded";
                await FleetPatchRun.Checkpoint(options, report).ConfigureAwait(false);
            }
            catch (WinEksPatchException ex)
            {
                // SSM Automation refused the start, or could not be read: the wave failed, and the report says where it stood.
                waveReport.Result = "Failed";
                report.Result = "Failed";
                report.Error = $"Wave {wave.Name}: {(id is null ? "its SSM Automation execution did not start" : $"SSM Automation execution {id} could not be followed")}: {ex.Message}";
                toDo.Where(t => t.Entry.Result == "Running").ToList().ForEach(t => t.Entry.Error ??= report.Error);
                await FleetPatchRun.Checkpoint(options, report).ConfigureAwait(false);
                return new WinEksPatchException(ErrorIds.FleetPlanFailed, ex.Kind, report.Error, plan.Name, ex);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                waveReport.Result = "Stopped";
                report.Result = "Stopped";
                report.Error = id is null ? $"Stopped in wave {wave.Name}, before its execution started."
                    : $"Stopped following wave {wave.Name}: its SSM Automation execution {id} goes on in AWS; -ResumeFrom this report follows it.";
                await FleetPatchRun.Checkpoint(options, report).ConfigureAwait(false);
                return new WinEksPatchException(ErrorIds.FleetPlanFailed, ErrorKind.OperationStopped, report.Error, plan.Name);
            }
        }

        report.Result = report.Waves.Any(w => w.Errors > 0) ? "CompletedWithErrors" : "Succeeded";
        return null;
    }

    /// <summary>Reads the execution until it ends, each read written into the wave's targets.</summary>
    private async Task<AutomationProgress> FollowAsync(WinEksFleetWave wave, string id, List<(WinEksFleetTarget Target, WinEksFleetTargetReport Entry)> toDo,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            var progress = await engine.Automation.GetAsync(id, cancellationToken).ConfigureAwait(false);
            bool changed = false;
            foreach (var (target, entry) in toDo)
            {
                string before = entry.Result;
                Apply(progress, target, entry);
                changed |= before != entry.Result;
            }

            if (changed)
            {
                await FleetPatchRun.Checkpoint(options, report).ConfigureAwait(false);
            }

            int done = toDo.Count(t => t.Entry.Result is not (nameof(FleetTargetResult.NotStarted) or "Running"));
            host.Progress(new ProgressUpdate(2, $"Wave {wave.Name}", $"SSM Automation {id}: {progress.Status}, {done} of {toDo.Count} target(s) done", 100 * done / toDo.Count));
            if (progress.IsFinished)
            {
                return progress;
            }

            await Task.Delay(engine.PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A target's result from its account and Region's child execution: Succeeded, RolledBack (its Rollback step
    /// ended RolledBack), Failed (with the failed step's message, and the gate and evidence of a failed soak), Stopped
    /// (the execution was cancelled), Running, or NotStarted.</summary>
    private void Apply(AutomationProgress progress, WinEksFleetTarget target, WinEksFleetTargetReport entry)
    {
        string? account = AccountOf(target);
        var location = progress.Locations.FirstOrDefault(l => l.Account == account && l.Region == target.Region);
        if (location is null)
        {
            entry.Result = progress.IsFinished ? nameof(FleetTargetResult.NotStarted) : entry.Result;
            return;
        }

        var failedStep = location.Steps.FirstOrDefault(s => s.Name is "Patch" or "Soak" && s.Status is "Failed" or "TimedOut");
        var gate = failedStep?.FailureMessage is { } message ? GateFailure().Match(message) : Match.Empty;
        // The Patch step patches a location's clusters one after the other and stops at the first that fails: those after
        // it were never started (and their rollback changed nothing).
        if (failedStep?.Name == "Patch" && failedStep.FailureMessage is { } patchFailure && PatchFailure().Match(patchFailure) is { Success: true } failedOn
            && failedOn.Groups["cluster"].Value != target.ClusterName && LocationOrder(target, failedOn.Groups["cluster"].Value) is > 0)
        {
            entry.Result = nameof(FleetTargetResult.NotStarted);
            entry.Error = $"Not started: {failedOn.Groups["cluster"].Value}, before it in {target.Region}, failed ({patchFailure})";
            return;
        }

        bool rolledBack = location.Steps.LastOrDefault(s => s.Name == "Rollback" && s.Status == "Success")?.Outputs.GetValueOrDefault("Status")?.FirstOrDefault() == "RolledBack";
        entry.Result = location.Status switch
        {
            "Success" => nameof(FleetTargetResult.Succeeded),
            "Failed" or "TimedOut" => rolledBack ? nameof(FleetTargetResult.RolledBack) : nameof(FleetTargetResult.Failed),
            "Cancelled" or "Cancelling" => nameof(FleetTargetResult.Stopped),
            _ => "Running",
        };
        if (entry.Result != "Running")
        {
            entry.FinishedAt ??= time.GetUtcNow();
        }

        if (location.Status is "Success" or "InProgress" or "Pending" or "Waiting")
        {
            return;
        }

        entry.Error = failedStep?.FailureMessage ?? (location.Status == "Cancelled" ? progress.FailureMessage : location.FailureMessage);
        if (gate.Success && gate.Groups["cluster"].Value == target.ClusterName)
        {
            entry.FailedGate = gate.Groups["gate"].Value;
            entry.GateEvidence = gate.Groups["evidence"].Value;
        }
    }

    /// <summary>Whether <paramref name="target"/> comes after <paramref name="cluster"/> in its location's Targets order
    /// (1), before it (-1), or either is not of the location (0).</summary>
    private int LocationOrder(WinEksFleetTarget target, string cluster)
    {
        var wave = plan.Waves.First(w => w.Targets.Contains(target));
        var here = wave.Targets.Where(t => AccountOf(t) == AccountOf(target) && t.Region == target.Region).Select(t => t.ClusterName).ToList();
        int failed = here.IndexOf(cluster), mine = here.IndexOf(target.ClusterName);
        return failed < 0 || mine < 0 ? 0 : mine.CompareTo(failed);
    }

    /// <summary>The execution of a wave: the fleet runbook in the wave's accounts and Regions, its targets named with the
    /// groups the pre-flight found.</summary>
    private AutomationStart StartOf(WinEksFleetWave wave, List<(WinEksFleetTarget Target, WinEksFleetTargetReport Entry)> toDo)
    {
        var targets = toDo.Select(t => $"{AccountOf(t.Target)}:{t.Target.Region}:{t.Target.ClusterName}:{string.Join(",", sessions[t.Target.Key].Groups)}").ToList();
        var parameters = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
        {
            ["Targets"] = targets,
            ["ImageSource"] = [plan.Rollout.ImageSource],
            ["MaxSurge"] = [plan.Rollout.MaxSurge],
            ["MaxUnavailable"] = [plan.Rollout.MaxUnavailable],
            ["SoakMinutes"] = [((int)Math.Ceiling(wave.SoakTime.TotalMinutes)).ToString(CultureInfo.InvariantCulture)],
            ["MaxRestartIncrease"] = [wave.Gates.MaxRestartIncrease.ToString(CultureInfo.InvariantCulture)],
            ["Rollback"] = [plan.Rollback ? "true" : "false"],
        };
        if (wave.Gates.Alarms.Count > 0)
        {
            parameters["AlarmNames"] = [.. wave.Gates.Alarms];
        }

        return new AutomationStart(engine.DocumentName, parameters, [.. toDo.Select(t => AccountOf(t.Target)!).Distinct()], [.. toDo.Select(t => t.Target.Region).Distinct()],
            wave.MaxConcurrency.ToString(CultureInfo.InvariantCulture), wave.MaxErrors.ToString(CultureInfo.InvariantCulture), engine.ExecutionRoleName, engine.StopAlarmName);
    }

    private List<(WinEksFleetTarget Target, WinEksFleetTargetReport Entry)> ToDo(int wave) =>
        [.. plan.Waves[wave].Targets.Select((t, i) => (t, report.Waves[wave].Targets[i])).Where(t => t.Item2.Result != nameof(FleetTargetResult.AlreadyDone))];

    /// <summary>The target's account: the plan's, else the one its pre-flight reached.</summary>
    private string? AccountOf(WinEksFleetTarget target) => target.AccountId ?? sessions[target.Key].Session.AccountId;

    /// <summary>The fleet runbook's Patch failure: "WinEksPatch failed on &lt;cluster&gt;: &lt;reason&gt;".</summary>
    [GeneratedRegex(@"^WinEksPatch failed on (?<cluster>[^:]+): ")]
    private static partial Regex PatchFailure();

    /// <summary>The fleet runbook's Soak failure: "Health gate &lt;gate&gt; failed on &lt;cluster&gt;: &lt;evidence&gt;".</summary>
    [GeneratedRegex(@"Health gate (?<gate>\w+) failed on (?<cluster>[^:]+): (?<evidence>.*)$", RegexOptions.Singleline)]
    private static partial Regex GateFailure();
}
