using System.Management.Automation;
using WinEksPatch.Workflows;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Gets EKS clusters and their Windows footprint.</para>
/// <para type="description">Lists the clusters of the region (or the named ones) with Kubernetes version, status and
/// endpoint, the Windows node groups (managed node groups with a Windows AMI type or Windows nodes, and self-managed
/// Auto Scaling groups whose nodes are Windows) and the number of Windows nodes. It reads EKS (ListClusters,
/// DescribeCluster, ListNodegroups, DescribeNodegroup), one LIST of Windows nodes per cluster, and one batched
/// DescribeAutoScalingInstances for nodes outside managed groups.</para>
/// <para type="description">A cluster that cannot be read writes an error (ClusterNotFound, KubernetesUnauthorized, ...)
/// and the others still come.</para>
/// </summary>
/// <example>
///   <code>Get-WinEksCluster</code>
///   <para>Every cluster of the current region with its Windows node groups and Windows node count.</para>
/// </example>
/// <example>
///   <code>Get-WinEksCluster -Name demo | Select-Object ClusterName, KubernetesVersion, WindowsNodeGroups</code>
///   <para>One cluster by name; its output binds to -ClusterName of the other WinEksPatch cmdlets.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "WinEksCluster")]
[OutputType("WinEksPatch.Model.WinEksCluster")]
public sealed class GetWinEksClusterCommand : KubernetesCmdlet
{
    private readonly List<string> _names = [];

    /// <summary>Cluster names; all clusters of the region when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("ClusterName")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ClusterNameCompleter))]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        if (Name != null)
        {
            _names.AddRange(Name);
        }
    }

    protected override void EndProcessing()
    {
        try
        {
            var inventory = Guard(() => new ClusterInventory(
                Connections.Aws.Eks(), Connections.Aws.AutoScaling(), Connections.KubernetesFor, Connections.Region, Connections.Aws.Context.ProfileName));
            RunWorkflow((host, token) => inventory.RunAsync(_names, host, token));
        }
        finally
        {
            base.EndProcessing();
        }
    }
}
