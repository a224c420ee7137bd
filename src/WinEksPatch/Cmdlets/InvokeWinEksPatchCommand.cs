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
/// <para type="description">Everything that can be checked is checked before the first change: -ReportPath (its folder
/// is created; ReportPathInvalid when it cannot be written), every -NodeGroupName (a name that is not a group of the
/// cluster, or a group without Windows nodes, fails the cycle; so does a cluster without Windows groups: a cycle that
/// patched nothing is not a success), the limits and timeouts, and -ImageSource.</para>
/// <para type="description">Emits one WinEksPatchReport: per group the AMI and OS build its nodes ran before, the target
/// AMI and its build, what the nodes run after the cycle (read from the cluster again, so a group that failed part-way
/// shows its true state, with NodesOnTarget of NodeCount), monthly patches caught up, nodes replaced, durations, the pods
/// and budgets that held drains up, and the API calls that group made (the report adds the run's total, assessment
/// included). -ReportPath also writes it as JSON. For runbooks and scheduled tasks: -Force (or -Confirm:$false) asks
/// nothing and overrides nothing (drains honour PodDisruptionBudgets and refuse pods no controller recreates unless
/// -OverridePodDisruptionBudget or -EvictUnreplicatedPods say otherwise; each group's entry lists the pods deleted). The
/// report is always emitted and written, a failure or Ctrl+C included; every failure then ends the cmdlet with one
/// error, PatchCycleFailed, whose category is the cause's and whose inner exception is the cause. It ends the script as
/// `throw` does (try/catch catches it), so `pwsh -File` exits 1 with or without $ErrorActionPreference = 'Stop'
/// (about_WinEksPatch_Unattended). A group
/// declined at the confirmation prompt is reported NotAttempted and is not a failure.</para>
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
/// <example>
///   <code>Get-WinPatchStatus -ClusterName demo | Where-Object OutdatedNodes -gt 0 | Invoke-WinEksPatch -WhatIf -WarningAction SilentlyContinue | Where-Object NodesToReplace | Format-List NodeGroupName, NodesToReplace</code>
///   <para>Plans exactly the groups that have outdated nodes, in one cycle for the cluster (ClusterName and NodeGroupName
///   bind from the piped objects).</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "WinEksPatch", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType("WinEksPatch.Model.WinEksPatchReport", "WinEksPatch.Model.NodeReplacementPlan")]
public sealed class InvokeWinEksPatchCommand : RolloutCmdlet
{
    /// <summary>With -ImageSource &lt;ami&gt;: accounts (12-digit ids) besides this one and Amazon whose AMIs may be set. Without it, an AMI another account
    /// owns is refused with AmiOwnerNotTrusted before anything changes: nodes run whatever its owner put in it.</summary>
    [Parameter]
    [ValidatePattern(@"^\d{12}$")]
    public string[]? AllowAmiOwner { get; set; }

    /// <summary>The EKS cluster.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ClusterNameCompleter))]
    public string ClusterName { get; set; } = "";

    /// <summary>Only these node groups, in this order; every Windows group when omitted. Bound from the pipeline by property
    /// name too: the groups piped in (Get-WinNodeGroup, Get-WinPatchStatus) are patched in one cycle per cluster.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.NodeGroupNameCompleter))]
    public string[]? NodeGroupName { get; set; }

    /// <summary>EksLatest (default): the latest EKS-optimized AMI; Build: a new AMI from New-WinNodeAmi per group; or an AMI id (ami-...).</summary>
    [Parameter]
    [ValidatePattern("^(EksLatest|Build|ami-[0-9a-f]{8,17})$")]
    [ArgumentCompleter(typeof(Completion.ImageSourceCompleter))]
    public string ImageSource { get; set; } = "EksLatest";

    /// <summary>With -ImageSource Build: cache the images the group's pods run that its AMI does not cache yet (Get-WinImageCachePlan).</summary>
    [Parameter]
    public SwitchParameter CacheImagesFromCluster { get; set; }

    /// <summary>With -ImageSource Build: EC2 Fast Launch on the new AMI (New-WinNodeAmi -FastLaunch: a pre-provisioned snapshot per
    /// node of the group, counted as the larger of its node count and desired size, at least 5); the rollout starts once EC2 reports it enabled and the snapshots are estimated on
    /// hand (rounds of 6 at a time, 25 minutes each at most), so every new node boots from one. -WhatIf plans the rollout
    /// with those snapshots (its FastLaunch finding and EstimatedDuration).</summary>
    [Parameter]
    public SwitchParameter FastLaunch { get; set; }

    /// <summary>Also write the report as JSON to this file.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ReportPath { get; set; }

    // Pipeline input is gathered first: the groups of each cluster make one cycle (and one report), so that
    // `Get-WinNodeGroup | Invoke-WinEksPatch` patches exactly those groups once, not one whole-cluster cycle per group.
    private readonly PipelineGroups _targets = new();

    protected override void ProcessRecord() => _targets.Add(ClusterName, NodeGroupName);

