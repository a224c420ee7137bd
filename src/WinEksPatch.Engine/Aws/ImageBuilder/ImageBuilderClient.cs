using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using WinEksPatch.Abstractions;
using WinEksPatch.Aws.Thin;

namespace WinEksPatch.Aws.ImageBuilder;

/// <summary>
/// EC2 Image Builder over rest-json (service model imagebuilder-2019-12-02): PUT /CreateX with a JSON body, GET /GetX and
/// DELETE /DeleteX with the ARN in the query string, POST /ListX with filters and nextToken. Only the operations the module
/// uses, with request and response shapes named after the service model's members (private records at the end); every
/// list follows all pages; failures go through <see cref="AwsErrorTranslator"/>.
/// </summary>
public sealed class ImageBuilderClient(ThinServiceClient client) : IImageBuilderApi
{
    private const int PageSize = 25;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    // ---- components --------------------------------------------------------------------------

    public async Task<IReadOnlyList<ImageBuilderVersion>> ListComponentsAsync(string name, CancellationToken cancellationToken = default)
    {
        var items = await ListAllAsync<ListComponentsResponse, VersionSummary>("ListComponents",
            token => new OwnedListRequest("Self", NameFilter(name), PageSize, token), page => (page.ComponentVersionList, page.NextToken), name,
            cancellationToken).ConfigureAwait(false);
        return items.Select(i => new ImageBuilderVersion(i.Arn ?? "", i.Name ?? name, i.Version)).ToList();
    }

    public async Task<IReadOnlyList<string>> ListComponentBuildVersionsAsync(string componentVersionArn, CancellationToken cancellationToken = default)
    {
        var items = await ListAllAsync<ListComponentBuildVersionsResponse, VersionSummary>("ListComponentBuildVersions",
            token => new ListComponentBuildVersionsRequest(componentVersionArn, PageSize, token), page => (page.ComponentSummaryList, page.NextToken),
            componentVersionArn, cancellationToken).ConfigureAwait(false);
        return items.Select(i => i.Arn).OfType<string>().ToList();
    }

    public async Task<ImageBuilderComponent> GetComponentAsync(string componentArn, CancellationToken cancellationToken = default)
    {
        var c = (await GetAsync<GetComponentResponse>("GetComponent", "componentBuildVersionArn", componentArn, cancellationToken).ConfigureAwait(false))
            .Component ?? throw NoMember("GetComponent", "component");
        return new ImageBuilderComponent(c.Arn ?? componentArn, c.Name ?? "", c.Version, c.Platform, c.Owner, c.Data);
    }

    public Task<string> CreateComponentAsync(ComponentSpec spec, CancellationToken cancellationToken = default) =>
        CreateAsync("CreateComponent", new CreateComponentRequest(spec.Name, spec.SemanticVersion, spec.Platform, spec.Data, spec.Description,
            spec.ChangeDescription, spec.SupportedOsVersions is { Count: > 0 } os ? [.. os] : null, NewClientToken()),
            (CreateComponentResponse r) => r.ComponentBuildVersionArn, spec.Name, cancellationToken);

    public Task DeleteComponentAsync(string componentBuildVersionArn, CancellationToken cancellationToken = default) =>
        DeleteAsync("DeleteComponent", "componentBuildVersionArn", componentBuildVersionArn, cancellationToken);

    // ---- image recipes -----------------------------------------------------------------------

    public async Task<IReadOnlyList<ImageBuilderVersion>> ListImageRecipesAsync(string name, CancellationToken cancellationToken = default)
    {
        var items = await ListAllAsync<ListImageRecipesResponse, VersionSummary>("ListImageRecipes",
            token => new OwnedListRequest("Self", NameFilter(name), PageSize, token), page => (page.ImageRecipeSummaryList, page.NextToken), name,
            cancellationToken).ConfigureAwait(false);
        // Recipe summaries carry no version member: it is the last segment of the ARN (…:image-recipe/name/1.0.2).
        return items.Select(i => i.Arn is { } arn ? new ImageBuilderVersion(arn, i.Name ?? name, arn[(arn.LastIndexOf('/') + 1)..]) : null)
            .OfType<ImageBuilderVersion>().ToList();
    }

