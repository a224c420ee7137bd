using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Workflows.FleetPlan;

/// <summary>What Invoke-WinEksFleetPatch asks of a run besides the plan.</summary>
public sealed record FleetRunOptions
{
    /// <summary>The rollout options of every target's cycle (from the plan's rollout; WhatIf from the cmdlet).</summary>
    public required ReplacementOptions Replacement { get; init; }

    /// <summary>A report of an earlier run of the same plan: its targets that succeeded are not patched again.</summary>
    public WinEksFleetReport? ResumeFrom { get; init; }

    /// <summary>Called whenever the report changes (a target starts or ends): -ReportPath is written there, so a run that
    /// is killed leaves the report of what it did.</summary>
    public Func<WinEksFleetReport, Task>? Checkpoint { get; init; }

    /// <summary>How often the health gates are read while a target soaks.</summary>
    public TimeSpan GateInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Hand the waves to SSM Automation (the fleet runbook, one execution per wave) instead of running each target
    /// from this session; null: the local engine.</summary>
    public SsmFleetEngine? Ssm { get; init; }
}

/// <summary>The report of a run, and the error that ended it when it failed (the report says the rest).</summary>
public sealed record FleetRunOutcome(WinEksFleetReport Report, WinEksPatchException? Failure);

/// <summary>
/// Invoke-WinEksFleetPatch's local engine: a fleet plan run from one PowerShell session. Every target is connected and
/// checked before the first change anywhere (a target that cannot be reached, a cluster or group that is not there,
/// fails the plan with nothing changed). Then wave by wave, in order: within its maintenance window (waiting for it),
/// up to MaxConcurrency targets at a time, each with its own connections; each target's cycle (Invoke-WinEksPatch's),
/// then its soak, the health gates read every <see cref="FleetRunOptions.GateInterval"/>. A target whose cycle or gate
/// fails is rolled back (unless the plan says not to); once a wave has more failed targets than its MaxErrors, no
/// further target starts, those running are awaited, and later waves never start.
/// </summary>
public sealed class FleetPatchRun(Func<WinEksFleetTarget, IFleetTarget> connect, TimeProvider time)
{
    public async Task<FleetRunOutcome> RunAsync(WinEksFleetPlan plan, FleetRunOptions options, IWorkflowHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(host);
        var report = NewReport(plan, options.ResumeFrom);
        var sessions = new Dictionary<string, (IFleetTarget Session, IReadOnlyList<string> Groups)>(StringComparer.Ordinal);
        try
        {
            try
            {
                if (options.Ssm is not null)
                {
                    SsmFleetChecks(plan);
                }

                await PreflightAsync(plan, report, sessions, host, cancellationToken).ConfigureAwait(false);
            }
            catch (WinEksPatchException ex)
            {
                report.Result = "Failed";
                report.Error = $"Before any change: {ex.Message}";
                report.FinishedAt = time.GetUtcNow();
                return new FleetRunOutcome(report, ex);
            }

            WinEksPatchException? failure;
            if (options.Ssm is { } ssm)
            {
                var handed = new SsmWaveRunner(plan, options, ssm, report, sessions, host, time);
                failure = options.Replacement.WhatIf ? await handed.PlanAsync(cancellationToken).ConfigureAwait(false) : await handed.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var run = new WaveRunner(plan, options, report, sessions, host, time);
                failure = options.Replacement.WhatIf ? await run.PlanAsync(cancellationToken).ConfigureAwait(false) : await run.RunAsync(cancellationToken).ConfigureAwait(false);
            }

            report.FinishedAt = time.GetUtcNow();
            await Checkpoint(options, report).ConfigureAwait(false);
            return new FleetRunOutcome(report, failure);
        }
        finally
        {
            foreach (var (session, _) in sessions.Values)
            {
                session.Dispose();
            }
        }
    }

    /// <summary>What the fleet runbook cannot do, refused before any change: a canary (an execution patches a location's
    /// groups whole), an image build (the runbook takes the latest EKS-optimized AMIs).</summary>
    private static void SsmFleetChecks(WinEksFleetPlan plan)
    {
        var defaults = new WinEksFleetRollout();
        var gates = new WinEksFleetGates();
        // What the fleet runbook takes no parameter for is refused, rather than dropped: the run would not be the plan.
        string? problem = plan.Waves.FirstOrDefault(w => w.Canary) is { } canary
            ? $"wave {canary.Name} starts with a canary, which the local engine runs (an SSM Automation execution patches each location's groups whole)"
            : plan.Rollout.ImageSource != "EksLatest" ? $"its rollout builds images ({plan.Rollout.ImageSource}); the fleet runbook patches onto the latest EKS-optimized AMIs"
            : plan.Rollout.DrainTimeout != defaults.DrainTimeout || plan.Rollout.ReadyTimeout != defaults.ReadyTimeout || plan.Rollout.MinReadyTime != defaults.MinReadyTime
                ? "its rollout sets drainTimeout, readyTimeout or minReadyTime, which the fleet runbook takes no parameter for (it uses Invoke-WinEksPatch's defaults)"
            : plan.Waves.FirstOrDefault(w => w.Gates.NodesReady != gates.NodesReady || w.Gates.PodsReady != gates.PodsReady || w.Gates.NoPendingPods != gates.NoPendingPods
                || w.Gates.PodReadyTimeout != gates.PodReadyTimeout) is { } wave
                ? $"wave {wave.Name} turns a gate off or sets podReadyTimeout, which the fleet runbook takes no parameter for (it reads every gate)"
            : null;
        if (problem is not null)
        {
            throw new WinEksPatchException(ErrorIds.FleetPlanInvalid, ErrorKind.InvalidArgument,
                $"Plan {plan.Name} cannot run on SSM Automation: {problem}. Run it with -Engine Local, or change the plan.", plan.Name);
        }
    }

