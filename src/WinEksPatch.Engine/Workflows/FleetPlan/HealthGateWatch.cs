using WinEksPatch.Abstractions;
using WinEksPatch.Model;

namespace WinEksPatch.Workflows.FleetPlan;

/// <summary>What a reading of the health gates found: null <see cref="FailedGate"/> when they held. <see cref="Settling"/>:
/// they held, and some workload pod is still starting (pulling its image, within its time): the soak goes on until it is
/// Ready or out of time.</summary>
public sealed record GateVerdict(string? FailedGate, string? Evidence, bool Settling = false)
{
    public static readonly GateVerdict Held = new(null, null);

    public bool HasFailed => FailedGate is not null;
}

/// <summary>
/// The health gates of one target over its soak, reading after reading (a reading is the target's Windows nodes of the
/// patched groups, the pods on them, and the cluster's pending pods). A node must be Ready and usable at every reading.
/// A workload pod that is starting (its containers being created: a Windows image pull takes minutes on a node without
/// it) may take <see cref="WinEksFleetGates.PodReadyTimeout"/>; a pod that runs but is not Ready, or whose container
/// waits for a failure (CrashLoopBackOff, ImagePullBackOff, ...), fails when it is so at two readings in a row, so a
/// readiness blip or one restart is not a failure. Pending for lack of a node at two readings in a row fails too.
/// Restarts are counted from the first reading.
/// </summary>
public sealed class HealthGateWatch(WinEksFleetGates gates)
{
    /// <summary>Waiting reasons of a container that is still being started, not failing.</summary>
    private static readonly HashSet<string> Starting = new(StringComparer.Ordinal) { "ContainerCreating", "PodInitializing" };

    private Dictionary<string, int>? _restartsAtStart;
    private readonly Dictionary<string, DateTimeOffset> _startingSince = [];
    private HashSet<string> _notReadyBefore = [];
    private HashSet<string> _unschedulableBefore = [];
    private HashSet<string> _pendingBeforeTheCycle = [];

    /// <summary>The cluster's pods that were already Pending for lack of a node before the target's cycle began: they are
    /// not the cycle's doing, and the gate leaves them out ("no new pod stays Pending").</summary>
    public void PendingBeforeTheCycle(IEnumerable<KubePod> pending)
    {
        ArgumentNullException.ThrowIfNull(pending);
        PendingBeforeTheCycle(PendingIds(pending));
    }

    /// <summary>The same, by the ids <see cref="PendingIds"/> gave when the cycle began (a watch that continues an earlier
    /// one, in another process: the fleet runbook's soak rounds).</summary>
    public void PendingBeforeTheCycle(IEnumerable<string> podIds)
    {
        ArgumentNullException.ThrowIfNull(podIds);
        _pendingBeforeTheCycle = [.. podIds];
    }

    /// <summary>How the gate names the pods Pending for lack of a node (their uids).</summary>
    public static IReadOnlyList<string> PendingIds(IEnumerable<KubePod> pending) =>
        [.. (pending ?? throw new ArgumentNullException(nameof(pending))).Where(p => p.Unschedulable).Select(p => p.Uid ?? $"{p.Namespace}/{p.Name}")];

    /// <summary>Counts each pod's restarts since it started instead of since the first reading: a watch that continues an
    /// earlier one (the pods on the new nodes were all created by the cycle, so their count is what the soak saw).</summary>
    public void CountRestartsSincePodStart() => _restartsAtStart = [];

    /// <summary>The alarm gate: <paramref name="names"/> must all exist (<paramref name="alarms"/> is what DescribeAlarms found of
    /// them) and none be in ALARM. Held when there are no names.</summary>
    public static GateVerdict ReadAlarms(IReadOnlyCollection<string> names, IReadOnlyList<CloudWatchAlarm> alarms)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(alarms);
        var missing = names.Where(n => !alarms.Any(a => a.Name == n)).ToList();
        var firing = alarms.Where(a => a.IsInAlarm && names.Contains(a.Name)).ToList();
        if (firing.Count == 0 && missing.Count == 0)
        {
            return GateVerdict.Held;
        }