    public async Task<ImageRecipeSpec> GetImageRecipeAsync(string imageRecipeArn, CancellationToken cancellationToken = default)
    {
        var (response, raw) = await GetWithBodyAsync<GetImageRecipeResponse>("GetImageRecipe", "imageRecipeArn", imageRecipeArn, cancellationToken).ConfigureAwait(false);
        var r = response.ImageRecipe ?? throw NoMember("GetImageRecipe", "imageRecipe");
        var components = (r.Components ?? []).Select(c => c.ComponentArn).OfType<string>().ToList();
        // A mapping without ebs (noDevice, a virtual name) is no volume of the recipe's.
        var devices = (r.BlockDeviceMappings ?? []).Where(d => d.Ebs != null)
            .Select(d => new RecipeBlockDevice(d.DeviceName ?? "", d.Ebs!.VolumeSize ?? 0, d.Ebs.VolumeType ?? "gp2", d.Ebs.DeleteOnTermination ?? true))
            .ToList();
        return new ImageRecipeSpec(r.Name ?? "", r.Version ?? "", r.ParentImage ?? "", components, devices, r.Description, r.Arn ?? imageRecipeArn,
            ImageBuilderOtherSettings.Find(raw.GetProperty("imageRecipe"), ImageBuilderOtherSettings.Recipe));
    }

    public Task<string> CreateImageRecipeAsync(ImageRecipeSpec spec, CancellationToken cancellationToken = default) =>
        CreateAsync("CreateImageRecipe", new CreateImageRecipeRequest(spec.Name, spec.SemanticVersion, spec.ParentImage,
            [.. spec.Components.Select(c => new ComponentConfiguration(c))],
            spec.BlockDevices.Count > 0
                ? [.. spec.BlockDevices.Select(d => new BlockDeviceMapping(d.DeviceName, new EbsVolume(d.VolumeSize, d.VolumeType, d.DeleteOnTermination)))]
                : null,
            spec.Description, NewClientToken()),
            (CreateImageRecipeResponse r) => r.ImageRecipeArn, spec.Name, cancellationToken);

    public Task DeleteImageRecipeAsync(string imageRecipeArn, CancellationToken cancellationToken = default) =>
        DeleteAsync("DeleteImageRecipe", "imageRecipeArn", imageRecipeArn, cancellationToken);

    // ---- infrastructure configurations -------------------------------------------------------

    public async Task<IReadOnlyList<string>> ListInfrastructureConfigurationsAsync(string name, CancellationToken cancellationToken = default) =>
        (await ListAllAsync<ListInfrastructureConfigurationsResponse, VersionSummary>("ListInfrastructureConfigurations",
            token => new ListRequest(NameFilter(name), PageSize, token), page => (page.InfrastructureConfigurationSummaryList, page.NextToken), name,
            cancellationToken).ConfigureAwait(false)).Select(i => i.Arn).OfType<string>().ToList();

    public async Task<InfrastructureSpec> GetInfrastructureConfigurationAsync(string arn, CancellationToken cancellationToken = default)
    {
        var (response, raw) = await GetWithBodyAsync<GetInfrastructureConfigurationResponse>("GetInfrastructureConfiguration", "infrastructureConfigurationArn", arn,
            cancellationToken).ConfigureAwait(false);
        var c = response.InfrastructureConfiguration ?? throw NoMember("GetInfrastructureConfiguration", "infrastructureConfiguration");
        return new InfrastructureSpec(c.Name ?? "", c.InstanceProfileName ?? "", c.InstanceTypes ?? [], c.SubnetId, c.SecurityGroupIds ?? [],
            c.TerminateInstanceOnFailure ?? true, c.InstanceMetadataOptions?.HttpTokens ?? "optional", c.Description, c.Arn ?? arn,
            c.InstanceMetadataOptions?.HttpPutResponseHopLimit ?? 1,
            ImageBuilderOtherSettings.Find(raw.GetProperty("infrastructureConfiguration"), ImageBuilderOtherSettings.Infrastructure));
    }

