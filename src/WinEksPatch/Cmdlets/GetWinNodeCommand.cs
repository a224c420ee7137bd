using System.Management.Automation;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Gets the Windows nodes of an EKS cluster joined with their EC2 instances.</para>
/// <para type="description">For every Windows node (label kubernetes.io/os=windows): its node group, EC2 instance,
/// AMI and AMI creation date, OS build from status.nodeInfo.kernelVersion (osImage is not trusted), whether it is
/// Ready and schedulable, its age and how many active pods run on it. One LIST of nodes, one LIST of pods and batched
/// DescribeInstances/DescribeImages calls, however many nodes there are.</para>
/// </summary>
/// <example>
///   <code>Get-WinNode -ClusterName demo</code>
///   <para>Every Windows node of the cluster 'demo'.</para>
/// </example>
/// <example>
///   <code>Get-WinNodeGroup -ClusterName demo | Get-WinNode | Sort-Object OsBuild | Format-Table NodeName, NodeGroupName, OsBuild, PodCount</code>
///   <para>Nodes of every Windows group, oldest patch level first.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "WinNode")]
[OutputType("WinEksPatch.Model.WinNode")]
public sealed class GetWinNodeCommand : NodeGroupsCmdlet
{
    protected override void ProcessRecord()
    {
        var inventory = CreateFleetInventory();
        RunWorkflow((host, token) => inventory.GetNodesAsync(ClusterName, NodeGroupName ?? [], host, token), perInputObject: true);
    }
}
