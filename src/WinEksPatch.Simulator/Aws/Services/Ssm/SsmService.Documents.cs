using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using WinEksPatch.Simulator.Automation;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.Ssm;

/// <summary>
/// SSM documents of the caller's account and Region: CreateDocument (Automation documents are checked: schema 0.3, steps
/// of the actions the simulator runs, step references that exist), DescribeDocument, GetDocument and ListDocuments. The
/// simulator has no S3: an attachment's SourceUrl is a file:// URL of a local directory holding the files the document's
/// <c>files</c> section names.
/// </summary>
public sealed partial class SsmService
{
    private static Task CreateDocument(AwsCall call, JsonObject body)
    {
        string content = Required(JsonProtocol.String(body, "Content"), "content");
        string name = Required(JsonProtocol.String(body, "Name"), "name");
        string type = JsonProtocol.String(body, "DocumentType") ?? "Command";
        string format = JsonProtocol.String(body, "DocumentFormat") ?? "JSON";
        if (!DocumentName().IsMatch(name))
        {
            throw Validation($"Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.]{{3,128}}$");
        }

        if (name.StartsWith("aws", StringComparison.OrdinalIgnoreCase) || name.StartsWith("amazon", StringComparison.OrdinalIgnoreCase) || name.StartsWith("amzn", StringComparison.OrdinalIgnoreCase))
        {
            throw Validation($"Document name {name} starts with a reserved prefix (aws, amazon, amzn).");
        }

        if (!SsmDocument.Types.Contains(type) || format is not ("YAML" or "JSON"))
        {
            throw new AwsException(400, type is "Automation" or "Command" ? "InvalidDocumentSchemaVersion" : "InvalidDocumentType",
                $"The simulator keeps Automation and Command documents in YAML or JSON, not {type} in {format}.");
        }

        (JsonObject? root, string? problem) = SsmDocument.Parse(content, format, type);
        if (root is null)
        {
            throw new AwsException(400, "InvalidDocumentContent", problem!);
        }

        var attachments = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonObject source in (body["Attachments"] as JsonArray ?? []).OfType<JsonObject>())
        {
            string? url = (source["Values"] as JsonArray)?.Select(SsmDocument.Text).FirstOrDefault();
            if (JsonProtocol.String(source, "Key") != "SourceUrl" || url is null || !url.StartsWith("file://", StringComparison.Ordinal))
            {
                throw new AwsException(400, "InvalidDocumentContent",
                    "The simulator has no S3: name the attachments' directory with Key SourceUrl and a file:// URL.");
            }

            string directory = new Uri(url).LocalPath;
            foreach (string file in (root["files"] as JsonObject ?? []).Select(f => f.Key).Where(f => File.Exists(Path.Combine(directory, f))))
            {
                attachments[file] = Path.Combine(directory, file);
            }
        }

        SsmDocument document;
        lock (call.World.Gate)
        {
            if (call.World.Documents.ContainsKey(name))
            {
                throw new AwsException(400, "DocumentAlreadyExists", $"Document with same name {name} already exists");
            }

            document = new SsmDocument
            {
                Name = name,
                DocumentType = type,
                DocumentFormat = format,
                Content = content,
                Root = root,
                Owner = call.World.AccountId,
                CreatedDate = call.World.Scheduler.Now,
                VersionName = JsonProtocol.String(body, "VersionName"),
                Attachments = attachments,
            };
            call.World.Documents[name] = document;
        }

