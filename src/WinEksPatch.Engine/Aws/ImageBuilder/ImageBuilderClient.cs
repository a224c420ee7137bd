using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using WinEksPatch.Abstractions;
using WinEksPatch.Aws.Thin;

namespace WinEksPatch.Aws.ImageBuilder;

/// <summary>
/// EC2 Image Builder over rest-json (service model imagebuilder-2019-12-02): PUT /CreateX with a JSON body, GET /GetX and
/// DELETE /DeleteX with the ARN in the query string, POST /ListX with filters and nextToken. Only the operations the module
/// uses; every list follows all pages; failures go through <see cref="AwsErrorTranslator"/>.
/// </summary>
public sealed class ImageBuilderClient(ThinServiceClient client) : IImageBuilderApi
{
    private const int PageSize = 25;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // ---- components --------------------------------------------------------------------------

    public async Task<IReadOnlyList<ImageBuilderVersion>> ListComponentsAsync(string name, CancellationToken cancellationToken = default)
    {
        var items = await ListAllAsync("ListComponents", new JsonObject { ["owner"] = "Self", ["filters"] = NameFilter(name) }, "componentVersionList",
            name, cancellationToken).ConfigureAwait(false);
        return items.Select(i => new ImageBuilderVersion(Str(i, "arn") ?? "", Str(i, "name") ?? name, Str(i, "version"))).ToList();
    }

    public async Task<IReadOnlyList<string>> ListComponentBuildVersionsAsync(string componentVersionArn, CancellationToken cancellationToken = default)
    {
        var items = await ListAllAsync("ListComponentBuildVersions", new JsonObject { ["componentVersionArn"] = componentVersionArn },
            "componentSummaryList", componentVersionArn, cancellationToken).ConfigureAwait(false);
        return items.Select(i => Str(i, "arn")).OfType<string>().ToList();
    }

    public async Task<ImageBuilderComponent> GetComponentAsync(string componentArn, CancellationToken cancellationToken = default)
    {
        var c = await GetAsync("GetComponent", "componentBuildVersionArn", componentArn, "component", cancellationToken).ConfigureAwait(false);
        return new ImageBuilderComponent(Str(c, "arn") ?? componentArn, Str(c, "name") ?? "", Str(c, "version"), Str(c, "platform"), Str(c, "owner"), Str(c, "data"));
    }

    public async Task<string> CreateComponentAsync(ComponentSpec spec, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject
        {
            ["name"] = spec.Name,
            ["semanticVersion"] = spec.SemanticVersion,
            ["platform"] = spec.Platform,
            ["data"] = spec.Data,
        };
        AddIf(body, "description", spec.Description);
        AddIf(body, "changeDescription", spec.ChangeDescription);
        if (spec.SupportedOsVersions is { Count: > 0 } os)
        {
            body["supportedOsVersions"] = Array(os);
        }

        return await CreateAsync("CreateComponent", body, "componentBuildVersionArn", spec.Name, cancellationToken).ConfigureAwait(false);
    }

    public Task DeleteComponentAsync(string componentBuildVersionArn, CancellationToken cancellationToken = default) =>
        DeleteAsync("DeleteComponent", "componentBuildVersionArn", componentBuildVersionArn, cancellationToken);

    // ---- image recipes -----------------------------------------------------------------------

    public async Task<IReadOnlyList<ImageBuilderVersion>> ListImageRecipesAsync(string name, CancellationToken cancellationToken = default)
    {
        var items = await ListAllAsync("ListImageRecipes", new JsonObject { ["owner"] = "Self", ["filters"] = NameFilter(name) }, "imageRecipeSummaryList",
            name, cancellationToken).ConfigureAwait(false);
        // Recipe summaries carry no version member: it is the last segment of the ARN (…:image-recipe/name/1.0.2).
        return items.Select(i => Str(i, "arn") is { } arn ? new ImageBuilderVersion(arn, Str(i, "name") ?? name, arn[(arn.LastIndexOf('/') + 1)..]) : null)
            .OfType<ImageBuilderVersion>().ToList();
    }

