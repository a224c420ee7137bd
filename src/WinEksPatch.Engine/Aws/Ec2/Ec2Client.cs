using Amazon.EC2;
using Amazon.EC2.Model;
using WinEksPatch.Abstractions;
using Ec2LaunchTemplateVersion = Amazon.EC2.Model.LaunchTemplateVersion;
using LaunchTemplateVersion = WinEksPatch.Abstractions.LaunchTemplateVersion;

namespace WinEksPatch.Aws.Ec2;

/// <summary><see cref="IEc2Api"/> over the official AWSSDK.EC2 client; SDK types never leave this class.</summary>
public sealed class Ec2Client(IAmazonEC2 ec2) : IEc2Api
{
    /// <summary>EC2 accepts at most 200 values in one filter.</summary>
    internal const int FilterBatchSize = 200;

    public async Task<IReadOnlyList<Ec2Instance>> DescribeInstancesAsync(IReadOnlyCollection<string> instanceIds, CancellationToken cancellationToken = default)
    {
        var result = new List<Ec2Instance>();
        foreach (var batch in instanceIds.Distinct(StringComparer.Ordinal).Chunk(FilterBatchSize))
        {
            // A filter rather than InstanceIds: an id that no longer exists is simply absent instead of failing the batch.
            var request = new DescribeInstancesRequest { Filters = [new Filter("instance-id", [.. batch])], MaxResults = 1000 };
            do
            {
                var response = await AwsErrorTranslator.CallAsync("DescribeInstances", null,
                    () => ec2.DescribeInstancesAsync(request, cancellationToken)).ConfigureAwait(false);
                foreach (var instance in (response.Reservations ?? []).SelectMany(r => r.Instances ?? []))
                {
                    result.Add(new Ec2Instance(instance.InstanceId, instance.ImageId, instance.State?.Name?.Value,
                        instance.InstanceType?.Value, instance.Placement?.AvailabilityZone, instance.PrivateDnsName,
                        instance.LaunchTime is { } launched ? new DateTimeOffset(DateTime.SpecifyKind(launched, DateTimeKind.Utc)) : null,
                        Tags(instance.Tags)));
                }

                request.NextToken = response.NextToken;
            }
            while (!string.IsNullOrEmpty(request.NextToken));
        }

        return result;
    }

    public async Task<IReadOnlyList<Ec2Image>> DescribeImagesAsync(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default)
    {
        var result = new List<Ec2Image>();
        foreach (var batch in imageIds.Distinct(StringComparer.Ordinal).Chunk(FilterBatchSize))
        {
            result.AddRange(await DescribeAllImagesAsync(
                new DescribeImagesRequest { Filters = [new Filter("image-id", [.. batch])], IncludeDeprecated = true }, cancellationToken).ConfigureAwait(false));
        }

        return result;
    }

    public Task<IReadOnlyList<Ec2Image>> DescribeImagesAsync(string owner, IReadOnlyDictionary<string, IReadOnlyCollection<string>> filters,
        CancellationToken cancellationToken = default) =>
        DescribeAllImagesAsync(new DescribeImagesRequest { Owners = [owner], Filters = [.. filters.Select(f => new Filter(f.Key, [.. f.Value]))] }, cancellationToken);

    private async Task<IReadOnlyList<Ec2Image>> DescribeAllImagesAsync(DescribeImagesRequest request, CancellationToken cancellationToken)
    {
        var result = new List<Ec2Image>();
        request.MaxResults = 1000;
        do
        {
            var response = await AwsErrorTranslator.CallAsync("DescribeImages", null,
                () => ec2.DescribeImagesAsync(request, cancellationToken)).ConfigureAwait(false);
            result.AddRange((response.Images ?? []).Select(ToImage));
            request.NextToken = response.NextToken;
        }
        while (!string.IsNullOrEmpty(request.NextToken));
        return result;
    }

