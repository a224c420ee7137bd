using System.Management.Automation;
using WinEksPatch.Windows;
using WinEksPatch.Workflows;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Gets how far behind each Windows node group of a cluster is.</para>
/// <para type="description">For each Windows node group: the AMI it launches and the AMIs its nodes run, the oldest
/// node OS build, the newest candidate AMI (the latest EKS-optimized AMI for the group's Windows version and edition
/// and the cluster's Kubernetes version, or a newer one built by New-WinNodeAmi), how many nodes are older than it,
/// how many monthly Windows patches separate the oldest node from it, and the oldest node.</para>
/// </summary>
/// <example>
///   <code>Get-WinPatchStatus -ClusterName demo</code>
///   <para>Patch status of every Windows node group of the cluster 'demo'.</para>
/// </example>
/// <example>
///   <code>Get-WinPatchStatus -ClusterName demo | Where-Object MonthsBehind -gt 0 | Select-Object NodeGroupName, OsBuild, LatestOsBuild, MonthsBehind</code>
///   <para>Only the groups that are behind, with the builds that show it.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "WinPatchStatus")]
[OutputType("WinEksPatch.Model.WinPatchStatus")]
public sealed class GetWinPatchStatusCommand : NodeGroupsCmdlet
{
    protected override void ProcessRecord()
    {
        var assessment = Workflow(w => w.PatchStatus());
        RunWorkflow((host, token) => assessment.RunAsync(ClusterName, NodeGroupName ?? [], host, token), perInputObject: true);
    }
}