    public async Task<ImageRecipeSpec> GetImageRecipeAsync(string imageRecipeArn, CancellationToken cancellationToken = default)
    {
        var r = await GetAsync("GetImageRecipe", "imageRecipeArn", imageRecipeArn, "imageRecipe", cancellationToken).ConfigureAwait(false);
        var components = (r["components"] as JsonArray ?? []).Select(c => Str(c, "componentArn")).OfType<string>().ToList();
        var devices = (r["blockDeviceMappings"] as JsonArray ?? [])
            .Where(d => d?["ebs"] is JsonObject)
            .Select(d => new RecipeBlockDevice(Str(d, "deviceName") ?? "", Int(d!["ebs"], "volumeSize") ?? 0, Str(d!["ebs"], "volumeType") ?? "gp2",
                Bool(d!["ebs"], "deleteOnTermination") ?? true))
            .ToList();
        return new ImageRecipeSpec(Str(r, "name") ?? "", Str(r, "version") ?? "", Str(r, "parentImage") ?? "", components, devices,
            Str(r, "description"), Str(r, "arn") ?? imageRecipeArn);
    }

    public async Task<string> CreateImageRecipeAsync(ImageRecipeSpec spec, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject
        {
            ["name"] = spec.Name,
            ["semanticVersion"] = spec.SemanticVersion,
            ["parentImage"] = spec.ParentImage,
            ["components"] = new JsonArray([.. spec.Components.Select(c => (JsonNode)new JsonObject { ["componentArn"] = c })]),
        };
        AddIf(body, "description", spec.Description);
        if (spec.BlockDevices.Count > 0)
        {
            body["blockDeviceMappings"] = new JsonArray([.. spec.BlockDevices.Select(d => (JsonNode)new JsonObject
            {
                ["deviceName"] = d.DeviceName,
                ["ebs"] = new JsonObject { ["volumeSize"] = d.VolumeSize, ["volumeType"] = d.VolumeType, ["deleteOnTermination"] = d.DeleteOnTermination },
            })]);
        }

        return await CreateAsync("CreateImageRecipe", body, "imageRecipeArn", spec.Name, cancellationToken).ConfigureAwait(false);
    }

    public Task DeleteImageRecipeAsync(string imageRecipeArn, CancellationToken cancellationToken = default) =>
        DeleteAsync("DeleteImageRecipe", "imageRecipeArn", imageRecipeArn, cancellationToken);

    // ---- infrastructure configurations -------------------------------------------------------

    public async Task<IReadOnlyList<string>> ListInfrastructureConfigurationsAsync(string name, CancellationToken cancellationToken = default) =>
        (await ListAllAsync("ListInfrastructureConfigurations", new JsonObject { ["filters"] = NameFilter(name) }, "infrastructureConfigurationSummaryList",
            name, cancellationToken).ConfigureAwait(false)).Select(i => Str(i, "arn")).OfType<string>().ToList();

    public async Task<InfrastructureSpec> GetInfrastructureConfigurationAsync(string arn, CancellationToken cancellationToken = default)
    {
        var c = await GetAsync("GetInfrastructureConfiguration", "infrastructureConfigurationArn", arn, "infrastructureConfiguration", cancellationToken)
            .ConfigureAwait(false);
        return new InfrastructureSpec(Str(c, "name") ?? "", Str(c, "instanceProfileName") ?? "", Strings(c["instanceTypes"]), Str(c, "subnetId"),
            Strings(c["securityGroupIds"]), Bool(c, "terminateInstanceOnFailure") ?? true, Str(c["instanceMetadataOptions"], "httpTokens") ?? "optional",
            Str(c, "description"), Str(c, "arn") ?? arn);
    }

    public async Task<string> CreateInfrastructureConfigurationAsync(InfrastructureSpec spec, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject
        {
            ["name"] = spec.Name,
            ["instanceProfileName"] = spec.InstanceProfileName,
            ["terminateInstanceOnFailure"] = spec.TerminateInstanceOnFailure,
            ["instanceMetadataOptions"] = new JsonObject { ["httpTokens"] = spec.HttpTokens, ["httpPutResponseHopLimit"] = 2 },
        };
        AddIf(body, "description", spec.Description);
        if (spec.InstanceTypes.Count > 0)
        {
            body["instanceTypes"] = Array(spec.InstanceTypes);
        }

        AddIf(body, "subnetId", spec.SubnetId);
        if (spec.SecurityGroupIds.Count > 0)
        {
            body["securityGroupIds"] = Array(spec.SecurityGroupIds);
        }

        return await CreateAsync("CreateInfrastructureConfiguration", body, "infrastructureConfigurationArn", spec.Name, cancellationToken).ConfigureAwait(false);
    }

