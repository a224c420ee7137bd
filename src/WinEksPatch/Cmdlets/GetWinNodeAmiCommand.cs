using System.Management.Automation;
using WinEksPatch.Model;
using WinEksPatch.Windows;
using WinEksPatch.Workflows;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Gets candidate Windows AMIs for EKS nodes.</para>
/// <para type="description">Lists the latest EKS-optimized Windows AMIs that AWS publishes as SSM public parameters
/// (/aws/service/ami-windows-latest/Windows_Server-&lt;version&gt;-English-&lt;edition&gt;-EKS_Optimized-&lt;kubernetes&gt;/image_id)
/// and the AMIs this account built with New-WinNodeAmi (EC2 Image Builder), with Kubernetes and Windows versions,
/// edition, OS build and the container images cached in them.</para>
/// <para type="description">The OS build of an EKS AMI is the newest monthly Windows release published before the AMI
/// was created (from the patch calendar shipped with the module); AMIs built by New-WinNodeAmi carry theirs as a tag.</para>
/// <para type="description">When nothing matches (a Kubernetes version EKS publishes no Windows AMI for, say), a warning
/// says what was asked and names the Kubernetes versions that are published in the region, nearest first.</para>
/// </summary>
/// <example>
///   <code>Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core</code>
///   <para>The latest EKS-optimized Windows Server 2022 Core AMI for Kubernetes 1.31 (one GetParameter).</para>
/// </example>
/// <example>
///   <code>Get-WinNodeAmi -All -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks | Select-Object -First 3 ImageId, OsBuild, CreationDate</code>
///   <para>The three newest patch levels of that AMI: what to roll back to.</para>
/// </example>
/// <example>
///   <code>Get-WinNodeAmi -WindowsVersion 2022 | Sort-Object KubernetesVersion | Format-Table ImageId, KubernetesVersion, Edition, OsBuild</code>
///   <para>Every EKS-optimized Windows Server 2022 AMI, for each Kubernetes version.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "WinNodeAmi")]
[OutputType("WinEksPatch.Model.WinNodeAmi")]
public sealed class GetWinNodeAmiCommand : AwsCmdlet
{
    /// <summary>Kubernetes version, for example 1.31.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidatePattern(@"^\d+\.\d+$")]
    public string? KubernetesVersion { get; set; }

    /// <summary>Windows Server version: 2019, 2022 or 2025.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("2019", "2022", "2025")]
    public string? WindowsVersion { get; set; }

    /// <summary>Core or Full.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("Core", "Full")]
    public string? Edition { get; set; }

    /// <summary>Eks (the EKS-optimized AMIs), ImageBuilder (AMIs built by New-WinNodeAmi); both when omitted.</summary>
    [Parameter]
    [ValidateSet("Eks", "ImageBuilder")]
    public string[]? Source { get; set; }

    /// <summary>Every EKS-optimized AMI of the region (older patch levels too), not only the latest of each kind.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    protected override void ProcessRecord()
    {
        var catalog = Guard(() => new WorkflowFactory(Connections).Catalog());
        var query = new AmiQuery(KubernetesVersion, WindowsVersion, Edition);
        var sources = Source is { Length: > 0 } ? Source : ["Eks", "ImageBuilder"];
        RunWorkflow(async (host, token) =>
        {
            var found = 0;
            if (sources.Contains("Eks"))
            {
                var eks = All ? await catalog.AllEksAsync(query, token).ConfigureAwait(false) : await catalog.LatestEksAsync(query, token).ConfigureAwait(false);
                foreach (var ami in eks)
                {
                    host.Output(ami);
                    found++;
                }
            }

            if (sources.Contains("ImageBuilder"))
            {
                foreach (var ami in await catalog.BuiltAsync(query, token).ConfigureAwait(false))
                {
                    host.Output(ami);
                    found++;
                }
            }

            // Nothing is an answer too, but a silent one reads like a bug: say what was asked and what the region publishes.
            if (found == 0)
            {
                host.Warning(await catalog.NothingMatchesAsync(query, sources, token).ConfigureAwait(false));
            }
        }, perInputObject: true);
    }
}
