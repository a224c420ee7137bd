using WinEksPatch.Abstractions;
using WinEksPatch.Model;
using WinEksPatch.Workflows.FleetPlan;

namespace WinEksPatch.Tests.FleetPlan;

public sealed class HealthGateWatchTests
{
    internal static KubeNode Node(string name, bool ready = true, params string[] taints) =>
        new(name, new Dictionary<string, string> { ["kubernetes.io/os"] = "windows" }, $"aws:///us-west-2a/i-{name}", "10.0.20348.5020", null, ready, false, null)
        {
            TaintKeys = taints,
        };

    private static readonly DateTimeOffset T0 = new(2026, 12, 10, 21, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset At(int minutes) => T0.AddMinutes(minutes);

    internal static KubePod Pod(string name, string node = "n1", bool ready = true, int restarts = 0, bool unschedulable = false, string? waiting = null,
        string phase = "Running") =>
        new("shop", name, "uid-" + name, unschedulable ? null : node, unschedulable ? "Pending" : phase, "ReplicaSet", "web", [], new Dictionary<string, string>(),
            false, false, 30, null)
        {
            Ready = ready,
            RestartCount = restarts,
            Unschedulable = unschedulable,
            WaitingReason = waiting,
        };

    [Fact]
    public void A_node_that_is_not_ready_or_still_tainted_fails_at_once()
    {
        var watch = new HealthGateWatch(new WinEksFleetGates());
        GateVerdict verdict = watch.Read([Node("n1"), Node("n2", ready: false)], [], [], At(0));
        Assert.Equal(("NodesReady", "n2 NotReady"), (verdict.FailedGate, verdict.Evidence));
        verdict = new HealthGateWatch(new WinEksFleetGates()).Read([Node("n1", true, "node.kubernetes.io/network-unavailable")], [], [], At(0));
        Assert.Equal("n1 tainted node.kubernetes.io/network-unavailable", verdict.Evidence);
        Assert.Equal("NodesReady", new HealthGateWatch(new WinEksFleetGates()).Read([], [], [], At(0)).FailedGate);
    }

    [Fact]
    public void A_running_pod_fails_when_it_is_not_ready_at_two_readings_in_a_row()
    {
        var watch = new HealthGateWatch(new WinEksFleetGates { MaxRestartIncrease = 10 });
        Assert.False(watch.Read([Node("n1")], [Pod("web-1", ready: false)], [], At(0)).HasFailed, "a readiness blip");
        Assert.False(watch.Read([Node("n1")], [Pod("web-1")], [], At(1)).HasFailed);
        GateVerdict blip = watch.Read([Node("n1")], [Pod("web-1", ready: false)], [], At(2));
        Assert.True(blip.Settling, "held, but the soak waits for the pod");
        GateVerdict verdict = watch.Read([Node("n1")], [Pod("web-1", ready: false, restarts: 4, waiting: "CrashLoopBackOff")], [], At(3));
        Assert.Equal("PodsReady", verdict.FailedGate);
        Assert.Equal("shop/web-1 on n1 not Ready (CrashLoopBackOff, 4 restarts)", verdict.Evidence);
    }

    [Fact]
    public void A_pod_that_is_starting_may_take_its_time_and_keeps_the_soak_going_until_it_is_out_of_time()
    {
        var watch = new HealthGateWatch(new WinEksFleetGates { PodReadyTimeout = TimeSpan.FromMinutes(10) });
        KubePod pulling = Pod("web-1", ready: false, waiting: "ContainerCreating", phase: "Pending");
        for (int minute = 0; minute <= 10; minute += 2)
        {
            GateVerdict verdict = watch.Read([Node("n1")], [pulling], [], At(minute));
            Assert.False(verdict.HasFailed, $"minute {minute}: pulling a Windows image takes minutes");
            Assert.True(verdict.Settling);
        }

        GateVerdict late = watch.Read([Node("n1")], [pulling], [], At(11));
        Assert.Equal(("PodsReady", "shop/web-1 on n1 still starting after 10 min (ContainerCreating)"), (late.FailedGate, late.Evidence));
        Assert.Equal(GateVerdict.Held, new HealthGateWatch(new WinEksFleetGates()).Read([Node("n1")], [Pod("web-1")], [], At(0)));
    }

    [Fact]
    public void Restarts_count_from_the_first_reading()
    {
        var watch = new HealthGateWatch(new WinEksFleetGates { MaxRestartIncrease = 1 });
        Assert.False(watch.Read([Node("n1")], [Pod("web-1", restarts: 5), Pod("web-2")], [], At(0)).HasFailed, "restarts before the soak do not count");
        Assert.False(watch.Read([Node("n1")], [Pod("web-1", restarts: 6), Pod("web-2")], [], At(1)).HasFailed);
        GateVerdict verdict = watch.Read([Node("n1")], [Pod("web-1", restarts: 6), Pod("web-2", restarts: 1)], [], At(2));
        Assert.Equal(("Restarts", "2 restarts (at most 1): shop/web-1 +1; shop/web-2 +1"), (verdict.FailedGate, verdict.Evidence));
    }

    [Fact]
    public void A_watch_that_continues_an_earlier_one_counts_restarts_since_each_pod_started_and_keeps_the_earlier_pending_baseline()
    {
        var watch = new HealthGateWatch(new WinEksFleetGates { MaxRestartIncrease = 1 });
        watch.CountRestartsSincePodStart();
        watch.PendingBeforeTheCycle(HealthGateWatch.PendingIds([Pod("old-1", unschedulable: true), Pod("web-1")]));
        // At its first reading already: web-1 restarted twice since it started (in the earlier round), and web-9 went Pending
        // with the cycle (it is not in the baseline) while old-1 was Pending before it.
        Assert.Equal(("Restarts", "2 restarts (at most 1): shop/web-1 +2"),
            (watch.Read([Node("n1")], [Pod("web-1", restarts: 2)], [Pod("old-1", unschedulable: true)], At(0)) is var v ? (v.FailedGate, v.Evidence) : default));
        var pending = new HealthGateWatch(new WinEksFleetGates());
        pending.PendingBeforeTheCycle(["uid-old-1"]);
        Assert.False(pending.Read([Node("n1")], [], [Pod("old-1", unschedulable: true), Pod("web-9", unschedulable: true)], At(0)).HasFailed);
        Assert.Equal(("PendingPods", "shop/web-9 Pending: no node for it"),
            (pending.Read([Node("n1")], [], [Pod("old-1", unschedulable: true), Pod("web-9", unschedulable: true)], At(1)) is var p ? (p.FailedGate, p.Evidence) : default));
    }

    [Fact]
    public void A_pod_pending_for_lack_of_a_node_at_two_readings_fails_unless_that_gate_is_off()
    {
        var watch = new HealthGateWatch(new WinEksFleetGates());
        Assert.False(watch.Read([Node("n1")], [], [Pod("web-9", unschedulable: true)], At(0)).HasFailed);
        Assert.Equal("PendingPods", watch.Read([Node("n1")], [], [Pod("web-9", unschedulable: true)], At(1)).FailedGate);

        var off = new HealthGateWatch(new WinEksFleetGates { NoPendingPods = false });
        off.Read([Node("n1")], [], [Pod("web-9", unschedulable: true)], At(0));
        Assert.False(off.Read([Node("n1")], [], [Pod("web-9", unschedulable: true)], At(1)).HasFailed);
    }
}