    public Task DeleteInfrastructureConfigurationAsync(string arn, CancellationToken cancellationToken = default) =>
        DeleteAsync("DeleteInfrastructureConfiguration", "infrastructureConfigurationArn", arn, cancellationToken);

    // ---- distribution configurations ---------------------------------------------------------

    public async Task<IReadOnlyList<string>> ListDistributionConfigurationsAsync(string name, CancellationToken cancellationToken = default) =>
        (await ListAllAsync("ListDistributionConfigurations", new JsonObject { ["filters"] = NameFilter(name) }, "distributionConfigurationSummaryList",
            name, cancellationToken).ConfigureAwait(false)).Select(i => Str(i, "arn")).OfType<string>().ToList();

    public async Task<DistributionSpec> GetDistributionConfigurationAsync(string arn, CancellationToken cancellationToken = default)
    {
        var c = await GetAsync("GetDistributionConfiguration", "distributionConfigurationArn", arn, "distributionConfiguration", cancellationToken)
            .ConfigureAwait(false);
        var distributions = (c["distributions"] as JsonArray ?? []).Select(d =>
        {
            var ami = d?["amiDistributionConfiguration"];
            var tags = (ami?["amiTags"] as JsonObject ?? []).ToDictionary(t => t.Key, t => t.Value?.GetValue<string>() ?? "", StringComparer.Ordinal);
            return new AmiDistribution(Str(d, "region") ?? "", Str(ami, "name") ?? "", Str(ami, "description"), tags);
        }).ToList();
        return new DistributionSpec(Str(c, "name") ?? "", distributions, Str(c, "description"), Str(c, "arn") ?? arn);
    }

    public async Task<string> CreateDistributionConfigurationAsync(DistributionSpec spec, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject
        {
            ["name"] = spec.Name,
            ["distributions"] = new JsonArray([.. spec.Distributions.Select(d =>
            {
                var ami = new JsonObject { ["name"] = d.AmiName };
                AddIf(ami, "description", d.AmiDescription);
                ami["amiTags"] = new JsonObject([.. d.AmiTags.Select(t => KeyValuePair.Create(t.Key, (JsonNode?)t.Value))]);
                return (JsonNode)new JsonObject { ["region"] = d.Region, ["amiDistributionConfiguration"] = ami };
            })]),
        };
        AddIf(body, "description", spec.Description);
        return await CreateAsync("CreateDistributionConfiguration", body, "distributionConfigurationArn", spec.Name, cancellationToken).ConfigureAwait(false);
    }

    public Task DeleteDistributionConfigurationAsync(string arn, CancellationToken cancellationToken = default) =>
        DeleteAsync("DeleteDistributionConfiguration", "distributionConfigurationArn", arn, cancellationToken);

    // ---- images ------------------------------------------------------------------------------