    public Task<string> CreateInfrastructureConfigurationAsync(InfrastructureSpec spec, CancellationToken cancellationToken = default) =>
        CreateAsync("CreateInfrastructureConfiguration", new CreateInfrastructureConfigurationRequest(spec.Name, spec.InstanceProfileName,
            spec.TerminateInstanceOnFailure, new InstanceMetadataOptions(spec.HttpTokens, spec.HttpPutResponseHopLimit), spec.Description,
            spec.InstanceTypes.Count > 0 ? [.. spec.InstanceTypes] : null, spec.SubnetId,
            spec.SecurityGroupIds.Count > 0 ? [.. spec.SecurityGroupIds] : null, NewClientToken()),
            (CreateInfrastructureConfigurationResponse r) => r.InfrastructureConfigurationArn, spec.Name, cancellationToken);

    public Task DeleteInfrastructureConfigurationAsync(string arn, CancellationToken cancellationToken = default) =>
        DeleteAsync("DeleteInfrastructureConfiguration", "infrastructureConfigurationArn", arn, cancellationToken);

    // ---- distribution configurations ---------------------------------------------------------

    public async Task<IReadOnlyList<string>> ListDistributionConfigurationsAsync(string name, CancellationToken cancellationToken = default) =>
        (await ListAllAsync<ListDistributionConfigurationsResponse, VersionSummary>("ListDistributionConfigurations",
            token => new ListRequest(NameFilter(name), PageSize, token), page => (page.DistributionConfigurationSummaryList, page.NextToken), name,
            cancellationToken).ConfigureAwait(false)).Select(i => i.Arn).OfType<string>().ToList();

    public async Task<DistributionSpec> GetDistributionConfigurationAsync(string arn, CancellationToken cancellationToken = default)
    {
        var (response, raw) = await GetWithBodyAsync<GetDistributionConfigurationResponse>("GetDistributionConfiguration", "distributionConfigurationArn", arn,
            cancellationToken).ConfigureAwait(false);
        var c = response.DistributionConfiguration ?? throw NoMember("GetDistributionConfiguration", "distributionConfiguration");
        var distributions = (c.Distributions ?? []).Select(d => new AmiDistribution(d.Region ?? "", d.AmiDistributionConfiguration?.Name ?? "",
            d.AmiDistributionConfiguration?.Description, d.AmiDistributionConfiguration?.AmiTags ?? new Dictionary<string, string>(StringComparer.Ordinal),
            d.FastLaunchConfigurations?.FirstOrDefault(f => f.Enabled) is { } f ? new DistributionFastLaunch(f.SnapshotConfiguration?.TargetResourceCount ?? 0,
                f.MaxParallelLaunches ?? 0, f.LaunchTemplate?.LaunchTemplateId, f.LaunchTemplate?.LaunchTemplateVersion) : null)).ToList();
        return new DistributionSpec(c.Name ?? "", distributions, c.Description, c.Arn ?? arn,
            ImageBuilderOtherSettings.Find(raw.GetProperty("distributionConfiguration"), ImageBuilderOtherSettings.Distribution));
    }

    public Task<string> CreateDistributionConfigurationAsync(DistributionSpec spec, CancellationToken cancellationToken = default) =>
        CreateAsync("CreateDistributionConfiguration", new CreateDistributionConfigurationRequest(spec.Name,
            [.. spec.Distributions.Select(d => new Distribution(d.Region, new AmiDistributionConfiguration(d.AmiName, d.AmiDescription, new(d.AmiTags)),
                d.FastLaunch is not { } f ? null : [new FastLaunchConfiguration(true, new FastLaunchSnapshotConfiguration(f.TargetResourceCount), f.MaxParallelLaunches,
                    f.LaunchTemplateId is null ? null : new FastLaunchLaunchTemplate(f.LaunchTemplateId, f.LaunchTemplateVersion))]))],
            spec.Description, NewClientToken()),
            (CreateDistributionConfigurationResponse r) => r.DistributionConfigurationArn, spec.Name, cancellationToken);

