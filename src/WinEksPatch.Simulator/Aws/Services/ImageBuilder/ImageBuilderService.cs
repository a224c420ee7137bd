using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.ImageBuilder;

/// <summary>
/// EC2 Image Builder (rest-json, imagebuilder-2019-12-02: PUT /CreateX, GET /GetX?xArn=, POST /ListX, DELETE
/// /DeleteX?xArn=): components (YAML documents, semantic versions), image recipes, infrastructure and distribution
/// configurations, image pipelines, image builds and their status phases on the simulated clock.
/// </summary>
public sealed partial class ImageBuilderService : AwsService
{
    private const int MaxPageSize = 25;

    public override string SigningName => "imagebuilder";

    public override AwsProtocol Protocol => AwsProtocol.RestJson;

    public override Task HandleAsync(AwsCall call)
    {
        string operation = call.RawPath.Trim('/');
        string method = call.Http.Request.Method;
        JsonObject body = method is "PUT" or "POST" ? ParseBody(call) : [];
        JsonObject result;
        lock (call.World.Gate)
        {
            call.World.RefreshImageBuilds();
            result = (operation, method) switch
            {
                ("CreateComponent", "PUT") => Idempotent(call, operation, body, () => CreateComponent(call, body)),
                ("GetComponent", "GET") => new JsonObject { ["component"] = ComponentJson(Get(call, "componentBuildVersionArn", ImageBuilderKind.Component)) },
                ("ListComponents", "POST") => ListComponents(call, body),
                ("ListComponentBuildVersions", "POST") => ListComponentBuildVersions(call, body),
                ("DeleteComponent", "DELETE") => Delete(call, "componentBuildVersionArn", ImageBuilderKind.Component),
                ("CreateImageRecipe", "PUT") => Idempotent(call, operation, body, () => CreateImageRecipe(call, body)),
                ("GetImageRecipe", "GET") => new JsonObject { ["imageRecipe"] = RecipeJson(Get(call, "imageRecipeArn", ImageBuilderKind.ImageRecipe)) },
                ("ListImageRecipes", "POST") => List(call, "ListImageRecipes", body, ImageBuilderKind.ImageRecipe, "imageRecipeSummaryList", RecipeSummary),
                ("DeleteImageRecipe", "DELETE") => Delete(call, "imageRecipeArn", ImageBuilderKind.ImageRecipe),
                ("CreateInfrastructureConfiguration", "PUT") => Idempotent(call, operation, body, () => CreateInfrastructureConfiguration(call, body)),
                ("GetInfrastructureConfiguration", "GET") => new JsonObject { ["infrastructureConfiguration"] = ResourceJson(Get(call, "infrastructureConfigurationArn", ImageBuilderKind.InfrastructureConfiguration)) },
                ("ListInfrastructureConfigurations", "POST") => List(call, "ListInfrastructureConfigurations", body, ImageBuilderKind.InfrastructureConfiguration, "infrastructureConfigurationSummaryList", Summary),
                ("DeleteInfrastructureConfiguration", "DELETE") => Delete(call, "infrastructureConfigurationArn", ImageBuilderKind.InfrastructureConfiguration),
                ("CreateDistributionConfiguration", "PUT") => Idempotent(call, operation, body, () => CreateDistributionConfiguration(call, body)),
                ("UpdateDistributionConfiguration", "PUT") => Idempotent(call, operation, body, () => UpdateDistributionConfiguration(call, body)),
                ("GetDistributionConfiguration", "GET") => new JsonObject { ["distributionConfiguration"] = ResourceJson(Get(call, "distributionConfigurationArn", ImageBuilderKind.DistributionConfiguration)) },
                ("ListDistributionConfigurations", "POST") => List(call, "ListDistributionConfigurations", body, ImageBuilderKind.DistributionConfiguration, "distributionConfigurationSummaryList", Summary),
                ("DeleteDistributionConfiguration", "DELETE") => Delete(call, "distributionConfigurationArn", ImageBuilderKind.DistributionConfiguration),
                ("CreateImagePipeline", "PUT") => Idempotent(call, operation, body, () => CreateImagePipeline(call, body)),
                ("GetImagePipeline", "GET") => new JsonObject { ["imagePipeline"] = ResourceJson(Get(call, "imagePipelineArn", ImageBuilderKind.ImagePipeline)) },
                ("ListImagePipelines", "POST") => List(call, "ListImagePipelines", body, ImageBuilderKind.ImagePipeline, "imagePipelineList", ResourceJson),
                ("DeleteImagePipeline", "DELETE") => Delete(call, "imagePipelineArn", ImageBuilderKind.ImagePipeline),
                ("CreateImage", "PUT") => Idempotent(call, operation, body, () => CreateImage(call, body)),
                ("StartImagePipelineExecution", "PUT") => Idempotent(call, operation, body, () => StartImagePipelineExecution(call, body)),
                ("GetImage", "GET") => new JsonObject { ["image"] = ImageJson(call.World, FindBuild(call, RequiredQuery(call, "imageBuildVersionArn"))) },
                ("ListImages", "POST") => ListImages(call, body),
                ("ListImageBuildVersions", "POST") => ListImageBuildVersions(call, body),
                ("ListImagePipelineImages", "POST") => ListImagePipelineImages(call, body),
                ("CancelImageCreation", "PUT") => Idempotent(call, operation, body, () => CancelImageCreation(call, body)),
                _ => throw new AwsException(404, "UnknownOperationException", $"The simulator does not emulate Image Builder {method} /{operation}."),
            };
        }

        result["requestId"] = call.RequestId;
        return JsonProtocol.WriteAsync(call, result);
    }

