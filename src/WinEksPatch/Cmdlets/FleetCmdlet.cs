using System.Management.Automation;
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

/// <summary>A fleet cmdlet over a cluster's Windows node groups: -ClusterName and optional -NodeGroupName, both bound from
/// the pipeline by property name (so Get-WinNodeGroup and Get-WinEksCluster output feeds them).</summary>
public abstract class NodeGroupsCmdlet : FleetCmdlet
{
    /// <summary>The EKS cluster.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ClusterNameCompleter))]
    public string ClusterName { get; set; } = "";

    /// <summary>Only these node groups (every Windows group when omitted).</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.NodeGroupNameCompleter))]
    public string[]? NodeGroupName { get; set; }
}
