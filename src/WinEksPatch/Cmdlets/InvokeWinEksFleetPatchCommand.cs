using System.Management.Automation;
using System.Text.Json;
using System.Text.Json.Serialization;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Workflows.FleetPlan;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Runs a fleet plan from this session: every target's patch cycle, wave by wave, in its maintenance window, under the health gates, rolling back what fails.</para>
/// <para type="description">Before the first change anywhere, every target is reached with its own profile and region
/// and checked: its cluster exists and the groups named are Windows groups of it (FleetTargetInvalid otherwise, and
/// nothing is changed). Then the waves run in order. A wave waits for its maintenance window and starts no target in
/// the window's cutoff; it runs up to MaxConcurrency targets at once, each one Invoke-WinEksPatch's cycle with the
/// plan's rollout (the same safety: the Lease per group, the capacity floor, drains that honour PodDisruptionBudgets).
/// After its cycle a target soaks: the health gates are read every minute for the wave's SoakTime (its patched groups'
/// Windows nodes Ready and usable; workload pods on them Ready, not two readings in a row unready; restarts not rising
/// by more than MaxRestartIncrease; no pod Pending for lack of a node two readings in a row). A target whose cycle or
/// gate fails is rolled back: each group it changed is patched back to the AMI it ran before, with the same safe
/// rollout (unless the plan has rollback: false). Once a wave has more failed targets than its MaxErrors, no further
/// target starts, the running ones are awaited, and later waves never start.</para>
/// <para type="description">Emits one WinEksFleetReport: per wave and target, the result (Succeeded, Failed,
/// RolledBack, Stopped, NotStarted, AlreadyDone), the times, the target's own patch report (and its rollback's), and
/// the gate that failed with its evidence. -ReportPath writes it as JSON after every target, so a run that is stopped
/// or killed leaves it; -ResumeFrom takes it back: targets that succeeded then are not patched again. A plan that
/// failed ends the cmdlet with FleetPlanFailed after the report was emitted (it ends a script as throw does).
/// -Force asks nothing and overrides nothing. -WhatIf changes nothing: each target's cycle writes its plan.</para>
/// <para type="description">-Engine SsmAutomation hands the waves to SSM Automation instead: after the same checks, each
/// wave (in its maintenance window) is one execution of the WinEksPatch-Fleet runbook, started in the central account
/// (-AutomationProfileName, -AutomationRegion) with TargetLocations (the wave's accounts and Regions,
/// TargetLocationMaxConcurrency and TargetLocationMaxErrors from its MaxConcurrency and MaxErrors) and followed until it
/// ends; the next wave starts only after it succeeded. Each account and Region patches, soaks under the wave's gates and
/// rolls back its own targets; the report says per target what its location's execution did, with each wave's
/// AutomationExecutionId. -StopAlarmName stops an execution when a central alarm goes into ALARM. A stopped session
/// leaves the execution running in AWS, and -ResumeFrom follows it. Canary waves and image builds need the local engine
/// (FleetPlanInvalid before any change).</para>
/// </summary>
/// <example>
///   <code>Get-WinEksCluster -ProfileName dev | New-WinEksFleetPlan -Name dev-accounts | Invoke-WinEksFleetPatch -ReportPath (Join-Path ([IO.Path]::GetTempPath()) 'fleet-report.json') -Force</code>
///   <para>Patches the dev account's clusters of its home region unattended; the report is on disk after every target.</para>
/// </example>
/// <example>
///   <code>Get-WinEksCluster -ProfileName dev | New-WinEksFleetPlan -Name dev-accounts | Invoke-WinEksFleetPatch -ResumeFrom (Join-Path ([IO.Path]::GetTempPath()) 'fleet-report.json') -Force</code>
///   <para>After a stop or a crash: runs the plan again, skipping the targets the earlier run finished (here: all of them).</para>
/// </example>
/// <example>
///   <code>'dev', 'staging', 'prod' | ForEach-Object { Get-WinEksCluster -ProfileName $_ -Region us-west-2 } | New-WinEksFleetPlan -Name all -WaveBy ProfileName -WaveOrder dev, staging, prod | Invoke-WinEksFleetPatch -WhatIf</code>
///   <para>What a plan across three accounts would do, wave by wave, without changing anything.</para>
/// </example>
/// <example>
///   <code>'staging', 'prod' | ForEach-Object { Get-WinEksCluster -ProfileName $_ -Region us-west-2 } | New-WinEksFleetPlan -Name handed -WaveBy ProfileName -WaveOrder staging, prod -SoakTime 00:30:00 | Invoke-WinEksFleetPatch -Engine SsmAutomation -StopAlarmName dev-usw2-windows-5xx -WhatIf</code>
///   <para>The SSM Automation execution each wave would start (document, TargetLocations, parameters, the alarm that stops
///   it), after checking every target; nothing is started.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "WinEksFleetPatch", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = "Plan")]
[OutputType(typeof(WinEksFleetReport))]
public sealed class InvokeWinEksFleetPatchCommand : WinEksPatchCmdlet
{
    /// <summary>The plan (New-WinEksFleetPlan's or Import-WinEksFleetPlan's).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "Plan")]
    public WinEksFleetPlan? Plan { get; set; }