    // ---- components --------------------------------------------------------------------------

    private static JsonObject CreateComponent(AwsCall call, JsonObject body)
    {
        string name = RequiredName(body);
        string version = SemanticVersion(body);
        string platform = Required(body, "platform");
        if (platform is not ("Windows" or "Linux" or "macOS"))
        {
            throw InvalidParameter("platform", $"'{platform}' is not one of Windows, Linux, macOS.");
        }

        string data = JsonProtocol.String(body, "data")
            ?? throw (JsonProtocol.String(body, "uri") is not null
                ? new AwsException(400, "InvalidRequestException", "The simulator does not fetch component documents from S3: pass the document as 'data'.")
                : new AwsException(400, "InvalidRequestException", "You must specify either 'data' or 'uri' for the component document."));
        ComponentDocument document;
        try
        {
            document = ComponentDocument.Parse(data);
        }
        catch (FormatException e)
        {
            throw InvalidParameter("data", e.Message);
        }

        string arn = $"arn:aws:imagebuilder:{call.World.Region}:{call.World.AccountId}:component/{ArnName(name)}/{version}/1";
        Register(call.World, ImageBuilderKind.Component, arn, name, Definition(body), version, document);
        return new JsonObject { ["componentBuildVersionArn"] = arn };
    }

    private static JsonObject ComponentJson(ImageBuilderResource c)
    {
        JsonObject o = ResourceJson(c);
        o["type"] ??= "BUILD";
        o["encrypted"] = c.Owner != "Amazon";
        if (c.Owner == "Amazon")
        {
            o["data"] = "name: " + c.Name + "\ndescription: Amazon-managed component (content not modelled by the simulator)\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps: []\n";
        }

        return o;
    }

