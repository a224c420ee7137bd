using WinEksPatch.Simulator;

namespace WinEksPatch;

/// <summary>
/// Process-wide settings of the module: the clock every wait and token goes through, and the simulator the session
/// is pointed at. The clock is the system clock, or the simulator's virtual clock while <c>Start-WinEksSimulator</c>
/// has pointed the session at a simulator, so that module timeouts and simulated durations agree.
/// </summary>
public static class ModuleEnvironment
{
    private static SimulatorSession? _simulator;

    public static TimeProvider Time => (TimeProvider?)Volatile.Read(ref _simulator)?.Clock ?? TimeProvider.System;

    /// <summary>The simulator this session's cmdlets talk to, or null for real AWS.</summary>
    public static SimulatorSession? Simulator
    {
        get => Volatile.Read(ref _simulator);
        set => Volatile.Write(ref _simulator, value);
    }

    /// <summary>Names a running simulator (its AWS endpoint) that sessions attach to by themselves: how a script written
    /// for AWS (a runbook body, a scheduled task) is rehearsed against the simulator unchanged.</summary>
    public const string SimulatorEndpointVariable = "WINEKSPATCH_SIMULATOR_ENDPOINT";

    /// <summary>The CA certificate (PEM file, the simulator's caCertPath) to trust for an https
    /// <see cref="SimulatorEndpointVariable"/> (a simulator started with -Tls / --tls), for that endpoint only.</summary>
    public const string SimulatorCaVariable = "WINEKSPATCH_SIMULATOR_CA_CERT";

    private static readonly SemaphoreSlim AttachLock = new(1, 1);

    /// <summary>Attaches to the simulator named by <see cref="SimulatorEndpointVariable"/>, once, when no simulator is set.</summary>
    public static void AttachFromEnvironment()
    {
        if (Simulator != null || Environment.GetEnvironmentVariable(SimulatorEndpointVariable) is not { Length: > 0 } endpoint)
        {
            return;
        }

        AttachLock.Wait();
        try
        {
            Simulator ??= SimulatorSession.AttachAsync(endpoint, Environment.GetEnvironmentVariable(SimulatorCaVariable) is { Length: > 0 } ca ? ca : null)
                .GetAwaiter().GetResult();
        }
        finally
        {
            AttachLock.Release();
        }
    }
}
