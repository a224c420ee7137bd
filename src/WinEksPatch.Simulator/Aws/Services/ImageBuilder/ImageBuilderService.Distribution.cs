using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.ImageBuilder;

// Image Builder distribution configurations: CreateDistributionConfiguration and UpdateDistributionConfiguration
// validate every distribution the same way, including its fastLaunchConfigurations (Image Builder API Reference:
// FastLaunchConfiguration, FastLaunchSnapshotConfiguration, FastLaunchLaunchTemplateSpecification). What a build does with
// them (EC2 Fast Launch enabled on the output AMI) is World/SimWorld.ImageBuilder.FastLaunch.cs.
public sealed partial class ImageBuilderService
{
    /// <summary>Distribution.fastLaunchConfigurations holds 1 to 1000 items (Image Builder API Reference, Distribution).</summary>
    private const int MaxFastLaunchConfigurations = 1000;

    /// <summary>FastLaunchSnapshotConfiguration.targetResourceCount: "Minimum value of 1. Maximum value of 10000."</summary>
    private const int MaxTargetResourceCount = 10000;

    /// <summary>FastLaunchLaunchTemplateSpecification name and version: "Minimum length of 1. Maximum length of 1024."</summary>
    private const int MaxLaunchTemplateText = 1024;

    private static JsonObject CreateDistributionConfiguration(AwsCall call, JsonObject body)
    {
        string name = RequiredName(body);
        ValidateDistributions(body);
        string arn = $"arn:aws:imagebuilder:{call.World.Region}:{call.World.AccountId}:distribution-configuration/{ArnName(name)}";
        Register(call.World, ImageBuilderKind.DistributionConfiguration, arn, name, Definition(body));
        return new JsonObject { ["distributionConfigurationArn"] = arn };
    }

    /// <summary>UpdateDistributionConfiguration (PUT, distributionConfigurationArn, distributions, description): the
    /// distributions are replaced; builds already started keep the settings they started with.</summary>
    private static JsonObject UpdateDistributionConfiguration(AwsCall call, JsonObject body)
    {
        string arn = Required(body, "distributionConfigurationArn");
        ImageBuilderResource resource = RequireResource(call.World, arn, ImageBuilderKind.DistributionConfiguration);
        JsonArray distributions = ValidateDistributions(body);
        resource.Definition["distributions"] = distributions.DeepClone();
        if (body["description"] is JsonNode description)
        {
            resource.Definition["description"] = description.DeepClone();
        }

        resource.DateUpdated = call.World.Clock.GetUtcNow();
        return new JsonObject { ["distributionConfigurationArn"] = resource.Arn };
    }

    private static JsonArray ValidateDistributions(JsonObject body)
    {
        if (body["distributions"] is not JsonArray { Count: > 0 } distributions)
        {
            throw InvalidParameter("distributions", "A distribution configuration needs at least one distribution.");
        }

        foreach (JsonNode? d in distributions)
        {
            if (d?["region"] is not JsonValue regionValue || !regionValue.TryGetValue(out string? region) || !RegionName().IsMatch(region))
            {
                throw InvalidParameter("distributions.region", "Each distribution needs a valid region.");
            }

            if (d["amiDistributionConfiguration"]?["name"]?.GetValue<string>() is { } amiName && (amiName.Length is < 1 or > 127 || amiName.Replace("{{imagebuilder:buildDate}}", "", StringComparison.Ordinal).Replace("{{ imagebuilder:buildDate }}", "", StringComparison.Ordinal).Any(ch => !(char.IsAsciiLetterOrDigit(ch) || "()[] ./-'@_{}:".Contains(ch, StringComparison.Ordinal)))))
            {
                throw InvalidParameter("amiDistributionConfiguration.name", $"The AMI name '{amiName}' contains characters EC2 does not allow in AMI names.");
            }

            if (d["fastLaunchConfigurations"] is { } fastLaunch)
            {
                ValidateFastLaunchConfigurations(fastLaunch);
            }
        }

        return distributions;
    }