    private static JsonObject ListComponents(AwsCall call, JsonObject body)
    {
        string owner = JsonProtocol.String(body, "owner") ?? "Self";
        if (owner is not ("Self" or "Amazon" or "Shared" or "ThirdParty" or "AWSMarketplace"))
        {
            throw InvalidParameter("owner", $"'{owner}' is not one of Self, Shared, Amazon, ThirdParty, AWSMarketplace.");
        }

        string wanted = owner == "Self" ? call.World.AccountId : owner;
        IEnumerable<ImageBuilderResource> components = call.World.ImageBuilderResources.Values.Where(r => r.Kind == ImageBuilderKind.Component && r.Owner == wanted);
        // One entry per version (the version ARN, without the build number).
        List<JsonObject> versions = [.. components.OrderBy(c => c.Name, StringComparer.Ordinal).ThenBy(c => Version.Parse(c.Version!))
            .Select(c =>
            {
                JsonObject s = Summary(c);
                s["arn"] = c.Arn[..c.Arn.LastIndexOf('/')];
                s["platform"] = c.Definition["platform"]?.DeepClone();
                s["type"] = c.Definition["type"]?.DeepClone() ?? "BUILD";
                s["supportedOsVersions"] = c.Definition["supportedOsVersions"]?.DeepClone();
                return s;
            })];
        return Page(body, Filtered("ListComponents", body, versions), "componentVersionList");
    }

    private static JsonObject ListComponentBuildVersions(AwsCall call, JsonObject body)
    {
        string versionArn = Required(body, "componentVersionArn");
        List<JsonObject> builds = [.. call.World.ImageBuilderResources.Values
            .Where(r => r.Kind == ImageBuilderKind.Component && r.Arn.StartsWith(versionArn + "/", StringComparison.Ordinal))
            .OrderBy(r => r.Arn, StringComparer.Ordinal).Select(r =>
            {
                JsonObject s = Summary(r);
                s["platform"] = r.Definition["platform"]?.DeepClone();
                s["type"] = r.Definition["type"]?.DeepClone() ?? "BUILD";
                return s;
            })];
        return Page(body, builds, "componentSummaryList");
    }

    // ---- recipes, infrastructure, distribution, pipelines ------------------------------------

    private static JsonObject CreateImageRecipe(AwsCall call, JsonObject body)
    {
        string name = RequiredName(body);
        string version = SemanticVersion(body);
        string parent = Required(body, "parentImage");
        if (body["components"] is not JsonArray { Count: > 0 } components)
        {
            throw InvalidParameter("components", "An image recipe needs at least one component.");
        }

        for (int i = 0; i < components.Count; i++)
        {
            string? componentArn = components[i]?["componentArn"]?.GetValue<string>();
            if (componentArn is null || call.World.FindComponent(componentArn) is null)
            {
                throw InvalidParameter($"components[{i}].componentArn", $"The component '{componentArn}' does not exist.");
            }
        }

        ResolveParent(call.World, parent);
        string arn = $"arn:aws:imagebuilder:{call.World.Region}:{call.World.AccountId}:image-recipe/{ArnName(name)}/{version}";
        Register(call.World, ImageBuilderKind.ImageRecipe, arn, name, Definition(body), version);
        return new JsonObject { ["imageRecipeArn"] = arn };
    }

    private static JsonObject RecipeJson(ImageBuilderResource r)
    {
        JsonObject o = ResourceJson(r);
        o["type"] = "AMI";
        o["platform"] = "Windows";
        return o;
    }

    private static JsonObject RecipeSummary(ImageBuilderResource r)
    {
        JsonObject o = Summary(r);
        o["platform"] = "Windows";
        o["parentImage"] = r.Definition["parentImage"]?.DeepClone();
        return o;
    }

