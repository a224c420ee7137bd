using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;

namespace WinEksPatch.Workflows.FleetPlan;

/// <summary>
/// A fleet plan as a file: JSON (.json) or YAML (.yaml, .yml), camelCase names either way, one schema. YAML is read into
/// the same JSON tree first (plain scalars typed as YAML 1.2's core schema does: true/false, null, numbers; quoted ones
/// stay strings), so both formats have one reader, System.Text.Json's, and its errors name the same paths. Unknown
/// names are refused (a misspelt "maxConcurency" must not silently mean 1), and the plan is validated
/// (<see cref="FleetPlanValidator"/>) before it is returned.
/// </summary>
public static partial class FleetPlanFile
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    /// <summary>Whether a path names a YAML file (by its extension); anything else is read as JSON.</summary>
    public static bool IsYaml(string path) =>
        path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads and validates a plan file; FleetPlanNotFound when it cannot be read, FleetPlanInvalid naming the
    /// field when it is not a plan.</summary>
    public static WinEksFleetPlan Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new WinEksPatchException(ErrorIds.FleetPlanNotFound, ErrorKind.ObjectNotFound, $"The fleet plan '{path}' cannot be read: {ex.Message}", path, ex);
        }

        return Parse(text, IsYaml(path), path);
    }

    /// <summary>Parses and validates a plan; <paramref name="source"/> names it in errors.</summary>
    public static WinEksFleetPlan Parse(string text, bool yaml, string source)
    {
        JsonNode? tree;
        try
        {
            tree = yaml ? FromYaml(text) : JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (Exception ex) when (ex is JsonException or YamlException)
        {
            throw Invalid(source, $"is not {(yaml ? "YAML" : "JSON")}: {ex.Message}", ex);
        }

        WinEksFleetPlan? plan;
        try
        {
            plan = tree?.Deserialize<WinEksFleetPlan>(Json);
        }
        catch (JsonException ex)
        {
            // System.Text.Json names the field ($.waves[0].maxConcurrency) and what it could not make of it.
            throw Invalid(source, $"{ex.Path?.TrimStart('$', '.') ?? "(top)"}: {Simplify(ex.Message)}", ex);
        }

        if (plan is null)
        {
            throw Invalid(source, "is empty.");
        }

        FleetPlanValidator.Validate(plan, source);
        return plan;
    }

    /// <summary>The plan as JSON or YAML text (camelCase; what <see cref="Parse"/> reads back).</summary>
    public static string Write(WinEksFleetPlan plan, bool yaml)
    {
        ArgumentNullException.ThrowIfNull(plan);
        JsonNode tree = JsonSerializer.SerializeToNode(plan, Json)!;
        if (!yaml)
        {
            return tree.ToJsonString(Json) + Environment.NewLine;
        }

        var serializer = new SerializerBuilder().WithQuotingNecessaryStrings().Build();
        return serializer.Serialize(ToPlain(tree));
    }

    private static WinEksPatchException Invalid(string source, string problem, Exception? inner = null) =>
        new(ErrorIds.FleetPlanInvalid, ErrorKind.InvalidData, $"The fleet plan {source} {(problem.StartsWith("is ", StringComparison.Ordinal) ? "" : "is not valid: ")}{problem}", source, inner);

    // "The JSON value could not be converted to System.Int32. Path: $.waves[0]... | LineNumber: ..." → the first sentence.
    private static string Simplify(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).Replace("System.Int32", "a whole number", StringComparison.Ordinal)
            .Replace("System.TimeSpan", "a time span (hh:mm:ss)", StringComparison.Ordinal).Replace("System.Boolean", "true or false", StringComparison.Ordinal);
    }

    private static JsonNode? FromYaml(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Count switch
        {
            0 => null,
            1 => FromYaml(stream.Documents[0].RootNode),
            _ => throw new YamlException("a plan is one YAML document, and this file has " + stream.Documents.Count.ToString(CultureInfo.InvariantCulture) + "."),
        };
    }

    private static JsonNode? FromYaml(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value ?? "", FromYaml(kv.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(FromYaml)]),
        YamlScalarNode scalar when scalar.Style is ScalarStyle.Plain => PlainScalar(scalar.Value ?? ""),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value ?? ""),
        _ => throw new YamlException(node.Start, node.End, "unexpected YAML node"),
    };

    /// <summary>A plain (unquoted) scalar typed as YAML 1.2's core schema does.</summary>
    private static JsonNode? PlainScalar(string value)
    {
        if (value is "" or "~" or "null" or "Null" or "NULL")
        {
            return null;
        }

        if (value is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
        {
            return JsonValue.Create(value.Equals("true", StringComparison.OrdinalIgnoreCase));
        }

        if (IntegerPattern().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer))
        {
            return JsonValue.Create(integer);
        }

        if (FloatPattern().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(value);
    }

    private static object? ToPlain(JsonNode? node) => node switch
    {
        JsonObject o => o.ToDictionary(kv => kv.Key, kv => ToPlain(kv.Value)),
        JsonArray a => a.Select(ToPlain).ToList(),
        JsonValue v when v.TryGetValue(out bool b) => b,
        JsonValue v when v.TryGetValue(out long l) => l,
        JsonValue v when v.TryGetValue(out double d) => d,
        JsonValue v => v.ToString(),
        _ => null,
    };

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
