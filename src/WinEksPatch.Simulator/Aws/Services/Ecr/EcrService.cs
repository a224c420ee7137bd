using System.Text;
using System.Text.Json.Nodes;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.Registry;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.Ecr;

/// <summary>
/// ECR (JSON 1.1, X-Amz-Target AmazonEC2ContainerRegistry_V20150921.*) over the catalogue's ECR registries:
/// GetAuthorizationToken (the password opens the simulator's registry of that account), DescribeRepositories,
/// DescribeImages (imageSizeInBytes: the compressed size of the layers ECR stores, i.e. without foreign Windows
/// base layers) and BatchGetImage.
/// </summary>
public sealed class EcrService : AwsService
{
    private const string TargetPrefix = "AmazonEC2ContainerRegistry_V20150921.";

    public override string SigningName => "ecr";

    public override AwsProtocol Protocol => AwsProtocol.Json;

    public override Task HandleAsync(AwsCall call)
    {
        string operation = JsonProtocol.TargetOperation(call, TargetPrefix);
        JsonObject body = JsonProtocol.ParseBody(call);
        return operation switch
        {
            "GetAuthorizationToken" => GetAuthorizationToken(call),
            "DescribeRepositories" => DescribeRepositories(call, body),
            "DescribeImages" => DescribeImages(call, body),
            "BatchGetImage" => BatchGetImage(call, body),
            _ => throw new AwsException(400, "UnknownOperationException", ""),
        };
    }

