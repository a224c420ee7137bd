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
    string? OwnerAlias = null)
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
