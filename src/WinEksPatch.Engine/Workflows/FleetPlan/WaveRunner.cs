using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;

namespace WinEksPatch.Workflows.FleetPlan;

/// <summary>
/// The waves of one run of a fleet plan, after its pre-flight: each wave in its window, its targets under its rate
/// control, each target patched, soaked under the gates, and rolled back when it fails. See <see cref="FleetPatchRun"/>.
/// </summary>
internal sealed class WaveRunner(
    WinEksFleetPlan plan,
    FleetRunOptions options,
    WinEksFleetReport report,
    IReadOnlyDictionary<string, (IFleetTarget Session, IReadOnlyList<string> Groups)> sessions,
    IWorkflowHost host,
    TimeProvider time)
{
    private readonly SemaphoreSlim _reportLock = new(1, 1);
    private int _slot;

    /// <summary>-WhatIf: every target's cycle writes its plan; nothing changes, nothing waits.</summary>
    public async Task<WinEksPatchException?> PlanAsync(CancellationToken cancellationToken)
    {
        for (int w = 0; w < plan.Waves.Count; w++)
        {
            var wave = plan.Waves[w];
            var waveReport = report.Waves[w];
            waveReport.Result = "Planned";
            if (wave.MaintenanceWindow is { } window)
            {
                waveReport.WaitedForWindowUntil = MaintenanceWindowSchedule.Parse(window, $"waves[{w}].maintenanceWindow").NextStart(time.GetUtcNow());
            }

            for (int t = 0; t < wave.Targets.Count; t++)
            {
                var entry = waveReport.Targets[t];
                if (entry.Result == nameof(FleetTargetResult.AlreadyDone))
                {
                    continue;
                }

                var (session, groups) = sessions[wave.Targets[t].Key];
                if (wave.Canary && !waveReport.Targets.Take(t).Any(e => e.Result != nameof(FleetTargetResult.AlreadyDone)))
                {
                    // Said as a run would do it: under -WhatIf the host prints it and changes nothing.
                    _ = await host.ShouldProcessAsync(entry.Key, "Replace one node first (canary)",
                        $"Canary: replace one node of {session.CanaryGroup} and watch it under the gates for {wave.SoakTime} before the rest of {entry.Key}.").ConfigureAwait(false);
                }

                var outcome = await session.PatchAsync(groups, plan.Rollout, null, options.Replacement, new TargetHost(host, entry.Key, 0), cancellationToken).ConfigureAwait(false);
                entry.Report = outcome.Report;
                entry.Result = outcome.Failure is null ? nameof(FleetTargetResult.Planned) : nameof(FleetTargetResult.Failed);
                entry.Error = outcome.Failure?.Message;
            }
        }

        var unplannable = report.Waves.SelectMany(w => w.Targets).Where(t => t.Result == nameof(FleetTargetResult.Failed)).ToList();
        report.Result = unplannable.Count == 0 ? "Planned" : "Failed";
        return unplannable.Count == 0 ? null : new WinEksPatchException(ErrorIds.FleetPlanFailed, ErrorKind.InvalidOperation,
            $"{unplannable.Count} target(s) could not be planned: {string.Join("; ", unplannable.Select(t => $"{t.Key}: {t.Error}"))}", plan.Name);
    }

    public async Task<WinEksPatchException?> RunAsync(CancellationToken cancellationToken)
    {
        for (int w = 0; w < plan.Waves.Count; w++)
        {
            WinEksPatchException? failure;
            try
            {
                failure = await RunWaveAsync(plan.Waves[w], report.Waves[w], w, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                report.Waves[w].Result = "Stopped";
                report.Result = "Stopped";
                report.Error = $"Stopped in wave {plan.Waves[w].Name}.";
                return new WinEksPatchException(ErrorIds.FleetPlanFailed, ErrorKind.OperationStopped, report.Error, plan.Name);
            }

            if (failure is not null)
            {
                report.Result = "Failed";
                report.Error = failure.Message;
                return failure;
            }
        }

        bool anyFailed = report.Waves.Any(w => w.Errors > 0);
        report.Result = anyFailed ? "CompletedWithErrors" : "Succeeded";
        return null;
    }

    private async Task<WinEksPatchException?> RunWaveAsync(WinEksFleetWave wave, WinEksFleetWaveReport waveReport, int index, CancellationToken cancellationToken)
    {
        var schedule = wave.MaintenanceWindow is { } window ? MaintenanceWindowSchedule.Parse(window, $"waves[{index}].maintenanceWindow") : null;
        waveReport.StartedAt = time.GetUtcNow();
        waveReport.Result = "Running";
        using var throttle = new SemaphoreSlim(wave.MaxConcurrency, wave.MaxConcurrency);
        using var stopStarting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = new List<Task>();
        int errors = 0;
        try
        {
            for (int t = 0; t < wave.Targets.Count && !stopStarting.IsCancellationRequested; t++)
            {
                var entry = waveReport.Targets[t];
                if (entry.Result == nameof(FleetTargetResult.AlreadyDone))
                {
                    continue;
                }

                try
                {
                    await throttle.WaitAsync(stopStarting.Token).ConfigureAwait(false);
                    if (schedule is not null)
                    {
                        await WaitForWindowAsync(schedule, wave, waveReport, stopStarting.Token).ConfigureAwait(false);
                    }

                    // The slot may have come free with the failure that put the wave over its MaxErrors.
                    stopStarting.Token.ThrowIfCancellationRequested();
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    break; // the wave went over its MaxErrors while this target waited: it does not start
                }

                var target = wave.Targets[t];
                int slot = Interlocked.Increment(ref _slot);
                bool canary = wave.Canary && running.Count == 0; // the wave's first target that runs
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        if (!await RunTargetAsync(target, entry, wave, slot, canary, cancellationToken).ConfigureAwait(false)
                            && Interlocked.Increment(ref errors) > wave.MaxErrors)
                        {
                            stopStarting.Cancel(); // before the slot is released below
                        }
                    }
                    finally
                    {
                        throttle.Release();
                    }
                }, CancellationToken.None));
            }
        }
        finally
        {
            // Every target that started is awaited, whatever happened to the others and to this loop (a stop included),
            // before anything it uses is let go.
            await Task.WhenAll(running.Select(r => r.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default)))
                .ConfigureAwait(false);
        }

        await Task.WhenAll(running).ConfigureAwait(false); // a stop surfaces here, after every target ended
        cancellationToken.ThrowIfCancellationRequested();
        waveReport.Errors = errors;
        waveReport.FinishedAt = time.GetUtcNow();
        if (errors > wave.MaxErrors)
        {
            waveReport.Result = "Failed";
            var failed = waveReport.Targets.Where(t => t.Result is nameof(FleetTargetResult.Failed) or nameof(FleetTargetResult.RolledBack)).ToList();
            return new WinEksPatchException(ErrorIds.FleetPlanFailed, ErrorKind.InvalidOperation,
                $"Wave {wave.Name}: {errors} target(s) failed ({wave.MaxErrors} allowed): {string.Join("; ", failed.Select(f => $"{f.Key}: {f.FailedGate ?? "cycle"}: {f.Error}"))}" +
                (index < plan.Waves.Count - 1 ? " Later waves did not start." : ""), plan.Name);
        }

        waveReport.Result = errors > 0 ? "CompletedWithErrors" : "Succeeded";
        await Checkpoint().ConfigureAwait(false);
        return null;
    }

    private Task WaitForWindowAsync(MaintenanceWindowSchedule schedule, WinEksFleetWave wave, WinEksFleetWaveReport waveReport, CancellationToken cancellationToken) =>
        WaitForWindowAsync(schedule, wave, waveReport, host, time, Checkpoint, cancellationToken);

    /// <summary>Waits until the wave's maintenance window opens (at once when it is open), saying so in the report.</summary>
    internal static async Task WaitForWindowAsync(MaintenanceWindowSchedule schedule, WinEksFleetWave wave, WinEksFleetWaveReport waveReport, IWorkflowHost host,
        TimeProvider time, Func<Task> checkpoint, CancellationToken cancellationToken)
    {
        DateTimeOffset now = time.GetUtcNow();
        DateTimeOffset next = schedule.NextStart(now);
        if (next <= now)
        {
            return;
        }

        waveReport.WaitedForWindowUntil = next;
        host.Verbose($"Wave {wave.Name}: outside its maintenance window ({schedule.Window}); waiting until {next:u}.");
        host.Progress(new ProgressUpdate(2, $"Wave {wave.Name}", $"Waiting for the maintenance window ({next:u})"));
        await checkpoint().ConfigureAwait(false);
        // In steps: a timer takes at most about 49 days, and a window of a quarterly schedule is further away than that.
        for (DateTimeOffset at = now; at < next; at = time.GetUtcNow())
        {
            TimeSpan left = next - at;
            await Task.Delay(left < TimeSpan.FromDays(7) ? left : TimeSpan.FromDays(7), time, cancellationToken).ConfigureAwait(false);
        }

        host.Progress(new ProgressUpdate(2, $"Wave {wave.Name}", "In the maintenance window", Completed: true));
    }

    /// <summary>One target: its cycle, its soak under the gates, its rollback when either fails. True when it succeeded.
    /// Whatever goes wrong on the way (a read of the gates, a checkpoint, the rollback) fails the target, and counts
    /// against the wave's MaxErrors; a stop marks it Stopped.</summary>
    private async Task<bool> RunTargetAsync(WinEksFleetTarget target, WinEksFleetTargetReport entry, WinEksFleetWave wave, int slot, bool canary,
        CancellationToken cancellationToken)
    {
        try
        {
            return await PatchAndSoakAsync(target, entry, wave, slot, canary, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            entry.Result = nameof(FleetTargetResult.Stopped);
            entry.FinishedAt = time.GetUtcNow();
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var failure = UnexpectedFailure.From(ex, target.Key);
            entry.Result = nameof(FleetTargetResult.Failed);
            entry.Error = $"{(entry.Error is null ? "" : entry.Error + " Then: ")}{failure.ErrorId}: {failure.Message}";
            entry.FinishedAt = time.GetUtcNow();
            return false;
        }
    }

    private async Task<bool> PatchAndSoakAsync(WinEksFleetTarget target, WinEksFleetTargetReport entry, WinEksFleetWave wave, int slot, bool canary,
        CancellationToken cancellationToken)
    {
        var (session, groups) = sessions[target.Key];
        var targetHost = new TargetHost(host, target.Key, slot);
        entry.StartedAt = time.GetUtcNow();
        entry.Result = "Running";
        await Checkpoint().ConfigureAwait(false);
        // An alarm already in ALARM: the target does not start (nothing changed, so nothing to roll back).
        if (await ReadAlarmGateAsync(session, target, wave, cancellationToken).ConfigureAwait(false) is { HasFailed: true } firing)
        {
            entry.FailedGate = firing.FailedGate;
            entry.GateEvidence = firing.Evidence;
            entry.Error = $"Not started, nothing changed: the {firing.FailedGate} gate failed: {firing.Evidence}";
            targetHost.Warning(entry.Error);
            return await FailAsync(session, entry, targetHost, cancellationToken).ConfigureAwait(false);
        }

        if (canary && !await CanaryHoldsAsync(session, entry, wave, targetHost, cancellationToken).ConfigureAwait(false))
        {
            return await FailAsync(session, entry, targetHost, cancellationToken).ConfigureAwait(false);
        }

        // What was Pending before the cycle is not the cycle's doing: the gates leave it out.
        var watch = new HealthGateWatch(wave.Gates);
        watch.PendingBeforeTheCycle((await session.ReadHealthAsync(groups, cancellationToken).ConfigureAwait(false)).PendingPods);
        var outcome = await session.PatchAsync(groups, plan.Rollout, null, options.Replacement, targetHost, cancellationToken).ConfigureAwait(false);
        entry.Report = outcome.Report;
        if (outcome.Failure is { } failure)
        {
            entry.Error = failure.Message;
            if (cancellationToken.IsCancellationRequested)
            {
                // Stopped: what the cycle did is in its report; nothing is rolled back without being asked.
                entry.Result = nameof(FleetTargetResult.Stopped);
                entry.FinishedAt = time.GetUtcNow();
                cancellationToken.ThrowIfCancellationRequested();
            }

            return await FailAsync(session, entry, targetHost, cancellationToken).ConfigureAwait(false);
        }

        var verdict = await SoakAsync(session, target, groups, wave, watch, targetHost, cancellationToken).ConfigureAwait(false);
        entry.SoakedUntil = time.GetUtcNow();
        if (verdict.HasFailed)
        {
            entry.FailedGate = verdict.FailedGate;
            entry.GateEvidence = verdict.Evidence;
            entry.Error = $"the {verdict.FailedGate} gate failed: {verdict.Evidence}";
            targetHost.Warning($"Health gate {verdict.FailedGate} failed: {verdict.Evidence}");
            return await FailAsync(session, entry, targetHost, cancellationToken).ConfigureAwait(false);
        }

        entry.Result = nameof(FleetTargetResult.Succeeded);
        entry.FinishedAt = time.GetUtcNow();
        await Checkpoint().ConfigureAwait(false);
        return true;
    }

    /// <summary>The canary: one node of the target's first self-managed group replaced, then soaked under the gates. False
    /// when its cycle or a gate failed (the entry says which; its report is the one the rollback works from).</summary>
    private async Task<bool> CanaryHoldsAsync(IFleetTarget session, WinEksFleetTargetReport entry, WinEksFleetWave wave, IWorkflowHost targetHost,
        CancellationToken cancellationToken)
    {
        string group = session.CanaryGroup!;
        targetHost.Verbose($"Canary: one node of {group}, then {wave.SoakTime} under the gates.");
        var watch = new HealthGateWatch(wave.Gates);
        watch.PendingBeforeTheCycle((await session.ReadHealthAsync([group], cancellationToken).ConfigureAwait(false)).PendingPods);
        var canary = await session.PatchAsync([group], plan.Rollout, null, options.Replacement with { NodeLimit = 1 }, targetHost, cancellationToken).ConfigureAwait(false);
        entry.CanaryReport = canary.Report;
        if (canary.Failure is { } failure)
        {
            entry.Report = canary.Report;
            entry.Error = $"the canary's cycle failed: {failure.Message}";
            cancellationToken.ThrowIfCancellationRequested();
            return false;
        }

        var verdict = await SoakAsync(session, session.Target, [group], wave, watch, targetHost, cancellationToken).ConfigureAwait(false);
        if (verdict.HasFailed)
        {
            entry.Report = canary.Report;
            entry.FailedGate = verdict.FailedGate;
            entry.GateEvidence = verdict.Evidence;
            entry.SoakedUntil = time.GetUtcNow();
            entry.Error = $"the canary's {verdict.FailedGate} gate failed: {verdict.Evidence}";
            targetHost.Warning($"Canary: health gate {verdict.FailedGate} failed: {verdict.Evidence}");
            return false;
        }

        targetHost.Verbose($"Canary: the gates held on {group}; the rest of the target follows.");
        return true;
    }

    /// <summary>The target's soak under the wave's gates (<see cref="GateSoak"/>).</summary>
    private Task<GateVerdict> SoakAsync(IFleetTarget session, WinEksFleetTarget target, IReadOnlyList<string> groups, WinEksFleetWave wave,
        HealthGateWatch watch, IWorkflowHost targetHost, CancellationToken cancellationToken) =>
        new GateSoak(time, options.GateInterval).RunAsync(session, groups, wave.Gates.AlarmsFor(target), watch, wave.SoakTime,
            status => targetHost.Progress(new ProgressUpdate(3, "Soak", status)), cancellationToken);

    /// <summary>The alarm gate of the wave for this target: held when the wave names no alarm.</summary>
    private static Task<GateVerdict> ReadAlarmGateAsync(IFleetTarget session, WinEksFleetTarget target, WinEksFleetWave wave, CancellationToken cancellationToken) =>
        GateSoak.ReadAlarmsAsync(session, wave.Gates.AlarmsFor(target), cancellationToken);

    /// <summary>A failed target: rolled back to the AMIs its groups ran before (when the plan says so), then reported.
    /// RolledBack only when every group the cycle moved runs its earlier AMI again, read from its nodes after the
    /// rollback: a group whose nodes ran mixed AMIs before, or whose AMI EKS picks (a managed group of an EKS AMI type
    /// takes the latest release, not a given AMI), cannot be, and the target is Failed, saying so. Always false.</summary>
    private async Task<bool> FailAsync(IFleetTarget session, WinEksFleetTargetReport entry, IWorkflowHost targetHost, CancellationToken cancellationToken)
    {
        entry.Result = nameof(FleetTargetResult.Failed);
        if (plan.Rollback && entry.Report is { } cycle)
        {
            // Groups the cycle moved: it set (or began to set) another AMI than their nodes ran.
            var moved = cycle.Groups.Where(g => g.TargetImageId is not null && g.TargetImageId != (g.BeforeImageId ?? entry.CanaryReport?.Groups.FirstOrDefault(c => c.NodeGroupName == g.NodeGroupName)?.BeforeImageId)
                && g.Result is nameof(GroupPatchResult.Patched) or nameof(GroupPatchResult.Failed)).ToList();
            var problems = new List<string>();
            foreach (var group in moved)
            {
                // After a canary, the group's nodes ran two AMIs when the whole cycle began: the canary's report knows the first.
                string? before = group.BeforeImageId ?? entry.CanaryReport?.Groups.FirstOrDefault(c => c.NodeGroupName == group.NodeGroupName)?.BeforeImageId;
                if (before is null)
                {
                    problems.Add($"{group.NodeGroupName} ran more than one AMI before, so there is no one AMI to go back to");
                    continue;
                }

                targetHost.Warning($"Rolling {group.NodeGroupName} back to {before}.");
                var back = await session.PatchAsync([group.NodeGroupName], plan.Rollout, before, options.Replacement, targetHost, cancellationToken).ConfigureAwait(false);
                await _reportLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                try
                {
                    entry.RollbackReports.Add(back.Report); // not while a checkpoint writes the report
                }
                finally
                {
                    _reportLock.Release();
                }

                string? after = back.Report.Groups.FirstOrDefault()?.AfterImageId;
                if (back.Failure is { } rollbackFailure)
                {
                    problems.Add($"its rollback of {group.NodeGroupName} to {before} failed: {rollbackFailure.Message}");
                }
                else if (after != before)
                {
                    problems.Add($"{group.NodeGroupName} runs {after ?? "more than one AMI"} after its rollback, not {before}" +
                        (group.Kind == nameof(Model.NodeGroupKind.Managed) ? " (a managed group of an EKS AMI type takes the AMI EKS picks)" : ""));
                }
            }

            if (moved.Count > 0 && problems.Count == 0)
            {
                entry.Result = nameof(FleetTargetResult.RolledBack);
            }
            else if (problems.Count > 0)
            {
                entry.Error += " Not rolled back: " + string.Join("; ", problems) + ".";
            }
        }

        entry.FinishedAt = time.GetUtcNow();
        await Checkpoint().ConfigureAwait(false);
        return false;
    }

    private async Task Checkpoint()
    {
        await _reportLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            await FleetPatchRun.Checkpoint(options, report).ConfigureAwait(false);
        }
        finally
        {
            _reportLock.Release();
        }
    }
}
