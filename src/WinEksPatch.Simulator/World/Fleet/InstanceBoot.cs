namespace WinEksPatch.Simulator.World;

/// <summary>
/// How one instance booted: when it reached each phase (null: not yet, or never) and the EC2 Fast Launch pre-provisioned
/// snapshot its root volume was restored from. EC2 reports none of this as such; the simulator keeps it so that tests,
/// the report's timeline and the console output (EC2Launch v2's "Windows is Ready to use", stamped at
/// <see cref="OsReadyAt"/>) tell the same story. A warm-pool start overwrites the phases from running on; the launch
/// and OS-ready times stay those of the first boot. Touched only while holding SimWorld.Gate.
/// </summary>
public sealed class InstanceBoot
{
    /// <summary>The launch request (RunInstances on the group's behalf).</summary>
    public DateTimeOffset? LaunchedAt { get; set; }

    /// <summary>EC2 reported the instance running.</summary>
    public DateTimeOffset? RunningAt { get; set; }

    /// <summary>Windows is ready to use: Sysprep specialize and OOBE done (or skipped by a Fast Launch restore) and
    /// EC2Launch v2's preReady stage finished. Null for Linux, whose boot is not modelled in phases.</summary>
    public DateTimeOffset? OsReadyAt { get; set; }

    /// <summary>The bootstrap's kubelet registered the node.</summary>
    public DateTimeOffset? RegisteredAt { get; set; }

    /// <summary>The node turned Ready.</summary>
    public DateTimeOffset? ReadyAt { get; set; }

    /// <summary>Pods can be placed on the node: a Windows node's pod IPs are advertised (a Linux node: when Ready).</summary>
    public DateTimeOffset? UsableAt { get; set; }

    /// <summary>The pre-provisioned snapshot the launch consumed (EC2 Fast Launch), or null for a standard boot.</summary>
    public string? FastLaunchSnapshotId { get; set; }

    /// <summary>Whether the OS boot skipped Sysprep specialize and OOBE because a pre-provisioned snapshot was restored.</summary>
    public bool FromFastLaunchSnapshot => FastLaunchSnapshotId is not null;
}