        return new("Alarms", string.Join("; ", firing.Select(a => $"{a.Name} in ALARM" +
            (a.StateUpdated is { } at ? $" since {at.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z" : "") + (a.StateReason is { Length: > 0 } why ? $": {why}" : ""))
            .Concat(missing.Select(n => $"{n} no longer exists"))));
    }

    /// <summary>Judges one reading taken at <paramref name="now"/>. <paramref name="nodes"/>: the patched groups' Windows
    /// nodes; <paramref name="podsOnNodes"/>: the pods on them; <paramref name="pendingPods"/>: the cluster's pods no node
    /// was found for.</summary>
    public GateVerdict Read(IReadOnlyList<KubeNode> nodes, IReadOnlyList<KubePod> podsOnNodes, IReadOnlyList<KubePod> pendingPods, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(podsOnNodes);
        ArgumentNullException.ThrowIfNull(pendingPods);
        if (gates.NodesReady)
        {
            if (nodes.Count == 0)
            {
                return new("NodesReady", "the patched groups have no Windows node left");
            }

            var unusable = nodes.Where(n => !n.Ready || n.TaintKeys.Any(KubeNode.StartupTaints.Contains))
                .Select(n => $"{n.Name} {(n.Ready ? "tainted " + string.Join(",", n.TaintKeys.Where(KubeNode.StartupTaints.Contains)) : "NotReady")}").ToList();
            if (unusable.Count > 0)
            {
                return new("NodesReady", string.Join("; ", unusable));
            }
        }

        var workloads = podsOnNodes.Where(p => !p.IsMirror && p.IsActive && p.DeletionTimestamp is null).ToList();
        string Id(KubePod p) => p.Uid ?? $"{p.Namespace}/{p.Name}";
        bool IsStarting(KubePod p) => !p.Ready && (p.Phase == "Pending" || (p.WaitingReason is { } why && Starting.Contains(why)));

        // Starting pods: since when (first seen starting); out of time once past the timeout.
        var starting = workloads.Where(IsStarting).ToList();
        foreach (var id in _startingSince.Keys.Except(starting.Select(Id)).ToList())
        {
            _startingSince.Remove(id);
        }

        foreach (var pod in starting)
        {
            _startingSince.TryAdd(Id(pod), now);
        }

        var tooSlow = starting.Where(p => now - _startingSince[Id(p)] > gates.PodReadyTimeout).ToList();
        var notReady = workloads.Where(p => !p.Ready && !IsStarting(p)).ToList();
        var stillNotReady = notReady.Where(p => _notReadyBefore.Contains(Id(p))).ToList();
        _notReadyBefore = [.. notReady.Select(Id)];
        var unschedulable = pendingPods.Where(p => p.Unschedulable && p.DeletionTimestamp is null && !_pendingBeforeTheCycle.Contains(Id(p))).ToList();
        var stillUnschedulable = unschedulable.Where(p => _unschedulableBefore.Contains(Id(p))).ToList();
        _unschedulableBefore = [.. unschedulable.Select(Id)];
        bool first = _restartsAtStart is null;
        _restartsAtStart ??= workloads.ToDictionary(Id, p => p.RestartCount);

        if (gates.PodsReady && (stillNotReady.Count > 0 || tooSlow.Count > 0))
        {
            return new("PodsReady", string.Join("; ", stillNotReady.Select(p => $"{p.Namespace}/{p.Name} on {p.NodeName} not Ready" +
                (p.WaitingReason is { } why ? $" ({why}, {p.RestartCount} restarts)" : "")).Concat(tooSlow.Select(p =>
                $"{p.Namespace}/{p.Name} on {p.NodeName} still starting after {gates.PodReadyTimeout.TotalMinutes:0} min ({p.WaitingReason ?? p.Phase})"))));
        }

        if (!first)
        {
            var rises = workloads.Select(p => (Pod: p, Rise: p.RestartCount - _restartsAtStart.GetValueOrDefault(Id(p), 0))).Where(r => r.Rise > 0).ToList();
            if (rises.Sum(r => r.Rise) > gates.MaxRestartIncrease)
            {
                return new("Restarts", $"{rises.Sum(r => r.Rise)} restarts (at most {gates.MaxRestartIncrease}): " +
                    string.Join("; ", rises.Select(r => $"{r.Pod.Namespace}/{r.Pod.Name} +{r.Rise}" + (r.Pod.WaitingReason is { } why ? $" ({why})" : ""))));
            }
        }

        if (gates.NoPendingPods && stillUnschedulable.Count > 0)
        {
            return new("PendingPods", string.Join("; ", stillUnschedulable.Select(p => $"{p.Namespace}/{p.Name} Pending: no node for it")));
        }

        bool settling = (gates.PodsReady && (starting.Count > 0 || notReady.Count > 0)) || (gates.NoPendingPods && unschedulable.Count > 0);
        return settling ? GateVerdict.Held with { Settling = true } : GateVerdict.Held;
    }
}