    public async Task<LaunchTemplateVersion> DescribeLaunchTemplateVersionAsync(LaunchTemplateReference template, CancellationToken cancellationToken = default)
    {
        var request = new DescribeLaunchTemplateVersionsRequest
        {
            LaunchTemplateId = template.Id,
            LaunchTemplateName = template.Id == null ? template.Name : null,
            Versions = [template.Version ?? "$Default"],
        };
        var response = await AwsErrorTranslator.CallAsync("DescribeLaunchTemplateVersions", template.Id ?? template.Name,
            () => ec2.DescribeLaunchTemplateVersionsAsync(request, cancellationToken)).ConfigureAwait(false);
        var version = response.LaunchTemplateVersions?.FirstOrDefault()
            ?? throw new Errors.WinEksPatchException(Errors.ErrorIds.AwsResourceNotFound, Errors.ErrorKind.ObjectNotFound,
                $"Launch template {template.Id ?? template.Name} has no version {template.Version}.", template.Id ?? template.Name);
        if (version.LaunchTemplateData?.ImageId is not { } alias || !alias.StartsWith(SsmImageAliasPrefix, StringComparison.Ordinal))
        {
            return ToVersion(version);
        }

        // The version names its AMI by a Systems Manager parameter: ask again for that version with EC2 resolving it (the
        // answer then carries the AMI id only, so the first answer is what keeps the alias).
        request.Versions = [version.VersionNumber?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? template.Version ?? "$Default"];
        request.ResolveAlias = true;
        var resolved = await AwsErrorTranslator.CallAsync("DescribeLaunchTemplateVersions", template.Id ?? template.Name,
            () => ec2.DescribeLaunchTemplateVersionsAsync(request, cancellationToken)).ConfigureAwait(false);
        var imageId = resolved.LaunchTemplateVersions?.FirstOrDefault()?.LaunchTemplateData?.ImageId;
        if (imageId is null || imageId.StartsWith(SsmImageAliasPrefix, StringComparison.Ordinal))
        {
            throw new Errors.WinEksPatchException(Errors.ErrorIds.LaunchTemplateAliasUnresolved, Errors.ErrorKind.ObjectNotFound,
                $"Launch template {version.LaunchTemplateId} version {version.VersionNumber} names its AMI as {alias}, which EC2 does not resolve to an AMI " +
                "(is the parameter there, in this region, with a value?): its instances could not launch either.", version.LaunchTemplateId);
        }

        return ToVersion(version) with { ImageId = imageId, ImageAlias = alias };
    }

    /// <summary>How a launch template names its AMI by a Systems Manager parameter ("resolve:ssm:name[:version|:label]").</summary>
    private const string SsmImageAliasPrefix = "resolve:ssm:";

    public async Task<LaunchTemplateVersion> CreateLaunchTemplateVersionAsync(string launchTemplateId, long sourceVersion, string imageId, string description,
        CancellationToken cancellationToken = default)
    {
        var request = new CreateLaunchTemplateVersionRequest
        {
            LaunchTemplateId = launchTemplateId,
            SourceVersion = sourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
            VersionDescription = description,
            LaunchTemplateData = new RequestLaunchTemplateData { ImageId = imageId },
        };
        var response = await AwsErrorTranslator.CallAsync("CreateLaunchTemplateVersion", launchTemplateId,
            () => ec2.CreateLaunchTemplateVersionAsync(request, cancellationToken)).ConfigureAwait(false);
        return ToVersion(response.LaunchTemplateVersion);
    }

    public async Task CreateTagsAsync(IReadOnlyCollection<string> resourceIds, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default)
    {
        var request = new CreateTagsRequest { Resources = [.. resourceIds], Tags = [.. tags.Select(t => new Tag(t.Key, t.Value))] };
        await AwsErrorTranslator.CallAsync("CreateTags", string.Join(",", resourceIds), () => ec2.CreateTagsAsync(request, cancellationToken)).ConfigureAwait(false);
    }

