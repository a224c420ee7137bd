using System.Text.Json.Nodes;

namespace WinEksPatch.Simulator.Aws.Services.ImageBuilder;

/// <summary>The <c>filters</c> of Image Builder's list operations: each operation takes the filters its API reference
/// lists ("Use the following filters to streamline results"), matched against the fields of the summaries it returns.
/// A resource matches when, for every filter, one of the filter's values equals the field (a list field: any of its
/// items); any other filter name is refused.</summary>
public sealed partial class ImageBuilderService
{
    /// <summary>Filter name → the summary field it reads, per list operation.</summary>
    private static readonly Dictionary<string, Dictionary<string, string>> ListFilters = new(StringComparer.Ordinal)
    {
        ["ListComponents"] = Fields("description", "name", "platform", ("supportedOsVersion", "supportedOsVersions"), "type", "version"),
        ["ListImageRecipes"] = Fields("name", "parentImage", "platform"),
        ["ListInfrastructureConfigurations"] = Fields("name"),
        ["ListDistributionConfigurations"] = Fields("name"),
        ["ListImagePipelines"] = Fields("description", "distributionConfigurationArn", "imageRecipeArn", "infrastructureConfigurationArn", "name", "status"),
        ["ListImages"] = Fields("name", "osVersion", "platform", "type", "version"),
        ["ListImageBuildVersions"] = Fields("name", "osVersion", "platform", "type", "version"),
        ["ListImagePipelineImages"] = Fields("name", "version"),
    };

    private static Dictionary<string, string> Fields(params object[] names) => names.ToDictionary(
        n => n is (string filter, string _) ? filter : (string)n,
        n => n is (string _, string field) ? field : (string)n,
        StringComparer.Ordinal);

    /// <summary>The summaries of <paramref name="items"/> that pass the request's filters for <paramref name="operation"/>.</summary>
    private static List<JsonObject> Filtered(string operation, JsonObject body, IEnumerable<JsonObject> items)
    {
        if (body["filters"] is not JsonArray filters)
        {
            return [.. items];
        }

        Dictionary<string, string> known = ListFilters[operation];
        if (filters.Count is < 1 or > 10)
        {
            throw InvalidParameter("filters", "Member must have length less than or equal to 10 and greater than or equal to 1.");
        }

        var wanted = new List<(string Field, HashSet<string> Values)>();
        foreach (JsonNode? f in filters)
        {
            string? name = f?["name"]?.GetValue<string>();
            if (name is null || !known.TryGetValue(name, out string? field))
            {
                throw InvalidParameter("filters", $"'{name}' is not a filter of {operation}; its filters are {string.Join(", ", known.Keys)}.");
            }

            wanted.Add((field, [.. (f!["values"] as JsonArray ?? []).Select(v => v!.GetValue<string>())]));
        }

        return [.. items.Where(item => wanted.TrueForAll(w => item[w.Field] switch
        {
            JsonArray list => list.Any(v => v is JsonValue value && w.Values.Contains(value.ToString())),
            JsonValue value => w.Values.Contains(value.ToString()),
            _ => false,
        }))];
    }
}
