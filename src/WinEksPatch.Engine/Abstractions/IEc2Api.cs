namespace WinEksPatch.Abstractions;

/// <summary>The EC2 operations the module uses (through AWSSDK.EC2), batched: never one call per node.</summary>
public interface IEc2Api
{
    Task<IReadOnlyList<Ec2Instance>> DescribeInstancesAsync(IReadOnlyCollection<string> instanceIds, CancellationToken cancellationToken = default);

    /// <summary>Images by id; ids that do not exist are absent from the result (not an error).</summary>
    Task<IReadOnlyList<Ec2Image>> DescribeImagesAsync(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default);

    /// <summary>Images of an owner (<c>self</c>, <c>amazon</c> or an account id) matching EC2 filters (e.g. <c>name</c> with
    /// wildcards, <c>tag-key</c>); all pages.</summary>
    Task<IReadOnlyList<Ec2Image>> DescribeImagesAsync(string owner, IReadOnlyDictionary<string, IReadOnlyCollection<string>> filters,
        CancellationToken cancellationToken = default);

    /// <summary>A new version of a launch template from <paramref name="sourceVersion"/> with only the AMI changed (EC2 keeps
    /// every other field of the source, user data byte for byte). Returns the new version.</summary>
    Task<LaunchTemplateVersion> CreateLaunchTemplateVersionAsync(string launchTemplateId, long sourceVersion, string imageId, string description,
        CancellationToken cancellationToken = default);

    /// <summary>Tags EC2 resources (instances, AMIs).</summary>
    Task CreateTagsAsync(IReadOnlyCollection<string> resourceIds, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default);

    Task DeleteTagsAsync(IReadOnlyCollection<string> resourceIds, IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default);

    /// <summary>One version (number, <c>$Latest</c> or <c>$Default</c>) of a launch template, by id or name.</summary>
    Task<LaunchTemplateVersion> DescribeLaunchTemplateVersionAsync(LaunchTemplateReference template, CancellationToken cancellationToken = default);

    /// <summary>EC2 Fast Launch settings and state (DescribeFastLaunchImages), all pages: of the given AMIs, or of every AMI of
    /// the region configured for it when <paramref name="imageIds"/> is empty. An AMI without Fast Launch is absent.</summary>
    Task<IReadOnlyList<FastLaunchImage>> DescribeFastLaunchImagesAsync(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default);

    /// <summary>EnableFastLaunch (or changes the settings of an AMI that has it): EC2's answer, usually in state <c>enabling</c>.</summary>
    Task<FastLaunchImage> EnableFastLaunchAsync(FastLaunchSettings settings, CancellationToken cancellationToken = default);

    /// <summary>DisableFastLaunch: EC2 removes the pre-provisioned snapshots; the answer is in state <c>disabling</c>.</summary>
    Task<FastLaunchImage> DisableFastLaunchAsync(string imageId, CancellationToken cancellationToken = default);

    /// <summary>GetConsoleOutput, decoded: what the instance last posted to its console (EC2Launch's lines on Windows), or
    /// null when it has posted nothing yet.</summary>
    Task<string?> GetConsoleOutputAsync(string instanceId, CancellationToken cancellationToken = default);
}

/// <summary>What EnableFastLaunch is asked: the AMI, the pre-provisioned snapshots to keep on hand, the parallel
/// pre-provisioning launches (6 or more) and the launch template those launches use (id or name, not both), if any.</summary>
public sealed record FastLaunchSettings(
    string ImageId,
    int TargetResourceCount,
    int MaxParallelLaunches,
    string? LaunchTemplateId = null,
    string? LaunchTemplateName = null,
    string? LaunchTemplateVersion = null);

/// <summary>One AMI's EC2 Fast Launch, as DescribeFastLaunchImages and EnableFastLaunch report it. <see cref="State"/>:
/// enabling, enabling-failed, enabled, enabled-failed, disabling, disabling-failed.</summary>
public sealed record FastLaunchImage(
    string ImageId,
    string State,
    string? StateTransitionReason,
    DateTimeOffset? StateTransitionTime,
    int? TargetResourceCount,
    int? MaxParallelLaunches,
    string? ResourceType,
    string? OwnerId,
    string? LaunchTemplateId,
    string? LaunchTemplateName,
    string? LaunchTemplateVersion)
{
    /// <summary>Launches can take pre-provisioned snapshots in this state: enabled, or enabled-failed with snapshots left.</summary>
    public static bool LaunchesFromSnapshots(string state) => state is "enabled" or "enabled-failed";

    /// <summary>Whether a configuration in this state counts against the region's parallel-launch quota: every state but
    /// disabling and enabling-failed (EC2 is making or keeping snapshots for it).</summary>
    public static bool HoldsParallelLaunches(string state) => state is not ("disabling" or "enabling-failed");
}

public sealed record Ec2Instance(
    string InstanceId,
    string? ImageId,
    string? State,
    string? InstanceType,
    string? AvailabilityZone,
    string? PrivateDnsName,
    DateTimeOffset? LaunchTime,
    IReadOnlyDictionary<string, string> Tags);

public sealed record Ec2Image(
    string ImageId,
    string? Name,
    string? Description,
    string? OwnerId,
    string? State,
    string? Architecture,
    string? PlatformDetails,
    DateTimeOffset? CreationDate,
    IReadOnlyDictionary<string, string> Tags,
    string? OwnerAlias = null,
    int? RootVolumeGiB = null)
{
    /// <summary>EC2 reports Windows AMIs with Platform "windows" and PlatformDetails starting with "Windows".</summary>
    public bool IsWindows => PlatformDetails?.StartsWith("Windows", StringComparison.OrdinalIgnoreCase) == true;
}

/// <summary>A launch template version. <see cref="ImageId"/> is always an AMI id: a version that names its AMI by a Systems
/// Manager parameter ("resolve:ssm:…", which EC2 resolves at each launch) is read with the alias resolved, and the alias
/// is kept in <see cref="ImageAlias"/>. <see cref="IamInstanceProfile"/>: the instance profile its instances get, by
/// ARN or name as the template gives it.</summary>
public sealed record LaunchTemplateVersion(
    string LaunchTemplateId,
    string? LaunchTemplateName,
    long VersionNumber,
    bool IsDefault,
    string? ImageId,
    string? InstanceType,
    string? UserData,
    string? ImageAlias = null,
    string? IamInstanceProfile = null);
