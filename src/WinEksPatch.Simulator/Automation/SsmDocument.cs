using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Serialization;

namespace WinEksPatch.Simulator.Automation;

/// <summary>A parameter an Automation document declares.</summary>
public sealed record DocumentParameter(string Name, string Type, string? Description, JsonNode? Default, IReadOnlyList<string> AllowedValues, string? AllowedPattern);

/// <summary>
/// An SSM document of one account and region (CreateDocument): its content as written (YAML or JSON) and parsed into one
/// JSON tree, with YAML scalars kept as strings (the runner reads "true" and "60" where the schema wants a Boolean or a
/// number, as SSM does). Attachments are local files standing in for the S3 objects a real CreateDocument names.
/// </summary>
public sealed class SsmDocument
{
    public static readonly string[] Types = ["Automation", "Command"];

    /// <summary>The actions the simulator runs; a document with another action is refused at creation.</summary>
    public static readonly string[] Actions = ["aws:branch", "aws:sleep", "aws:approve", "aws:executeScript"];

    public required string Name { get; init; }
    public required string DocumentType { get; init; }
    public required string DocumentFormat { get; init; }
    public required string Content { get; init; }
    public required JsonObject Root { get; init; }
    public required string Owner { get; init; }
    public DateTimeOffset CreatedDate { get; init; }
    public string DocumentVersion { get; init; } = "1";
    public string? VersionName { get; init; }

    /// <summary>Attachment name → local file (the document's <c>files</c> section names them).</summary>
    public Dictionary<string, string> Attachments { get; init; } = new(StringComparer.Ordinal);

    public string Hash => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Content))).ToLowerInvariant();

    public string SchemaVersion => Text(Root["schemaVersion"]) ?? "";

    public string? Description => Text(Root["description"]);

    public JsonArray Steps => Root["mainSteps"] as JsonArray ?? [];

    public IReadOnlyList<DocumentParameter> Parameters => [.. (Root["parameters"] as JsonObject ?? []).Select(p =>
    {
        var spec = p.Value as JsonObject ?? [];
        return new DocumentParameter(p.Key, Text(spec["type"]) ?? "String", Text(spec["description"]), spec["default"]?.DeepClone(),
            [.. (spec["allowedValues"] as JsonArray ?? []).Select(Text).OfType<string>()], Text(spec["allowedPattern"]));
    })];

    /// <summary>Parses and checks a document's content; the message of InvalidDocumentContent when it is not one the
    /// simulator can run.</summary>
    public static (JsonObject? Root, string? Problem) Parse(string content, string format, string documentType)
    {
        JsonNode? root;
        try
        {
            root = format == "JSON" ? JsonNode.Parse(content) : FromYaml(content);
        }
        catch (Exception e) when (e is JsonException or YamlDotNet.Core.YamlException)
        {
            return (null, $"The content of the document is not valid {format}: {e.Message}");
        }

        if (root is not JsonObject document)
        {
            return (null, "The document content must be an object.");
        }

        if (documentType != "Automation")
        {
            return (document, null);
        }

        if (Text(document["schemaVersion"]) != "0.3")
        {
            return (null, "An Automation document must have schemaVersion 0.3.");
        }

        if (document["mainSteps"] is not JsonArray { Count: > 0 } steps)
        {
            return (null, "An Automation document must have at least one step in mainSteps.");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonObject step in steps.OfType<JsonObject>())
        {
            string? name = Text(step["name"]);
            string? action = Text(step["action"]);
            if (string.IsNullOrEmpty(name) || !names.Add(name))
            {
                return (null, $"Step names must be present and unique: '{name}'.");
            }

            if (action is null || !Actions.Contains(action))
            {
                return (null, $"Step {name}: the action '{action}' is not one the simulator runs ({string.Join(", ", Actions)}).");
            }
        }

        foreach (JsonObject step in steps.OfType<JsonObject>())
        {
            foreach (string target in Targets(step))
            {
                if (!names.Contains(target))
                {
                    return (null, $"Step {Text(step["name"])} goes to '{target}', which is not a step of the document.");
                }
            }
        }

        return (document, null);
    }

    /// <summary>Every step a step may go to next (nextStep, onFailure step:..., branch choices and default).</summary>
    private static IEnumerable<string> Targets(JsonObject step)
    {
        if (Text(step["nextStep"]) is { } next)
        {
            yield return next;
        }

        if (Text(step["onFailure"]) is { } failure && failure.StartsWith("step:", StringComparison.Ordinal))
        {
            yield return failure[5..];
        }

        if (Text(step["action"]) == "aws:branch" && step["inputs"] is JsonObject inputs)
        {
            if (Text(inputs["Default"]) is { } fallback)
            {
                yield return fallback;
            }

            foreach (JsonObject choice in (inputs["Choices"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (Text(choice["NextStep"]) is { } target)
                {
                    yield return target;
                }
            }
        }
    }

    /// <summary>A scalar's text, whatever its JSON type; null for a missing value, an object or a list.</summary>
    public static string? Text(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue(out string? s) => s,
        JsonValue v when v.TryGetValue(out bool b) => b ? "true" : "false",
        JsonValue v => v.ToJsonString(),
        _ => null,
    };

    /// <summary>YAML into a JSON tree: mappings to objects, sequences to arrays, scalars to strings.</summary>
    private static JsonNode? FromYaml(string yaml)
    {
        object? tree = new DeserializerBuilder().Build().Deserialize(new StringReader(yaml));
        return ToJson(tree);
    }

    private static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        IDictionary<object, object> map => new JsonObject(map.Select(p => KeyValuePair.Create(Convert.ToString(p.Key, System.Globalization.CultureInfo.InvariantCulture) ?? "", ToJson(p.Value)))),
        IList<object> list => new JsonArray([.. list.Select(ToJson)]),
        _ => JsonValue.Create(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)),
    };
}
