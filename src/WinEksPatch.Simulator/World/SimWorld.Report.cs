using WinEksPatch.Simulator.Faults;
using WinEksPatch.Simulator.Report;

namespace WinEksPatch.Simulator.World;

// The control area's state: API fault rules (Faults/) and the report (Report/). Both are created with the world;
// the report subscribes to node and pod changes on first use and seeds itself from the current state.
public sealed partial class SimWorld
{
    private SimReport? _report;

    /// <summary>API and token-expiry fault rules in force (thread-safe; see Faults/ApiFaults.cs).</summary>
    public ApiFaults ApiFaults { get; } = new(accountId);

    /// <summary>The simulator report (GET /_sim/report).</summary>
    public SimReport Report
    {
        get
        {
            if (Volatile.Read(ref _report) is SimReport report)
            {
                return report;
            }

            lock (Gate)
            {
                return _report ??= new SimReport(this);
            }
        }
    }
}
