using System.Collections;
using System.Management.Automation;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Workflows.FleetPlan;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Builds a fleet plan: the clusters to patch, in ordered waves, with rate control, soak time and maintenance windows.</para>
/// <para type="description">Takes clusters from the pipeline (Get-WinEksCluster's output, across profiles and regions:
/// ClusterName, Region, ProfileName and Tags bind by property name) or from -ClusterName/-Region/-ProfileName, and
/// groups them into waves: one wave of everything, or one per value of -WaveBy (ProfileName, Region, or Tag:&lt;key&gt;,
/// e.g. Tag:environment), in the order -WaveOrder gives (every value the clusters have must be placed, so prod is never
/// first by accident). Every wave gets -MaxConcurrency, -MaxErrors, -SoakTime, -MaintenanceWindow and -AlarmName; edit the plan
/// object, or the file Export-WinEksFleetPlan writes, to set waves apart. The plan is checked as Import-WinEksFleetPlan
/// checks a file (FleetPlanInvalid names the field) and is written to the pipeline; nothing is read from AWS or
/// changed.</para>
/// </summary>
/// <example>
///   <code>'dev', 'staging', 'prod' | ForEach-Object { Get-WinEksCluster -ProfileName $_ -Region us-west-2 } | New-WinEksFleetPlan -Name patch-tuesday -WaveBy ProfileName -WaveOrder dev, staging, prod -SoakTime 00:30:00</code>
///   <para>One wave per account, dev first, each cluster watched by the health gates for 30 minutes after its cycle.</para>
/// </example>
/// <example>
///   <code>'dev', 'prod' | ForEach-Object { Get-WinEksCluster -ProfileName $_ -Region us-west-2 } | New-WinEksFleetPlan -Name guarded -WaveBy ProfileName -WaveOrder dev, prod -SoakTime 00:20:00 -AlarmName '{ClusterName}-windows-5xx'</code>
///   <para>Each cluster's own 5XX alarm (dev-usw2-windows-5xx, prod-usw2-windows-5xx) is a health gate of its target: a
///   target does not start while it is in ALARM, and one that trips while the target soaks fails it and rolls it back.</para>
/// </example>
/// <example>
///   <code>Get-WinEksCluster | New-WinEksFleetPlan -Name nightly -WaveBy Tag:environment -WaveOrder dev, prod -MaintenanceWindow @{ Schedule = 'cron(0 22 ? * TUE#2 *)'; ScheduleOffset = 2; Duration = 6; ScheduleTimezone = 'Europe/Berlin' } | Export-WinEksFleetPlan -Path (Join-Path ([IO.Path]::GetTempPath()) 'nightly.yaml')</code>
///   <para>Waves by the clusters' environment tag, disrupting only in the six hours from 22:00 Berlin time on the Thursday
///   after Patch Tuesday; written as YAML to review and keep in source control.</para>
/// </example>
[Cmdlet(VerbsCommon.New, "WinEksFleetPlan")]
[OutputType(typeof(WinEksFleetPlan))]
public sealed class NewWinEksFleetPlanCommand : WinEksPatchCmdlet
{
    private readonly List<(WinEksFleetTarget Target, IDictionary? Tags)> _targets = [];

    /// <summary>The plan's name (letters, digits, '-', '_', '.').</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>A cluster to patch (bound from Get-WinEksCluster's ClusterName).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string ClusterName { get; set; } = "";

    /// <summary>The cluster's region.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.RegionCompleter))]
    public string Region { get; set; } = "";

    /// <summary>The profile of the cluster's account; the session's default identity when omitted.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.ProfileNameCompleter))]
    public string? ProfileName { get; set; }

    /// <summary>The account the cluster is in (bound from Get-WinEksCluster's AccountId): the run checks the profile
    /// reaches that account's cluster.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidatePattern(@"^\d{12}$")]
    public string? AccountId { get; set; }

    /// <summary>Only these Windows groups of the cluster (every Windows group when omitted).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string[]? NodeGroupName { get; set; }

    /// <summary>The cluster's tags, for -WaveBy Tag:&lt;key&gt; (bound from Get-WinEksCluster's Tags).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public IDictionary? Tags { get; set; }

    /// <summary>None (one wave, the default), ProfileName, Region, or Tag:&lt;key&gt;: the waves, one per value.</summary>
    [Parameter]
    [ValidatePattern("^(None|ProfileName|Region|Tag:.+)$")]
    public string WaveBy { get; set; } = "None";

    /// <summary>The order of the waves, by their -WaveBy value (the wave's name). Required with -WaveBy: every value
    /// must be placed.</summary>
    [Parameter]
    public string[]? WaveOrder { get; set; }

    /// <summary>Targets of a wave patched at once.</summary>
    [Parameter]
    [ValidateRange(1, 100)]
    public int MaxConcurrency { get; set; } = 1;

