using System.Management.Automation;
using WinEksPatch.Workflows;
using WinEksPatch.Workflows.FastLaunch;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Gets the EC2 Fast Launch state of Windows AMIs.</para>
/// <para type="description">Reads DescribeFastLaunchImages: for each AMI configured for EC2 Fast Launch, its state
/// (enabling, enabled, enabling-failed, enabled-failed, disabling, disabling-failed) with EC2's reason and time of the
/// last change, the pre-provisioned snapshots EC2 keeps on hand (TargetSnapshotCount), the parallel pre-provisioning
/// launches, the launch template of those launches, and the snapshot storage it costs at most (TargetSnapshotCount ×
/// the AMI's root volume). Without -ImageId, every Fast Launch AMI of the region. An AMI without Fast Launch is not
/// listed (its instances boot the standard way). EC2 does not report how many snapshots are ready at a given moment.</para>
/// </summary>
/// <example>
///   <code>Get-WinNodeAmiFastLaunch | Format-Table ImageId, State, TargetSnapshotCount, MaxParallelLaunches, SnapshotStorageGiB</code>
///   <para>Every AMI of the region with EC2 Fast Launch, and what its snapshots cost in storage.</para>
/// </example>
/// <example>
///   <code>Get-WinNodeAmi -Source ImageBuilder | Get-WinNodeAmiFastLaunch</code>
///   <para>The Fast Launch state of the AMIs New-WinNodeAmi built (those without it are not listed).</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "WinNodeAmiFastLaunch")]
[OutputType("WinEksPatch.Model.WinNodeAmiFastLaunch")]
public sealed class GetWinNodeAmiFastLaunchCommand : AwsCmdlet
{
    /// <summary>The AMIs to report on; default: every AMI of the region configured for EC2 Fast Launch.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidatePattern("^ami-[0-9a-f]{8,17}$")]
    [ArgumentCompleter(typeof(Completion.FastLaunchImageIdCompleter))]
    public string[]? ImageId { get; set; }

    protected override void ProcessRecord()
    {
        var setup = Guard(() => new WorkflowFactory(Connections).FastLaunch());
        var ids = ImageId ?? [];
        RunWorkflow(async (host, token) =>
        {
            foreach (var state in await setup.GetAsync(ids, token).ConfigureAwait(false))
            {
                host.Output(state);
            }
        }, perInputObject: true);
    }
}

/// <summary>
/// <para type="synopsis">Turns on EC2 Fast Launch for a Windows AMI and waits until it is enabled and its snapshots are on hand.</para>
/// <para type="description">EC2 Fast Launch launches Windows instances from snapshots taken after Sysprep's specialize
/// and OOBE phases, so new nodes skip the longest part of a Windows boot. EC2 makes those snapshots with temporary t3
/// instances (at most -MaxParallelLaunches at a time, each about 15 to 25 minutes) and replenishes them as launches
/// use them. It works for Windows AMIs this account owns or that are shared with it, generalized with Sysprep: the AMIs
/// New-WinNodeAmi builds are; Amazon's EKS-optimized AMIs are not eligible.</para>
/// <para type="description">Before any change it checks the AMI (exists, Windows, available), the launch template if
/// one is named, and the region's parallel-launch quota against the other Fast Launch AMIs (FastLaunchQuotaExceeded),
/// and shows the plan: snapshots on hand, their storage (at most TargetSnapshotCount × the root volume), the parallel
/// launches and the quota in use. Then it calls EnableFastLaunch and polls DescribeFastLaunchImages until the state is
/// enabled. Then it waits until the snapshots are on hand: EC2 does not report how many are ready, so the wait is the
/// estimate's (rounds of -MaxParallelLaunches, 25 minutes each at most, from the time it was enabled, up to
/// -TargetSnapshotCount; the output's SnapshotsReadyBy), reading the state each minute; -NoSnapshotWait returns at
/// enabled. A state of enabling-failed (or a change away from enabled while the snapshots are made) is FastLaunchFailed
/// with EC2's reason; -Timeout ending before enabled is FastLaunchTimeout. The AMI itself stays usable either way (its
/// instances boot the standard way). For an AMI that already has Fast Launch, the settings are changed.</para>
/// </summary>
/// <example>
///   <code>New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged | Enable-WinNodeAmiFastLaunch -TargetSnapshotCount 10</code>
///   <para>Builds the group's AMI and keeps ten pre-provisioned snapshots of it on hand for the rollout.</para>
/// </example>
/// <example>
///   <code>Get-WinNodeAmi -Source ImageBuilder | Select-Object -First 1 | Enable-WinNodeAmiFastLaunch -MaxParallelLaunches 10 -WhatIf</code>
///   <para>Shows the plan (snapshots, storage, the region's parallel launches) and changes nothing.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Enable, "WinNodeAmiFastLaunch", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "Default")]
[OutputType("WinEksPatch.Model.WinNodeAmiFastLaunch")]
public sealed class EnableWinNodeAmiFastLaunchCommand : AwsCmdlet
{
    /// <summary>The Windows AMI (owned by or shared with this account, generalized with Sysprep).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidatePattern("^ami-[0-9a-f]{8,17}$")]
    [ArgumentCompleter(typeof(Completion.OwnImageIdCompleter))]
    public string ImageId { get; set; } = "";

