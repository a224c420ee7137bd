using System.Management.Automation;
using System.Text.Json;
using System.Text.Json.Serialization;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Windows;
using WinEksPatch.Workflows;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Runs the whole monthly patch cycle of a cluster's Windows node groups: assess, choose the AMI, set it, replace the nodes.</para>
/// <para type="description">For each Windows node group (or those named): reads where it stands, takes the AMI from
/// -ImageSource (EksLatest: the latest EKS-optimized AMI for the group's Windows version and edition and the cluster's
/// Kubernetes version; Build: a new AMI built with New-WinNodeAmi, with -CacheImagesFromCluster caching the images the
/// group's pods run; or a given AMI id), points the group at it (Set-NodeGroupAmi) and replaces its nodes
/// (Invoke-NodeReplacement; managed groups through EKS's own update, followed to the end). Groups are done one after
/// the other, stopping at the first that fails; the others are left as they were.</para>
/// <para type="description">Emits one WinEksPatchReport: per group the AMI and OS build before and after, monthly patches
/// caught up, nodes replaced, durations, the pods and budgets that held drains up, and the API calls that group made (the
/// report adds the run's total, assessment included). -ReportPath
/// also writes it as JSON. For runbooks and scheduled tasks: -Force (or -Confirm:$false) asks nothing and overrides
/// nothing (drains honour PodDisruptionBudgets and refuse pods no controller recreates unless -OverridePodDisruptionBudget
/// or -EvictUnreplicatedPods say otherwise; each group's entry lists the pods deleted), and when a group
/// failed the cmdlet ends with a terminating error (PatchCycleFailed) after writing the report, so a script run with
/// `pwsh -File` and $ErrorActionPreference = 'Stop' exits non-zero. A group declined at the confirmation prompt is
/// reported NotAttempted and is not a failure.</para>
/// <para type="description">-WhatIf changes nothing and writes the plan of every step: the image build's (with -ImageSource
/// Build), the launch template change's, and per group the NodeReplacementPlan against the AMI the group would get
/// (old nodes as steps in run order, window, capacity floor, pre-flight, estimate); the report lists the groups as Planned.</para>
/// </summary>
/// <example>
///   <code>Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageSource EksLatest -Force | Format-List</code>
///   <para>Patches one group to the latest EKS-optimized AMI without prompting and shows the report.</para>
/// </example>
/// <example>
///   <code>Invoke-WinEksPatch -ClusterName demo -WhatIf -WarningAction SilentlyContinue | Where-Object NodesToReplace | Format-List NodeGroupName, TargetImageId, NodesToReplace, CapacityFloor, EstimatedDuration</code>
///   <para>What a cycle would do to every Windows group, without changing anything.</para>
/// </example>
/// <example>
///   <code>Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageSource Build -CacheImagesFromCluster -Force | Select-Object -ExpandProperty Groups</code>
///   <para>Builds an AMI that caches the group's images, then rolls the group onto it.</para>
/// </example>
/// <example>
///   <code>Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 2 -ReportPath (Join-Path ([IO.Path]::GetTempPath()) 'winekspatch-report.json') -Force | Select-Object -ExpandProperty Groups</code>
///   <para>Two nodes at a time; the report is also written as JSON for the runbook's output.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "WinEksPatch", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType("WinEksPatch.Model.WinEksPatchReport", "WinEksPatch.Model.NodeReplacementPlan")]
public sealed class InvokeWinEksPatchCommand : RolloutCmdlet
{
    /// <summary>The EKS cluster.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ClusterNameCompleter))]
    public string ClusterName { get; set; } = "";

    /// <summary>Only these node groups, in this order; every Windows group when omitted.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.NodeGroupNameCompleter))]
    public string[]? NodeGroupName { get; set; }

    /// <summary>EksLatest (default): the latest EKS-optimized AMI; Build: a new AMI from New-WinNodeAmi per group; or an AMI id (ami-...).</summary>
    [Parameter]
    [ValidatePattern("^(EksLatest|Build|ami-[0-9a-f]{8,17})$")]
    public string ImageSource { get; set; } = "EksLatest";

    /// <summary>With -ImageSource Build: cache the images the group's pods run that its AMI does not cache yet (Get-WinImageCachePlan).</summary>
    [Parameter]
    public SwitchParameter CacheImagesFromCluster { get; set; }

    /// <summary>Also write the report as JSON to this file.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ReportPath { get; set; }

    /// <summary>-ImageSource Build: New-WinNodeAmi for the group (caching what its pods run, with -CacheImagesFromCluster).</summary>
    private async Task<string?> BuildForGroupAsync(WinNodeGroup group, IWorkflowHost host, CancellationToken cancellationToken)
    {
        var workflows = new WorkflowFactory(Connections);
        IReadOnlyList<string> cache = [];
        if (CacheImagesFromCluster)
        {
            var plan = new CapturingHost(host);
            await workflows.Containers().CachePlanAsync(group.ClusterName, [group.NodeGroupName], plan, cancellationToken).ConfigureAwait(false);
            cache = plan.Items.OfType<WinImageCacheCandidate>().Where(c => !c.AlreadyCached).Select(c => c.Image).ToList();
        }

        var built = new CapturingHost(host);
        var builder = workflows.AmiBuilder();
        await builder.RunAsync(new Workflows.AmiBuild.AmiBuildOptions { ClusterName = group.ClusterName, NodeGroupName = group.NodeGroupName, CacheImages = cache },
            built, cancellationToken).ConfigureAwait(false);
        return built.Items.OfType<WinNodeAmi>().SingleOrDefault()?.ImageId; // none under -WhatIf (the build's plan was written)
    }

    private static readonly JsonSerializerOptions ReportJson = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    protected override void ProcessRecord()
    {
        var options = RolloutOptions();
        var reportPath = ReportPath == null ? null : Guard(() => FileSystemPath(ReportPath)
            ?? throw new WinEksPatchException(ErrorIds.ReportPathInvalid, ErrorKind.InvalidArgument, $"-ReportPath: '{ReportPath}' is not a file-system path.", ReportPath));
        var cycle = Workflow(w => w.PatchCycle());
        ImageSource source = ImageSource switch
        {
            "EksLatest" => new ImageSource.EksLatest(),
            "Build" => new ImageSource.Build(BuildForGroupAsync),
            var ami => new ImageSource.Given(ami),
        };
        WinEksPatchReport? report = null;
        RunWorkflow(async (host, token) =>
        {
            report = await cycle.RunAsync(ClusterName, NodeGroupName ?? [], source, options, host, token).ConfigureAwait(false);
            if (reportPath != null)
            {
                await File.WriteAllTextAsync(reportPath, JsonSerializer.Serialize(report, ReportJson), token).ConfigureAwait(false);
            }

            host.Output(report);
        }, perInputObject: true);

        // A group declined at the confirmation prompt is NotAttempted, not a failure.
        if (report?.Groups.FirstOrDefault(g => g.Result == GroupPatchResult.Failed) is { } failed)
        {
            ThrowTerminatingError(ToErrorRecord(new WinEksPatchException(ErrorIds.PatchCycleFailed, ErrorKind.InvalidOperation,
                $"The patch cycle of {ClusterName} stopped at node group {failed.NodeGroupName}: {failed.Error}", ClusterName)));
        }
    }
}