    public async Task DeleteTagsAsync(IReadOnlyCollection<string> resourceIds, IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default)
    {
        var request = new DeleteTagsRequest { Resources = [.. resourceIds], Tags = [.. keys.Select(k => new Tag { Key = k })] };
        await AwsErrorTranslator.CallAsync("DeleteTags", string.Join(",", resourceIds), () => ec2.DeleteTagsAsync(request, cancellationToken)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<FastLaunchImage>> DescribeFastLaunchImagesAsync(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default)
    {
        var result = new List<FastLaunchImage>();
        var request = new DescribeFastLaunchImagesRequest { ImageIds = imageIds.Count > 0 ? [.. imageIds.Distinct(StringComparer.Ordinal)] : null };
        do
        {
            var response = await AwsErrorTranslator.CallAsync("DescribeFastLaunchImages", imageIds.Count == 1 ? imageIds.First() : null,
                () => ec2.DescribeFastLaunchImagesAsync(request, cancellationToken)).ConfigureAwait(false);
            result.AddRange((response.FastLaunchImages ?? []).Select(i => ToFastLaunch(i.ImageId, i.State?.Value, i.StateTransitionReason, i.StateTransitionTime,
                i.SnapshotConfiguration?.TargetResourceCount, i.MaxParallelLaunches, i.ResourceType?.Value, i.OwnerId, i.LaunchTemplate)));
            request.NextToken = response.NextToken;
        }
        while (!string.IsNullOrEmpty(request.NextToken));
        return result;
    }

    public async Task<FastLaunchImage> EnableFastLaunchAsync(FastLaunchSettings settings, CancellationToken cancellationToken = default)
    {
        var request = new EnableFastLaunchRequest
        {
            ImageId = settings.ImageId,
            ResourceType = "snapshot",
            SnapshotConfiguration = new FastLaunchSnapshotConfigurationRequest { TargetResourceCount = settings.TargetResourceCount },
            MaxParallelLaunches = settings.MaxParallelLaunches,
            LaunchTemplate = settings.LaunchTemplateId is null && settings.LaunchTemplateName is null ? null : new FastLaunchLaunchTemplateSpecificationRequest
            {
                LaunchTemplateId = settings.LaunchTemplateId,
                LaunchTemplateName = settings.LaunchTemplateId is null ? settings.LaunchTemplateName : null,
                Version = settings.LaunchTemplateVersion ?? "$Default",
            },
        };
        var r = await AwsErrorTranslator.CallAsync("EnableFastLaunch", settings.ImageId,
            () => ec2.EnableFastLaunchAsync(request, cancellationToken)).ConfigureAwait(false);
        return ToFastLaunch(r.ImageId ?? settings.ImageId, r.State?.Value, r.StateTransitionReason, r.StateTransitionTime,
            r.SnapshotConfiguration?.TargetResourceCount, r.MaxParallelLaunches, r.ResourceType?.Value, r.OwnerId, r.LaunchTemplate);
    }

    public async Task<FastLaunchImage> DisableFastLaunchAsync(string imageId, CancellationToken cancellationToken = default)
    {
        var r = await AwsErrorTranslator.CallAsync("DisableFastLaunch", imageId,
            () => ec2.DisableFastLaunchAsync(new DisableFastLaunchRequest { ImageId = imageId }, cancellationToken)).ConfigureAwait(false);
        return ToFastLaunch(r.ImageId ?? imageId, r.State?.Value, r.StateTransitionReason, r.StateTransitionTime,
            r.SnapshotConfiguration?.TargetResourceCount, r.MaxParallelLaunches, r.ResourceType?.Value, r.OwnerId, r.LaunchTemplate);
    }

    public async Task<string?> GetConsoleOutputAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var response = await AwsErrorTranslator.CallAsync("GetConsoleOutput", instanceId,
            () => ec2.GetConsoleOutputAsync(new GetConsoleOutputRequest { InstanceId = instanceId }, cancellationToken)).ConfigureAwait(false);
        if (string.IsNullOrEmpty(response.Output))
        {
            return null;
        }

        try
        {
            return System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(response.Output));
        }
        catch (FormatException)
        {
            return null; // not base64 as documented: nothing we can read a time from
        }
    }

    private static FastLaunchImage ToFastLaunch(string imageId, string? state, string? reason, DateTime? transition, int? target, int? maxParallel,
        string? resourceType, string? ownerId, FastLaunchLaunchTemplateSpecificationResponse? template) => new(
        imageId, state ?? "", reason, transition is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null, target, maxParallel,
        resourceType, ownerId, template?.LaunchTemplateId, template?.LaunchTemplateName, template?.Version);

    private static LaunchTemplateVersion ToVersion(Ec2LaunchTemplateVersion v) => new(
        v.LaunchTemplateId, v.LaunchTemplateName, v.VersionNumber ?? 0, v.DefaultVersion == true,
        v.LaunchTemplateData?.ImageId, v.LaunchTemplateData?.InstanceType?.Value, v.LaunchTemplateData?.UserData,
        IamInstanceProfile: v.LaunchTemplateData?.IamInstanceProfile?.Arn ?? v.LaunchTemplateData?.IamInstanceProfile?.Name);

    private static Ec2Image ToImage(Image image) => new(
        image.ImageId, image.Name, image.Description, image.OwnerId, image.State?.Value, image.Architecture?.Value,
        image.PlatformDetails ?? (image.Platform?.Value == "windows" ? "Windows" : null),
        DateTimeOffset.TryParse(image.CreationDate, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out var created) ? created : null,
        Tags(image.Tags), image.ImageOwnerAlias,
        (image.BlockDeviceMappings ?? []).FirstOrDefault(m => m.DeviceName == image.RootDeviceName)?.Ebs?.VolumeSize);

    private static Dictionary<string, string> Tags(List<Tag>? tags) =>
        (tags ?? []).GroupBy(t => t.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value ?? "", StringComparer.Ordinal);
}