        return JsonProtocol.WriteAsync(call, new JsonObject { ["DocumentDescription"] = Describe(document) }, contentType: JsonProtocol.Json11ContentType);
    }

    private static Task DescribeDocument(AwsCall call, JsonObject body)
    {
        SsmDocument document = FindDocument(call, body);
        return JsonProtocol.WriteAsync(call, new JsonObject { ["Document"] = Describe(document) }, contentType: JsonProtocol.Json11ContentType);
    }

    private static Task GetDocument(AwsCall call, JsonObject body)
    {
        SsmDocument d = FindDocument(call, body);
        return JsonProtocol.WriteAsync(call, new JsonObject
        {
            ["Name"] = d.Name,
            ["CreatedDate"] = JsonProtocol.Time(d.CreatedDate),
            ["DocumentVersion"] = d.DocumentVersion,
            ["Status"] = "Active",
            ["Content"] = d.Content,
            ["DocumentType"] = d.DocumentType,
            ["DocumentFormat"] = d.DocumentFormat,
        }, contentType: JsonProtocol.Json11ContentType);
    }

    private static Task ListDocuments(AwsCall call, JsonObject body)
    {
        int maxResults = JsonProtocol.Int(body, "MaxResults") ?? 50;
        if (maxResults is < 1 or > 50)
        {
            throw Validation($"Value '{maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50");
        }

        if (!Paging.TryDecode(JsonProtocol.String(body, "NextToken"), out int offset))
        {
            throw new AwsException(400, "InvalidNextToken", "The specified token isn't valid.");
        }

        var filters = (body["Filters"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(f => (Key: JsonProtocol.String(f, "Key") ?? "", Values: JsonProtocol.StringList(f, "Values") ?? [])).ToList();
        bool Matches(SsmDocument d) => filters.All(f => f.Key switch
        {
            "Name" => f.Values.Contains(d.Name),
            "DocumentType" => f.Values.Contains(d.DocumentType),
            "Owner" => f.Values.Any(v => v is "Self" or "Private" || v == d.Owner),
            "SearchKeyword" => f.Values.Any(v => d.Name.Contains(v, StringComparison.OrdinalIgnoreCase)),
            _ => throw new AwsException(400, "InvalidFilterKey", $"The filter key {f.Key} is not valid."),
        });

        var page = new JsonArray();
        string? next;
        lock (call.World.Gate)
        {
            List<SsmDocument> matches = [.. call.World.Documents.Values.Where(Matches).OrderBy(d => d.Name, StringComparer.Ordinal)];
            (List<SsmDocument> items, next) = Paging.Page(matches, offset, maxResults);
            foreach (SsmDocument d in items)
            {
                page.Add(new JsonObject
                {
                    ["Name"] = d.Name,
                    ["CreatedDate"] = JsonProtocol.Time(d.CreatedDate),
                    ["Owner"] = d.Owner,
                    ["DocumentVersion"] = d.DocumentVersion,
                    ["DocumentType"] = d.DocumentType,
                    ["SchemaVersion"] = d.SchemaVersion,
                    ["DocumentFormat"] = d.DocumentFormat,
                    ["PlatformTypes"] = new JsonArray("Windows", "Linux", "MacOS"),
                });
            }
        }

        var result = new JsonObject { ["DocumentIdentifiers"] = page };
        if (next is not null)
        {
            result["NextToken"] = next;
        }

        return JsonProtocol.WriteAsync(call, result, contentType: JsonProtocol.Json11ContentType);
    }

    private static SsmDocument FindDocument(AwsCall call, JsonObject body)
    {
        string name = Required(JsonProtocol.String(body, "Name"), "name");
        string? version = JsonProtocol.String(body, "DocumentVersion");
        lock (call.World.Gate)
        {
            SsmDocument? document = call.World.Documents.GetValueOrDefault(name);
            if (document is null || (version is not null && version is not ("$LATEST" or "$DEFAULT") && version != document.DocumentVersion))
            {
                throw new AwsException(400, "InvalidDocument", document is null ? $"Document with name {name} does not exist." : $"Document {name} has no version {version}.");
            }

            return document;
        }
    }

    private static JsonObject Describe(SsmDocument d) => new()
    {
        ["Hash"] = d.Hash,
        ["HashType"] = "Sha256",
        ["Name"] = d.Name,
        ["Owner"] = d.Owner,
        ["CreatedDate"] = JsonProtocol.Time(d.CreatedDate),
        ["Status"] = "Active",
        ["DocumentVersion"] = d.DocumentVersion,
        ["Description"] = d.Description,
        ["Parameters"] = new JsonArray([.. d.Parameters.Select(p =>
        {
            var parameter = new JsonObject { ["Name"] = p.Name, ["Type"] = p.Type };
            if (p.Description is not null)
            {
                parameter["Description"] = p.Description;
            }

            if (p.Default is not null)
            {
                parameter["DefaultValue"] = p.Default is JsonValue v ? SsmDocument.Text(v) : p.Default.ToJsonString();
            }

            return (JsonNode)parameter;
        })]),
        ["PlatformTypes"] = new JsonArray("Windows", "Linux", "MacOS"),
        ["DocumentType"] = d.DocumentType,
        ["SchemaVersion"] = d.SchemaVersion,
        ["LatestVersion"] = d.DocumentVersion,
        ["DefaultVersion"] = d.DocumentVersion,
        ["DocumentFormat"] = d.DocumentFormat,
        ["AttachmentsInformation"] = new JsonArray([.. d.Attachments.Keys.Select(a => (JsonNode)new JsonObject { ["Name"] = a })]),
    };

    [GeneratedRegex(@"^[a-zA-Z0-9_\-.]{3,128}$")]
    private static partial Regex DocumentName();
}
