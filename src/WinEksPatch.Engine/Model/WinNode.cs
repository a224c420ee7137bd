namespace WinEksPatch.Model;

/// <summary>A Windows node joined with its EC2 instance: output of <c>Get-WinNode</c>.</summary>
public sealed class WinNode
{
    public required string ClusterName { get; init; }

    public required string NodeName { get; init; }

    public string? NodeGroupName { get; init; }

    public string? InstanceId { get; init; }

    public string? ImageId { get; init; }

    public string? AmiName { get; init; }

    public DateTimeOffset? AmiCreationDate { get; init; }

    /// <summary>From <c>status.nodeInfo.kernelVersion</c>, e.g. 10.0.20348.2849.</summary>
    public string? OsBuild { get; init; }

    public string? WindowsVersion { get; init; }

    public bool Ready { get; init; }

    public bool Schedulable { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    public TimeSpan? Age { get; init; }

    /// <summary>Pods bound to the node that have not finished.</summary>
    public int PodCount { get; init; }

    public string? InstanceType { get; init; }

    public string? AvailabilityZone { get; init; }

    public override string ToString() => NodeName;
}