    private static Task GetAuthorizationToken(AwsCall call)
    {
        DateTimeOffset expires = call.World.Clock.GetUtcNow() + RegistryTokens.EcrLifetime;
        string password = call.World.RegistryTokens.IssueEcrPassword(call.World.AccountId, expires);
        var data = new JsonObject
        {
            ["authorizationToken"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + password)),
            ["expiresAt"] = JsonProtocol.Time(expires),
            ["proxyEndpoint"] = $"https://{RegistryHost(call)}",
        };
        return Write(call, new JsonObject { ["authorizationData"] = new JsonArray(data) });
    }

    private static Task DescribeRepositories(AwsCall call, JsonObject body)
    {
        string registryId = RegistryId(call, body);
        List<string>? names = JsonProtocol.StringList(body, "repositoryNames");
        int maxResults = JsonProtocol.Int(body, "maxResults") ?? 100;
        string? nextToken = JsonProtocol.String(body, "nextToken");
        if (maxResults is < 1 or > 1000)
        {
            throw new AwsException(400, "InvalidParameterException", "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000'");
        }

        if (names is not null && (nextToken is not null || body.ContainsKey("maxResults")))
        {
            throw new AwsException(400, "InvalidParameterException", "Invalid parameter: nextToken and maxResults cannot be used together with repositoryNames.");
        }

        if (!Paging.TryDecode(nextToken, out int offset))
        {
            throw new AwsException(400, "InvalidParameterException", "Invalid parameter at 'nextToken': the token is not valid.");
        }

        var page = new JsonArray();
        string? next = null;
        lock (call.World.Gate)
        {
            Dictionary<string, ContainerRepository> repositories = Registry(call, registryId)?.Repositories ?? [];
            List<ContainerRepository> selected;
            if (names is not null)
            {
                selected = [];
                foreach (string name in names)
                {
                    selected.Add(repositories.GetValueOrDefault(name) ?? throw RepositoryNotFound(name, registryId));
                }
            }
            else
            {
                (selected, next) = Paging.Page(repositories.Values.OrderBy(r => r.Name, StringComparer.Ordinal).ToList(), offset, maxResults);
            }

            foreach (ContainerRepository r in selected)
            {
                page.Add(new JsonObject
                {
                    ["repositoryArn"] = $"arn:aws:ecr:{call.World.Region}:{registryId}:repository/{r.Name}",
                    ["registryId"] = registryId,
                    ["repositoryName"] = r.Name,
                    ["repositoryUri"] = r.FullName,
                    ["createdAt"] = JsonProtocol.Time(r.CreatedAt),
                    ["imageTagMutability"] = "MUTABLE",
                    ["imageScanningConfiguration"] = new JsonObject { ["scanOnPush"] = false },
                    ["encryptionConfiguration"] = new JsonObject { ["encryptionType"] = "AES256" },
                });
            }
        }

        var result = new JsonObject { ["repositories"] = page };
        if (next is not null)
        {
            result["nextToken"] = next;
        }

        return Write(call, result);
    }

    private static Task DescribeImages(AwsCall call, JsonObject body)
    {
        string registryId = RegistryId(call, body);
        string repositoryName = Required(body, "repositoryName");
        List<(string? Digest, string? Tag)>? imageIds = ImageIds(body);
        int maxResults = JsonProtocol.Int(body, "maxResults") ?? 100;
        string? nextToken = JsonProtocol.String(body, "nextToken");
        string tagStatus = (body["filter"] as JsonObject)?["tagStatus"]?.GetValue<string>() ?? "ANY";
        if (maxResults is < 1 or > 1000)
        {
            throw new AwsException(400, "InvalidParameterException", "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000'");
        }

        if (tagStatus is not ("ANY" or "TAGGED" or "UNTAGGED"))
        {
            throw new AwsException(400, "InvalidParameterException", $"Invalid parameter at 'filter.tagStatus': '{tagStatus}' is not one of TAGGED, UNTAGGED, ANY.");
        }

        if (!Paging.TryDecode(nextToken, out int offset))
        {
            throw new AwsException(400, "InvalidParameterException", "Invalid parameter at 'nextToken': the token is not valid.");
        }

        var page = new JsonArray();
        string? next = null;
        lock (call.World.Gate)
        {
            ContainerRepository repository = Registry(call, registryId)?.Repositories.GetValueOrDefault(repositoryName)
                ?? throw RepositoryNotFound(repositoryName, registryId);
            List<string> digests;
            if (imageIds is not null)
            {
                digests = [.. imageIds.Select(id => Find(repository, id) ?? throw ImageNotFound(id, repositoryName, registryId)).Distinct(StringComparer.Ordinal)];
            }
            else
            {
                List<string> all = [.. repository.PushedAt.OrderBy(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key)
                    .Where(d => tagStatus == "ANY" || (tagStatus == "TAGGED") == TagsOf(repository, d).Count > 0)];
                (digests, next) = Paging.Page(all, offset, maxResults);
            }

            foreach (string digest in digests)
            {
                page.Add(Detail(repository, registryId, digest));
            }
        }

        var result = new JsonObject { ["imageDetails"] = page };
        if (next is not null)
        {
            result["nextToken"] = next;
        }

        return Write(call, result);
    }

    private static Task BatchGetImage(AwsCall call, JsonObject body)
    {
        string registryId = RegistryId(call, body);
        string repositoryName = Required(body, "repositoryName");
        List<(string? Digest, string? Tag)> imageIds = ImageIds(body)
            ?? throw new AwsException(400, "InvalidParameterException", "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must not be null'");
        var images = new JsonArray();
        var failures = new JsonArray();
        lock (call.World.Gate)
        {
            ContainerRepository repository = Registry(call, registryId)?.Repositories.GetValueOrDefault(repositoryName)
                ?? throw RepositoryNotFound(repositoryName, registryId);
            foreach ((string? Digest, string? Tag) id in imageIds)
            {
                string? digest = Find(repository, id);
                if (digest is null)
                {
                    failures.Add(new JsonObject
                    {
                        ["imageId"] = ImageIdJson(id.Digest, id.Tag),
                        ["failureCode"] = id.Tag is not null && id.Digest is not null && repository.Tags.ContainsKey(id.Tag) ? "ImageTagDoesNotMatchDigest" : "ImageNotFound",
                        ["failureReason"] = "Requested image not found",
                    });
                    continue;
                }

                (byte[] bytes, string mediaType) = repository.Indexes.TryGetValue(digest, out ImageIndex? index)
                    ? (index.Bytes, index.MediaType)
                    : (repository.Manifests[digest].ManifestBytes, repository.Manifests[digest].MediaType);
                images.Add(new JsonObject
                {
                    ["registryId"] = registryId,
                    ["repositoryName"] = repositoryName,
                    ["imageId"] = ImageIdJson(digest, id.Tag),
                    ["imageManifest"] = Encoding.UTF8.GetString(bytes),
                    ["imageManifestMediaType"] = mediaType,
                });
            }
        }

        return Write(call, new JsonObject { ["images"] = images, ["failures"] = failures });
    }

    // ---- helpers -----------------------------------------------------------------------------

    private static JsonObject Detail(ContainerRepository repository, string registryId, string digest)
    {
        List<string> tags = TagsOf(repository, digest);
        var detail = new JsonObject
        {
            ["registryId"] = registryId,
            ["repositoryName"] = repository.Name,
            ["imageDigest"] = digest,
        };
        if (tags.Count > 0)
        {
            detail["imageTags"] = new JsonArray([.. tags.Select(t => (JsonNode)t)]);
        }

        if (repository.Indexes.TryGetValue(digest, out ImageIndex? index))
        {
            // A manifest list's size: the distinct layers its images store here.
            detail["imageSizeInBytes"] = index.Manifests.SelectMany(m => m.Layers).Where(l => !l.Foreign).DistinctBy(l => l.Digest).Sum(l => l.Size);
            detail["imageManifestMediaType"] = index.MediaType;
        }
        else
        {
            PlatformImage image = repository.Manifests[digest];
            detail["imageSizeInBytes"] = image.DistributableSize;
            detail["imageManifestMediaType"] = image.MediaType;
            detail["artifactMediaType"] = image.MediaType == OciMediaTypes.OciManifest ? OciMediaTypes.OciConfig : OciMediaTypes.DockerConfig;
        }

        detail["imagePushedAt"] = JsonProtocol.Time(repository.PushedAt[digest]);
        return detail;
    }

    private static List<string> TagsOf(ContainerRepository repository, string digest) =>
        [.. repository.Tags.Where(t => t.Value == digest).Select(t => t.Key).Order(StringComparer.Ordinal)];

    private static string? Find(ContainerRepository repository, (string? Digest, string? Tag) id)
    {
        if (id.Digest is not null)
        {
            bool known = repository.Indexes.ContainsKey(id.Digest) || repository.Manifests.ContainsKey(id.Digest);
            return known && (id.Tag is null || repository.Tags.GetValueOrDefault(id.Tag) == id.Digest) ? id.Digest : null;
        }

        return id.Tag is null ? null : repository.Tags.GetValueOrDefault(id.Tag);
    }

    private static List<(string? Digest, string? Tag)>? ImageIds(JsonObject body)
    {
        if (!body.TryGetPropertyValue("imageIds", out JsonNode? node) || node is null)
        {
            return null;
        }

        if (node is not JsonArray array)
        {
            throw new AwsException(400, "SerializationException", "Expected a list for member imageIds.");
        }

        return [.. array.Select(n => n is JsonObject o
            ? (JsonProtocol.String(o, "imageDigest"), JsonProtocol.String(o, "imageTag")) is var id && (id.Item1 is not null || id.Item2 is not null)
                ? id
                : throw new AwsException(400, "InvalidParameterException", "Invalid parameter at 'imageIds': an image id needs an imageDigest or an imageTag.")
            : throw new AwsException(400, "SerializationException", "Expected structures in member imageIds."))];
    }

    private static JsonObject ImageIdJson(string? digest, string? tag)
    {
        var o = new JsonObject();
        if (digest is not null)
        {
            o["imageDigest"] = digest;
        }

        if (tag is not null)
        {
            o["imageTag"] = tag;
        }

        return o;
    }

    private static string RegistryHost(AwsCall call) => $"{call.World.AccountId}.dkr.ecr.{call.World.Region}.amazonaws.com";

    private static ContainerRegistry? Registry(AwsCall call, string registryId) =>
        call.World.ContainerRegistries.GetValueOrDefault($"{registryId}.dkr.ecr.{call.World.Region}.amazonaws.com");

    private static string RegistryId(AwsCall call, JsonObject body)
    {
        string? id = JsonProtocol.String(body, "registryId");
        if (id is not null && (id.Length != 12 || !id.All(char.IsAsciiDigit)))
        {
            throw new AwsException(400, "InvalidParameterException", $"Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{{12}}''");
        }

        return id ?? call.World.AccountId;
    }

    private static string Required(JsonObject body, string member) =>
        JsonProtocol.String(body, member) is { Length: > 0 } value ? value
            : throw new AwsException(400, "InvalidParameterException", $"Invalid parameter at '{member}' failed to satisfy constraint: 'Member must not be null'");

    private static AwsException RepositoryNotFound(string name, string registryId) =>
        new(400, "RepositoryNotFoundException", $"The repository with name '{name}' does not exist in the registry with id '{registryId}'");

    private static AwsException ImageNotFound((string? Digest, string? Tag) id, string repository, string registryId) =>
        new(400, "ImageNotFoundException", $"The image with imageId {{imageDigest:'{id.Digest ?? "null"}', imageTag:'{id.Tag ?? "null"}'}} does not exist within the repository with name '{repository}' in the registry with id '{registryId}'");

    private static Task Write(AwsCall call, JsonObject body) => JsonProtocol.WriteAsync(call, body, contentType: JsonProtocol.Json11ContentType);
}
