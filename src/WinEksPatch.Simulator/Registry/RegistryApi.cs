using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using WinEksPatch.Simulator.Auth.Iam;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Registry;

/// <summary>
/// The OCI distribution API of every registry in the catalogue, on the AWS port under
/// /registry/&lt;registry host&gt;: GET /v2/, GET|HEAD /v2/&lt;name&gt;/manifests/&lt;tag|digest&gt;,
/// GET|HEAD /v2/&lt;name&gt;/blobs/&lt;digest&gt; (Range supported), GET /v2/&lt;name&gt;/tags/list, and for bearer-auth
/// registries GET /token?service=&amp;scope=. Errors use the distribution spec's {"errors":[{code,message,detail}]}.
/// A client maps a reference's registry host to &lt;endpoint&gt;/registry/&lt;host&gt; (the "registries" map of the
/// simulator's JSON line and /_sim/info).
/// </summary>
public sealed class RegistryApi(SimWorld world, ILogger logger, IamAuthorizer? authorizer = null)
{
    public const string Prefix = "/registry";

    private const int ChunkSize = 64 * 1024;

    /// <summary>The base URL of each registry for a simulator whose AWS endpoint is <paramref name="awsEndpoint"/>.</summary>
    public static IReadOnlyDictionary<string, string> RegistryUrls(SimWorld world, string awsEndpoint)
    {
        ArgumentNullException.ThrowIfNull(world);
        lock (world.Gate)
        {
            return world.ContainerRegistries.Keys.Order(StringComparer.Ordinal).ToDictionary(h => h, h => $"{awsEndpoint.TrimEnd('/')}{Prefix}/{h}", StringComparer.Ordinal);
        }
    }