    private static JsonObject CreateInfrastructureConfiguration(AwsCall call, JsonObject body)
    {
        string name = RequiredName(body);
        string profile = Required(body, "instanceProfileName");
        if (!call.World.InstanceProfiles.Contains(profile))
        {
            throw InvalidParameter("instanceProfileName", $"The instance profile '{profile}' does not exist. Please specify a different instance profile and try again.");
        }

        if (JsonProtocol.String(body, "subnetId") is { } subnet && !call.World.SubnetExists(subnet))
        {
            throw InvalidParameter("subnetId", $"The subnet ID '{subnet}' does not exist.");
        }

        foreach (string sg in JsonProtocol.StringList(body, "securityGroupIds") ?? [])
        {
            if (!SecurityGroupId().IsMatch(sg))
            {
                throw InvalidParameter("securityGroupIds", $"The security group ID '{sg}' is malformed.");
            }
        }

        if (body["instanceMetadataOptions"]?["httpTokens"]?.GetValue<string>() is { } tokens && tokens is not ("required" or "optional"))
        {
            throw InvalidParameter("instanceMetadataOptions.httpTokens", $"'{tokens}' is not one of required, optional.");
        }

        string arn = $"arn:aws:imagebuilder:{call.World.Region}:{call.World.AccountId}:infrastructure-configuration/{ArnName(name)}";
        JsonObject definition = Definition(body);
        definition["terminateInstanceOnFailure"] ??= true;
        Register(call.World, ImageBuilderKind.InfrastructureConfiguration, arn, name, definition);
        return new JsonObject { ["infrastructureConfigurationArn"] = arn };
    }

    private static JsonObject CreateImagePipeline(AwsCall call, JsonObject body)
    {
        string name = RequiredName(body);
        RequireResource(call.World, Required(body, "imageRecipeArn"), ImageBuilderKind.ImageRecipe);
        RequireResource(call.World, Required(body, "infrastructureConfigurationArn"), ImageBuilderKind.InfrastructureConfiguration);
        if (JsonProtocol.String(body, "distributionConfigurationArn") is { } dist)
        {
            RequireResource(call.World, dist, ImageBuilderKind.DistributionConfiguration);
        }

        string arn = $"arn:aws:imagebuilder:{call.World.Region}:{call.World.AccountId}:image-pipeline/{ArnName(name)}";
        JsonObject definition = Definition(body);
        definition["status"] ??= "ENABLED";
        definition["platform"] = "Windows";
        Register(call.World, ImageBuilderKind.ImagePipeline, arn, name, definition);
        return new JsonObject { ["imagePipelineArn"] = arn };
    }

    // ---- shared ------------------------------------------------------------------------------

