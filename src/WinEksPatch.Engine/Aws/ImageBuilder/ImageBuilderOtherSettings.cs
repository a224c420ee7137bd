using System.Text.Json;

namespace WinEksPatch.Aws.ImageBuilder;

/// <summary>
/// The settings of an Image Builder resource that the module does not make, read from its whole Get* answer: a recipe's
/// user-data override or working directory, an infrastructure configuration's key pair, logging or SNS topic, a
/// distribution's launch permissions, target accounts or KMS key... A resource with any of them is not the module's to
/// reuse (a pre-created distribution with launchPermission all would make the patched AMI public). Members the service
/// fills in itself (ARN, dates, owner, tags) and members at their default (null, false, 0, "", empty) are not settings.
/// </summary>
internal static class ImageBuilderOtherSettings
{
    private static readonly HashSet<string> Generated = new(StringComparer.Ordinal)
    {
        "arn", "name", "description", "dateCreated", "dateUpdated", "tags", "owner", "version", "platform", "type",
    };

    /// <summary>The member paths the module sets on a recipe.</summary>
    public static readonly string[] Recipe =
    [
        "parentImage", "components[].componentArn", "blockDeviceMappings[].deviceName", "blockDeviceMappings[].ebs.volumeSize",
        "blockDeviceMappings[].ebs.volumeType", "blockDeviceMappings[].ebs.deleteOnTermination",
    ];

    /// <summary>The member paths the module sets on an infrastructure configuration.</summary>
    public static readonly string[] Infrastructure =
    [
        "instanceProfileName", "instanceTypes", "subnetId", "securityGroupIds", "terminateInstanceOnFailure",
        "instanceMetadataOptions.httpTokens", "instanceMetadataOptions.httpPutResponseHopLimit",
    ];

    /// <summary>The member paths the module sets on a distribution configuration.</summary>
    public static readonly string[] Distribution =
    [
        "distributions[].region", "distributions[].amiDistributionConfiguration.name", "distributions[].amiDistributionConfiguration.description",
        "distributions[].amiDistributionConfiguration.amiTags", "distributions[].fastLaunchConfigurations[].enabled",
        "distributions[].fastLaunchConfigurations[].snapshotConfiguration.targetResourceCount", "distributions[].fastLaunchConfigurations[].maxParallelLaunches",
        "distributions[].fastLaunchConfigurations[].launchTemplate.launchTemplateId", "distributions[].fastLaunchConfigurations[].launchTemplate.launchTemplateVersion",
    ];

    /// <summary>Paths of members set to something other than their default that are neither generated nor the module's.</summary>
    public static IReadOnlyList<string> Find(JsonElement resource, IReadOnlyCollection<string> modules)
    {
        var found = new List<string>();
        void Walk(JsonElement value, string path)
        {
            if (modules.Contains(path) || IsDefault(value))
            {
                return;
            }

            // Objects (and lists of objects) are walked down to the settings themselves: "...launchPermission.userGroups".
            switch (value.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var member in value.EnumerateObject())
                    {
                        Walk(member.Value, $"{path}.{member.Name}");
                    }

                    break;
                case JsonValueKind.Array when value.EnumerateArray().Any(i => i.ValueKind == JsonValueKind.Object):
                    foreach (var item in value.EnumerateArray())
                    {
                        Walk(item, path + "[]");
                    }

                    break;
                default:
                    if (!found.Contains(path))
                    {
                        found.Add(path);
                    }

                    break;
            }
        }

        foreach (var member in resource.EnumerateObject().Where(m => !Generated.Contains(m.Name)))
        {
            Walk(member.Value, member.Name);
        }

        return found;
    }

    private static bool IsDefault(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined or JsonValueKind.False => true,
        JsonValueKind.String => value.GetString()!.Length == 0,
        JsonValueKind.Number => value.TryGetDouble(out var d) && d == 0,
        JsonValueKind.Array => value.EnumerateArray().All(IsDefault),
        JsonValueKind.Object => value.EnumerateObject().All(m => IsDefault(m.Value)),
        _ => false,
    };
}
