using System.Collections.Concurrent;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Workflows;
using WinEksPatch.Workflows.FleetPlan;
using WinEksPatch.Workflows.Replacement;
using WinEksPatch.Tests.Workflows;

namespace WinEksPatch.Tests.FleetPlan;

public sealed class FleetPatchRunTests
{
    private static readonly DateTimeOffset Monday = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);

    /// <summary>What every fake target did, in order, across targets.</summary>
    private readonly ConcurrentQueue<string> _calls = new();
    private int _inFlight;
    private int _mostInFlight;

    private sealed class FakeTarget(WinEksFleetTarget target, FleetPatchRunTests test) : IFleetTarget
    {
        public WinEksFleetTarget Target => target;

        public string? CanaryGroup { get; init; } = "win";

        /// <summary>The account a profile reaches: dev 111122223333, prod 777788889999.</summary>
        public string? AccountId => target.ProfileName == "prod" ? "777788889999" : "111122223333";

        public Func<IReadOnlyList<string>>? Preflight { get; init; }

        public bool CycleFails { get; init; }

        /// <summary>Its rollback leaves the group on the new AMI (a managed group of an EKS AMI type).</summary>
        public bool RollbackMisses { get; init; }

        /// <summary>Reading the gates fails (after the reading before the cycle).</summary>
        public bool GatesThrow { get; init; }

        /// <summary>The cycle waits for this before it ends (a test stops the run meanwhile).</summary>
        public TaskCompletionSource? Hold { get; init; }

        public List<KubeNode> NodesAfter { get; init; } = [HealthGateWatchTests.Node("n1")];

        /// <summary>The pods of the n-th gate reading (from 0).</summary>
        public Func<int, List<KubePod>> PodsAfter { get; init; } = _ => [];

        /// <summary>The alarms that exist, by the n-th alarm reading (from 0); none by default.</summary>
        public Func<int, IReadOnlyList<CloudWatchAlarm>> AlarmsAt { get; init; } = _ => [];

        private int _readings;
        private int _alarmReadings;

        public Task<IReadOnlyList<CloudWatchAlarm>> ReadAlarmsAsync(IReadOnlyList<string> names, CancellationToken cancellationToken)
        {
            test._calls.Enqueue($"alarms {target.ClusterName}: {string.Join(",", names)}");
            return Task.FromResult<IReadOnlyList<CloudWatchAlarm>>([.. AlarmsAt(_alarmReadings++).Where(a => names.Contains(a.Name))]);
        }

        public Task<IReadOnlyList<string>> PreflightAsync(CancellationToken cancellationToken)
        {
            test._calls.Enqueue($"check {target.ClusterName}");
            return Task.FromResult(Preflight?.Invoke() ?? ["win"]);
        }

        public async Task<PatchCycleOutcome> PatchAsync(IReadOnlyList<string> groups, WinEksFleetRollout rollout, string? imageId, ReplacementOptions options,
            IWorkflowHost host, CancellationToken cancellationToken)
        {
            test._calls.Enqueue($"{(options.WhatIf ? "plan" : options.NodeLimit is 1 ? "canary" : imageId is null ? "patch" : "rollback")} {target.ClusterName}{(imageId is null ? "" : " to " + imageId)}");
            int now = Interlocked.Increment(ref test._inFlight);
            InterlockedMax(ref test._mostInFlight, now);
            await Task.Delay(30, CancellationToken.None); // real time: targets of a wave overlap
            if (Hold is { } hold)
            {
                await hold.Task;
            }

            Interlocked.Decrement(ref test._inFlight);
            var report = new WinEksPatchReport { ClusterName = target.ClusterName, ImageSource = imageId ?? "EksLatest", StartedAt = Monday };
            bool fails = CycleFails && imageId is null;
            report.Groups.Add(new WinEksPatchGroupReport
            {
                NodeGroupName = groups[0],
                Kind = "SelfManaged",
                BeforeImageId = "ami-old",
                TargetImageId = imageId ?? "ami-new",
                AfterImageId = options.WhatIf ? null : fails ? "ami-old" : imageId is not null && RollbackMisses ? "ami-new" : imageId ?? "ami-new",
                Outcome = options.WhatIf ? GroupPatchResult.Planned : fails ? GroupPatchResult.Failed : GroupPatchResult.Patched,
            });
            return new PatchCycleOutcome(report, fails ? new WinEksPatchException(ErrorIds.CapacityBelowFloor, ErrorKind.InvalidOperation, "the floor held", target.ClusterName) : null);
        }

        public Task<(IReadOnlyList<KubeNode> Nodes, IReadOnlyList<KubePod> PodsOnNodes, IReadOnlyList<KubePod> PendingPods)> ReadHealthAsync(
            IReadOnlyList<string> groups, CancellationToken cancellationToken)
        {
            test._calls.Enqueue($"gates {target.ClusterName}");
            if (GatesThrow && _readings > 0)
            {
                throw new HttpRequestException("the Kubernetes API answered 503");
            }

            return Task.FromResult<(IReadOnlyList<KubeNode>, IReadOnlyList<KubePod>, IReadOnlyList<KubePod>)>((NodesAfter, PodsAfter(_readings++), []));
        }

        public void Dispose() => test._calls.Enqueue($"close {target.ClusterName}");

        private static void InterlockedMax(ref int field, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref field)) < value && Interlocked.CompareExchange(ref field, value, seen) != seen)
            {
            }
        }
    }

    private static WinEksFleetTarget Target(string cluster, string profile = "dev") => new() { ProfileName = profile, Region = "us-west-2", ClusterName = cluster };

    private static WinEksFleetPlan Plan(params WinEksFleetWave[] waves) => new() { Name = "p", Waves = [.. waves] };

    private static WinEksFleetWave Wave(string name, params string[] clusters) => new() { Name = name, Targets = [.. clusters.Select(c => Target(c))] };

    private FleetPatchRun Run(Func<WinEksFleetTarget, FakeTarget>? make = null, TimeProvider? time = null) =>
        new(t => make?.Invoke(t) ?? new FakeTarget(t, this), time ?? new InstantTime(Monday));

    private static FleetRunOptions Options(bool whatIf = false, WinEksFleetReport? resume = null) =>
        new() { Replacement = new ReplacementOptions { WhatIf = whatIf }, ResumeFrom = resume };

    private List<string> Calls(string prefix) => [.. _calls.Where(c => c.StartsWith(prefix, StringComparison.Ordinal))];

    [Fact]
    public async Task Waves_run_in_order_each_target_patched_then_gated_and_the_plan_succeeds()
    {
        var plan = Plan(Wave("dev", "a", "b"), Wave("prod", "c"));
        FleetRunOutcome outcome = await Run().RunAsync(plan, Options(), new RecordingHost());

        Assert.Null(outcome.Failure);
        Assert.Equal("Succeeded", outcome.Report.Result);
        Assert.Equal(["check a", "check b", "check c"], Calls("check"));
        // The gates are read before each cycle too: what was Pending before it is not its doing.
        Assert.Equal(["gates a", "patch a", "gates a", "gates b", "patch b", "gates b", "gates c", "patch c", "gates c"],
            _calls.Where(c => c.StartsWith("patch", StringComparison.Ordinal) || c.StartsWith("gates", StringComparison.Ordinal)));
        Assert.All(outcome.Report.Waves.SelectMany(w => w.Targets), t => Assert.Equal("Succeeded", t.Result));
        Assert.Equal(3, Calls("close").Count);
    }

    [Fact]
    public async Task A_wave_runs_no_more_targets_at_once_than_its_MaxConcurrency()
    {
        var wave = Wave("all", "a", "b", "c", "d", "e");
        wave.MaxConcurrency = 2;
        FleetRunOutcome outcome = await Run().RunAsync(Plan(wave), Options(), new RecordingHost());
        Assert.Equal("Succeeded", outcome.Report.Result);
        Assert.Equal(2, _mostInFlight);
    }

    [Fact]
    public async Task A_target_that_cannot_be_checked_stops_the_plan_before_any_change()
    {
        var plan = Plan(Wave("dev", "a"), Wave("prod", "missing"));
        FleetRunOutcome outcome = await Run(t => new FakeTarget(t, this)
        {
            Preflight = t.ClusterName == "missing"
                ? () => throw new WinEksPatchException(ErrorIds.FleetTargetInvalid, ErrorKind.ObjectNotFound, "Target dev/us-west-2/missing: No EKS cluster named 'missing'.", t.Key)
                : null,
        }).RunAsync(plan, Options(), new RecordingHost());

        Assert.Equal(ErrorIds.FleetTargetInvalid, outcome.Failure!.ErrorId);
        Assert.Equal("Failed", outcome.Report.Result);
        Assert.StartsWith("Before any change: ", outcome.Report.Error, StringComparison.Ordinal);
        Assert.Empty(Calls("patch"));
        Assert.All(outcome.Report.Waves.SelectMany(w => w.Targets), t => Assert.Equal("NotStarted", t.Result));
    }

    [Fact]
    public async Task A_failed_cycle_is_rolled_back_and_over_MaxErrors_nothing_else_starts()
    {
        var plan = Plan(Wave("dev", "a", "b"), Wave("prod", "c"));
        FleetRunOutcome outcome = await Run(t => new FakeTarget(t, this) { CycleFails = t.ClusterName == "a" }).RunAsync(plan, Options(), new RecordingHost());

        Assert.Equal(ErrorIds.FleetPlanFailed, outcome.Failure!.ErrorId);
        Assert.Contains("Later waves did not start", outcome.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(["patch a", "rollback a to ami-old"], _calls.Where(c => c.StartsWith("patch", StringComparison.Ordinal) || c.StartsWith("rollback", StringComparison.Ordinal)));
        var a = outcome.Report.Waves[0].Targets[0];
        Assert.Equal(("RolledBack", "the floor held"), (a.Result, a.Error));
        Assert.Single(a.RollbackReports);
        Assert.Equal(("Failed", "NotStarted", "NotStarted"), (outcome.Report.Waves[0].Result, outcome.Report.Waves[0].Targets[1].Result, outcome.Report.Waves[1].Result));
    }

    [Fact]
    public async Task Within_MaxErrors_the_wave_completes_with_errors_and_the_plan_goes_on()
    {
        var dev = Wave("dev", "a", "b");
        dev.MaxErrors = 1;
        var plan = Plan(dev, Wave("prod", "c"));
        plan.Rollback = false;
        FleetRunOutcome outcome = await Run(t => new FakeTarget(t, this) { CycleFails = t.ClusterName == "a" }).RunAsync(plan, Options(), new RecordingHost());

        Assert.Null(outcome.Failure);
        Assert.Equal("CompletedWithErrors", outcome.Report.Result);
        Assert.Equal(("CompletedWithErrors", 1), (outcome.Report.Waves[0].Result, outcome.Report.Waves[0].Errors));
        Assert.Equal("Failed", outcome.Report.Waves[0].Targets[0].Result);
        Assert.Empty(Calls("rollback"));
        Assert.Equal(["patch a", "patch b", "patch c"], Calls("patch"));
    }

    [Fact]
    public async Task A_rollback_that_leaves_the_group_on_the_new_AMI_is_not_reported_as_one()
    {
        FleetRunOutcome outcome = await Run(t => new FakeTarget(t, this) { CycleFails = true, RollbackMisses = true }).RunAsync(Plan(Wave("dev", "a")), Options(), new RecordingHost());
        var a = outcome.Report.Waves[0].Targets[0];
        Assert.Equal("Failed", a.Result);
        Assert.Contains("Not rolled back: win runs ami-new after its rollback, not ami-old", a.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_error_while_a_target_soaks_fails_that_target_and_counts_against_MaxErrors()
    {
        var dev = Wave("dev", "a", "b");
        dev.SoakTime = TimeSpan.FromMinutes(5);
        FleetRunOutcome outcome = await Run(t => new FakeTarget(t, this) { GatesThrow = t.ClusterName == "a" }).RunAsync(Plan(dev, Wave("prod", "c")), Options(), new RecordingHost());

        Assert.Equal(ErrorIds.FleetPlanFailed, outcome.Failure!.ErrorId);
        var a = outcome.Report.Waves[0].Targets[0];
        Assert.Equal("Failed", a.Result);
        Assert.Contains("503", a.Error, StringComparison.Ordinal);
        Assert.Equal(["patch a"], Calls("patch"));
        Assert.Equal("NotStarted", outcome.Report.Waves[1].Result);
    }

    [Fact]
    public async Task A_stop_awaits_the_target_that_runs_and_reports_it_Stopped()
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        Task<FleetRunOutcome> run = Run(t => new FakeTarget(t, this) { Hold = t.ClusterName == "a" ? hold : null })
            .RunAsync(Plan(Wave("dev", "a", "b")), Options(), new RecordingHost(), stop.Token);
        while (!Calls("patch").Contains("patch a"))
        {
            await Task.Delay(5);
        }

        await stop.CancelAsync();
        await Task.Delay(100);
        Assert.False(run.IsCompleted, "the run waits for the target it started");
        Assert.DoesNotContain("close a", _calls);
        hold.SetResult();
        FleetRunOutcome outcome = await run;
        Assert.Equal((ErrorKind.OperationStopped, "Stopped"), (outcome.Failure!.Kind, outcome.Report.Result));
        Assert.Contains("close a", _calls);
        Assert.Empty(Calls("patch b"));
        Assert.Equal("NotStarted", outcome.Report.Waves[0].Targets[1].Result);
    }

    [Fact]
    public async Task A_gate_that_fails_during_the_soak_names_itself_with_its_evidence_and_the_target_is_rolled_back()
    {
        var wave = Wave("dev", "a");
        wave.SoakTime = TimeSpan.FromMinutes(10);
        FleetRunOutcome outcome = await Run(t => new FakeTarget(t, this) { NodesAfter = [HealthGateWatchTests.Node("n1", ready: false)] })
            .RunAsync(Plan(wave), Options(), new RecordingHost());

        var a = outcome.Report.Waves[0].Targets[0];
        Assert.Equal(("RolledBack", "NodesReady", "n1 NotReady"), (a.Result, a.FailedGate, a.GateEvidence));
        Assert.Equal(["rollback a to ami-old"], Calls("rollback"));
        Assert.Equal("Failed", outcome.Report.Result);
    }

    private static CloudWatchAlarm Alarm(string name, string state = "OK") =>
        new(name, state, state == "ALARM" ? "Threshold Crossed: 1 out of the last 3 datapoints was greater than the threshold (50.0)" : "fine", Monday);

    private static WinEksFleetWave AlarmWave(string name, params string[] clusters)
    {
        var wave = Wave(name, clusters);
        wave.SoakTime = TimeSpan.FromMinutes(10);
        wave.Gates.Alarms = ["{ClusterName}-5xx"];
        return wave;
    }

    [Fact]
    public async Task An_alarm_that_trips_during_the_soak_fails_the_alarm_gate_and_the_target_is_rolled_back_and_the_plan_stops()
    {
        // Readings: the pre-flight's, the target's start, then the soak's; it trips at the soak's second reading.
        FleetRunOutcome outcome = await Run(t => new FakeTarget(t, this) { AlarmsAt = n => [Alarm($"{t.ClusterName}-5xx", n >= 3 ? "ALARM" : "OK")] })
            .RunAsync(Plan(AlarmWave("dev", "a"), AlarmWave("prod", "b")), Options(), new RecordingHost());

        var a = outcome.Report.Waves[0].Targets[0];
        Assert.Equal(("RolledBack", "Alarms"), (a.Result, a.FailedGate));
        Assert.Equal("a-5xx in ALARM since 2026-12-07 09:00:00Z: Threshold Crossed: 1 out of the last 3 datapoints was greater than the threshold (50.0)", a.GateEvidence);
        Assert.Equal(["rollback a to ami-old"], Calls("rollback"));
        Assert.Equal(["patch a"], Calls("patch"));
        Assert.Equal("Failed", outcome.Report.Result);
        // Each target's own alarm, its name filled in from the target; the later wave was checked, and never started.
        Assert.Contains("alarms b: b-5xx", _calls);
        Assert.Equal(["alarms a: a-5xx"], Calls("alarms a").Distinct());
    }

    [Fact]
    public async Task A_target_whose_alarm_is_in_ALARM_does_not_start_and_nothing_of_it_changes()
    {
        var wave = AlarmWave("dev", "a", "b");
        wave.MaxErrors = 1;
        FleetRunOutcome outcome = await Run(t => new FakeTarget(t, this) { AlarmsAt = n => [Alarm($"{t.ClusterName}-5xx", t.ClusterName == "a" && n >= 1 ? "ALARM" : "OK")] })
            .RunAsync(Plan(wave), Options(), new RecordingHost());

        var a = outcome.Report.Waves[0].Targets[0];
        Assert.Equal(("Failed", "Alarms"), (a.Result, a.FailedGate));
        Assert.StartsWith("Not started, nothing changed: the Alarms gate failed: a-5xx in ALARM", a.Error);
        Assert.Null(a.Report);
        Assert.Equal(["patch b"], Calls("patch"));
        Assert.Empty(Calls("rollback"));
        Assert.Equal("Succeeded", outcome.Report.Waves[0].Targets[1].Result);
    }

    [Fact]
    public async Task An_alarm_with_insufficient_data_holds_the_gate()
    {
        FleetRunOutcome outcome = await Run(t => new FakeTarget(t, this) { AlarmsAt = _ => [Alarm("a-5xx", "INSUFFICIENT_DATA")] })
            .RunAsync(Plan(AlarmWave("dev", "a")), Options(), new RecordingHost());
        Assert.Equal("Succeeded", outcome.Report.Result);
        Assert.True(Calls("alarms a").Count >= 4, "read before the run, at the start, and at each reading of the soak");
    }

    [Fact]
    public async Task An_alarm_gate_naming_an_alarm_that_does_not_exist_stops_the_plan_before_any_change()
    {
        FleetRunOutcome outcome = await Run(t => new FakeTarget(t, this) { AlarmsAt = _ => t.ClusterName == "b" ? [] : [Alarm($"{t.ClusterName}-5xx")] })
            .RunAsync(Plan(AlarmWave("dev", "a"), AlarmWave("prod", "b")), Options(), new RecordingHost());

        Assert.Equal(ErrorIds.FleetTargetInvalid, outcome.Failure?.ErrorId);
        Assert.Contains("its wave's alarm gate names b-5xx, and that alarm does not exist in the target's account and region (us-west-2)", outcome.Failure!.Message);
        Assert.Empty(Calls("patch"));
        Assert.Empty(Calls("canary"));
    }

    [Fact]
    public async Task The_gates_are_read_every_interval_for_the_whole_soak()
    {
        var wave = Wave("dev", "a");
        wave.SoakTime = TimeSpan.FromMinutes(10);
        var time = new InstantTime(Monday);
        FleetRunOutcome outcome = await Run(time: time).RunAsync(Plan(wave), Options() with { GateInterval = TimeSpan.FromMinutes(2) }, new RecordingHost());
        Assert.Equal("Succeeded", outcome.Report.Result);
        Assert.Equal(1 + 6, Calls("gates").Count); // before the cycle, then at 0, 2, 4, 6, 8 and 10 minutes
        Assert.True(outcome.Report.Waves[0].Targets[0].SoakedUntil >= outcome.Report.Waves[0].Targets[0].StartedAt + wave.SoakTime);
    }

    [Fact]
    public async Task A_soak_goes_on_until_the_pods_that_are_starting_are_Ready()
    {
        // No soak time, but the new node's pod pulls its image for three readings (reading 0 is the one before the cycle).
        KubePod Pulling() => HealthGateWatchTests.Pod("web-1", ready: false, waiting: "ContainerCreating", phase: "Pending");
        FleetRunOutcome outcome = await Run(t => new FakeTarget(t, this) { PodsAfter = n => n is >= 1 and < 4 ? [Pulling()] : [HealthGateWatchTests.Pod("web-1")] })
            .RunAsync(Plan(Wave("dev", "a")), Options(), new RecordingHost());
        Assert.Equal("Succeeded", outcome.Report.Result);
        Assert.Equal(1 + 4, Calls("gates").Count);
    }

    [Fact]
    public async Task A_canary_replaces_one_node_soaks_it_then_the_target_and_the_wave_go_on()
    {
        var wave = Wave("dev", "a", "b");
        wave.Canary = true;
        wave.SoakTime = TimeSpan.FromMinutes(4);
        FleetRunOutcome outcome = await Run().RunAsync(Plan(wave), Options(), new RecordingHost());

        Assert.Equal("Succeeded", outcome.Report.Result);
        Assert.Equal(["canary a", "patch a", "patch b"], _calls.Where(c => c.StartsWith("canary", StringComparison.Ordinal) || c.StartsWith("patch", StringComparison.Ordinal)));
        Assert.NotNull(outcome.Report.Waves[0].Targets[0].CanaryReport);
        Assert.Null(outcome.Report.Waves[0].Targets[1].CanaryReport);
    }

    [Fact]
    public async Task A_canary_that_fails_its_gate_is_rolled_back_and_nothing_else_of_the_plan_runs()
    {
        var wave = Wave("dev", "a", "b");
        wave.Canary = true;
        wave.SoakTime = TimeSpan.FromMinutes(10);
        FleetRunOutcome outcome = await Run(t => new FakeTarget(t, this) { NodesAfter = [HealthGateWatchTests.Node("n1", ready: false)] })
            .RunAsync(Plan(wave, Wave("prod", "c")), Options(), new RecordingHost());

        var a = outcome.Report.Waves[0].Targets[0];
        Assert.Equal(("RolledBack", "NodesReady"), (a.Result, a.FailedGate));
        Assert.StartsWith("the canary's NodesReady gate failed", a.Error, StringComparison.Ordinal);
        Assert.Equal(["canary a", "rollback a to ami-old"], _calls.Where(c => c.StartsWith("canary", StringComparison.Ordinal) || c.StartsWith("patch", StringComparison.Ordinal) || c.StartsWith("rollback", StringComparison.Ordinal)));
        Assert.Equal(("NotStarted", "NotStarted"), (outcome.Report.Waves[0].Targets[1].Result, outcome.Report.Waves[1].Result));
    }

    [Fact]
    public async Task A_canary_wave_whose_first_target_has_no_self_managed_group_is_refused_before_any_change()
    {
        var wave = Wave("dev", "a");
        wave.Canary = true;
        FleetRunOutcome outcome = await Run(t => new FakeTarget(t, this) { CanaryGroup = null }).RunAsync(Plan(wave), Options(), new RecordingHost());
        Assert.Equal(ErrorIds.FleetTargetInvalid, outcome.Failure!.ErrorId);
        Assert.Contains("none of its groups (win) is self-managed", outcome.Failure.Message, StringComparison.Ordinal);
        Assert.Empty(Calls("canary"));
    }

    [Fact]
    public async Task A_wave_waits_for_its_maintenance_window()
    {
        var wave = Wave("prod", "c");
        wave.MaintenanceWindow = new WinEksMaintenanceWindow { Schedule = "cron(0 22 ? * TUE#2 *)", Duration = 4 };
        FleetRunOutcome outcome = await Run().RunAsync(Plan(Wave("dev", "a"), wave), Options(), new RecordingHost());

        var window = new DateTimeOffset(2026, 12, 8, 22, 0, 0, TimeSpan.Zero); // Patch Tuesday, 22:00 UTC
        Assert.Equal(window, outcome.Report.Waves[1].WaitedForWindowUntil);
        Assert.True(outcome.Report.Waves[1].Targets[0].StartedAt >= window);
        Assert.True(outcome.Report.Waves[0].Targets[0].StartedAt < window, "the dev wave has no window");
    }

    [Fact]
    public async Task A_resumed_run_does_not_patch_what_the_earlier_run_finished()
    {
        var plan = Plan(Wave("dev", "a", "b"));
        var earlier = new WinEksFleetReport
        {
            PlanName = "p",
            Waves = [new WinEksFleetWaveReport { Name = "dev", Targets = [new() { ProfileName = "dev", Region = "us-west-2", ClusterName = "a", Result = "Succeeded" }] }],
        };
        FleetRunOutcome outcome = await Run().RunAsync(plan, Options(resume: earlier), new RecordingHost());

        Assert.Equal(["patch b"], Calls("patch"));
        Assert.Equal(["check b"], Calls("check"));
        Assert.Equal(("AlreadyDone", "Succeeded"), (outcome.Report.Waves[0].Targets[0].Result, outcome.Report.Waves[0].Targets[1].Result));

        var other = new WinEksFleetReport { PlanName = "another" };
        var e = await Assert.ThrowsAsync<WinEksPatchException>(() => Run().RunAsync(plan, Options(resume: other), new RecordingHost()));
        Assert.Equal(ErrorIds.FleetPlanInvalid, e.ErrorId);
    }

    [Fact]
    public async Task WhatIf_plans_every_target_and_changes_nothing()
    {
        var wave = Wave("prod", "c");
        wave.MaintenanceWindow = new WinEksMaintenanceWindow { Schedule = "cron(0 22 ? * TUE#2 *)", Duration = 4 };
        FleetRunOutcome outcome = await Run().RunAsync(Plan(Wave("dev", "a"), wave), Options(whatIf: true), new RecordingHost());

        Assert.Equal("Planned", outcome.Report.Result);
        Assert.Equal(["plan a", "plan c"], Calls("plan"));
        Assert.Empty(Calls("patch"));
        Assert.Empty(Calls("gates"));
        Assert.All(outcome.Report.Waves.SelectMany(w => w.Targets), t => Assert.Equal("Planned", t.Result));
        Assert.Equal(new DateTimeOffset(2026, 12, 8, 22, 0, 0, TimeSpan.Zero), outcome.Report.Waves[1].WaitedForWindowUntil);
    }

    /// <summary>SSM Automation as the fleet engine sees it: the executions started, and what each read returns.</summary>
    private sealed class FakeAutomation : ISsmAutomationApi
    {
        public List<AutomationStart> Started { get; } = [];

        /// <summary>The n-th read (from 0) of the execution started n-th (from 0).</summary>
        public Func<int, int, AutomationProgress> Read { get; init; } = (_, _) => new("x", "Success", null, [], []);

        private readonly Dictionary<string, int> _reads = [];

        public Task<string> StartAsync(AutomationStart start, CancellationToken cancellationToken = default)
        {
            Started.Add(start);
            return Task.FromResult($"exec-{Started.Count - 1}");
        }

        public Task<AutomationProgress> GetAsync(string executionId, CancellationToken cancellationToken = default)
        {
            int reads = _reads.GetValueOrDefault(executionId);
            _reads[executionId] = reads + 1;
            return Task.FromResult(Read(int.Parse(executionId[5..], System.Globalization.CultureInfo.InvariantCulture), reads) with { ExecutionId = executionId });
        }
    }

    private static AutomationLocationProgress Location(string account, string region, string status, params AutomationStepProgress[] steps) =>
        new(account, region, status, $"child-{account}-{region}", null, steps);

    private static AutomationStepProgress Step(string name, string status, string? failure = null, string? output = null) =>
        new(name, status, failure, output is null ? new Dictionary<string, IReadOnlyList<string>>() : new Dictionary<string, IReadOnlyList<string>> { ["Status"] = [output] });

    private static FleetRunOptions SsmOptions(ISsmAutomationApi automation, bool whatIf = false, WinEksFleetReport? resume = null) =>
        Options(whatIf, resume) with { Ssm = new SsmFleetEngine(automation, StopAlarmName: "fleet-errors") { PollInterval = TimeSpan.FromSeconds(30) } };

    [Fact]
    public async Task On_SSM_Automation_each_wave_is_one_execution_of_its_accounts_and_Regions_started_after_the_last_succeeded()
    {
        var dev = Wave("dev", "a", "b");
        dev.MaxConcurrency = 2;
        dev.MaxErrors = 1;
        dev.SoakTime = TimeSpan.FromMinutes(30);
        dev.Gates.Alarms = ["{ClusterName}-5xx"];
        var prod = new WinEksFleetWave { Name = "prod", Targets = [Target("c", "prod")] };
        prod.Targets[0].Region = "eu-west-1";
        var automation = new FakeAutomation
        {
            // The first execution is in progress at its first read, then done; the second is done at once.
            Read = (execution, read) => execution == 0 && read == 0
                ? new("", "InProgress", null, [], [Location("111122223333", "us-west-2", "InProgress")])
                : new("", "Success", null, [], execution == 0 ? [Location("111122223333", "us-west-2", "Success")] : [Location("777788889999", "eu-west-1", "Success")]),
        };
        // The pre-flight checks the alarm gate's alarms exist in each target's account and Region, as on the local engine.
        FleetRunOutcome outcome = await Run(t => new FakeTarget(t, this) { AlarmsAt = _ => [Alarm($"{t.ClusterName}-5xx")] })
            .RunAsync(Plan(dev, prod), SsmOptions(automation), new RecordingHost());

        Assert.Null(outcome.Failure);
        Assert.Equal("Succeeded", outcome.Report.Result);
        Assert.Equal(["alarms a: a-5xx", "alarms b: b-5xx"], Calls("alarms"));
        Assert.Equal(2, automation.Started.Count);
        AutomationStart first = automation.Started[0];
        Assert.Equal(("WinEksPatch-Fleet", "2", "1", "fleet-errors"), (first.DocumentName, first.MaxConcurrency, first.MaxErrors, first.StopAlarmName));
        Assert.Equal(["111122223333"], first.Accounts);
        Assert.Equal(["us-west-2"], first.Regions);
        Assert.Equal(["111122223333:us-west-2:a:win", "111122223333:us-west-2:b:win"], first.Parameters["Targets"]);
        Assert.Equal(["30"], first.Parameters["SoakMinutes"]);
        Assert.Equal(["{ClusterName}-5xx"], first.Parameters["AlarmNames"]);
        Assert.Equal(["true"], first.Parameters["Rollback"]);
        Assert.Equal(["777788889999"], automation.Started[1].Accounts);
        Assert.Equal(["exec-0", "exec-1"], outcome.Report.Waves.Select(w => w.AutomationExecutionId));
        Assert.All(outcome.Report.Waves.SelectMany(w => w.Targets), t => Assert.Equal("Succeeded", t.Result));
        Assert.Empty(Calls("patch"));
    }

    [Fact]
    public async Task On_SSM_Automation_a_location_rolled_back_after_its_gate_failed_is_reported_so_and_the_next_wave_never_starts()
    {
        var automation = new FakeAutomation
        {
            Read = (_, _) => new("", "Failed", "1 of 1 target location(s) did not succeed", [], [Location("111122223333", "us-west-2", "Failed",
                Step("Patch", "Success", output: "Succeeded"), Step("Soak", "Failed", "Health gate Alarms failed on a: a-5xx in ALARM since 2026-12-07 09:00:00Z: Threshold Crossed"),
                Step("Rollback", "Success", output: "RolledBack"), Step("Failed", "Failed", "WinEksPatch-Fleet failed in this location"))]),
        };
        FleetRunOutcome outcome = await Run().RunAsync(Plan(Wave("dev", "a"), Wave("prod", "c")), SsmOptions(automation), new RecordingHost());

        Assert.Equal(ErrorIds.FleetPlanFailed, outcome.Failure?.ErrorId);
        var a = outcome.Report.Waves[0].Targets[0];
        Assert.Equal(("RolledBack", "Alarms", "a-5xx in ALARM since 2026-12-07 09:00:00Z: Threshold Crossed"), (a.Result, a.FailedGate, a.GateEvidence));
        Assert.Single(automation.Started);
        Assert.Equal("NotStarted", outcome.Report.Waves[1].Targets[0].Result);
        Assert.StartsWith("Wave dev: SSM Automation execution exec-0 ended Failed: 1 of 1", outcome.Report.Error);
    }

    [Fact]
    public async Task On_SSM_Automation_failed_targets_within_MaxErrors_complete_the_wave_with_errors_and_the_plan_goes_on()
    {
        var dev = Wave("dev", "a", "b");
        dev.MaxErrors = 2; // a and b are in one account and Region: its location's failure fails both
        var automation = new FakeAutomation
        {
            Read = (execution, _) => execution == 0
                ? new("", "Failed", "1 of 2 target location(s) did not succeed", [], [Location("111122223333", "us-west-2", "Failed", Step("Patch", "Failed", "WinEksPatch failed: a: the floor held"))])
                : new("", "Success", null, [], [Location("777788889999", "us-west-2", "Success")]),
        };
        FleetRunOutcome outcome = await Run().RunAsync(Plan(dev, new WinEksFleetWave { Name = "prod", Targets = [Target("c", "prod")] }), SsmOptions(automation), new RecordingHost());

        Assert.Null(outcome.Failure);
        Assert.Equal(("CompletedWithErrors", 2, "CompletedWithErrors"), (outcome.Report.Waves[0].Result, outcome.Report.Waves[0].Errors, outcome.Report.Result));
        Assert.Equal("WinEksPatch failed: a: the floor held", outcome.Report.Waves[0].Targets[0].Error);
        Assert.Equal(2, automation.Started.Count);
    }

    [Fact]
    public async Task On_SSM_Automation_a_patch_that_fails_on_one_cluster_names_it_and_the_clusters_after_it_were_not_started()
    {
        var automation = new FakeAutomation
        {
            Read = (_, _) => new("", "Failed", "1 of 1 target location(s) did not succeed", [], [Location("111122223333", "us-west-2", "Failed",
                Step("Patch", "Failed", "WinEksPatch failed on b: the floor held"), Step("Rollback", "Success", output: "RolledBack"), Step("Failed", "Failed", "failed here"))]),
        };
        FleetRunOutcome outcome = await Run().RunAsync(Plan(Wave("dev", "a", "b", "c")), SsmOptions(automation), new RecordingHost());

        Assert.Equal(ErrorIds.FleetPlanFailed, outcome.Failure?.ErrorId);
        var (a, b, c) = (outcome.Report.Waves[0].Targets[0], outcome.Report.Waves[0].Targets[1], outcome.Report.Waves[0].Targets[2]);
        Assert.Equal(("RolledBack", "RolledBack", "NotStarted"), (a.Result, b.Result, c.Result));
        Assert.Equal("WinEksPatch failed on b: the floor held", b.Error);
        Assert.StartsWith("Not started: b, before it in us-west-2, failed", c.Error);
        Assert.Equal(2, outcome.Report.Waves[0].Errors);
    }

    [Fact]
    public async Task On_SSM_Automation_an_execution_its_alarm_stopped_stops_the_plan_naming_the_alarm()
    {
        var automation = new FakeAutomation
        {
            Read = (_, _) => new("", "Cancelled", "The CloudWatch alarm fleet-errors went into ALARM (5XX); the execution was stopped.", ["fleet-errors ALARM"],
                [Location("111122223333", "us-west-2", "Cancelled", Step("Patch", "Cancelled"))]),
        };
        FleetRunOutcome outcome = await Run().RunAsync(Plan(Wave("dev", "a", "b")), SsmOptions(automation), new RecordingHost());

        Assert.Equal(ErrorIds.FleetPlanFailed, outcome.Failure?.ErrorId);
        Assert.Equal("Failed", outcome.Report.Waves[0].Result); // SSM cancelled it: a resume does not follow it
        Assert.All(outcome.Report.Waves[0].Targets, t => Assert.Equal(("Stopped", "The CloudWatch alarm fleet-errors went into ALARM (5XX); the execution was stopped."), (t.Result, t.Error)));
        Assert.Contains("Alarms: fleet-errors ALARM.", outcome.Report.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_SSM_Automation_a_target_the_execution_did_not_run_fails_the_wave_although_the_execution_succeeded()
    {
        // The execution ran dev's us-west-2 only; b is in eu-west-1 (say, an empty TargetLocation read back).
        var wave = Wave("dev", "a", "b");
        wave.Targets[1].Region = "eu-west-1";
        var automation = new FakeAutomation { Read = (_, _) => new("", "Success", null, [], [Location("111122223333", "us-west-2", "Success")]) };
        FleetRunOutcome outcome = await Run().RunAsync(Plan(wave), SsmOptions(automation), new RecordingHost());

        Assert.Equal(ErrorIds.FleetPlanFailed, outcome.Failure?.ErrorId);
        Assert.Equal(["Succeeded", "Failed"], outcome.Report.Waves[0].Targets.Select(t => t.Result));
        Assert.Contains("without running dev/eu-west-1/b", outcome.Report.Waves[0].Targets[1].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_SSM_Automation_an_execution_that_cannot_start_fails_the_plan_with_the_report_written()
    {
        var automation = new ThrowingAutomation();
        var written = new List<string>();
        FleetRunOutcome outcome = await Run().RunAsync(Plan(Wave("dev", "a")), SsmOptions(automation) with
        {
            Checkpoint = r => { written.Add(r.Result); return Task.CompletedTask; },
        }, new RecordingHost());

        Assert.Equal(ErrorIds.FleetPlanFailed, outcome.Failure?.ErrorId);
        Assert.Equal("Failed", outcome.Report.Result);
        Assert.StartsWith("Wave dev: its SSM Automation execution did not start: InvalidDocument", outcome.Report.Error);
        Assert.Equal("Failed", written[^1]);
    }

    private sealed class ThrowingAutomation : ISsmAutomationApi
    {
        public Task<string> StartAsync(AutomationStart start, CancellationToken cancellationToken = default) =>
            throw new WinEksPatchException(ErrorIds.AwsResourceNotFound, ErrorKind.ObjectNotFound, "InvalidDocument: Document with name WinEksPatch-Fleet does not exist.", start.DocumentName);

        public Task<AutomationProgress> GetAsync(string executionId, CancellationToken cancellationToken = default) => throw new InvalidOperationException("never started");
    }

    [Fact]
    public async Task On_SSM_Automation_what_the_runbook_takes_no_parameter_for_is_refused_rather_than_dropped()
    {
        var plan = Plan(Wave("dev", "a"));
        plan.Rollout.DrainTimeout = TimeSpan.FromMinutes(5);
        FleetRunOutcome drain = await Run().RunAsync(plan, SsmOptions(new FakeAutomation()), new RecordingHost());
        Assert.Contains("drainTimeout, readyTimeout or minReadyTime", drain.Failure?.Message, StringComparison.Ordinal);

        var gateOff = Plan(Wave("dev", "a"));
        gateOff.Waves[0].Gates.NoPendingPods = false;
        FleetRunOutcome gate = await Run().RunAsync(gateOff, SsmOptions(new FakeAutomation()), new RecordingHost());
        Assert.Contains("wave dev turns a gate off", gate.Failure?.Message, StringComparison.Ordinal);
        Assert.Empty(Calls("check"));
    }

    [Fact]
    public async Task On_SSM_Automation_a_canary_wave_is_refused_before_any_target_is_reached()
    {
        var wave = Wave("dev", "a");
        wave.Canary = true;
        var automation = new FakeAutomation();
        FleetRunOutcome outcome = await Run().RunAsync(Plan(wave), SsmOptions(automation), new RecordingHost());

        Assert.Equal(ErrorIds.FleetPlanInvalid, outcome.Failure?.ErrorId);
        Assert.Contains("wave dev starts with a canary", outcome.Failure!.Message, StringComparison.Ordinal);
        Assert.Empty(Calls("check"));
        Assert.Empty(automation.Started);
    }

    [Fact]
    public async Task On_SSM_Automation_a_resumed_run_follows_the_execution_its_stopped_run_left_running_instead_of_starting_another()
    {
        var first = new FakeAutomation { Read = (_, _) => new("", "InProgress", null, [], [Location("111122223333", "us-west-2", "InProgress")]) };
        using var stop = new CancellationTokenSource();
        var time = new InstantTime(Monday);
        var host = new RecordingHost();
        Task<FleetRunOutcome> run = Run(time: time).RunAsync(Plan(Wave("dev", "a")), SsmOptions(first), host, stop.Token);
        while (first.Started.Count == 0)
        {
            await Task.Delay(10);
        }

        await stop.CancelAsync();
        FleetRunOutcome left = await run;
        Assert.Equal(("Stopped", "exec-0"), (left.Report.Waves[0].Result, left.Report.Waves[0].AutomationExecutionId));
        Assert.Contains("its SSM Automation execution exec-0 goes on in AWS", left.Report.Error, StringComparison.Ordinal);

        var second = new FakeAutomation { Read = (_, _) => new("", "Success", null, [], [Location("111122223333", "us-west-2", "Success")]) };
        FleetRunOutcome resumed = await Run().RunAsync(Plan(Wave("dev", "a")), SsmOptions(second, resume: left.Report), new RecordingHost());
        Assert.Equal("Succeeded", resumed.Report.Result);
        Assert.Empty(second.Started);
        Assert.Equal("exec-0", resumed.Report.Waves[0].AutomationExecutionId);
    }

    [Fact]
    public async Task On_SSM_Automation_a_run_killed_before_it_learnt_the_execution_sends_the_same_start_again_with_its_token()
    {
        var written = new List<string?>();
        Func<int, int, AutomationProgress> done = (_, _) => new("", "Success", null, [], [Location("111122223333", "us-west-2", "Success")]);
        var first = new FakeAutomation { Read = done };
        FleetRunOutcome finished = await Run().RunAsync(Plan(Wave("dev", "a")), SsmOptions(first) with
        {
            Checkpoint = r => { written.Add(r.Waves[0].AutomationClientToken); return Task.CompletedTask; },
        }, new RecordingHost());
        string token = Assert.Single(first.Started).ClientToken!;
        Assert.True(Guid.TryParse(token, out _));
        Assert.Equal(token, written[0]); // on disk before the start was sent

        // The report a run killed between the two left: the wave Running with its token, no execution id.
        var killed = finished.Report;
        killed.Waves[0].Result = "Running";
        killed.Waves[0].AutomationExecutionId = null;
        killed.Waves[0].Targets[0].Result = "Running";
        var second = new FakeAutomation { Read = done };
        FleetRunOutcome resumed = await Run().RunAsync(Plan(Wave("dev", "a")), SsmOptions(second, resume: killed), new RecordingHost());
        Assert.Equal("Succeeded", resumed.Report.Result);
        Assert.Equal(token, Assert.Single(second.Started).ClientToken);
    }

    [Fact]
    public async Task On_SSM_Automation_WhatIf_says_each_wave_s_execution_and_starts_none()
    {
        var automation = new FakeAutomation();
        var host = new RecordingHost();
        FleetRunOutcome outcome = await Run().RunAsync(Plan(Wave("dev", "a"), Wave("prod", "c")), SsmOptions(automation, whatIf: true), host);

        Assert.Null(outcome.Failure);
        Assert.Empty(automation.Started);
        Assert.Equal(2, host.Plans.Count);
        Assert.StartsWith("StartAutomationExecution WinEksPatch-Fleet: TargetLocations Accounts 111122223333 Regions us-west-2 (TargetLocationMaxConcurrency 1, TargetLocationMaxErrors 0), AlarmConfiguration fleet-errors; Parameters Targets=111122223333:us-west-2:a:win", host.Plans[0]);
        Assert.All(outcome.Report.Waves.SelectMany(w => w.Targets), t => Assert.Equal("Planned", t.Result));
    }
}

/// <summary>A clock whose timers fire at once, moving the clock to their due time: a soak or a window's wait takes no real time.</summary>
internal sealed class InstantTime(DateTimeOffset start) : TimeProvider
{
    private readonly object _gate = new();
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            ThreadPool.QueueUserWorkItem(_ =>
            {
                lock (_gate)
                {
                    _now += dueTime;
                }

                callback(state);
            });
        }

        return new NoTimer();
    }

    private sealed class NoTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