    public async Task HandleAsync(HttpContext http)
    {
        http.Response.Headers["Docker-Distribution-API-Version"] = "registry/2.0";
        string path = http.Request.Path.Value ?? "";
        string[] parts = path[Prefix.Length..].TrimStart('/').Split('/', 2);
        ContainerRegistry? registry;
        lock (world.Gate)
        {
            registry = world.ContainerRegistries.GetValueOrDefault(parts[0]);
        }

        if (registry is null)
        {
            await WriteError(http, 404, "NAME_UNKNOWN", $"no registry '{parts[0]}' in the simulator's catalogue").ConfigureAwait(false);
            return;
        }

        string rest = parts.Length > 1 ? "/" + parts[1] : "/";
        string baseUrl = $"{http.Request.Scheme}://{http.Request.Host}{Prefix}/{registry.Host}";
        string method = http.Request.Method;
        bool head = method == HttpMethods.Head;
        if (method != HttpMethods.Get && !head)
        {
            await WriteError(http, 405, "UNSUPPORTED", "the simulator's registries are read-only").ConfigureAwait(false);
            return;
        }

        // "a/b/manifests/ref", "a/b/blobs/digest" or "a/b/tags/list" under /v2/; name is null for any other route.
        (string? name, string kind, string? reference) = rest.StartsWith("/v2/", StringComparison.Ordinal) ? SplitRoute(rest["/v2/".Length..]) : (null, "", null);
        if (await InjectedFault(http, registry, baseUrl, rest == "/token" ? "token" : name is null ? "v2" : kind, name).ConfigureAwait(false))
        {
            return;
        }

        if (rest == "/token")
        {
            await Token(http, registry).ConfigureAwait(false);
            return;
        }

        if (rest is "/v2" or "/v2/")
        {
            if (await Authorize(http, registry, baseUrl, null).ConfigureAwait(false))
            {
                await WriteJson(http, 200, new JsonObject()).ConfigureAwait(false);
            }

            return;
        }

        if (name is null)
        {
            await WriteError(http, 404, "UNSUPPORTED", $"no registry route {method} {rest}").ConfigureAwait(false);
            return;
        }

        if (!await Authorize(http, registry, baseUrl, name).ConfigureAwait(false))
        {
            return;
        }

        // ECR authorizes each pull against the identity that got the token (under --iam-policy): manifests need
        // ecr:BatchGetImage, layers ecr:GetDownloadUrlForLayer, tag lists ecr:ListImages, on the repository's ARN.
        if (registry.Auth == RegistryAuth.Ecr && authorizer is not null
            && authorizer.Refusal(kind switch { "manifests" => "ecr:BatchGetImage", "blobs" => "ecr:GetDownloadUrlForLayer", _ => "ecr:ListImages" },
                $"arn:aws:ecr:{registry.Host.Split('.')[3]}:{registry.EcrAccountId}:repository/{name}", registry.Host.Split('.')[3], http.Request.IsHttps,
                world.Clock.GetUtcNow()) is { } refusal)
        {
            await WriteError(http, 403, "DENIED", refusal).ConfigureAwait(false);
            return;
        }

        ContainerRepository? repository;
        lock (world.Gate)
        {
            repository = registry.Repositories.GetValueOrDefault(name);
        }

        if (repository is null)
        {
            await WriteError(http, 404, "NAME_UNKNOWN", "repository name not known to registry", new JsonObject { ["name"] = name }).ConfigureAwait(false);
            return;
        }

        switch (kind)
        {
            case "manifests":
                await Manifest(http, repository, reference!, head).ConfigureAwait(false);
                break;
            case "blobs":
                await Blob(http, repository, reference!, head).ConfigureAwait(false);
                break;
            default:
                await TagsList(http, repository).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Splits "a/b/manifests/ref", "a/b/blobs/digest" or "a/b/tags/list" (names contain slashes).</summary>
    private static (string? Name, string Kind, string? Reference) SplitRoute(string route)
    {
        if (route.EndsWith("/tags/list", StringComparison.Ordinal))
        {
            return (route[..^"/tags/list".Length], "tags", null);
        }

        foreach (string kind in new[] { "manifests", "blobs" })
        {
            int at = route.LastIndexOf($"/{kind}/", StringComparison.Ordinal);
            if (at > 0)
            {
                string reference = route[(at + kind.Length + 2)..];
                return reference.Length == 0 || reference.Contains('/', StringComparison.Ordinal) ? (null, "", null) : (route[..at], kind, reference);
            }
        }

        return (null, "", null);
    }

    /// <summary>Applies the fault rules of service "registry" (operation v2, token, manifests, blobs or tags; resource the
    /// registry host, the repository or host/repository). A 401 comes with the registry's own challenge, as a registry that
    /// refuses the credentials it was given answers. Returns whether the request was answered.</summary>
    private async Task<bool> InjectedFault(HttpContext http, ContainerRegistry registry, string baseUrl, string operation, string? name)
    {
        IEnumerable<string> Resources() => name is null ? [registry.Host] : [registry.Host, name, $"{registry.Host}/{name}"];
        if (world.ApiFaults.Match(Faults.ApiFaults.RegistryService, operation, Resources) is not Faults.FaultDecision fault)
        {
            return false;
        }

        await Faults.FaultInjection.DelayAsync(world, fault, http.RequestAborted).ConfigureAwait(false);
        if (fault.Status is not int status)
        {
            return false;
        }

        if (status == 401)
        {
            http.Response.Headers.WWWAuthenticate = registry.Auth == RegistryAuth.Ecr
                ? $"Basic realm=\"https://{registry.Host}/\",service=\"ecr.amazonaws.com\""
                : $"Bearer realm=\"{baseUrl}/token\",service=\"{registry.Host}\"";
        }

        await WriteError(http, status, fault.Code!, fault.Message!).ConfigureAwait(false);
        return true;
    }

    // ---- auth --------------------------------------------------------------------------------

    private async Task<bool> Authorize(HttpContext http, ContainerRegistry registry, string baseUrl, string? repository)
    {
        string? header = http.Request.Headers.Authorization.FirstOrDefault();
        DateTimeOffset now = world.Clock.GetUtcNow();
        switch (registry.Auth)
        {
            case RegistryAuth.Bearer:
                if (header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                    && world.RegistryTokens.CheckBearer(header["Bearer ".Length..].Trim(), registry.Host, repository, now))
                {
                    return true;
                }

                string scope = repository is null ? "" : $",scope=\"repository:{repository}:pull\"";
                string error = header is null ? "" : repository is null ? ",error=\"invalid_token\"" : ",error=\"insufficient_scope\"";
                http.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{baseUrl}/token\",service=\"{registry.Host}\"{scope}{error}";
                await WriteError(http, 401, "UNAUTHORIZED", "authentication required",
                    repository is null ? null : new JsonArray(new JsonObject { ["Type"] = "repository", ["Name"] = repository, ["Action"] = "pull" })).ConfigureAwait(false);
                return false;

            case RegistryAuth.Ecr:
                if (header is not null && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) && DecodeBasic(header["Basic ".Length..]) is ("AWS", string password)
                    && world.RegistryTokens.CheckEcrPassword(password, registry.EcrAccountId!, now))
                {
                    return true;
                }

                // ECR answers like this: a Basic challenge naming the registry and the ecr service.
                http.Response.Headers.WWWAuthenticate = $"Basic realm=\"https://{registry.Host}/\",service=\"ecr.amazonaws.com\"";
                await WriteError(http, 401, "DENIED", header is null ? "Not Authorized" : "Your authorization token has expired or is invalid. Reauthenticate and try again.").ConfigureAwait(false);
                return false;

            default:
                return true;
        }
    }

    private static (string User, string Password)? DecodeBasic(string value)
    {
        try
        {
            string text = Encoding.UTF8.GetString(Convert.FromBase64String(value.Trim()));
            int colon = text.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? null : (text[..colon], text[(colon + 1)..]);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private async Task Token(HttpContext http, ContainerRegistry registry)
    {
        if (registry.Auth != RegistryAuth.Bearer)
        {
            await WriteError(http, 404, "UNSUPPORTED", $"{registry.Host} does not issue bearer tokens").ConfigureAwait(false);
            return;
        }

        string? service = http.Request.Query["service"].FirstOrDefault();
        if (service is not null && service != registry.Host)
        {
            await WriteJson(http, 400, new JsonObject { ["details"] = $"unknown service '{service}'" }).ConfigureAwait(false);
            return;
        }

        // scope=repository:<name>:pull[,push] (possibly several scope parameters); only pull is granted.
        var repositories = new List<string>();
        foreach (string? scope in http.Request.Query["scope"])
        {
            string[] s = (scope ?? "").Split(':');
            if (s.Length == 3 && s[0] == "repository" && s[2].Split(',').Contains("pull"))
            {
                repositories.Add(s[1]);
            }
        }

        DateTimeOffset now = world.Clock.GetUtcNow();
        string token = world.RegistryTokens.IssueBearer(registry.Host, repositories, now);
        await WriteJson(http, 200, new JsonObject
        {
            ["token"] = token,
            ["access_token"] = token,
            ["expires_in"] = (int)RegistryTokens.BearerLifetime.TotalSeconds,
            ["issued_at"] = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        }).ConfigureAwait(false);
    }

    // ---- content -----------------------------------------------------------------------------

    private async Task Manifest(HttpContext http, ContainerRepository repository, string reference, bool head)
    {
        byte[]? bytes = null;
        string? mediaType = null;
        string? digest = null;
        lock (world.Gate)
        {
            digest = reference.StartsWith("sha256:", StringComparison.Ordinal) ? reference : repository.Tags.GetValueOrDefault(reference);
            if (digest is not null && repository.Indexes.TryGetValue(digest, out ImageIndex? index))
            {
                (bytes, mediaType) = (index.Bytes, index.MediaType);
            }
            else if (digest is not null && repository.Manifests.TryGetValue(digest, out PlatformImage? image))
            {
                (bytes, mediaType) = (image.ManifestBytes, image.MediaType);
            }
        }

        if (bytes is null)
        {
            await WriteError(http, 404, "MANIFEST_UNKNOWN", "manifest unknown", new JsonObject { ["Tag"] = reference }).ConfigureAwait(false);
            return;
        }

        http.Response.StatusCode = 200;
        http.Response.ContentType = mediaType;
        http.Response.ContentLength = bytes.Length;
        http.Response.Headers["Docker-Content-Digest"] = digest;
        http.Response.Headers.ETag = $"\"{digest}\"";
        if (!head)
        {
            await http.Response.Body.WriteAsync(bytes, http.RequestAborted).ConfigureAwait(false);
        }
    }

    private async Task Blob(HttpContext http, ContainerRepository repository, string digest, bool head)
    {
        byte[]? config;
        OciLayer? layer;
        lock (world.Gate)
        {
            config = repository.Configs.GetValueOrDefault(digest);
            layer = repository.Layers.GetValueOrDefault(digest);
        }

        if (config is null && layer is null)
        {
            await WriteError(http, 404, "BLOB_UNKNOWN", "blob unknown to registry", new JsonObject { ["digest"] = digest }).ConfigureAwait(false);
            return;
        }

        long length = config?.LongLength ?? layer!.Size;
        http.Response.Headers["Docker-Content-Digest"] = digest;
        http.Response.Headers.AcceptRanges = "bytes";
        http.Response.Headers.ETag = $"\"{digest}\"";
        http.Response.ContentType = "application/octet-stream";

        long start = 0;
        long end = length - 1;
        string? range = http.Request.Headers.Range.FirstOrDefault();
        if (range is not null)
        {
            if (!TryParseRange(range, length, out start, out end))
            {
                http.Response.Headers.ContentRange = $"bytes */{length}";
                await WriteError(http, 416, "BLOB_UNKNOWN", $"range {range} not satisfiable for a blob of {length} bytes").ConfigureAwait(false);
                return;
            }

            http.Response.StatusCode = 206;
            http.Response.Headers.ContentRange = $"bytes {start}-{end}/{length}";
        }
        else
        {
            http.Response.StatusCode = 200;
        }

        http.Response.ContentLength = end - start + 1;
        if (head || length == 0)
        {
            return;
        }

        if (config is not null)
        {
            await http.Response.Body.WriteAsync(config.AsMemory((int)start, (int)(end - start + 1)), http.RequestAborted).ConfigureAwait(false);
            return;
        }

        await WriteGeneratedLayer(http, digest, layer!, start, end).ConfigureAwait(false);
    }

    /// <summary>
    /// The last four bytes of a gzip stream (RFC 1952 ISIZE): the uncompressed size modulo 2^32, little-endian. Real
    /// layers end with it and clients read it with one Range request to learn a layer's size on disk, so the generated
    /// bytes end with it too.
    /// </summary>
    internal static byte[] GzipTrailer(OciLayer layer)
    {
        var trailer = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(trailer, unchecked((uint)layer.UncompressedSize));
        return trailer;
    }

    /// <summary>
    /// Layer bytes are not stored: a 64 KiB pattern derived from the digest repeats over the declared size, so any
    /// range of a multi-gigabyte layer costs nothing to serve and is the same on every request. The last four bytes are
    /// the gzip ISIZE trailer (<see cref="GzipTrailer"/>).
    /// </summary>
    private async Task WriteGeneratedLayer(HttpContext http, string digest, OciLayer layer, long start, long end)
    {
        byte[] trailer = GzipTrailer(layer);
        long trailerStart = layer.Size - trailer.Length;
        byte[] pattern = new byte[ChunkSize];
        byte[] seed = SHA256.HashData(Encoding.UTF8.GetBytes(digest));
        for (int i = 0; i < pattern.Length; i += seed.Length)
        {
            seed = SHA256.HashData(seed);
            Buffer.BlockCopy(seed, 0, pattern, i, Math.Min(seed.Length, pattern.Length - i));
        }

        byte[] chunk = new byte[ChunkSize];
        long position = start;
        try
        {
            while (position <= end)
            {
                int offset = (int)(position % ChunkSize);
                int count = (int)Math.Min(ChunkSize - offset, end - position + 1);
                Buffer.BlockCopy(pattern, offset, chunk, 0, count);
                for (long p = Math.Max(position, trailerStart); p < position + count; p++)
                {
                    chunk[p - position] = trailer[p - trailerStart];
                }

                await http.Response.Body.WriteAsync(chunk.AsMemory(0, count), http.RequestAborted).ConfigureAwait(false);
                position += count;
            }
        }
        catch (OperationCanceledException)
        {
            logger.LogInformation("Registry: client stopped reading {Digest} at byte {Position}", digest, position);
        }
    }

    /// <summary>One range of "bytes=a-b", "bytes=a-" or "bytes=-n" (several ranges are not supported, as in registries).</summary>
    internal static bool TryParseRange(string header, long length, out long start, out long end)
    {
        start = 0;
        end = length - 1;
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase) || header.Contains(',', StringComparison.Ordinal))
        {
            return false;
        }

        string[] parts = header["bytes=".Length..].Split('-');
        if (parts.Length != 2)
        {
            return false;
        }

        bool hasStart = long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long a);
        bool hasEnd = long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long b);
        if (hasStart)
        {
            if (a >= length || (hasEnd && b < a) || (!hasEnd && parts[1].Length > 0))
            {
                return false;
            }

            start = a;
            end = hasEnd ? Math.Min(b, length - 1) : length - 1;
            return true;
        }

        if (hasEnd && parts[0].Length == 0 && b > 0)
        {
            start = Math.Max(0, length - b);
            return true;
        }

        return false;
    }

    private async Task TagsList(HttpContext http, ContainerRepository repository)
    {
        List<string> tags;
        lock (world.Gate)
        {
            tags = [.. repository.Tags.Keys.Order(StringComparer.Ordinal)];
        }

        await WriteJson(http, 200, new JsonObject { ["name"] = repository.Name, ["tags"] = new JsonArray([.. tags.Select(t => (JsonNode)t)]) }).ConfigureAwait(false);
    }

    private static Task WriteError(HttpContext http, int status, string code, string message, JsonNode? detail = null) =>
        WriteJson(http, status, new JsonObject
        {
            ["errors"] = new JsonArray(new JsonObject { ["code"] = code, ["message"] = message, ["detail"] = detail }),
        });

    private static async Task WriteJson(HttpContext http, int status, JsonNode body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        byte[] bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        http.Response.ContentLength = bytes.Length;
        if (http.Request.Method != HttpMethods.Head)
        {
            await http.Response.Body.WriteAsync(bytes).ConfigureAwait(false);
        }
    }
}
