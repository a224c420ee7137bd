using System.Management.Automation;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Gets the Windows node groups of an EKS cluster.</para>
/// <para type="description">Lists the cluster's Windows node groups: EKS managed node groups with a Windows AMI type
/// (or a launch template whose AMI is Windows) and self-managed Auto Scaling groups tagged
/// kubernetes.io/cluster/&lt;cluster&gt; whose AMI or nodes are Windows. For each: kind, Auto Scaling group, launch
/// template id and version, the AMI new nodes launch from, Windows version, edition and OS build, Kubernetes version,
/// desired/min/max sizes and the number of Windows nodes registered.</para>
/// <para type="description">The OS build comes from the kernelVersion of the group's nodes that run its AMI; without
/// such nodes, from the AMI's WinEksPatch:OsBuild tag, else from the newest monthly Windows release published before the
/// AMI was created. Output binds to Set-NodeGroupAmi and Invoke-NodeReplacement by ClusterName and NodeGroupName.</para>
/// </summary>
/// <example>
///   <code>Get-WinNodeGroup -ClusterName demo</code>
///   <para>Every Windows node group of the cluster 'demo'.</para>
/// </example>
/// <example>
///   <code>Get-WinEksCluster -Name demo | Get-WinNodeGroup | Where-Object Kind -eq SelfManaged | Select-Object NodeGroupName, ImageId, OsBuild</code>
///   <para>Self-managed Windows groups and the AMI and OS build they launch.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "WinNodeGroup")]
[OutputType("WinEksPatch.Model.WinNodeGroup")]
public sealed class GetWinNodeGroupCommand : FleetCmdlet
{
    /// <summary>The EKS cluster.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ClusterNameCompleter))]
    public string ClusterName { get; set; } = "";

    /// <summary>Node group names (EKS node group or Auto Scaling group); every Windows group when omitted. (-Name is its
    /// former name, kept as an alias.)</summary>
    [Parameter(Position = 1)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.NodeGroupNameCompleter))]
    public string[]? NodeGroupName { get; set; }

    protected override void ProcessRecord()
    {
        var inventory = CreateFleetInventory();
        RunWorkflow((host, token) => inventory.GetNodeGroupsAsync(ClusterName, NodeGroupName ?? [], host, token), perInputObject: true);
    }
}