    /// <summary>
    /// Image Builder's clientToken: the same token with the same request returns the first answer and creates nothing;
    /// with a different request it is IdempotentParameterMismatchException.
    /// </summary>
    private static JsonObject Idempotent(AwsCall call, string operation, JsonObject body, Func<JsonObject> create)
    {
        string token = Required(body, "clientToken");
        if (token.Length > 36)
        {
            throw InvalidParameter("clientToken", "Member must have length less than or equal to 36.");
        }

        string fingerprint = operation + ":" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(body.ToJsonString())));
        if (call.World.ImageBuilderClientTokens.TryGetValue(token, out (string Fingerprint, JsonObject Response) seen))
        {
            return seen.Fingerprint == fingerprint
                ? (JsonObject)seen.Response.DeepClone()
                : throw new AwsException(400, "IdempotentParameterMismatchException", $"The client token '{token}' was already used with different parameters.");
        }

        JsonObject response = create();
        response["clientToken"] = token;
        call.World.ImageBuilderClientTokens[token] = (fingerprint, (JsonObject)response.DeepClone());
        return response;
    }

    private static JsonObject List(AwsCall call, string operation, JsonObject body, ImageBuilderKind kind, string listName, Func<ImageBuilderResource, JsonObject> render)
    {
        string owner = JsonProtocol.String(body, "owner") ?? "Self";
        IEnumerable<ImageBuilderResource> items = call.World.ImageBuilderResources.Values.Where(r => r.Kind == kind && (owner == "Self" ? r.Owner == call.World.AccountId : r.Owner == owner));
        return Page(body, Filtered(operation, body, items.OrderBy(r => r.Arn, StringComparer.Ordinal).Select(render)), listName);
    }

    private static JsonObject Page(JsonObject body, List<JsonObject> items, string listName)
    {
        int max = JsonProtocol.Int(body, "maxResults") ?? MaxPageSize;
        if (max is < 1 or > MaxPageSize)
        {
            throw InvalidParameter("maxResults", $"Member must have value less than or equal to {MaxPageSize} and greater than or equal to 1.");
        }

        if (!Paging.TryDecode(JsonProtocol.String(body, "nextToken"), out int offset))
        {
            throw new AwsException(400, "InvalidPaginationTokenException", "The nextToken is not valid.");
        }

        (List<JsonObject> page, string? next) = Paging.Page(items, offset, max);
        var result = new JsonObject { [listName] = new JsonArray([.. page]) };
        if (next is not null)
        {
            result["nextToken"] = next;
        }

        return result;
    }

    private static JsonObject Delete(AwsCall call, string parameter, ImageBuilderKind kind)
    {
        ImageBuilderResource resource = Get(call, parameter, kind);
        if (resource.Owner != call.World.AccountId)
        {
            throw new AwsException(403, "ForbiddenException", $"You are not authorized to delete '{resource.Arn}'.");
        }

        bool used = kind switch
        {
            ImageBuilderKind.Component => call.World.ImageBuilderResources.Values.Any(r => r.Kind == ImageBuilderKind.ImageRecipe
                && (r.Definition["components"] as JsonArray ?? []).Any(c => call.World.FindComponent(c?["componentArn"]?.GetValue<string>() ?? "") == resource)),
            ImageBuilderKind.ImagePipeline => false,
            _ => call.World.ImageBuilderResources.Values.Any(r => r.Kind == ImageBuilderKind.ImagePipeline
                && r.Definition.Any(p => p.Value is JsonValue v && v.TryGetValue(out string? s) && s == resource.Arn)),
        };
        if (used)
        {
            throw new AwsException(400, "ResourceDependencyException", $"Resource dependency error: The resource ARN '{resource.Arn}' has other resources depended on it.");
        }

        call.World.ImageBuilderResources.Remove(resource.Arn);
        return new JsonObject { [parameter] = resource.Arn };
    }

    private static ImageBuilderResource Get(AwsCall call, string parameter, ImageBuilderKind kind)
    {
        string arn = RequiredQuery(call, parameter);
        ImageBuilderResource? resource = kind == ImageBuilderKind.Component ? call.World.FindComponent(arn) : call.World.ImageBuilderResources.GetValueOrDefault(arn);
        return resource is not null && resource.Kind == kind ? resource
            : ArnPattern().IsMatch(arn) ? throw NotFound(arn)
            : throw InvalidParameter(parameter, $"'{arn}' is not a valid ARN.");
    }

    private static ImageBuilderResource RequireResource(SimWorld world, string arn, ImageBuilderKind kind) =>
        world.ImageBuilderResources.GetValueOrDefault(arn) is { } r && r.Kind == kind ? r
            : ArnPattern().IsMatch(arn) ? throw NotFound(arn) : throw InvalidParameter("arn", $"'{arn}' is not a valid ARN.");

    /// <summary>Stores a new resource owned by the account, or fails as Image Builder does when the ARN exists.</summary>
    private static void Register(SimWorld world, ImageBuilderKind kind, string arn, string name, JsonObject definition, string? version = null,
        ComponentDocument? document = null)
    {
        if (world.ImageBuilderResources.ContainsKey(arn))
        {
            throw new AwsException(400, "ResourceAlreadyExistsException", $"The following resource '{arn}' already exists.");
        }

        world.ImageBuilderResources[arn] = new ImageBuilderResource
        {
            Kind = kind,
            Arn = arn,
            Name = name,
            Version = version,
            Owner = world.AccountId,
            DateCreated = world.Clock.GetUtcNow(),
            Definition = definition,
            Document = document,
        };
    }

    private static JsonObject Definition(JsonObject body)
    {
        var d = (JsonObject)body.DeepClone();
        d.Remove("clientToken");
        d.Remove("semanticVersion");
        return d;
    }

    private static JsonObject ResourceJson(ImageBuilderResource r)
    {
        var o = (JsonObject)r.Definition.DeepClone();
        o["arn"] = r.Arn;
        o["name"] = r.Name;
        if (r.Version is not null)
        {
            o["version"] = r.Version;
        }

        o["owner"] = r.Owner;
        o["dateCreated"] = IsoTime(r.DateCreated);
        if (r.DateUpdated is { } updated)
        {
            o["dateUpdated"] = IsoTime(updated);
        }

        o["tags"] ??= new JsonObject();
        return o;
    }

    private static JsonObject Summary(ImageBuilderResource r)
    {
        var o = new JsonObject { ["arn"] = r.Arn, ["name"] = r.Name };
        if (r.Version is not null)
        {
            o["version"] = r.Version;
        }

        o["description"] = r.Definition["description"]?.DeepClone();
        o["owner"] = r.Owner;
        o["dateCreated"] = IsoTime(r.DateCreated);
        o["tags"] = r.Definition["tags"]?.DeepClone() ?? new JsonObject();
        return o;
    }

    private static JsonObject ParseBody(AwsCall call)
    {
        try
        {
            return JsonProtocol.ParseBody(call);
        }
        catch (AwsException e) when (e.Code == "SerializationException")
        {
            throw new AwsException(400, "InvalidRequestException", "The request body is not valid JSON.");
        }
    }

    private static string Required(JsonObject body, string member) =>
        JsonProtocol.String(body, member) is { Length: > 0 } v ? v : throw InvalidParameter(member, "Member must not be null.");

    private static string RequiredQuery(AwsCall call, string member) =>
        call.Query.Get(member) is { Length: > 0 } v ? v : throw InvalidParameter(member, "Member must not be null.");

    private static string RequiredName(JsonObject body)
    {
        string name = Required(body, "name");
        return ResourceName().IsMatch(name) ? name : throw InvalidParameter("name", $"'{name}' must be 1-126 characters of letters, digits, spaces, hyphens and underscores.");
    }

    private static string SemanticVersion(JsonObject body)
    {
        string version = Required(body, "semanticVersion");
        return SemVer().IsMatch(version) ? version
            : throw new AwsException(400, "InvalidVersionNumberException", $"The semantic version '{version}' is not valid: use <major>.<minor>.<patch> with non-negative integers.");
    }

    private static string ArnName(string name) => name.ToLowerInvariant().Replace(' ', '-');

    private static string IsoTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static AwsException InvalidParameter(string parameter, string detail) =>
        new(400, "InvalidParameterValueException", $"The value supplied for parameter '{parameter}' is not valid. {detail}");

    private static AwsException NotFound(string arn) => new(404, "ResourceNotFoundException", $"The resource '{arn}' does not exist.");

    [GeneratedRegex(@"^[-_A-Za-z0-9][-_A-Za-z0-9 ]{0,125}$")]
    private static partial Regex ResourceName();

    [GeneratedRegex(@"^(?:0|[1-9][0-9]{0,8})\.(?:0|[1-9][0-9]{0,8})\.(?:0|[1-9][0-9]{0,8})$")]
    private static partial Regex SemVer();

    [GeneratedRegex(@"^sg-[0-9a-f]{8,17}$")]
    private static partial Regex SecurityGroupId();

    [GeneratedRegex(@"^[a-z]{2}(-[a-z]+)+-[0-9]$")]
    private static partial Regex RegionName();

    [GeneratedRegex(@"^arn:aws[^:]*:imagebuilder:[^:]+:(?:[0-9]{12}|aws):[a-z-]+/")]
    private static partial Regex ArnPattern();
}