    /// <summary>Targets of a wave that may fail before the plan stops.</summary>
    [Parameter]
    [ValidateRange(0, 1000)]
    public int MaxErrors { get; set; }

    /// <summary>How long the health gates watch each target after its cycle.</summary>
    [Parameter]
    public TimeSpan SoakTime { get; set; } = TimeSpan.Zero;

    /// <summary>When the waves may disrupt anything: an object or hashtable with Schedule (SSM cron), ScheduleTimezone,
    /// ScheduleOffset, Duration (hours) and Cutoff (hours).</summary>
    [Parameter]
    public WinEksMaintenanceWindow? MaintenanceWindow { get; set; }

    /// <summary>EksLatest or Build (New-WinNodeAmi in each target's account and region).</summary>
    [Parameter]
    [ValidateSet("EksLatest", "Build")]
    public string ImageSource { get; set; } = "EksLatest";

    /// <summary>Invoke-NodeReplacement's -MaxSurge for every group.</summary>
    [Parameter]
    [ValidateRolloutLimit]
    public string MaxSurge { get; set; } = "1";

    /// <summary>Invoke-NodeReplacement's -MaxUnavailable for every group.</summary>
    [Parameter]
    [ValidateRolloutLimit]
    public string MaxUnavailable { get; set; } = "0";

    /// <summary>Start the first wave with a canary: one node of its first target's first self-managed group, soaked under
    /// the gates for -SoakTime before the rest goes.</summary>
    [Parameter]
    public SwitchParameter Canary { get; set; }

    /// <summary>Do not roll a failed target back (it is left on the new AMI for a look).</summary>
    [Parameter]
    public SwitchParameter NoRollback { get; set; }

    /// <summary>CloudWatch alarms every wave's alarm gate reads, in each target's own account and region: none may be in
    /// ALARM when a target starts or while it soaks. {ClusterName} and {Region} in a name are the target's, so one name
    /// covers an alarm per cluster (e.g. '{ClusterName}-windows-5xx'). Each must exist; the run checks before any change.</summary>
    [Parameter]
    [ValidateCount(1, 100)]
    [ValidateNotNullOrEmpty]
    public string[]? AlarmName { get; set; }

    protected override void ProcessRecord() => _targets.Add((new WinEksFleetTarget
    {
        ProfileName = string.IsNullOrEmpty(ProfileName) ? null : ProfileName,
        AccountId = AccountId,
        Region = Region,
        ClusterName = ClusterName,
        NodeGroupName = [.. NodeGroupName ?? []],
    }, Tags));

    protected override void EndProcessing()
    {
        try
        {
            var plan = new WinEksFleetPlan
            {
                Name = Name,
                Rollback = !NoRollback,
                Rollout = new WinEksFleetRollout { ImageSource = ImageSource, MaxSurge = MaxSurge, MaxUnavailable = MaxUnavailable },
                Waves = Guard(Waves),
            };
            if (plan.Waves.Count > 0)
            {
                plan.Waves[0].Canary = Canary;
            }

            Guard(() =>
            {
                FleetPlanValidator.Validate(plan, "built by New-WinEksFleetPlan");
                return plan;
            });
            WriteObject(plan);
        }
        finally
        {
            base.EndProcessing();
        }
    }

    private List<WinEksFleetWave> Waves()
    {
        WinEksFleetWave Wave(string name, IEnumerable<WinEksFleetTarget> targets) => new()
        {
            Name = name,
            Targets = [.. targets],
            MaxConcurrency = MaxConcurrency,
            MaxErrors = MaxErrors,
            SoakTime = SoakTime,
            MaintenanceWindow = MaintenanceWindow,
            Gates = new WinEksFleetGates { Alarms = [.. AlarmName ?? []] },
        };

        if (WaveBy == "None")
        {
            return [Wave(Name, _targets.Select(t => t.Target))];
        }

        string KeyOf((WinEksFleetTarget Target, IDictionary? Tags) t) => WaveBy switch
        {
            "ProfileName" => t.Target.ProfileName ?? "default",
            "Region" => t.Target.Region,
            _ => t.Tags?[WaveBy[4..]]?.ToString() ?? throw new WinEksPatchException(ErrorIds.FleetPlanInvalid, ErrorKind.InvalidArgument,
                $"-WaveBy {WaveBy}: the cluster {t.Target.Key} has no tag '{WaveBy[4..]}'.", t.Target.Key),
        };

        var byKey = _targets.GroupBy(KeyOf, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Select(t => t.Target).ToList(), StringComparer.OrdinalIgnoreCase);
        var order = WaveOrder ?? [];
        var unplaced = byKey.Keys.Where(k => !order.Contains(k, StringComparer.OrdinalIgnoreCase)).ToList();
        if (unplaced.Count > 0)
        {
            throw new WinEksPatchException(ErrorIds.FleetPlanInvalid, ErrorKind.InvalidArgument,
                $"-WaveOrder does not place {string.Join(", ", unplaced)}: with -WaveBy {WaveBy}, list every value in the order its wave runs " +
                $"(the clusters have: {string.Join(", ", byKey.Keys)}).", string.Join(",", unplaced));
        }

        return [.. order.Where(byKey.ContainsKey).Select(k => Wave(k, byKey[k]))];
    }
}

