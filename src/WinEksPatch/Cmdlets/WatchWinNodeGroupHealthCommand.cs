using System.Management.Automation;
using WinEksPatch.Model;
using WinEksPatch.Workflows.FleetPlan;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Watches the health gates of a cluster's Windows node groups for a while: nodes Ready, pods Ready, restarts, pending pods, CloudWatch alarms.</para>
/// <para type="description">Reads the gates a fleet plan soaks each target under, right away and every -Interval until
/// -For has passed or -Until has come (one reading when neither says more) and no workload pod on the groups' nodes is still starting: every
/// Windows node of the groups Ready and usable; workload pods on them Ready (one still starting may take
/// -PodReadyTimeout; one not Ready at two readings in a row fails); their restarts rising by at most -MaxRestartIncrease
/// from the first reading; no pod that was not Pending at the first reading staying Pending for lack of a node; and none
/// of the CloudWatch alarms -AlarmName names (in the cluster's account and Region; {ClusterName} and {Region} are filled
/// in) in ALARM. It returns a WinNodeGroupHealth: Healthy, or the first gate that failed and its evidence. It changes
/// nothing. The WinEksPatch-Fleet runbook watches each patched cluster with it.</para>
/// </summary>
/// <example>
///   <code>Watch-WinNodeGroupHealth -ClusterName demo</code>
///   <para>One reading of the gates for every Windows group of 'demo'.</para>
/// </example>
/// <example>
///   <code>$sim = Start-WinEksSimulator -Scenario fleet -TimeScale 600; Watch-WinNodeGroupHealth -ProfileName prod -Region eu-west-1 -ClusterName prod-euw1 -For 00:10:00 -AlarmName '{ClusterName}-windows-5xx'; Stop-WinEksSimulator</code>
///   <para>Ten simulated minutes of readings of prod's eu-west-1 cluster, its web tier's 5XX alarm included.</para>
/// </example>
[Cmdlet(VerbsCommon.Watch, "WinNodeGroupHealth")]
[OutputType(typeof(WinNodeGroupHealth))]
public sealed class WatchWinNodeGroupHealthCommand : NodeGroupsCmdlet
{
    /// <summary>How long to watch; 0 (the default) reads once, or watches until -Until.</summary>
    [Parameter]
    [ValidateTimeout(AllowZero = true)]
    public TimeSpan For { get; set; } = TimeSpan.Zero;

    /// <summary>Watch until this time (on the module's clock: the simulator's while the session uses one); -For then caps
    /// this watch, which ends when it is spent even while a pod is still starting (Healthy, FinishedAt before -Until: a
    /// runbook round goes on in its next round).</summary>
    [Parameter]
    public DateTimeOffset? Until { get; set; }

    /// <summary>Time between readings.</summary>
    [Parameter]
    [ValidateTimeout]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>CloudWatch alarms (of the cluster's account and Region) that must not be in ALARM; {ClusterName} and {Region}
    /// in a name are filled in. Each must exist.</summary>
    [Parameter]
    [ValidateCount(1, 100)]
    [ValidateNotNullOrEmpty]
    public string[]? AlarmName { get; set; }

    /// <summary>How much the workload pods' restarts may rise over the watch.</summary>
    [Parameter]
    [ValidateRange(0, 100000)]
    public int MaxRestartIncrease { get; set; }

    /// <summary>How long a workload pod may take to start (its image pull included).</summary>
    [Parameter]
    [ValidateTimeout]
    public TimeSpan PodReadyTimeout { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>The pods (uids) that were Pending for lack of a node before the cycle this watch follows (an earlier watch's
    /// PendingAtStart); without it, those Pending at the first reading.</summary>
    [Parameter]
    [AllowEmptyCollection]
    public string[]? PendingBefore { get; set; }

    /// <summary>Count each pod's restarts since it started, not since the first reading: for a watch that continues an
    /// earlier one (a runbook's next soak round).</summary>
    [Parameter]
    public SwitchParameter RestartsSincePodStart { get; set; }

    protected override void ProcessRecord()
    {
        var connections = Connections;
        var target = new WinEksFleetTarget { ClusterName = ClusterName, Region = connections.Region, ProfileName = ProfileName, NodeGroupName = [.. NodeGroupName ?? []] };
        var gates = new WinEksFleetGates { Alarms = [.. AlarmName ?? []], MaxRestartIncrease = MaxRestartIncrease, PodReadyTimeout = PodReadyTimeout };
        RunWorkflow(async (host, token) =>
        {
            using var session = new ConnectedFleetTarget(target, connections);
            var groups = await session.PreflightAsync(token).ConfigureAwait(false);
            var alarms = gates.AlarmsFor(target);
            var missing = await GateSoak.MissingAlarmsAsync(session, alarms, token).ConfigureAwait(false);
            if (missing.Count > 0)
            {
                throw new Errors.WinEksPatchException(Errors.ErrorIds.FleetTargetInvalid, Errors.ErrorKind.ObjectNotFound,
                    $"-AlarmName: no CloudWatch alarm {string.Join(", ", missing)} in {connections.Region}.", string.Join(",", missing));
            }

            var time = connections.Time;
            var started = time.GetUtcNow();
            // With -Until: the soak lasts until then, and -For (when given) is this watch's hard budget.
            var duration = Until is { } until ? (until > started ? until - started : TimeSpan.Zero) : For;
            DateTimeOffset? hardStop = Until is not null && For > TimeSpan.Zero ? started + For : null;
            var watch = new HealthGateWatch(gates);
            var pendingAtStart = HealthGateWatch.PendingIds((await session.ReadHealthAsync(groups, token).ConfigureAwait(false)).PendingPods);
            watch.PendingBeforeTheCycle(PendingBefore ?? pendingAtStart);
            if (RestartsSincePodStart)
            {
                watch.CountRestartsSincePodStart();
            }

            var verdict = await new GateSoak(time, Interval).RunAsync(session, groups, alarms, watch, duration, hardStop,
                status => host.Progress(new Abstractions.ProgressUpdate(1, $"Watching {ClusterName}", status)), token).ConfigureAwait(false);
            host.Output(new WinNodeGroupHealth
            {
                ClusterName = ClusterName,
                Region = connections.Region,
                NodeGroupName = groups,
                Healthy = !verdict.HasFailed,
                FailedGate = verdict.FailedGate,
                Evidence = verdict.Evidence,
                StartedAt = started,
                PendingAtStart = pendingAtStart,
                FinishedAt = time.GetUtcNow(),
            });
        }, perInputObject: true);
    }
}
