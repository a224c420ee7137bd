using WinEksPatch.Simulator.Aws;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Faults;

/// <summary>Applies the fault rules to one AWS request: waits the added latency, then throws the injected error
/// (the endpoint renders it in the service's own shape, as for any service error).</summary>
public static class FaultInjection
{
    public static async Task ApplyAsync(SimWorld world, string service, string operation, Func<IEnumerable<string>> resources, CancellationToken cancellationToken)
    {
        FaultDecision? fault = world.ApiFaults.Match(service, operation, resources);
        if (fault is null)
        {
            return;
        }

        await DelayAsync(world, fault, cancellationToken).ConfigureAwait(false);
        if (fault.Status is int status)
        {
            throw new AwsException(status, fault.Code!, fault.Message!, senderFault: status < 500);
        }
    }

    /// <summary>The rule's latency: simulated (passes on the simulated clock, i.e. latency / time scale of wall time) or wall.</summary>
    public static Task DelayAsync(SimWorld world, FaultDecision fault, CancellationToken cancellationToken) =>
        fault.Latency <= TimeSpan.Zero ? Task.CompletedTask
        : fault.WallClockLatency ? Task.Delay(fault.Latency, cancellationToken)
        : Task.Delay(fault.Latency, world.Clock, cancellationToken);
}
