using System.Globalization;
using System.Text.Json;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;

namespace WinEksPatch.Workflows.AmiBuild;

/// <summary>What the Image Builder resources of one build are made of, fixed under planning: the creation uses these as
/// they are (only the component's ARN, known once it exists, is filled into the recipe).</summary>
internal sealed record AmiBuildSpecs(AmiBuildNames Names, string Description, AmiBuildTarget Target, string ComponentDocument,
    InfrastructureSpec Infrastructure, DistributionSpec Distribution, IReadOnlyList<string> ExtraComponents, int RootVolumeGiB)
{
    public ComponentSpec Component(string version, string? change) =>
        new(Names.Component, version, "Windows", ComponentDocument, $"{Description}: cached container images", [$"Microsoft Windows Server {Target.WindowsVersion}"], change);

    public ImageRecipeSpec Recipe(string version, string componentArn) =>
        new(Names.Recipe, version, Target.Parent.ImageId, [AmiBuilder.UpdateWindowsArn(componentArn), componentArn, .. ExtraComponents],
            [new RecipeBlockDevice(AmiBuildResources.RootDevice, RootVolumeGiB)], Description);
}

/// <summary>
/// The Image Builder resources of a build under the names <see cref="AmiBuildNames"/> derives: each planned read-only as
/// reused (it is exactly what the module would create), a new version (a versioned resource whose content changed), created
/// (none of the name), or refused (a configuration of the name with other settings); then created as planned, undoing what
/// this run created when a creation fails (AmiBuildResources.Create.cs).
/// </summary>
internal sealed partial class AmiBuildResources(IImageBuilderApi imageBuilder, string region)
{
    public const string DefaultInstanceProfile = "EC2InstanceProfileForImageBuilderECRContainerBuilds";
    public const string DefaultInstanceType = "m5.xlarge";
    public const string RootDevice = "/dev/sda1";

    /// <summary>-Component: every extra component must exist (read only).</summary>
    public async Task RequireComponentsAsync(IReadOnlyList<string> components, CancellationToken cancellationToken)
    {
        foreach (var component in components)
        {
            try
            {
                await imageBuilder.GetComponentAsync(component, cancellationToken).ConfigureAwait(false);
            }
            catch (WinEksPatchException ex) when (ex.ErrorId is ErrorIds.AwsResourceNotFound or ErrorIds.AwsValidationError)
            {
                throw new WinEksPatchException(ErrorIds.ComponentNotFound, ErrorKind.ObjectNotFound,
                    $"-Component: the Image Builder component '{component}' does not exist in {region} ({ex.AwsErrorCode}).", component, ex);
            }
        }
    }

    public AmiBuildSpecs Specify(AmiBuildOptions options, AmiBuildTarget target, CachePlan cache, IReadOnlyDictionary<string, string> tags)
    {
        var names = AmiBuildNames.For(options.ClusterName, target.WindowsVersion, target.Edition);
        var description = $"WinEksPatch: Windows Server {target.WindowsVersion} {target.Edition} nodes of EKS cluster {options.ClusterName}";
        var document = ImageCacheDocument.Generate(names.Component, $"{description}: cached container images", target.WindowsVersion, cache.Images);
        return new AmiBuildSpecs(names, description, target, document, InfrastructureFor(names, options, description),
            DistributionFor(names, options, target, tags, description), [.. options.Components], cache.RootVolumeGiB);
    }

    /// <summary>Component, image recipe, infrastructure and distribution configuration (the plan's order), asked in the order
    /// the recipe needs: the component's plan first.</summary>
    public async Task<IReadOnlyList<WinNodeAmiBuildResource>> PlanAsync(AmiBuildSpecs specs, CancellationToken cancellationToken)
    {
        var component = await PlanComponentAsync(specs.Names.Component, specs.ComponentDocument, cancellationToken).ConfigureAwait(false);
        var infrastructure = await PlanInfrastructureAsync(specs.Infrastructure, cancellationToken).ConfigureAwait(false);
        var distribution = await PlanDistributionAsync(specs.Distribution, cancellationToken).ConfigureAwait(false);
        var recipe = await PlanRecipeAsync(specs, component, cancellationToken).ConfigureAwait(false);
        return [component, recipe, infrastructure, distribution];
    }

    private async Task<WinNodeAmiBuildResource> PlanComponentAsync(string name, string document, CancellationToken cancellationToken)
    {
        var latest = Latest(await imageBuilder.ListComponentsAsync(name, cancellationToken).ConfigureAwait(false), name);
        if (latest == null)
        {
            return Create(AmiBuildResourceKind.Component, name, "1.0.0");
        }

        var builds = await imageBuilder.ListComponentBuildVersionsAsync(latest.Arn, cancellationToken).ConfigureAwait(false);
        var build = builds.OrderBy(b => int.TryParse(b[(b.LastIndexOf('/') + 1)..], out var n) ? n : 0).LastOrDefault();
        if (build != null)
        {
            var existing = await imageBuilder.GetComponentAsync(build, cancellationToken).ConfigureAwait(false);
            if (existing.Data == document)
            {
                return Reuse(AmiBuildResourceKind.Component, name, build, latest.Version);
            }
        }

        return NewVersion(AmiBuildResourceKind.Component, name, latest, $"the cached images changed since {latest.Version}");
    }