    /// <summary>The documented constraints of FastLaunchConfiguration: enabled required; accountId twelve digits;
    /// maxParallelLaunches at least 1 (EC2's own minimum of 6 applies when the build enables it, not here);
    /// targetResourceCount 1–10000; a launch template by id (lt- and 17 characters) or by name, not both.</summary>
    private static void ValidateFastLaunchConfigurations(JsonNode node)
    {
        if (node is not JsonArray { Count: >= 1 and <= MaxFastLaunchConfigurations } configurations)
        {
            throw InvalidParameter("distributions.fastLaunchConfigurations", $"Provide from 1 to {MaxFastLaunchConfigurations} fast launch configurations.");
        }

        foreach (JsonNode? item in configurations)
        {
            if (item is not JsonObject config)
            {
                throw InvalidParameter("distributions.fastLaunchConfigurations", "Each fast launch configuration must be an object.");
            }

            if (config["enabled"] is not JsonValue enabled || !enabled.TryGetValue(out bool _))
            {
                throw InvalidParameter("fastLaunchConfigurations.enabled", "Member must not be null.");
            }

            if (OptionalMember(config, "accountId") is { } account && !AccountId().IsMatch(account))
            {
                throw InvalidParameter("fastLaunchConfigurations.accountId", $"'{account}' must satisfy the pattern ^[0-9]{{12}}$.");
            }

            if (OptionalInt(config, "maxParallelLaunches", "fastLaunchConfigurations.maxParallelLaunches") is < 1 and var parallel)
            {
                throw InvalidParameter("fastLaunchConfigurations.maxParallelLaunches", $"{parallel} is less than the minimum value of 1.");
            }

            if (config["snapshotConfiguration"] is { } snapshot)
            {
                if (snapshot is not JsonObject snapshotConfig)
                {
                    throw InvalidParameter("fastLaunchConfigurations.snapshotConfiguration", "Must be an object.");
                }

                if (OptionalInt(snapshotConfig, "targetResourceCount", "snapshotConfiguration.targetResourceCount") is { } target and (< 1 or > MaxTargetResourceCount))
                {
                    throw InvalidParameter("snapshotConfiguration.targetResourceCount", $"{target} is not between 1 and {MaxTargetResourceCount}.");
                }
            }

            if (config["launchTemplate"] is { } templateNode)
            {
                ValidateFastLaunchTemplate(templateNode);
            }
        }
    }

    private static void ValidateFastLaunchTemplate(JsonNode node)
    {
        if (node is not JsonObject template)
        {
            throw InvalidParameter("fastLaunchConfigurations.launchTemplate", "Must be an object.");
        }

        string? id = OptionalMember(template, "launchTemplateId");
        string? name = OptionalMember(template, "launchTemplateName");
        string? version = OptionalMember(template, "launchTemplateVersion");
        if (id is not null && name is not null)
        {
            // "You can specify either the launchTemplateName or the launchTemplateId, but not both."
            throw InvalidParameter("fastLaunchConfigurations.launchTemplate", "Specify either the launchTemplateName or the launchTemplateId, but not both.");
        }

        if (id is null && name is null)
        {
            throw InvalidParameter("fastLaunchConfigurations.launchTemplate", "Specify the launchTemplateName or the launchTemplateId.");
        }

        if (id is not null && !LaunchTemplateIdPattern().IsMatch(id))
        {
            throw InvalidParameter("launchTemplate.launchTemplateId", $"'{id}' must satisfy the pattern ^lt-[a-z0-9-_]{{17}}$.");
        }

        foreach ((string member, string? value) in new[] { ("launchTemplateName", name), ("launchTemplateVersion", version) })
        {
            if (value is { Length: < 1 or > MaxLaunchTemplateText })
            {
                throw InvalidParameter("launchTemplate." + member, $"Member must have length between 1 and {MaxLaunchTemplateText}.");
            }
        }
    }

    private static string? OptionalMember(JsonObject o, string member) => o[member] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        _ => throw InvalidParameter(member, "Must be a string."),
    };

    private static int? OptionalInt(JsonObject o, string member, string parameter) => o[member] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out int n) => n,
        _ => throw InvalidParameter(parameter, "Must be an integer."),
    };

    [GeneratedRegex("^[0-9]{12}$")]
    private static partial Regex AccountId();

    [GeneratedRegex("^lt-[a-z0-9-_]{17}$")]
    private static partial Regex LaunchTemplateIdPattern();
}
