using System.Management.Automation;
using WinEksPatch.Windows;
using WinEksPatch.Workflows;

namespace WinEksPatch.Commands;

/// <summary>A cmdlet that looks at the containers of a cluster's Windows nodes and their images.</summary>
public abstract class ContainerCmdlet : KubernetesCmdlet
{
    private protected ContainerAssessment CreateAssessment() => Guard(() => new WorkflowFactory(Connections).Containers());
}

/// <summary>
/// <para type="synopsis">Gets, for each container on a Windows node, whether its image matches the host's Windows build.</para>
/// <para type="description">For every container of the pods on the cluster's Windows nodes: the image, its OS version
/// (the platform os.version the registry records for the Windows image a node of that build pulls), the node's build
/// (kernelVersion), whether they are compatible under process isolation (the same build number: 17763, 20348 or 26100)
/// and how many monthly Windows patches the image's base is behind the host. An image that cannot be read (not found,
/// registry refuses, no Windows image) writes one error and the other containers still come.</para>
/// </summary>
/// <example>
///   <code>Get-WinContainerPatchStatus -ClusterName demo</code>
///   <para>Every Windows container of the cluster 'demo' against its node.</para>
/// </example>
/// <example>
///   <code>Get-WinContainerPatchStatus -ClusterName demo -Namespace shop | Where-Object { -not $_.Compatible -or $_.MonthsBehind -gt 2 }</code>
///   <para>Containers in the 'shop' namespace built for another Windows build or on a base more than two months old.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "WinContainerPatchStatus")]
[OutputType("WinEksPatch.Model.WinContainerPatchStatus")]
public sealed class GetWinContainerPatchStatusCommand : ContainerCmdlet
{
    /// <summary>The EKS cluster.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ClusterNameCompleter))]
    public string ClusterName { get; set; } = "";

    /// <summary>Only pods of this namespace.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Namespace { get; set; }

    protected override void ProcessRecord()
    {
        var assessment = CreateAssessment();
        RunWorkflow((host, token) => assessment.PatchStatusAsync(ClusterName, Namespace, host, token), perInputObject: true);
    }
}

/// <summary>
/// <para type="synopsis">Ranks the images in use on Windows nodes by what caching them in the AMI would save.</para>
/// <para type="description">For each image the pods on the cluster's Windows nodes run: how many pods and nodes use it,
/// and, against the AMI each node group launches, the bytes a new node must download (compressed layers not cached in
/// the AMI) and extract (their on-disk size). Ranked by (download + extract) × pods: what caching the image saves each
/// time the nodes are replaced. EstimatedPullTime uses nominal rates (20 MB/s download, 7.6 MB/s Windows extraction).
/// The output pipes into New-WinNodeAmi -CacheImage. An image built for another Windows build than a group's hosts
/// cannot start there with process isolation: it is left out for that group, with a warning naming it.</para>
/// </summary>
/// <example>
///   <code>Get-WinImageCachePlan -ClusterName demo</code>
///   <para>The images of the cluster 'demo', the most expensive to pull on a new node first.</para>
/// </example>
/// <example>
///   <code>Get-WinImageCachePlan -ClusterName demo | Where-Object { -not $_.AlreadyCached } | Select-Object -First 5 | Format-Table Image, Pods, DownloadSize, EstimatedPullTime</code>
///   <para>The five images worth caching most that the AMI does not already cache.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "WinImageCachePlan")]
[OutputType("WinEksPatch.Model.WinImageCacheCandidate")]
public sealed class GetWinImageCachePlanCommand : ContainerCmdlet
{
    /// <summary>The EKS cluster.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ClusterNameCompleter))]
    public string ClusterName { get; set; } = "";

    /// <summary>Only images on nodes of these node groups. Bound from the pipeline by property name too: the groups piped in
    /// (Get-WinNodeGroup) make one plan per cluster.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.NodeGroupNameCompleter))]
    public string[]? NodeGroupName { get; set; }

    private readonly PipelineGroups _targets = new();

    protected override void ProcessRecord() => _targets.Add(ClusterName, NodeGroupName);

    protected override void EndProcessing()
    {
        try
        {
            foreach (var cluster in _targets.Clusters)
            {
                var assessment = CreateAssessment();
                RunWorkflow((host, token) => assessment.CachePlanAsync(cluster, _targets.GroupsOf(cluster), host, token), perInputObject: true);
            }
        }
        finally
        {
            base.EndProcessing();
        }
    }
}