    private async Task<WinNodeAmiBuildResource> PlanRecipeAsync(AmiBuildSpecs specs, WinNodeAmiBuildResource component, CancellationToken cancellationToken)
    {
        var name = specs.Names.Recipe;
        var latest = Latest(await imageBuilder.ListImageRecipesAsync(name, cancellationToken).ConfigureAwait(false), name);
        if (latest == null)
        {
            return Create(AmiBuildResourceKind.ImageRecipe, name, "1.0.0");
        }

        if (component.Arn == null)
        {
            return NewVersion(AmiBuildResourceKind.ImageRecipe, name, latest, "new image-cache component version");
        }

        var existing = await imageBuilder.GetImageRecipeAsync(latest.Arn, cancellationToken).ConfigureAwait(false);
        var wanted = specs.Recipe(latest.Version ?? "", component.Arn);
        string? change = existing.ParentImage != wanted.ParentImage ? $"parent {existing.ParentImage} -> {wanted.ParentImage}"
            : !existing.Components.SequenceEqual(wanted.Components, StringComparer.Ordinal) ? "components changed"
            : !existing.BlockDevices.SequenceEqual(wanted.BlockDevices) ? "root volume changed"
            : existing.OtherSettings is { Count: > 0 } other ? $"version {latest.Version} has settings the module does not make ({string.Join(", ", other)})"
            : null;
        return change == null ? Reuse(AmiBuildResourceKind.ImageRecipe, name, latest.Arn, latest.Version)
            : NewVersion(AmiBuildResourceKind.ImageRecipe, name, latest, change);
    }

    private static InfrastructureSpec InfrastructureFor(AmiBuildNames names, AmiBuildOptions options, string description)
    {
        var profile = options.InstanceProfileName ?? DefaultInstanceProfile;
        string[] types = [options.InstanceType ?? DefaultInstanceType];
        var groups = options.SecurityGroupIds.Distinct(StringComparer.Ordinal).ToList();
        var settings = JsonSerializer.Serialize(new { profile, types, options.SubnetId, groups, terminate = true, httpTokens = "required" });
        return new InfrastructureSpec(names.Infrastructure(settings), profile, types, options.SubnetId, groups, true, "required",
            $"{description}: build instances (IMDSv2 required, terminated on failure)");
    }

    private Task<WinNodeAmiBuildResource> PlanInfrastructureAsync(InfrastructureSpec wanted, CancellationToken cancellationToken) =>
        PlanConfigurationAsync(AmiBuildResourceKind.InfrastructureConfiguration, wanted.Name,
            () => imageBuilder.ListInfrastructureConfigurationsAsync(wanted.Name, cancellationToken),
            async arn => Differences(await imageBuilder.GetInfrastructureConfigurationAsync(arn, cancellationToken).ConfigureAwait(false), wanted));

    private static List<string> Differences(InfrastructureSpec existing, InfrastructureSpec wanted) =>
    [
        .. Differs("instanceProfileName", existing.InstanceProfileName == wanted.InstanceProfileName),
        .. Differs("instanceTypes", existing.InstanceTypes.SequenceEqual(wanted.InstanceTypes)),
        .. Differs("subnetId", existing.SubnetId == wanted.SubnetId),
        .. Differs("securityGroupIds", existing.SecurityGroupIds.Order(StringComparer.Ordinal).SequenceEqual(wanted.SecurityGroupIds.Order(StringComparer.Ordinal))),
        .. Differs("terminateInstanceOnFailure", existing.TerminateInstanceOnFailure == wanted.TerminateInstanceOnFailure),
        .. Differs("instanceMetadataOptions.httpTokens", existing.HttpTokens == wanted.HttpTokens),
        .. Differs("instanceMetadataOptions.httpPutResponseHopLimit", existing.HttpPutResponseHopLimit == wanted.HttpPutResponseHopLimit),
        .. existing.OtherSettings ?? [],
    ];