/// <summary>
/// <para type="synopsis">Reads a fleet plan file (JSON or YAML) and checks it.</para>
/// <para type="description">A .yaml or .yml file is YAML, anything else JSON; both use the camelCase names
/// Export-WinEksFleetPlan writes. Unknown names are refused, and every field is checked as the run would (regions,
/// names, limits, soak times, maintenance windows, a cluster named twice): FleetPlanInvalid names the field
/// (waves[1].targets[0].region). A file that cannot be read is FleetPlanNotFound.</para>
/// </summary>
/// <example>
///   <code>Get-WinEksCluster | New-WinEksFleetPlan -Name nightly | Export-WinEksFleetPlan -Path (Join-Path ([IO.Path]::GetTempPath()) 'nightly.yaml') | Import-WinEksFleetPlan | Format-List Name, Waves</code>
///   <para>Writes a plan and reads it back (the file Export-WinEksFleetPlan writes binds to -Path by its FullName).</para>
/// </example>
/// <example>
///   <code>Get-WinEksCluster -ProfileName prod -Region eu-west-1 | New-WinEksFleetPlan -Name prod-eu -SoakTime 01:00:00 | Export-WinEksFleetPlan -Path (Join-Path ([IO.Path]::GetTempPath()) 'prod-eu.json'); Import-WinEksFleetPlan (Join-Path ([IO.Path]::GetTempPath()) 'prod-eu.json') | Invoke-WinEksFleetPatch -WhatIf</code>
///   <para>A plan written as JSON, read back, and what each of its targets would do.</para>
/// </example>
[Cmdlet(VerbsData.Import, "WinEksFleetPlan")]
[OutputType(typeof(WinEksFleetPlan))]
public sealed class ImportWinEksFleetPlanCommand : WinEksPatchCmdlet
{
    /// <summary>The plan file (relative to the PowerShell location).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    protected override void ProcessRecord()
    {
        var path = FileSystemPath(Path) ?? Path;
        WriteObject(Guard(() => FleetPlanFile.Read(path)));
    }
}

/// <summary>
/// <para type="synopsis">Writes a fleet plan to a file, as JSON or YAML.</para>
/// <para type="description">A -Path ending in .yaml or .yml is written as YAML, anything else as JSON, with the names
/// Import-WinEksFleetPlan reads. The plan is checked first. An existing file is replaced unless -NoClobber.</para>
/// </summary>
/// <example>
///   <code>Get-WinEksCluster | New-WinEksFleetPlan -Name dev | Export-WinEksFleetPlan -Path (Join-Path ([IO.Path]::GetTempPath()) 'dev.yaml')</code>
///   <para>Writes a plan of the default account's clusters as YAML.</para>
/// </example>
/// <example>
///   <code>Get-WinEksCluster -ProfileName staging | New-WinEksFleetPlan -Name staging -MaxSurge 2 | Export-WinEksFleetPlan -Path (Join-Path ([IO.Path]::GetTempPath()) 'staging.json') -NoClobber:$false</code>
///   <para>Writes it as JSON, replacing an earlier file.</para>
/// </example>
[Cmdlet(VerbsData.Export, "WinEksFleetPlan", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportWinEksFleetPlanCommand : WinEksPatchCmdlet
{
    /// <summary>The plan (New-WinEksFleetPlan's or Import-WinEksFleetPlan's).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public WinEksFleetPlan Plan { get; set; } = null!;

    /// <summary>The file to write (relative to the PowerShell location).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Refuse to replace an existing file.</summary>
    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    protected override void ProcessRecord()
    {
        var path = Guard(() => FileSystemPath(Path) ?? throw new WinEksPatchException(ErrorIds.ReportPathInvalid, ErrorKind.InvalidArgument,
            $"-Path: '{Path}' is not a file-system path.", Path));
        Guard(() =>
        {
            FleetPlanValidator.Validate(Plan, $"'{Plan.Name}'");
            return Plan;
        });
        if (NoClobber && File.Exists(path))
        {
            ThrowTerminatingError(ToErrorRecord(new WinEksPatchException(ErrorIds.ReportPathInvalid, ErrorKind.ResourceBusy,
                $"-Path: '{path}' exists, and -NoClobber says not to replace it.", Path)));
        }

        if (ShouldProcess(path, $"Write fleet plan '{Plan.Name}'"))
        {
            File.WriteAllText(path, FleetPlanFile.Write(Plan, FleetPlanFile.IsYaml(path)));
            WriteObject(new FileInfo(path));
        }
    }
}
