using System.Management.Automation;
using WinEksPatch.Workflows;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Gets EKS clusters and their Windows footprint.</para>
/// <para type="description">Lists the clusters of the region (or the named ones) with Kubernetes version, status and
/// endpoint, the Windows node groups (managed and self-managed) and the number of Windows nodes.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "WinEksCluster")]
[OutputType("WinEksPatch.Model.WinEksCluster")]
public sealed class GetWinEksClusterCommand : KubernetesCmdlet
{
    private readonly List<string> _names = [];

    /// <summary>Cluster names; all clusters of the region when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("ClusterName")]
    [ValidateNotNullOrEmpty]
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
            using var connections = ConnectWithKubernetes();
            var inventory = Guard(() => new ClusterInventory(
                connections.Aws.Eks(), connections.Aws.AutoScaling(), connections.KubernetesFor, connections.Region));
            RunWorkflow((host, token) => inventory.RunAsync(_names, host, token));
        }
        finally
        {
            base.EndProcessing();
        }
    }
}