    private DistributionSpec DistributionFor(AmiBuildNames names, AmiBuildOptions options, AmiBuildTarget target, IReadOnlyDictionary<string, string> tags, string description)
    {
        var regions = new[] { region }.Concat(options.DistributionRegions).Distinct(StringComparer.Ordinal).ToList();
        var amiName = names.AmiName(target.KubernetesVersion);
        var amiDescription = $"EKS Windows Server {target.WindowsVersion} {target.Edition} node AMI for Kubernetes {target.KubernetesVersion}, patched and image-cached by WinEksPatch";
        var fastLaunch = AmiFastLaunch.For(options.FastLaunch, target.GroupNodeCount);
        var distributions = regions.Select(r => new AmiDistribution(r, amiName, amiDescription, tags, r == region ? fastLaunch : null)).ToList();
        var settings = JsonSerializer.Serialize(distributions.Select(d => new { d.Region, d.AmiName, d.AmiDescription, Tags = d.AmiTags.OrderBy(t => t.Key, StringComparer.Ordinal).ToList(), d.FastLaunch }));
        return new DistributionSpec(names.Distribution(settings), distributions, $"{description}: AMI name and tags");
    }

    private Task<WinNodeAmiBuildResource> PlanDistributionAsync(DistributionSpec wanted, CancellationToken cancellationToken) =>
        PlanConfigurationAsync(AmiBuildResourceKind.DistributionConfiguration, wanted.Name,
            () => imageBuilder.ListDistributionConfigurationsAsync(wanted.Name, cancellationToken),
            async arn => Differences(await imageBuilder.GetDistributionConfigurationAsync(arn, cancellationToken).ConfigureAwait(false), wanted));

    private static List<string> Differences(DistributionSpec existing, DistributionSpec wanted) =>
    [
        .. Differs("distributions[].region", existing.Distributions.Select(d => d.Region).SequenceEqual(wanted.Distributions.Select(d => d.Region), StringComparer.Ordinal)),
        .. existing.Distributions.Zip(wanted.Distributions).SelectMany(p => (IEnumerable<string>)[
            .. Differs($"distributions[{p.Second.Region}].amiDistributionConfiguration.name", p.First.AmiName == p.Second.AmiName),
            .. Differs($"distributions[{p.Second.Region}].amiDistributionConfiguration.amiTags", p.First.AmiTags.Count == p.Second.AmiTags.Count
                && p.First.AmiTags.All(t => p.Second.AmiTags.TryGetValue(t.Key, out var v) && v == t.Value)),
            .. Differs($"distributions[{p.Second.Region}].fastLaunchConfigurations", p.First.FastLaunch == p.Second.FastLaunch),
        ]),
        .. existing.OtherSettings ?? [],
    ];

    /// <summary>An unversioned configuration: none of the name, created; one that is exactly what the module would create,
    /// reused; any other, refused.</summary>
    private static async Task<WinNodeAmiBuildResource> PlanConfigurationAsync(AmiBuildResourceKind kind, string name, Func<Task<IReadOnlyList<string>>> list,
        Func<string, Task<List<string>>> differencesOf)
    {
        var arn = (await list().ConfigureAwait(false)).FirstOrDefault();
        if (arn == null)
        {
            return Create(kind, name, null);
        }

        var planned = Reuse(kind, name, arn, null);
        var differences = await differencesOf(arn).ConfigureAwait(false);
        return differences.Count == 0 ? planned : throw Conflict(planned.KindText, arn, differences);
    }

    private static string[] Differs(string field, bool same) => same ? [] : [field];

    /// <summary>A resource of the module's name that is not exactly what the module would make: never reused (a distribution
    /// pre-created with launch permission "all" would publish the patched AMI).</summary>
    private static WinEksPatchException Conflict(string kind, string arn, IReadOnlyList<string> differences) =>
        new(ErrorIds.ImageBuilderResourceConflict, ErrorKind.InvalidOperation,
            $"The {kind} {arn} has the name New-WinNodeAmi derives from these settings but differs from what it would create in: {string.Join(", ", differences)} "
            + "(changed outside the module?). It is not reused: delete it, or rename it, and run again; nothing was created.",
            arn);

    private static WinNodeAmiBuildResource Create(AmiBuildResourceKind kind, string name, string? version) =>
        new() { ResourceKind = kind, Name = name, ResourceAction = AmiBuildResourceAction.Create, Version = version };

    private static WinNodeAmiBuildResource NewVersion(AmiBuildResourceKind kind, string name, ImageBuilderVersion latest, string change) =>
        new() { ResourceKind = kind, Name = name, ResourceAction = AmiBuildResourceAction.CreateVersion, Version = Bump(latest.Version), Change = change };

    private static WinNodeAmiBuildResource Reuse(AmiBuildResourceKind kind, string name, string arn, string? version) =>
        new() { ResourceKind = kind, Name = name, ResourceAction = AmiBuildResourceAction.Reuse, Arn = arn, Version = version };

    private static ImageBuilderVersion? Latest(IReadOnlyList<ImageBuilderVersion> versions, string name) =>
        versions.Where(v => v.Name == name && Version.TryParse(v.Version, out _)).MaxBy(v => Version.Parse(v.Version!));

    internal static string Bump(string? version) =>
        Version.TryParse(version, out var v) ? string.Create(CultureInfo.InvariantCulture, $"{v.Major}.{v.Minor}.{Math.Max(v.Build, 0) + 1}") : "1.0.0";
}
