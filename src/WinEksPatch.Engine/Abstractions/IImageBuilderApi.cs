namespace WinEksPatch.Abstractions;

/// <summary>
/// The EC2 Image Builder operations the module uses (service model imagebuilder-2019-12-02). Implemented by
/// <c>Aws.ImageBuilder.ImageBuilderClient</c> over the wire and by fakes in tests. Every list follows all pages.
/// </summary>
public interface IImageBuilderApi
{
    /// <summary>The versions of this account's components named <paramref name="name"/> (ListComponents, owner Self, filter name).</summary>
    Task<IReadOnlyList<ImageBuilderVersion>> ListComponentsAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The build version ARNs of one component version (ListComponentBuildVersions).</summary>
    Task<IReadOnlyList<string>> ListComponentBuildVersionsAsync(string componentVersionArn, CancellationToken cancellationToken = default);

    /// <summary>One component with its document (GetComponent; a build version ARN, or a version ARN with x wildcards).</summary>
    Task<ImageBuilderComponent> GetComponentAsync(string componentArn, CancellationToken cancellationToken = default);

    /// <summary>Creates a component version; returns its build version ARN.</summary>
    Task<string> CreateComponentAsync(ComponentSpec spec, CancellationToken cancellationToken = default);

    Task DeleteComponentAsync(string componentBuildVersionArn, CancellationToken cancellationToken = default);

    /// <summary>This account's image recipes named <paramref name="name"/> (every version; ListImageRecipes, filter name).</summary>
    Task<IReadOnlyList<ImageBuilderVersion>> ListImageRecipesAsync(string name, CancellationToken cancellationToken = default);

    Task<ImageRecipeSpec> GetImageRecipeAsync(string imageRecipeArn, CancellationToken cancellationToken = default);

    /// <summary>Creates an image recipe version; returns its ARN.</summary>
    Task<string> CreateImageRecipeAsync(ImageRecipeSpec spec, CancellationToken cancellationToken = default);

    Task DeleteImageRecipeAsync(string imageRecipeArn, CancellationToken cancellationToken = default);

    /// <summary>ARNs of the infrastructure configurations named <paramref name="name"/>.</summary>
    Task<IReadOnlyList<string>> ListInfrastructureConfigurationsAsync(string name, CancellationToken cancellationToken = default);

    Task<InfrastructureSpec> GetInfrastructureConfigurationAsync(string arn, CancellationToken cancellationToken = default);

    Task<string> CreateInfrastructureConfigurationAsync(InfrastructureSpec spec, CancellationToken cancellationToken = default);

    Task DeleteInfrastructureConfigurationAsync(string arn, CancellationToken cancellationToken = default);

    /// <summary>ARNs of the distribution configurations named <paramref name="name"/>.</summary>
    Task<IReadOnlyList<string>> ListDistributionConfigurationsAsync(string name, CancellationToken cancellationToken = default);

    Task<DistributionSpec> GetDistributionConfigurationAsync(string arn, CancellationToken cancellationToken = default);

    Task<string> CreateDistributionConfigurationAsync(DistributionSpec spec, CancellationToken cancellationToken = default);

    Task DeleteDistributionConfigurationAsync(string arn, CancellationToken cancellationToken = default);

    /// <summary>Starts a build (CreateImage); returns the image build version ARN.</summary>
    Task<string> CreateImageAsync(ImageBuildRequest request, CancellationToken cancellationToken = default);

    Task<ImageBuilderImage> GetImageAsync(string imageBuildVersionArn, CancellationToken cancellationToken = default);

    Task CancelImageCreationAsync(string imageBuildVersionArn, CancellationToken cancellationToken = default);
}

/// <summary>One version of a versioned resource (component, recipe): its version ARN and semantic version.</summary>
public sealed record ImageBuilderVersion(string Arn, string Name, string? Version);

/// <summary>A component version as created (and as GetComponent returns it).</summary>
public sealed record ComponentSpec(string Name, string SemanticVersion, string Platform, string Data, string? Description = null,
    IReadOnlyList<string>? SupportedOsVersions = null, string? ChangeDescription = null);

public sealed record ImageBuilderComponent(string Arn, string Name, string? Version, string? Platform, string? Owner, string? Data);

/// <summary>An EBS root volume of a recipe.</summary>
public sealed record RecipeBlockDevice(string DeviceName, int VolumeSize, string VolumeType = "gp3", bool DeleteOnTermination = true);

/// <summary>An image recipe: parent image and components in order; <see cref="Arn"/> is set when read back, and so is
/// <see cref="OtherSettings"/>, read back only: the member paths of settings the module does not make (a user-data override...).</summary>
public sealed record ImageRecipeSpec(string Name, string SemanticVersion, string ParentImage, IReadOnlyList<string> Components,
    IReadOnlyList<RecipeBlockDevice> BlockDevices, string? Description = null, string? Arn = null, IReadOnlyList<string>? OtherSettings = null);

/// <summary>An infrastructure configuration (the build instance); <see cref="OtherSettings"/>, read back only: the member paths
/// of settings the module does not make (a key pair, logging, an SNS topic...).</summary>
public sealed record InfrastructureSpec(string Name, string InstanceProfileName, IReadOnlyList<string> InstanceTypes, string? SubnetId,
    IReadOnlyList<string> SecurityGroupIds, bool TerminateInstanceOnFailure, string HttpTokens, string? Description = null, string? Arn = null,
    int HttpPutResponseHopLimit = 2, IReadOnlyList<string>? OtherSettings = null);

/// <summary>One region of a distribution configuration: the AMI's name (with {{imagebuilder:buildDate}}) and tags.</summary>
public sealed record AmiDistribution(string Region, string AmiName, string? AmiDescription, IReadOnlyDictionary<string, string> AmiTags,
    DistributionFastLaunch? FastLaunch = null);

/// <summary>EC2 Fast Launch that Image Builder turns on for the output AMI of one region (a distribution's
/// fastLaunchConfigurations): the snapshots to keep on hand, the parallel pre-provisioning launches, and the launch
/// template of those launches, if any.</summary>
public sealed record DistributionFastLaunch(int TargetResourceCount, int MaxParallelLaunches, string? LaunchTemplateId = null, string? LaunchTemplateVersion = null);

/// <summary>A distribution configuration; <see cref="OtherSettings"/>, read back only: the member paths of settings the module
/// does not make (launch permissions, target accounts, a KMS key...).</summary>
public sealed record DistributionSpec(string Name, IReadOnlyList<AmiDistribution> Distributions, string? Description = null, string? Arn = null,
    IReadOnlyList<string>? OtherSettings = null);

public sealed record ImageBuildRequest(string ImageRecipeArn, string InfrastructureConfigurationArn, string? DistributionConfigurationArn,
    IReadOnlyDictionary<string, string> Tags, bool ImageTestsEnabled = true);

/// <summary>An AMI an image build distributed.</summary>
public sealed record ImageBuilderOutputAmi(string Region, string ImageId, string? Name);

/// <summary>An image build as GetImage returns it: status (PENDING … AVAILABLE, FAILED, CANCELLED) with reason, and the AMIs.</summary>
public sealed record ImageBuilderImage(string Arn, string? Name, string? Version, string Status, string? Reason, DateTimeOffset? DateCreated,
    IReadOnlyList<ImageBuilderOutputAmi> OutputAmis);