    /// <summary>A plan file (JSON or YAML), read as Import-WinEksFleetPlan reads it.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Path")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Where to write the report (JSON), after every target and at the end; its folder is created.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ReportPath { get; set; }

    /// <summary>The report of an earlier run of the same plan: its succeeded targets are not patched again.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ResumeFrom { get; set; }

    /// <summary>Asks nothing (overrides nothing).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Local (default): this session runs every target. SsmAutomation: each wave is one execution of the fleet
    /// runbook, started in the central account (-AutomationProfileName, -AutomationRegion) with TargetLocations; this
    /// session checks the plan first, starts the waves in order and follows them.</summary>
    [Parameter]
    [ValidateSet("Local", "SsmAutomation")]
    public string Engine { get; set; } = "Local";

    /// <summary>With -Engine SsmAutomation: the fleet runbook's SSM document name in the central account.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string DocumentName { get; set; } = "WinEksPatch-Fleet";

    /// <summary>With -Engine SsmAutomation: the role each target account runs its execution with (TargetLocations'
    /// ExecutionRoleName; AWS-SystemsManager-AutomationExecutionRole when omitted).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ExecutionRoleName { get; set; }

    /// <summary>With -Engine SsmAutomation: a CloudWatch alarm of the central account that stops a wave's execution
    /// (running locations cancelled, no other started) when it goes into ALARM.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StopAlarmName { get; set; }

    /// <summary>With -Engine SsmAutomation: the profile of the central account the executions start in (the default
    /// identity when omitted).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ProfileNameCompleter))]
    public string? AutomationProfileName { get; set; }

    /// <summary>With -Engine SsmAutomation: the central Region the executions start in.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.RegionCompleter))]
    public string? AutomationRegion { get; set; }

    private WinEksFleetPlan? _plan;

    protected override void ProcessRecord()
    {
        if (Plan is not null && _plan is not null && !ReferenceEquals(Plan, _plan))
        {
            ThrowTerminatingError(ToErrorRecord(new WinEksPatchException(ErrorIds.FleetPlanInvalid, ErrorKind.InvalidArgument,
                $"The pipeline brought a second plan ({_plan.Name}, then {Plan.Name}): a run takes one plan. Nothing was changed.", Plan.Name)));
        }

        _plan = Plan ?? _plan;
    }

