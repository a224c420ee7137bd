using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.ImageBuilder;

// Image builds: CreateImage and pipeline executions, their status phases, output AMIs and the image list operations.
public sealed partial class ImageBuilderService
{
    private static JsonObject CreateImage(AwsCall call, JsonObject body)
    {
        ImageBuilderResource recipe = RequireResource(call.World, Required(body, "imageRecipeArn"), ImageBuilderKind.ImageRecipe);
        ImageBuilderResource infrastructure = RequireResource(call.World, Required(body, "infrastructureConfigurationArn"), ImageBuilderKind.InfrastructureConfiguration);
        ImageBuilderResource? distribution = JsonProtocol.String(body, "distributionConfigurationArn") is { } d
            ? RequireResource(call.World, d, ImageBuilderKind.DistributionConfiguration) : null;
        ImageBuild build = Start(call.World, recipe, infrastructure, distribution, null, body, "USER_INITIATED");
        return new JsonObject { ["imageBuildVersionArn"] = build.Arn };
    }

    private static JsonObject StartImagePipelineExecution(AwsCall call, JsonObject body)
    {
        ImageBuilderResource pipeline = RequireResource(call.World, Required(body, "imagePipelineArn"), ImageBuilderKind.ImagePipeline);
        if (pipeline.Definition["status"]?.GetValue<string>() == "DISABLED")
        {
            throw new AwsException(400, "InvalidRequestException", $"The image pipeline '{pipeline.Arn}' is disabled.");
        }

        ImageBuilderResource recipe = RequireResource(call.World, pipeline.Definition["imageRecipeArn"]!.GetValue<string>(), ImageBuilderKind.ImageRecipe);
        ImageBuilderResource infrastructure = RequireResource(call.World, pipeline.Definition["infrastructureConfigurationArn"]!.GetValue<string>(), ImageBuilderKind.InfrastructureConfiguration);
        ImageBuilderResource? distribution = pipeline.Definition["distributionConfigurationArn"]?.GetValue<string>() is { } d
            ? RequireResource(call.World, d, ImageBuilderKind.DistributionConfiguration) : null;
        ImageBuild build = Start(call.World, recipe, infrastructure, distribution, pipeline, pipeline.Definition, "USER_INITIATED");
        pipeline.Definition["dateLastRun"] = IsoTime(call.World.Clock.GetUtcNow());
        return new JsonObject { ["imageBuildVersionArn"] = build.Arn };
    }

    private static ImageBuild Start(SimWorld world, ImageBuilderResource recipe, ImageBuilderResource infrastructure, ImageBuilderResource? distribution,
        ImageBuilderResource? pipeline, JsonObject source, string buildType)
    {
        AmiImage parent = ResolveParent(world, recipe.Definition["parentImage"]!.GetValue<string>());
        bool tests = source["imageTestsConfiguration"]?["imageTestsEnabled"]?.GetValue<bool>() ?? true;
        JsonObject tags = source["tags"] as JsonObject is { } t ? (JsonObject)t.DeepClone() : [];
        return world.StartImageBuild(recipe, infrastructure, distribution, pipeline, parent, tags, tests, buildType);
    }

    private static JsonObject CancelImageCreation(AwsCall call, JsonObject body)
    {
        ImageBuild build = FindBuild(call, Required(body, "imageBuildVersionArn"));
        (string status, _) = build.StateAt(call.World.Clock.GetUtcNow());
        if (status is "AVAILABLE" or "FAILED" or "CANCELLED" or "DEPRECATED")
        {
            throw new AwsException(400, "ResourceInUseException", $"The image '{build.Arn}' cannot be cancelled: its status is {status}.");
        }

        build.CancelledAt = call.World.Clock.GetUtcNow();
        call.World.RefreshImageBuilds();
        return new JsonObject { ["imageBuildVersionArn"] = build.Arn };
    }

    private static JsonObject ImageJson(SimWorld world, ImageBuild b)
    {
        (string status, string? reason) = b.StateAt(world.Clock.GetUtcNow());
        var state = new JsonObject { ["status"] = status };
        if (reason is not null)
        {
            state["reason"] = reason;
        }

        var image = new JsonObject
        {
            ["arn"] = b.Arn,
            ["type"] = "AMI",
            ["name"] = b.Name,
            ["version"] = $"{b.Version}/{b.BuildNumber}",
            ["platform"] = "Windows",
            ["enhancedImageMetadataEnabled"] = true,
            ["osVersion"] = $"Microsoft Windows Server {b.Parent.WindowsServer}",
            ["state"] = state,
            ["imageRecipe"] = RecipeJson(b.Recipe),
            ["infrastructureConfiguration"] = ResourceJson(b.Infrastructure),
            ["imageTestsConfiguration"] = new JsonObject { ["imageTestsEnabled"] = b.TestsEnabled, ["timeoutMinutes"] = 720 },
            ["dateCreated"] = IsoTime(b.DateCreated),
            ["outputResources"] = OutputResources(world, b),
            ["tags"] = b.Tags.DeepClone(),
            ["buildType"] = b.BuildType,
            ["imageSource"] = "CUSTOM",
        };
        if (b.Distribution is not null)
        {
            image["distributionConfiguration"] = ResourceJson(b.Distribution);
        }

        if (b.Pipeline is not null)
        {
            image["sourcePipelineArn"] = b.Pipeline.Arn;
            image["sourcePipelineName"] = b.Pipeline.Name;
        }

        return image;
    }

