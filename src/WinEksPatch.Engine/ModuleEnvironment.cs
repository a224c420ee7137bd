namespace WinEksPatch;

/// <summary>
/// Process-wide settings of the module: the clock every wait and token goes through. It is the system clock, or the
/// simulator's virtual clock while <c>Start-WinEksSimulator</c> has pointed the session at a simulator, so that module
/// timeouts and simulated durations agree.
/// </summary>
public static class ModuleEnvironment
{
    private static TimeProvider _time = TimeProvider.System;

    public static TimeProvider Time
    {
        get => Volatile.Read(ref _time);
        set => Volatile.Write(ref _time, value ?? TimeProvider.System);
    }
}
