namespace WinEksPatch.Model;

/// <summary>One AMI's EC2 Fast Launch: output of <c>Get-WinNodeAmiFastLaunch</c>, <c>Enable-WinNodeAmiFastLaunch</c> and
/// <c>Disable-WinNodeAmiFastLaunch</c>; binds to their <c>-ImageId</c> by property name.</summary>
public sealed class WinNodeAmiFastLaunch
{
    public required string ImageId { get; init; }

    public required string Region { get; init; }

    /// <summary>EC2's state: enabling, enabling-failed, enabled, enabled-failed, disabling, disabling-failed.</summary>
    public required string State { get; init; }

    /// <summary>EC2's reason for the last change of state (for a failure, what went wrong).</summary>
    public string? StateTransitionReason { get; init; }

    public DateTimeOffset? StateTransitionTime { get; init; }

    /// <summary>Pre-provisioned snapshots EC2 keeps on hand for the AMI (and replenishes as launches use them).</summary>
    public int? TargetSnapshotCount { get; init; }

    /// <summary>Temporary instances EC2 may run at once to make the snapshots.</summary>
    public int? MaxParallelLaunches { get; init; }

    /// <summary>The launch template those temporary instances use (id or name, and version), if one was given.</summary>
    public string? LaunchTemplate { get; init; }

    public string? OwnerId { get; init; }

    /// <summary>The AMI's root volume (GiB): the size of each pre-provisioned snapshot at most.</summary>
    public int? RootVolumeGiB { get; init; }

    /// <summary>At most TargetSnapshotCount × RootVolumeGiB of EBS snapshot storage (snapshots are incremental, so often less).</summary>
    public int? SnapshotStorageGiB => TargetSnapshotCount * RootVolumeGiB;

    /// <summary>Pre-provisioned snapshots estimated on hand now (EC2 reports only the target): the rounds of
    /// MaxParallelLaunches, 25 minutes each at most, since the state changed to enabled, up to the target. Launches that
    /// took snapshots are not seen by the estimate, so it is an upper bound. Null when launches cannot take snapshots in
    /// this state.</summary>
    public int? EstimatedSnapshotsOnHand { get; init; }

    /// <summary>When the whole target is estimated on hand, counted the same way; null when launches cannot take snapshots.</summary>
    public DateTimeOffset? SnapshotsReadyBy { get; init; }

    public override string ToString() => $"{ImageId} ({State})";
}
