using WinEksPatch.Model;

namespace WinEksPatch.Workflows.FleetPlan;

/// <summary>
/// A soak under the health gates: the alarms, then the nodes and pods, read right away and every interval until the soak
/// time has passed and no workload pod is still starting (a pod pulling its image keeps the soak going, up to its start
/// timeout), or until a gate fails. What a fleet plan's targets go through after their cycle, and what
/// Watch-WinNodeGroupHealth does on its own.
/// </summary>
public sealed class GateSoak(TimeProvider time, TimeSpan interval)
{
    /// <summary>Soaks <paramref name="groups"/> of the target for <paramref name="soakTime"/>: the first gate that fails, or
    /// Held. <paramref name="alarms"/>: CloudWatch alarms of the target's account and Region that must stay out of ALARM;
    /// <paramref name="progress"/> is told, at each reading that held, what is left.</summary>
    public async Task<GateVerdict> RunAsync(IFleetTarget session, IReadOnlyList<string> groups, IReadOnlyList<string> alarms, HealthGateWatch watch,
        TimeSpan soakTime, Action<string> progress, CancellationToken cancellationToken) =>
        await RunAsync(session, groups, alarms, watch, soakTime, null, progress, cancellationToken).ConfigureAwait(false);

    /// <summary>As the other overload, ending by <paramref name="hardStop"/> at the latest when the gates still hold (a pod
    /// still starting included): a caller with a time budget (a runbook step) watches on in its next round.</summary>
    public async Task<GateVerdict> RunAsync(IFleetTarget session, IReadOnlyList<string> groups, IReadOnlyList<string> alarms, HealthGateWatch watch,
        TimeSpan soakTime, DateTimeOffset? hardStop, Action<string> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(watch);
        ArgumentNullException.ThrowIfNull(progress);
        DateTimeOffset end = time.GetUtcNow() + soakTime;
        while (true)
        {
            if (await ReadAlarmsAsync(session, alarms, cancellationToken).ConfigureAwait(false) is { HasFailed: true } firing)
            {
                return firing;
            }

            var (nodes, pods, pending) = await session.ReadHealthAsync(groups, cancellationToken).ConfigureAwait(false);
            DateTimeOffset now = time.GetUtcNow();
            var verdict = watch.Read(nodes, pods, pending, now);
            if (verdict.HasFailed || (now >= end && !verdict.Settling) || now >= hardStop)
            {
                return verdict;
            }

            progress(now < end ? $"gates held; {(end - now).TotalMinutes:0} min to go" : "gates held; waiting for pods to be Ready");
            DateTimeOffset next = end > now ? end : now + interval;
            next = hardStop is { } stop && stop < next ? stop : next;
            TimeSpan wait = next - now < interval ? next - now : interval;
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The alarms of <paramref name="alarms"/> that do not exist in the target's account and Region (checked before
    /// a soak begins: a gate on an alarm that is not there would fail for nothing).</summary>
    public static async Task<IReadOnlyList<string>> MissingAlarmsAsync(IFleetTarget session, IReadOnlyList<string> alarms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(alarms);
        if (alarms.Count == 0)
        {
            return [];
        }

        var found = await session.ReadAlarmsAsync(alarms, cancellationToken).ConfigureAwait(false);
        return [.. alarms.Where(a => !found.Any(f => f.Name == a))];
    }

    /// <summary>The alarm gate: held when there are no alarms to read.</summary>
    public static async Task<GateVerdict> ReadAlarmsAsync(IFleetTarget session, IReadOnlyList<string> alarms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        return alarms is not { Count: > 0 } ? GateVerdict.Held
            : HealthGateWatch.ReadAlarms(alarms, await session.ReadAlarmsAsync(alarms, cancellationToken).ConfigureAwait(false));
    }
}
