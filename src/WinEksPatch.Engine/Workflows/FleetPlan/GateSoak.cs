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
        TimeSpan soakTime, Action<string> progress, CancellationToken cancellationToken)
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
            if (verdict.HasFailed || (now >= end && !verdict.Settling))
            {
                return verdict;
            }

            progress(now < end ? $"gates held; {(end - now).TotalMinutes:0} min to go" : "gates held; waiting for pods to be Ready");
            TimeSpan wait = end - now < interval && end > now ? end - now : interval;
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The alarm gate: held when there are no alarms to read.</summary>
    public static async Task<GateVerdict> ReadAlarmsAsync(IFleetTarget session, IReadOnlyList<string> alarms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        return alarms is not { Count: > 0 } ? GateVerdict.Held
            : HealthGateWatch.ReadAlarms(alarms, await session.ReadAlarmsAsync(alarms, cancellationToken).ConfigureAwait(false));
    }
}