    private static JsonObject OutputResources(SimWorld world, ImageBuild b)
    {
        var amis = new JsonArray();
        if (b.OutputAmiId is not null && world.Images.TryGetValue(b.OutputAmiId, out AmiImage? ami))
        {
            amis.Add(new JsonObject
            {
                ["region"] = world.Region,
                ["image"] = ami.ImageId,
                ["name"] = ami.Name,
                ["description"] = ami.Description,
                ["state"] = new JsonObject { ["status"] = "AVAILABLE" },
                ["accountId"] = world.AccountId,
            });
            foreach ((string region, string id) in b.OtherRegionAmis.OrderBy(r => r.Key, StringComparer.Ordinal))
            {
                amis.Add(new JsonObject { ["region"] = region, ["image"] = id, ["name"] = ami.Name, ["state"] = new JsonObject { ["status"] = "AVAILABLE" }, ["accountId"] = world.AccountId });
            }
        }

        return new JsonObject { ["amis"] = amis };
    }

    private static JsonObject ImageSummary(SimWorld world, ImageBuild b)
    {
        (string status, string? reason) = b.StateAt(world.Clock.GetUtcNow());
        var state = new JsonObject { ["status"] = status };
        if (reason is not null)
        {
            state["reason"] = reason;
        }

        return new JsonObject
        {
            ["arn"] = b.Arn,
            ["name"] = b.Name,
            ["type"] = "AMI",
            ["version"] = $"{b.Version}/{b.BuildNumber}",
            ["platform"] = "Windows",
            ["osVersion"] = $"Microsoft Windows Server {b.Parent.WindowsServer}",
            ["state"] = state,
            ["owner"] = world.AccountId,
            ["dateCreated"] = IsoTime(b.DateCreated),
            ["outputResources"] = OutputResources(world, b),
            ["tags"] = b.Tags.DeepClone(),
            ["buildType"] = b.BuildType,
            ["imageSource"] = "CUSTOM",
        };
    }

    private static JsonObject ListImages(AwsCall call, JsonObject body)
    {
        string owner = JsonProtocol.String(body, "owner") ?? "Self";
        List<ImageBuild> builds = owner == "Self" ? [.. call.World.ImageBuilds.Values] : [];
        IEnumerable<IGrouping<string, ImageBuild>> versions = builds
            .GroupBy(b => b.Arn[..b.Arn.LastIndexOf('/')]);
        List<JsonObject> list = [.. versions.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            ImageBuild first = g.First();
            return new JsonObject
            {
                ["arn"] = g.Key,
                ["name"] = first.Name,
                ["type"] = "AMI",
                ["version"] = first.Version,
                ["platform"] = "Windows",
                ["osVersion"] = $"Microsoft Windows Server {first.Parent.WindowsServer}",
                ["owner"] = call.World.AccountId,
                ["dateCreated"] = IsoTime(g.Min(b => b.DateCreated)),
                ["buildType"] = first.BuildType,
                ["imageSource"] = "CUSTOM",
            };
        })];
        return Page(body, Filtered("ListImages", body, list), "imageVersionList");
    }

    private static JsonObject ListImageBuildVersions(AwsCall call, JsonObject body)
    {
        string versionArn = Required(body, "imageVersionArn");
        List<JsonObject> list = [.. call.World.ImageBuilds.Values.Where(b => b.Arn.StartsWith(versionArn + "/", StringComparison.Ordinal))
            .OrderBy(b => b.BuildNumber).Select(b => ImageSummary(call.World, b))];
        return Page(body, Filtered("ListImageBuildVersions", body, list), "imageSummaryList");
    }

    private static JsonObject ListImagePipelineImages(AwsCall call, JsonObject body)
    {
        ImageBuilderResource pipeline = RequireResource(call.World, Required(body, "imagePipelineArn"), ImageBuilderKind.ImagePipeline);
        List<JsonObject> list = [.. call.World.ImageBuilds.Values.Where(b => b.Pipeline?.Arn == pipeline.Arn)
            .OrderBy(b => b.DateCreated).Select(b => ImageSummary(call.World, b))];
        return Page(body, Filtered("ListImagePipelineImages", body, list), "imageSummaryList");
    }

    private static ImageBuild FindBuild(AwsCall call, string arn) =>
        call.World.ImageBuilds.GetValueOrDefault(arn)
        ?? (ArnPattern().IsMatch(arn) ? throw NotFound(arn) : throw InvalidParameter("imageBuildVersionArn", $"'{arn}' is not an image build version ARN."));

    /// <summary>The parent AMI: an AMI id, an SSM parameter ("ssm:/aws/service/...") naming one, or an image built here.</summary>
    private static AmiImage ResolveParent(SimWorld world, string parent)
    {
        string? amiId = parent.StartsWith("ami-", StringComparison.Ordinal) ? parent
            : parent.StartsWith("ssm:", StringComparison.Ordinal) ? world.SsmParameters.GetValueOrDefault(parent[4..])?.Value
            : world.ImageBuilds.Values.FirstOrDefault(b => b.Arn == parent || b.Arn.StartsWith(parent + "/", StringComparison.Ordinal))?.OutputAmiId;
        if (amiId is null || !world.Images.TryGetValue(amiId, out AmiImage? ami))
        {
            throw InvalidParameter("parentImage", $"The parent image '{parent}' does not exist in {world.Region}.");
        }

        if (ami.OsFamily != "windows")
        {
            throw InvalidParameter("parentImage", $"The parent image '{parent}' is not a Windows image; the recipe's components are for Windows.");
        }

        return ami;
    }
}
