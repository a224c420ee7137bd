using System.Management.Automation;
using WinEksPatch.Windows;
using WinEksPatch.Workflows;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Measures what a Windows container image really costs: to push, to pull, and on disk.</para>
/// <para type="description">Reads the image from its registry (OCI distribution API; ECR with a token from the AWS
/// identity, other registries with the docker config's credentials or anonymously) and resolves a multi-OS manifest
/// list to the Windows image of the target's build. It reports the compressed size per layer and in total (what a push
/// or pull transfers, and what ECR shows), the size on disk (what docker image ls shows), and, with -ImageId or
/// -NodeName, which layers are already present there (cached in the AMI, or pulled before by the node's pods), hence
/// the bytes a pull on that AMI or node really downloads and extracts. With -Repository it also says what a push there
/// would upload: only the layers the repository lacks.</para>
/// <para type="description">How the size on disk is obtained: registries do not record uncompressed sizes, and
/// downloading gigabytes to count them is not an option, so for each gzip layer the last four bytes of the blob are read
/// with one HTTP Range request. gzip ends every stream with ISIZE, the uncompressed length modulo 2^32; layers larger
/// than 4 GiB (Windows base layers) are unwrapped by taking the smallest size not below the compressed size. Layers
/// that are not gzip (uncompressed tar) count their own size; zstd layers report no size.</para>
/// </summary>
/// <example>
///   <code>Measure-WinContainerImage -Image 111122223333.dkr.ecr.us-west-2.amazonaws.com/fluentd-windows:1.17.3-ltsc2019</code>
///   <para>The guide's fluentd image: 533.05 MB compressed in ECR, 6.96 GB on disk.</para>
/// </example>
/// <example>
///   <code>$ami = (Get-WinNodeGroup -ClusterName demo -NodeGroupName win-managed).ImageId; Measure-WinContainerImage -Image mcr.microsoft.com/windows/servercore:ltsc2022 -ImageId $ami | Format-List Image, CompressedSize, Size, SharedSize, DownloadSize, ExtractSize</code>
///   <para>What servercore costs on a new node of the group: its base is cached in the EKS-optimized AMI.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Measure, "WinContainerImage", DefaultParameterSetName = "Registry")]
[OutputType("WinEksPatch.Model.WinContainerImageSize")]
public sealed class MeasureWinContainerImageCommand : KubernetesCmdlet
{
    /// <summary>Image references (registry/repository:tag or @sha256:digest).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Image { get; set; } = [];

    /// <summary>An AMI: what a pull costs on a new node launched from it (layers of the images it caches are present).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Ami")]
    [ValidatePattern("^ami-[0-9a-f]{8,17}$")]
    [ArgumentCompleter(typeof(Completion.ImageIdCompleter))]
    public string? ImageId { get; set; }

    /// <summary>A running node: what a pull costs there (its AMI's cache and the images of its pods are present).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Node")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.NodeNameCompleter))]
    public string? NodeName { get; set; }

    /// <summary>The cluster of -NodeName.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Node")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ClusterNameCompleter))]
    public string? ClusterName { get; set; }

    /// <summary>A repository (registry/repository) to measure a push to: only the layers it lacks are uploaded.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Repository { get; set; }

    protected override void ProcessRecord()
    {
        PullTarget target = ParameterSetName switch
        {
            "Ami" => new PullTarget.Ami(ImageId!),
            "Node" => new PullTarget.Node(ClusterName!, NodeName!),
            _ => new PullTarget.None(),
        };
        var cost = Guard(() => new WorkflowFactory(Connections).ImageCost());
        RunWorkflow((host, token) => cost.MeasureAsync(Image, target, Repository, host, token), perInputObject: true);
    }
}
