using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WinEksPatch.Simulator.Kubernetes;

/// <summary>A patch that cannot be applied: 400 BadRequest, 415 UnsupportedMediaType or 422 Invalid.</summary>
public sealed class PatchException(int code, string reason, string message) : Exception(message)
{
    public int Code { get; } = code;
    public string Reason { get; } = reason;
}

/// <summary>
/// The three patch types of the Kubernetes API on a JSON document: JSON merge patch (RFC 7386), strategic merge
/// patch (a merge patch with directives; the fields the simulator models — labels, annotations, unschedulable,
/// taints, replicas — have no merge keys, so lists are replaced as in a merge patch) and JSON patch (RFC 6902).
/// </summary>
public static class JsonPatches
{
    public const string MergePatch = "application/merge-patch+json";
    public const string StrategicMergePatch = "application/strategic-merge-patch+json";
    public const string JsonPatch = "application/json-patch+json";
    public const string ApplyPatch = "application/apply-patch+yaml";

    /// <summary>Applies <paramref name="body"/> as the patch type named by <paramref name="contentType"/> and returns the patched document.</summary>
    public static JsonNode Apply(JsonNode document, string? contentType, string body)
    {
        ArgumentNullException.ThrowIfNull(document);
        string type = (contentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        if (type is not (MergePatch or StrategicMergePatch or JsonPatch))
        {
            throw new PatchException(415, "UnsupportedMediaType",
                $"the body of the request was in an unknown format - accepted media types include: {JsonPatch}, {MergePatch}, {StrategicMergePatch}");
        }

        JsonNode? patch;
        try
        {
            patch = JsonNode.Parse(body);
        }
        catch (JsonException e)
        {
            throw new PatchException(400, "BadRequest", "error decoding patch: " + e.Message);
        }

        if (type == JsonPatch)
        {
            if (patch is not JsonArray ops)
            {
                throw new PatchException(400, "BadRequest", "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
            }

            return ApplyJsonPatch(document, ops);
        }

        if (patch is not JsonObject)
        {
            throw new PatchException(400, "BadRequest", "error decoding patch: the patch is not a JSON object");
        }

        return Merge(document, patch, strategic: type == StrategicMergePatch)!;
    }

    private static JsonNode? Merge(JsonNode? target, JsonNode? patch, bool strategic)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        JsonObject result = target is JsonObject o ? (JsonObject)o.DeepClone() : [];
        foreach ((string key, JsonNode? value) in patchObject)
        {
            if (strategic && key.StartsWith('$'))
            {
                continue; // $setElementOrder, $retainKeys, $patch: ordering and merge-key directives
            }

            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                JsonNode? merged = Merge(result[key], value, strategic);
                result.Remove(key);
                result[key] = merged;
            }
        }

        return result;
    }

    private static JsonNode ApplyJsonPatch(JsonNode document, JsonArray operations)
    {
        JsonNode root = document.DeepClone();
        foreach (JsonNode? operation in operations)
        {
            if (operation is not JsonObject op || op["op"]?.GetValue<string>() is not string name || op["path"]?.GetValue<string>() is not string path)
            {
                throw new PatchException(400, "BadRequest", "the patch has an operation without op or path");
            }

            switch (name)
            {
                case "add":
                    root = Set(root, path, op["value"]?.DeepClone(), insert: true);
                    break;
                case "replace":
                    _ = Get(root, path);
                    root = Set(root, path, op["value"]?.DeepClone(), insert: false);
                    break;
                case "remove":
                    root = Remove(root, path);
                    break;
                case "test":
                    if (!JsonNode.DeepEquals(Get(root, path), op["value"]))
                    {
                        throw new PatchException(422, "Invalid", $"testing value {path} failed");
                    }

                    break;
                case "copy":
                case "move":
                    string from = op["from"]?.GetValue<string>() ?? throw new PatchException(400, "BadRequest", $"{name} without from");
                    JsonNode? value = Get(root, from)?.DeepClone();
                    if (name == "move")
                    {
                        root = Remove(root, from);
                    }

                    root = Set(root, path, value, insert: true);
                    break;
                default:
                    throw new PatchException(400, "BadRequest", $"Unexpected kind: {name}");
            }
        }

        return root;
    }

    private static List<string> Pointer(string path)
    {
        if (path.Length == 0)
        {
            return [];
        }

        if (path[0] != '/')
        {
            throw new PatchException(400, "BadRequest", $"JSON pointer must start with '/': {path}");
        }

        return [.. path[1..].Split('/').Select(p => p.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal))];
    }

    private static JsonNode? Get(JsonNode root, string path)
    {
        JsonNode? node = root;
        foreach (string token in Pointer(path))
        {
            node = node switch
            {
                JsonObject o when o.ContainsKey(token) => o[token],
                JsonArray a when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < a.Count => a[i],
                _ => throw new PatchException(422, "Invalid", $"the server rejected our request due to an error in our request: path {path} does not exist"),
            };
        }

        return node;
    }

    private static (JsonNode Parent, string Last) Parent(JsonNode root, string path)
    {
        List<string> tokens = Pointer(path);
        if (tokens.Count == 0)
        {
            throw new PatchException(422, "Invalid", "cannot patch the document root");
        }

        string parentPath = string.Concat(tokens.Take(tokens.Count - 1).Select(t => "/" + t.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)));
        JsonNode parent = Get(root, parentPath) ?? throw new PatchException(422, "Invalid", $"path {path}: parent is null");
        return (parent, tokens[^1]);
    }

    private static JsonNode Set(JsonNode root, string path, JsonNode? value, bool insert)
    {
        if (path.Length == 0)
        {
            return value ?? throw new PatchException(422, "Invalid", "cannot replace the document with null");
        }

        (JsonNode parent, string last) = Parent(root, path);
        switch (parent)
        {
            case JsonObject o:
                o.Remove(last);
                o[last] = value;
                break;
            case JsonArray a when last == "-" && insert:
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i <= a.Count:
                if (insert)
                {
                    a.Insert(i, value);
                }
                else if (i < a.Count)
                {
                    a[i] = value;
                }
                else
                {
                    throw new PatchException(422, "Invalid", $"path {path} does not exist");
                }

                break;
            default:
                throw new PatchException(422, "Invalid", $"path {path} does not exist");
        }

        return root;
    }

    private static JsonNode Remove(JsonNode root, string path)
    {
        (JsonNode parent, string last) = Parent(root, path);
        bool removed = parent switch
        {
            JsonObject o => o.Remove(last),
            JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < a.Count => RemoveAt(a, i),
            _ => false,
        };
        return removed ? root : throw new PatchException(422, "Invalid", $"the server rejected our request due to an error in our request: path {path} does not exist");
    }

    private static bool RemoveAt(JsonArray array, int index)
    {
        array.RemoveAt(index);
        return true;
    }
}