    /// <summary>Pre-provisioned snapshots to keep on hand (default 5, EC2's default): size it to the launches you expect at
    /// once, such as a rollout's surge.</summary>
    [Parameter]
    [ValidateRange(1, 10000)]
    public int TargetSnapshotCount { get; set; } = FastLaunchSetup.DefaultTargetSnapshotCount;

    /// <summary>Temporary instances EC2 may run at once to make the snapshots: 6 or more (default 6).</summary>
    [Parameter]
    [ValidateRange(FastLaunchSetup.MinParallelLaunches, 1000)]
    public int MaxParallelLaunches { get; set; } = FastLaunchSetup.MinParallelLaunches;

    /// <summary>The launch template of the temporary instances (their subnet, IMDSv2 settings); default: EC2's defaults
    /// in the default VPC.</summary>
    [Parameter(ParameterSetName = "LaunchTemplate", Mandatory = true)]
    [ValidatePattern("^lt-[0-9a-f]{8,17}$")]
    public string? LaunchTemplateId { get; set; }

    /// <summary>The version of -LaunchTemplateId (a number, $Latest or $Default; default $Default).</summary>
    [Parameter(ParameterSetName = "LaunchTemplate")]
    [ValidatePattern(@"^(\d+|\$Latest|\$Default)$")]
    public string? LaunchTemplateVersion { get; set; }

    /// <summary>The region's quota of parallel Fast Launch launches across every AMI (default 40); pass yours if it was raised.</summary>
    [Parameter]
    [ValidateRange(FastLaunchSetup.MinParallelLaunches, 100000)]
    public int ParallelLaunchQuota { get; set; } = FastLaunchSetup.DefaultParallelLaunchQuota;

    /// <summary>How long to wait for EC2 to report Fast Launch enabled (default 30 minutes). Must be positive.</summary>
    [Parameter]
    [ValidateTimeout]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Return after EnableFastLaunch, with the state EC2 answered (enabling), without waiting.</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    /// <summary>Return once EC2 reports Fast Launch enabled, without waiting until its snapshots are estimated on hand
    /// (SnapshotsReadyBy says when). Launches before then that find no snapshot boot the standard way.</summary>
    [Parameter]
    public SwitchParameter NoSnapshotWait { get; set; }

    protected override void ProcessRecord()
    {
        var options = new FastLaunchOptions
        {
            ImageId = ImageId,
            TargetSnapshotCount = TargetSnapshotCount,
            MaxParallelLaunches = MaxParallelLaunches,
            LaunchTemplateId = LaunchTemplateId,
            LaunchTemplateVersion = LaunchTemplateVersion,
            ParallelLaunchQuota = ParallelLaunchQuota,
            NoWait = NoWait,
            NoSnapshotWait = NoSnapshotWait,
            Timeout = Timeout,
        };
        var setup = Guard(() => new WorkflowFactory(Connections).FastLaunch());
        RunWorkflow((host, token) => setup.EnableAsync(options, host, token), perInputObject: true);
    }
}

/// <summary>
/// <para type="synopsis">Turns off EC2 Fast Launch for a Windows AMI.</para>
/// <para type="description">Calls DisableFastLaunch: EC2 deletes the AMI's pre-provisioned snapshots (ending their
/// storage cost) and instances launched from it afterwards boot the standard way. The AMI itself stays. The output is
/// the state EC2 answered (disabling); the AMI leaves Get-WinNodeAmiFastLaunch once EC2 is done. An AMI without Fast
/// Launch is FastLaunchNotEnabled.</para>
/// </summary>
/// <example>
///   <code>New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged | Enable-WinNodeAmiFastLaunch | Disable-WinNodeAmiFastLaunch</code>
///   <para>Turns Fast Launch on for a new AMI and off again.</para>
/// </example>
/// <example>
///   <code>Get-WinNodeAmiFastLaunch | Where-Object State -eq 'enabling-failed' | Disable-WinNodeAmiFastLaunch -WhatIf</code>
///   <para>Shows which failed Fast Launch configurations would be removed, and changes nothing.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Disable, "WinNodeAmiFastLaunch", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType("WinEksPatch.Model.WinNodeAmiFastLaunch")]
public sealed class DisableWinNodeAmiFastLaunchCommand : AwsCmdlet
{
    /// <summary>The AMI whose Fast Launch to turn off.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidatePattern("^ami-[0-9a-f]{8,17}$")]
    [ArgumentCompleter(typeof(Completion.FastLaunchImageIdCompleter))]
    public string ImageId { get; set; } = "";

    protected override void ProcessRecord()
    {
        var setup = Guard(() => new WorkflowFactory(Connections).FastLaunch());
        RunWorkflow((host, token) => setup.DisableAsync(ImageId, host, token), perInputObject: true);
    }
}