    public async Task<string> CreateImageAsync(ImageBuildRequest request, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject
        {
            ["imageRecipeArn"] = request.ImageRecipeArn,
            ["infrastructureConfigurationArn"] = request.InfrastructureConfigurationArn,
        };
        AddIf(body, "distributionConfigurationArn", request.DistributionConfigurationArn);
        body["imageTestsConfiguration"] = new JsonObject { ["imageTestsEnabled"] = request.ImageTestsEnabled, ["timeoutMinutes"] = 720 };
        body["enhancedImageMetadataEnabled"] = true;
        if (request.Tags.Count > 0)
        {
            body["tags"] = new JsonObject([.. request.Tags.Select(t => KeyValuePair.Create(t.Key, (JsonNode?)t.Value))]);
        }

        return await CreateAsync("CreateImage", body, "imageBuildVersionArn", request.ImageRecipeArn, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ImageBuilderImage> GetImageAsync(string imageBuildVersionArn, CancellationToken cancellationToken = default)
    {
        var i = await GetAsync("GetImage", "imageBuildVersionArn", imageBuildVersionArn, "image", cancellationToken).ConfigureAwait(false);
        var amis = (i["outputResources"]?["amis"] as JsonArray ?? [])
            .Select(a => Str(a, "image") is { } id ? new ImageBuilderOutputAmi(Str(a, "region") ?? "", id, Str(a, "name")) : null)
            .OfType<ImageBuilderOutputAmi>().ToList();
        return new ImageBuilderImage(Str(i, "arn") ?? imageBuildVersionArn, Str(i, "name"), Str(i, "version"), Str(i["state"], "status") ?? "UNKNOWN",
            Str(i["state"], "reason"), Date(Str(i, "dateCreated")), amis);
    }

    public async Task CancelImageCreationAsync(string imageBuildVersionArn, CancellationToken cancellationToken = default) =>
        await CreateAsync("CancelImageCreation", new JsonObject { ["imageBuildVersionArn"] = imageBuildVersionArn }, "imageBuildVersionArn",
            imageBuildVersionArn, cancellationToken).ConfigureAwait(false);

    // ---- wire ----------------------------------------------------------------------------------

    /// <summary>A PUT /CreateX with a fresh clientToken (Image Builder's idempotency token; a retry of the same request by the
    /// SDK reuses it, so a lost response cannot create twice).</summary>
    private async Task<string> CreateAsync(string operation, JsonObject body, string resultMember, object? target, CancellationToken cancellationToken)
    {
        body["clientToken"] = Guid.NewGuid().ToString();
        var response = await SendAsync(new ThinRequest(operation) { HttpMethod = "PUT", Path = "/" + operation, JsonBody = body.ToJsonString(Json) },
            target, cancellationToken).ConfigureAwait(false);
        return Str(response, resultMember) ?? throw new InvalidDataException($"{operation} returned no {resultMember}.");
    }

    private async Task<JsonNode> GetAsync(string operation, string parameter, string arn, string resultMember, CancellationToken cancellationToken)
    {
        var request = new ThinRequest(operation) { HttpMethod = "GET", Path = "/" + operation };
        request.Parameters[parameter] = arn;
        var response = await SendAsync(request, arn, cancellationToken).ConfigureAwait(false);
        return response[resultMember] ?? throw new InvalidDataException($"{operation} returned no {resultMember}.");
    }

    private async Task DeleteAsync(string operation, string parameter, string arn, CancellationToken cancellationToken)
    {
        var request = new ThinRequest(operation) { HttpMethod = "DELETE", Path = "/" + operation };
        request.Parameters[parameter] = arn;
        await SendAsync(request, arn, cancellationToken).ConfigureAwait(false);
    }

    private async Task<List<JsonNode>> ListAllAsync(string operation, JsonObject body, string listMember, object? target, CancellationToken cancellationToken)
    {
        var all = new List<JsonNode>();
        string? next = null;
        do
        {
            var page = (JsonObject)body.DeepClone();
            page["maxResults"] = PageSize;
            if (next != null)
            {
                page["nextToken"] = next;
            }

            var response = await SendAsync(new ThinRequest(operation) { HttpMethod = "POST", Path = "/" + operation, JsonBody = page.ToJsonString(Json) },
                target, cancellationToken).ConfigureAwait(false);
            all.AddRange((response[listMember] as JsonArray ?? []).OfType<JsonNode>());
            next = Str(response, "nextToken") is { Length: > 0 } token ? token : null;
        }
        while (next != null);
        return all;
    }

    private async Task<JsonNode> SendAsync(ThinRequest request, object? target, CancellationToken cancellationToken)
    {
        var response = await AwsErrorTranslator.CallAsync(request.Operation, target, () => client.SendAsync(request, cancellationToken)).ConfigureAwait(false);
        return JsonNode.Parse(string.IsNullOrEmpty(response.Body) ? "{}" : response.Body) ?? new JsonObject();
    }

    private static JsonArray NameFilter(string name) => [new JsonObject { ["name"] = "name", ["values"] = new JsonArray(name) }];

    private static JsonArray Array(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v)!)]);

    private static void AddIf(JsonObject o, string member, string? value)
    {
        if (value != null)
        {
            o[member] = value;
        }
    }

    private static string? Str(JsonNode? node, string member) =>
        node is JsonObject o && o[member] is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    private static int? Int(JsonNode? node, string member) =>
        node is JsonObject o && o[member] is JsonValue v && v.TryGetValue(out int i) ? i : null;

    private static bool? Bool(JsonNode? node, string member) =>
        node is JsonObject o && o[member] is JsonValue v && v.TryGetValue(out bool b) ? b : null;

    private static List<string> Strings(JsonNode? node) => (node as JsonArray ?? []).Select(n => n is JsonValue v && v.TryGetValue(out string? s) ? s : null)
        .OfType<string>().ToList();

    private static DateTimeOffset? Date(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var d) ? d : null;
}
