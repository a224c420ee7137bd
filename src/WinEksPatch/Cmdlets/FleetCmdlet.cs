using WinEksPatch.Windows;
using WinEksPatch.Workflows;

namespace WinEksPatch.Commands;

/// <summary>A cmdlet that reads a cluster's Windows fleet (node groups, nodes, AMIs).</summary>
public abstract class FleetCmdlet : KubernetesCmdlet
{
    private protected FleetInventory CreateFleetInventory() => Workflow(w => w.Fleet());

    /// <summary>A workflow wired to this invocation's connections (see WorkflowFactory), with errors as terminating errors.</summary>
    private protected T Workflow<T>(Func<WorkflowFactory, T> create) => Guard(() => create(new WorkflowFactory(Connections)));
}
