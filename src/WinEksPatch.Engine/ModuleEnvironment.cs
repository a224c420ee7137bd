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
}