    public Task DeleteDistributionConfigurationAsync(string arn, CancellationToken cancellationToken = default) =>
        DeleteAsync("DeleteDistributionConfiguration", "distributionConfigurationArn", arn, cancellationToken);

    // ---- images ------------------------------------------------------------------------------

    public Task<string> CreateImageAsync(ImageBuildRequest request, CancellationToken cancellationToken = default) =>
        CreateAsync("CreateImage", new CreateImageRequest(request.ImageRecipeArn, request.InfrastructureConfigurationArn,
            request.DistributionConfigurationArn, new ImageTestsConfiguration(request.ImageTestsEnabled, 720), EnhancedImageMetadataEnabled: true,
            request.Tags.Count > 0 ? new(request.Tags) : null, NewClientToken()),
            (CreateImageResponse r) => r.ImageBuildVersionArn, request.ImageRecipeArn, cancellationToken);

    public async Task<ImageBuilderImage> GetImageAsync(string imageBuildVersionArn, CancellationToken cancellationToken = default)
    {
        var i = (await GetAsync<GetImageResponse>("GetImage", "imageBuildVersionArn", imageBuildVersionArn, cancellationToken).ConfigureAwait(false))
            .Image ?? throw NoMember("GetImage", "image");
        var amis = (i.OutputResources?.Amis ?? []).Where(a => a.Image != null).Select(a => new ImageBuilderOutputAmi(a.Region ?? "", a.Image!, a.Name)).ToList();
        return new ImageBuilderImage(i.Arn ?? imageBuildVersionArn, i.Name, i.Version, i.State?.Status ?? "UNKNOWN", i.State?.Reason, Date(i.DateCreated), amis);
    }

    public Task CancelImageCreationAsync(string imageBuildVersionArn, CancellationToken cancellationToken = default) =>
        CreateAsync("CancelImageCreation", new CancelImageCreationRequest(imageBuildVersionArn, NewClientToken()),
            (CancelImageCreationResponse r) => r.ImageBuildVersionArn, imageBuildVersionArn, cancellationToken);

    // ---- wire ----------------------------------------------------------------------------------

    /// <summary>Image Builder's idempotency token, fresh per call: a retry of the same request by the SDK resends the same
    /// body, hence the same token, so a lost response cannot create twice.</summary>
    private static string NewClientToken() => Guid.NewGuid().ToString();

    /// <summary>A PUT /CreateX (and CancelImageCreation, which is shaped the same) returning the ARN member of the response.</summary>
    private async Task<string> CreateAsync<TRequest, TResponse>(string operation, TRequest body, Func<TResponse, string?> arnOf, object? target,
        CancellationToken cancellationToken)
    {
        var response = await SendAsync<TResponse>(new ThinRequest(operation) { HttpMethod = "PUT", Path = "/" + operation, JsonBody = JsonSerializer.Serialize(body, Json) },
            target, cancellationToken).ConfigureAwait(false);
        return arnOf(response) ?? throw new InvalidDataException($"{operation} returned no ARN.");
    }

    private Task<TResponse> GetAsync<TResponse>(string operation, string parameter, string arn, CancellationToken cancellationToken)
    {
        var request = new ThinRequest(operation) { HttpMethod = "GET", Path = "/" + operation };
        request.Parameters[parameter] = arn;
        return SendAsync<TResponse>(request, arn, cancellationToken);
    }

    /// <summary>A GET /GetX read both ways: the typed members the module uses, and the whole answer (to find the settings it
    /// does not make).</summary>
    private async Task<(TResponse Typed, JsonElement Raw)> GetWithBodyAsync<TResponse>(string operation, string parameter, string arn, CancellationToken cancellationToken)
    {
        var raw = await GetAsync<JsonElement>(operation, parameter, arn, cancellationToken).ConfigureAwait(false);
        try
        {
            return (raw.Deserialize<TResponse>(Json) ?? throw new InvalidDataException($"{operation} returned an empty body."), raw);
        }
        catch (JsonException ex)
        {
            throw new Errors.WinEksPatchException(Errors.ErrorIds.AwsServiceError, Errors.ErrorKind.InvalidData,
                $"{operation} returned a body that is not its response shape ({ex.Message}).", arn, ex);
        }
    }