    protected override void EndProcessing()
    {
        try
        {
            if (FastLaunch && ImageSource != "Build")
            {
                ThrowTerminatingError(ToErrorRecord(new WinEksPatchException(ErrorIds.InvalidImageSource, ErrorKind.InvalidArgument,
                    $"-FastLaunch turns EC2 Fast Launch on for the AMI -ImageSource Build makes, and -ImageSource is {ImageSource}: use -ImageSource Build, " +
                    "or Enable-WinNodeAmiFastLaunch for an AMI of your own. Nothing was changed.", ImageSource)));
            }

            var options = RolloutOptions();
            var reportPath = ReportPath == null ? null : Guard(() => _targets.Clusters.Count > 1
                ? throw new WinEksPatchException(ErrorIds.ReportPathInvalid, ErrorKind.InvalidArgument,
                    $"-ReportPath names one file, and the pipeline brought {_targets.Clusters.Count} clusters ({string.Join(", ", _targets.Clusters)}): " +
                    "give each cluster its own Invoke-WinEksPatch and report. Nothing was changed.", ReportPath)
                : ReportFile.Prepare(ReportPath, FileSystemPath(ReportPath)));
            foreach (var cluster in _targets.Clusters)
            {
                PatchCluster(cluster, _targets.GroupsOf(cluster), options, reportPath);
            }
        }
        finally
        {
            base.EndProcessing();
        }
    }

    private void PatchCluster(string clusterName, IReadOnlyList<string> groups, ReplacementOptions options, string? reportPath)
    {
        var cycle = Workflow(w => w.PatchCycle());
        ImageSource source = ImageSource switch
        {
            "EksLatest" => new ImageSource.EksLatest(),
            "Build" => new WorkflowFactory(Connections).BuildSource(CacheImagesFromCluster, FastLaunch ? new Workflows.AmiBuild.AmiFastLaunchOptions() : null),
            var ami => new ImageSource.Given(ami, AllowAmiOwner),
        };
        PatchCycleOutcome? outcome = null;
        RunWorkflow(async (host, token) =>
        {
            outcome = await cycle.RunAsync(clusterName, groups, source, options, host, token).ConfigureAwait(false);
            if (reportPath != null)
            {
                // Written whatever happened, a stop included: the report is what a scheduled task leaves behind.
                await File.WriteAllTextAsync(reportPath, JsonSerializer.Serialize(outcome.Report, ReportFile.Json), CancellationToken.None).ConfigureAwait(false);
            }

            token.ThrowIfCancellationRequested();
            host.Output(outcome.Report);
        });

        // Every failure ends as PatchCycleFailed, after the report was emitted and written: one id for scripts to catch, the
        // cause's category, and the cause itself as the inner exception. A group declined at the prompt is not a failure.
        if (outcome?.Failure is { } failure)
        {
            DebugOrigin(failure);
            var failed = outcome.Report.Groups.FirstOrDefault(g => g.Result == nameof(GroupPatchResult.Failed));
            throw ScriptTerminating(new WinEksPatchException(ErrorIds.PatchCycleFailed, failure.Kind,
                failed == null
                    ? $"The patch cycle of {clusterName} did not start: {failure.ErrorId}: {failure.Message}"
                    : $"The patch cycle of {clusterName} stopped at node group {failed.NodeGroupName}: {failed.Error}",
                clusterName, failure));
        }
    }

    /// <summary>
    /// PatchCycleFailed ends the script like <c>throw</c> does, not only the statement as ThrowTerminatingError would:
    /// `pwsh -File patch.ps1` (a scheduled task) then exits 1 whether or not the script set $ErrorActionPreference, and
    /// nothing after the cycle runs as if it had succeeded. try/catch catches it (to go on with another cluster); the id,
    /// category and inner exception are the same as any other error of the module's.
    /// </summary>
    private static RuntimeException ScriptTerminating(WinEksPatchException error)
    {
        // The id a cmdlet's own ThrowTerminatingError would get: "<id>,<command type>".
        var exception = new WinEksPatchErrorException(error.Message, error);
        var record = new ErrorRecord(exception, $"{error.ErrorId},{typeof(InvokeWinEksPatchCommand).FullName}", ToCategory(error.Kind), error.Target);
        return new RuntimeException(error.Message, exception, record) { WasThrownFromThrowStatement = true };
    }
}

/// <summary>-ReportPath, checked before anything changes: its folder is created, and the file must be writable.</summary>
internal static class ReportFile
{
    /// <summary>How the Invoke cmdlets write their reports: camelCase, indented, enums by name.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public static string Prepare(string given, string? path)
    {
        if (path == null)
        {
            throw Invalid(given, "is not a file-system path");
        }

        try
        {
            if (Directory.Exists(path))
            {
                throw Invalid(given, "is a folder; name a file in it");
            }

            var folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }

            // Opened for writing now (and left as it was): a read-only file or folder fails here, not after the rollout.
            var existed = File.Exists(path);
            using (new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite))
            {
            }

            if (!existed)
            {
                File.Delete(path);
            }

            return path;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw Invalid(given, $"cannot be written ({ex.Message})", ex);
        }
    }

    private static WinEksPatchException Invalid(string given, string why, Exception? inner = null) =>
        new(ErrorIds.ReportPathInvalid, ErrorKind.InvalidArgument, $"-ReportPath: '{given}' {why}. Nothing was changed.", given, inner);
}