    internal static Task Checkpoint(FleetRunOptions options, WinEksFleetReport report) =>
        options.Checkpoint is { } write ? write(report) : Task.CompletedTask;

    private static WinEksFleetReport NewReport(WinEksFleetPlan plan, WinEksFleetReport? resume)
    {
        if (resume is not null && resume.PlanName != plan.Name)
        {
            throw new WinEksPatchException(ErrorIds.FleetPlanInvalid, ErrorKind.InvalidArgument,
                $"-ResumeFrom: the report is of plan '{resume.PlanName}', and this plan is '{plan.Name}'. Nothing was changed.", resume.PlanName);
        }

        var done = new HashSet<string>((resume?.Waves ?? []).SelectMany(w => w.Targets)
            .Where(t => t.Result is nameof(FleetTargetResult.Succeeded) or nameof(FleetTargetResult.AlreadyDone)).Select(t => t.Key), StringComparer.Ordinal);
        return new WinEksFleetReport
        {
            PlanName = plan.Name,
            Result = "Running",
            Waves = [.. plan.Waves.Select(w => new WinEksFleetWaveReport
            {
                Name = w.Name,
                Targets = [.. w.Targets.Select(t => new WinEksFleetTargetReport
                {
                    ProfileName = t.ProfileName,
                    Region = t.Region,
                    ClusterName = t.ClusterName,
                    Result = done.Contains(t.Key) ? nameof(FleetTargetResult.AlreadyDone) : nameof(FleetTargetResult.NotStarted),
                })],
            })],
        };
    }

    /// <summary>Connects to every target still to do and checks it; the first that fails stops the plan before any change.</summary>
    private async Task PreflightAsync(WinEksFleetPlan plan, WinEksFleetReport report,
        Dictionary<string, (IFleetTarget Session, IReadOnlyList<string> Groups)> sessions, IWorkflowHost host, CancellationToken cancellationToken)
    {
        report.StartedAt = time.GetUtcNow();
        var toDo = plan.Waves.SelectMany((w, i) => w.Targets.Where((t, j) => report.Waves[i].Targets[j].Result != nameof(FleetTargetResult.AlreadyDone))
            .Select((t, k) => (Target: t, Canary: w.Canary && k == 0, Alarms: w.Gates.AlarmsFor(t)))).ToList();
        int checkedCount = 0;
        foreach (var (target, canary, alarms) in toDo)
        {
            host.Progress(new ProgressUpdate(1, $"Fleet plan {plan.Name}", $"Checking {target.Key}", 100 * checkedCount++ / Math.Max(1, toDo.Count)));
            IFleetTarget session = connect(target);
            sessions[target.Key] = (session, []);
            var groups = await session.PreflightAsync(cancellationToken).ConfigureAwait(false);
            sessions[target.Key] = (session, groups);
            if (canary && session.CanaryGroup is null)
            {
                throw new WinEksPatchException(ErrorIds.FleetTargetInvalid, ErrorKind.InvalidOperation,
                    $"Target {target.Key} starts a canary wave, and none of its groups ({string.Join(", ", groups)}) is self-managed: a canary replaces one " +
                    "node and soaks it, and an EKS managed update cannot stop after one node. Put a target with a self-managed group first.", target.Key);
            }

            var missing = await GateSoak.MissingAlarmsAsync(session, alarms, cancellationToken).ConfigureAwait(false);
            if (missing.Count > 0)
            {
                throw new WinEksPatchException(ErrorIds.FleetTargetInvalid, ErrorKind.ObjectNotFound,
                    $"Target {target.Key}: its wave's alarm gate names {string.Join(", ", missing)}, and {(missing.Count == 1 ? "that alarm does" : "those alarms do")} " +
                    $"not exist in the target's account and region ({target.Region}). An alarm gate reads the target's own alarms.", target.Key);
            }

            host.Verbose($"{target.Key}: ready; groups {string.Join(", ", groups)}{(canary ? $"; the canary is a node of {session.CanaryGroup}" : "")}.");
        }

        host.Progress(new ProgressUpdate(1, $"Fleet plan {plan.Name}", "Checked", Completed: true));
    }
}