    protected override void EndProcessing()
    {
        try
        {
            // A file is checked as it is read; a plan object may have been changed since it was built.
            var plan = _plan is null ? Guard(() => FleetPlanFile.Read(FileSystemPath(Path!) ?? Path!)) : Guard(() =>
            {
                FleetPlanValidator.Validate(_plan, $"'{_plan.Name}'");
                return _plan;
            });
            if (Engine == "Local" && new[] { (nameof(ExecutionRoleName), ExecutionRoleName), (nameof(StopAlarmName), StopAlarmName),
                (nameof(AutomationProfileName), AutomationProfileName), (nameof(AutomationRegion), AutomationRegion) }.FirstOrDefault(p => p.Item2 != null) is { Item1: { } given })
            {
                ThrowTerminatingError(ToErrorRecord(new WinEksPatchException(ErrorIds.FleetPlanInvalid, ErrorKind.InvalidArgument,
                    $"-{given} goes with -Engine SsmAutomation; the local engine runs every target from this session. Nothing was changed.", given)));
            }

            var reportPath = ReportPath == null ? null : Guard(() => ReportFile.Prepare(ReportPath, FileSystemPath(ReportPath)));
            var resume = ResumeFrom == null ? null : Guard(() => ReadReport(ResumeFrom, FileSystemPath(ResumeFrom)));
            var options = new FleetRunOptions
            {
                Replacement = new ReplacementOptions
                {
                    MaxSurge = RolloutLimit.Parse(plan.Rollout.MaxSurge, "maxSurge"),
                    MaxUnavailable = RolloutLimit.Parse(plan.Rollout.MaxUnavailable, "maxUnavailable"),
                    DrainTimeout = plan.Rollout.DrainTimeout,
                    ReadyTimeout = plan.Rollout.ReadyTimeout,
                    MinReadyTime = plan.Rollout.MinReadyTime,
                    WhatIf = WhatIfGiven,
                    LimitsGiven = true,
                },
                ResumeFrom = resume,
                Checkpoint = reportPath == null ? null : report => WriteReportAsync(reportPath, report),
            };

            if (Force)
            {
                ConfirmPreferenceOverride();
            }

            var targets = plan.AllTargets.ToList();
            if (!WhatIfGiven)
            {
                if (!ShouldChange(plan.Name, "Patch the fleet plan",
                    $"Patch {targets.Count} cluster(s) in {plan.Waves.Count} wave(s){(Engine == "SsmAutomation" ? $" on SSM Automation ({DocumentName}, one execution per wave)" : "")}: " +
                    string.Join("; ", plan.Waves.Select(w => $"{w.Name}: {string.Join(", ", w.Targets.Select(t => t.Key))}"))))
                {
                    return;
                }

                ConfirmPreferenceOverride(); // yes to the plan is yes to each of its groups: no prompt per group
            }

            // The session's clock is the simulator's once it is attached: a script attached through the environment is
            // attached here, before the clock is read (read earlier, it was the wall clock, and every EKS token the run
            // signed was minutes old to a simulator running faster: 401 part-way through the first rollout).
            ModuleEnvironment.AttachFromEnvironment();
            var time = ModuleEnvironment.Time;
            using var central = Engine == "SsmAutomation" ? Guard(() => new Connections(new Aws.AwsConnectionOptions(AutomationRegion, AutomationProfileName), time: time)) : null;
            if (central is not null)
            {
                options = options with { Ssm = new SsmFleetEngine(central.Aws.Ssm(), DocumentName, ExecutionRoleName, StopAlarmName) };
            }

            var run = new FleetPatchRun(target => new ConnectedFleetTarget(target, time), time);
            FleetRunOutcome? outcome = null;
            RunWorkflow(async (host, token) =>
            {
                outcome = await run.RunAsync(plan, options, host, token).ConfigureAwait(false); // its last checkpoint wrote -ReportPath
                token.ThrowIfCancellationRequested();
                host.Output(outcome.Report);
            });

            if (outcome?.Failure is { } failure)
            {
                DebugOrigin(failure);
                var error = new WinEksPatchException(ErrorIds.FleetPlanFailed, failure.Kind, $"The fleet plan {plan.Name} failed: {failure.Message}", plan.Name, failure);
                var exception = new WinEksPatchErrorException(error.Message, error);
                var record = new ErrorRecord(exception, $"{error.ErrorId},{typeof(InvokeWinEksFleetPatchCommand).FullName}", ToCategory(error.Kind), plan.Name);
                throw new RuntimeException(error.Message, exception, record) { WasThrownFromThrowStatement = true };
            }
        }
        finally
        {
            base.EndProcessing();
        }
    }

    /// <summary>Written to a file beside it, then moved over it: a run killed mid-write leaves the previous report whole.</summary>
    private static async Task WriteReportAsync(string path, WinEksFleetReport report)
    {
        var temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, JsonSerializer.Serialize(report, ReportFile.Json)).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The parts of an earlier report a resume needs: the plan's name, each target's result, and each wave's
    /// result and SSM Automation execution.</summary>
    private static WinEksFleetReport ReadReport(string given, string? path)
    {
        try
        {
            var saved = JsonSerializer.Deserialize<SavedReport>(File.ReadAllText(path ?? given), ReportFile.Json)
                ?? throw new JsonException("the file is empty");
            return new WinEksFleetReport
            {
                PlanName = saved.PlanName ?? "",
                Waves = [.. (saved.Waves ?? []).Select(w => new WinEksFleetWaveReport
                {
                    Name = w.Name ?? "",
                    // -Engine SsmAutomation: a wave whose execution the earlier run left running is followed, not started again.
                    Result = w.Result ?? "NotStarted",
                    AutomationExecutionId = w.AutomationExecutionId,
                    AutomationClientToken = w.AutomationClientToken,
                    Targets = [.. (w.Targets ?? []).Select(t => new WinEksFleetTargetReport
                    {
                        ProfileName = t.ProfileName,
                        Region = t.Region ?? "",
                        ClusterName = t.ClusterName ?? "",
                        Result = t.Result ?? nameof(FleetTargetResult.NotStarted),
                    })],
                })],
            };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new WinEksPatchException(ErrorIds.FleetPlanInvalid, ErrorKind.InvalidArgument,
                $"-ResumeFrom: '{given}' is not a fleet report this cmdlet wrote ({ex.Message}). Nothing was changed.", given, ex);
        }
    }

    private sealed record SavedReport(string? PlanName, List<SavedWave>? Waves);

    private sealed record SavedWave(string? Name, string? Result, string? AutomationExecutionId, string? AutomationClientToken, List<SavedTarget>? Targets);

    private sealed record SavedTarget(string? ProfileName, string? Region, string? ClusterName, string? Result);
}