    private async Task DeleteAsync(string operation, string parameter, string arn, CancellationToken cancellationToken)
    {
        var request = new ThinRequest(operation) { HttpMethod = "DELETE", Path = "/" + operation };
        request.Parameters[parameter] = arn;
        await SendAsync<JsonElement>(request, arn, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST /ListX page by page: <paramref name="requestFor"/> builds the body for a page token (null for the first).</summary>
    private async Task<List<TItem>> ListAllAsync<TPage, TItem>(string operation, Func<string?, object> requestFor,
        Func<TPage, (List<TItem>? Items, string? NextToken)> read, object? target, CancellationToken cancellationToken)
    {
        var all = new List<TItem>();
        string? next = null;
        do
        {
            var page = await SendAsync<TPage>(new ThinRequest(operation)
            {
                HttpMethod = "POST",
                Path = "/" + operation,
                JsonBody = JsonSerializer.Serialize(requestFor(next), Json),
            }, target, cancellationToken).ConfigureAwait(false);
            var (items, token) = read(page);
            all.AddRange(items ?? []);
            next = string.IsNullOrEmpty(token) ? null : token;
        }
        while (next != null);
        return all;
    }

    private async Task<T> SendAsync<T>(ThinRequest request, object? target, CancellationToken cancellationToken)
    {
        var response = await AwsErrorTranslator.CallAsync(request.Operation, target, () => client.SendAsync(request, cancellationToken)).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize<T>(string.IsNullOrEmpty(response.Body) ? "{}" : response.Body, Json)
                ?? throw new InvalidDataException($"{request.Operation} returned an empty body.");
        }
        catch (JsonException ex)
        {
            // An endpoint that is not the service (a proxy page, a mock) or a model change: say which call, not a parser trace.
            throw new Errors.WinEksPatchException(Errors.ErrorIds.AwsServiceError, Errors.ErrorKind.InvalidData,
                $"{request.Operation} returned a body that is not its response shape ({ex.Message}).", target, ex);
        }
    }

    private static List<Filter> NameFilter(string name) => [new Filter("name", [name])];

    private static InvalidDataException NoMember(string operation, string member) => new($"{operation} returned no {member}.");

    private static DateTimeOffset? Date(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var d) ? d : null;

    // Wire shapes, named as in the service model (members camelCase on the wire; null members are left out).

    private sealed record Filter(string Name, List<string> Values);

    private sealed record OwnedListRequest(string Owner, List<Filter> Filters, int MaxResults, string? NextToken);

    private sealed record ListRequest(List<Filter> Filters, int MaxResults, string? NextToken);

    private sealed record ListComponentBuildVersionsRequest(string ComponentVersionArn, int MaxResults, string? NextToken);

    /// <summary>The members the module reads of a component version, component build, recipe or configuration summary.</summary>
    private sealed record VersionSummary(string? Arn, string? Name, string? Version);

    private sealed record ListComponentsResponse(List<VersionSummary>? ComponentVersionList, string? NextToken);

    private sealed record ListComponentBuildVersionsResponse(List<VersionSummary>? ComponentSummaryList, string? NextToken);

    private sealed record ListImageRecipesResponse(List<VersionSummary>? ImageRecipeSummaryList, string? NextToken);

    private sealed record ListInfrastructureConfigurationsResponse(List<VersionSummary>? InfrastructureConfigurationSummaryList, string? NextToken);

    private sealed record ListDistributionConfigurationsResponse(List<VersionSummary>? DistributionConfigurationSummaryList, string? NextToken);

    private sealed record CreateComponentRequest(string Name, string SemanticVersion, string Platform, string Data, string? Description,
        string? ChangeDescription, List<string>? SupportedOsVersions, string ClientToken);

    private sealed record CreateComponentResponse(string? ComponentBuildVersionArn);

    private sealed record GetComponentResponse(ComponentShape? Component);

    private sealed record ComponentShape(string? Arn, string? Name, string? Version, string? Platform, string? Owner, string? Data);

    private sealed record ComponentConfiguration(string? ComponentArn);

    private sealed record EbsVolume(int? VolumeSize, string? VolumeType, bool? DeleteOnTermination);

    private sealed record BlockDeviceMapping(string? DeviceName, EbsVolume? Ebs);

    private sealed record CreateImageRecipeRequest(string Name, string SemanticVersion, string ParentImage, List<ComponentConfiguration> Components,
        List<BlockDeviceMapping>? BlockDeviceMappings, string? Description, string ClientToken);

    private sealed record CreateImageRecipeResponse(string? ImageRecipeArn);

    private sealed record GetImageRecipeResponse(ImageRecipeShape? ImageRecipe);

    private sealed record ImageRecipeShape(string? Arn, string? Name, string? Version, string? ParentImage, string? Description,
        List<ComponentConfiguration>? Components, List<BlockDeviceMapping>? BlockDeviceMappings);

    private sealed record InstanceMetadataOptions(string? HttpTokens, int? HttpPutResponseHopLimit);

    private sealed record CreateInfrastructureConfigurationRequest(string Name, string InstanceProfileName, bool TerminateInstanceOnFailure,
        InstanceMetadataOptions InstanceMetadataOptions, string? Description, List<string>? InstanceTypes, string? SubnetId,
        List<string>? SecurityGroupIds, string ClientToken);

    private sealed record CreateInfrastructureConfigurationResponse(string? InfrastructureConfigurationArn);

    private sealed record GetInfrastructureConfigurationResponse(InfrastructureConfigurationShape? InfrastructureConfiguration);

    private sealed record InfrastructureConfigurationShape(string? Arn, string? Name, string? Description, string? InstanceProfileName,
        List<string>? InstanceTypes, string? SubnetId, List<string>? SecurityGroupIds, bool? TerminateInstanceOnFailure,
        InstanceMetadataOptions? InstanceMetadataOptions);

    private sealed record AmiDistributionConfiguration(string? Name, string? Description, Dictionary<string, string>? AmiTags);

    private sealed record Distribution(string? Region, AmiDistributionConfiguration? AmiDistributionConfiguration,
        List<FastLaunchConfiguration>? FastLaunchConfigurations = null);

    private sealed record FastLaunchConfiguration(bool Enabled, FastLaunchSnapshotConfiguration? SnapshotConfiguration, int? MaxParallelLaunches,
        FastLaunchLaunchTemplate? LaunchTemplate);

    private sealed record FastLaunchSnapshotConfiguration(int? TargetResourceCount);

    private sealed record FastLaunchLaunchTemplate(string? LaunchTemplateId, string? LaunchTemplateVersion);

    private sealed record CreateDistributionConfigurationRequest(string Name, List<Distribution> Distributions, string? Description, string ClientToken);

    private sealed record CreateDistributionConfigurationResponse(string? DistributionConfigurationArn);

    private sealed record GetDistributionConfigurationResponse(DistributionConfigurationShape? DistributionConfiguration);

    private sealed record DistributionConfigurationShape(string? Arn, string? Name, string? Description, List<Distribution>? Distributions);

    private sealed record ImageTestsConfiguration(bool ImageTestsEnabled, int TimeoutMinutes);

    private sealed record CreateImageRequest(string ImageRecipeArn, string InfrastructureConfigurationArn, string? DistributionConfigurationArn,
        ImageTestsConfiguration ImageTestsConfiguration, bool EnhancedImageMetadataEnabled, Dictionary<string, string>? Tags, string ClientToken);

    private sealed record CreateImageResponse(string? ImageBuildVersionArn);

    private sealed record CancelImageCreationRequest(string ImageBuildVersionArn, string ClientToken);

    private sealed record CancelImageCreationResponse(string? ImageBuildVersionArn);

    private sealed record GetImageResponse(ImageShape? Image);

    private sealed record ImageShape(string? Arn, string? Name, string? Version, ImageState? State, string? DateCreated, OutputResources? OutputResources);

    private sealed record ImageState(string? Status, string? Reason);

    private sealed record OutputResources(List<AmiShape>? Amis);

    private sealed record AmiShape(string? Region, string? Image, string? Name);
}
