using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using WinEksPatch.Errors;

namespace WinEksPatch.Registry;

/// <summary>
/// Reads images over the OCI distribution API: manifests (index or image), configs, and the size facts of layers,
/// with the registries' own authentication (anonymous bearer tokens from the <c>WWW-Authenticate</c> realm, Basic or
/// bearer with credentials for ECR and docker-config registries). Nothing is downloaded whole: sizes come from
/// descriptors, and a layer's uncompressed size from the gzip trailer (last 4 bytes) with one Range request.
/// </summary>
public sealed class RegistryClient(HttpClient http, RegistryCredentials credentials, IReadOnlyDictionary<string, string>? endpointOverrides = null)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Dictionary<string, AuthenticationHeaderValue> _tokens = new(StringComparer.Ordinal);

    /// <summary>Base URL of a registry: an override (the simulator's), Docker Hub's API host, else https://host. With
    /// overrides (a session pointed at the simulator) a registry it does not serve is unreachable: a rehearsal never
    /// reaches a real registry.</summary>
    public Uri BaseUri(string registry) =>
        endpointOverrides?.TryGetValue(registry, out var url) == true ? new Uri(url.TrimEnd('/') + "/")
        : endpointOverrides != null ? throw new WinEksPatchException(ErrorIds.RegistryUnreachable, ErrorKind.ConnectionError,
            $"The simulator this session is pointed at serves no registry '{registry}' (it serves {string.Join(", ", endpointOverrides.Keys.Order(StringComparer.Ordinal))}), " +
            "and a rehearsal does not reach real registries.", registry)
        : registry == ImageReference.DockerHub ? new Uri("https://registry-1.docker.io/")
        : new Uri($"https://{registry}/");

    public async Task<FetchedManifest> GetManifestAsync(ImageReference image, string? reference = null, CancellationToken cancellationToken = default)
    {
        var uri = new Uri(BaseUri(image.Registry), $"v2/{image.Repository}/manifests/{reference ?? image.ManifestReference}");
        using var response = await SendAsync(image, HttpMethod.Get, uri, request =>
        {
            foreach (var type in MediaTypes.ManifestAccept)
            {
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
            }
        }, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var document = JsonSerializer.Deserialize<OciManifestDocument>(body, Json)
            ?? throw new WinEksPatchException(ErrorIds.ImageManifestInvalid, ErrorKind.InvalidData, $"The registry returned an empty manifest for {image}.", image.ToString());
        var digest = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.First()
            : "sha256:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(body)).ToLowerInvariant();
        var mediaType = document.MediaType ?? response.Content.Headers.ContentType?.MediaType ?? "";
        return new FetchedManifest(document, digest, mediaType);
    }

    public async Task<OciImageConfig> GetConfigAsync(ImageReference image, OciDescriptor config, CancellationToken cancellationToken = default)
    {
        var uri = new Uri(BaseUri(image.Registry), $"v2/{image.Repository}/blobs/{config.Digest}");
        using var response = await SendAsync(image, HttpMethod.Get, uri, null, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return JsonSerializer.Deserialize<OciImageConfig>(body, Json)
            ?? throw new WinEksPatchException(ErrorIds.ImageManifestInvalid, ErrorKind.InvalidData, $"The config of {image} is empty.", image.ToString());
    }

    /// <summary>
    /// The uncompressed size of a gzip layer. gzip (RFC 1952) ends every member with ISIZE: the uncompressed length
    /// modulo 2^32, little-endian. One Range request reads it. Layers over 4 GiB (Windows base layers) wrap around, so
    /// the smallest size that is at least the compressed size is taken; that holds for compression ratios below
    /// (2^32 + compressed) / compressed, i.e. for any real layer of more than a few hundred MB. Returns null when the
    /// registry serves no byte range or the layer is not gzip.
    /// </summary>
    public async Task<long?> GetUncompressedSizeAsync(ImageReference image, OciDescriptor layer, CancellationToken cancellationToken = default)
    {
        var type = layer.MediaType ?? "";
        if (type.Contains("zstd", StringComparison.Ordinal))
        {
            return null; // zstd frames carry no reliable total size
        }

        if (type.Length > 0 && !type.Contains("gzip", StringComparison.Ordinal))
        {
            return layer.Size; // an uncompressed tar is its own size
        }

        if (layer.Size < 18)
        {
            return null; // smaller than any gzip header plus trailer
        }

        // A foreign (non-distributable) layer lives in its own registry, at the URL its descriptor names (Windows base
        // layers pushed to ECR point back to mcr.microsoft.com).
        var (owner, uri) = layer.Urls is [var url, ..] && ForeignBlob(url) is { } foreign
            ? foreign
            : (image, new Uri(BaseUri(image.Registry), $"v2/{image.Repository}/blobs/{layer.Digest}"));
        using var response = await SendAsync(owner, HttpMethod.Get, uri,
            request => request.Headers.Range = new RangeHeaderValue(layer.Size - 4, layer.Size - 1), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.PartialContent)
        {
            return null;
        }

        var tail = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (tail.Length != 4)
        {
            return null;
        }

        long size = BinaryPrimitives.ReadUInt32LittleEndian(tail);
        while (size < layer.Size)
        {
            size += 1L << 32;
        }

        return size;
    }

    /// <summary>The repository and request URI of a foreign layer's URL (https://host/v2/&lt;repository&gt;/blobs/&lt;digest&gt;).</summary>
    private (ImageReference Owner, Uri Uri)? ForeignBlob(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || !parsed.AbsolutePath.StartsWith("/v2/", StringComparison.Ordinal))
        {
            return null;
        }

        var path = parsed.AbsolutePath["/v2/".Length..];
        var blobs = path.IndexOf("/blobs/", StringComparison.Ordinal);
        var host = parsed.IsDefaultPort ? parsed.Host : $"{parsed.Host}:{parsed.Port}";
        if (blobs <= 0 || !ImageReference.TryParse($"{host}/{path[..blobs]}", out var owner, out _))
        {
            return null;
        }

        return (owner, new Uri(BaseUri(host), "v2/" + path));
    }

    /// <summary>Whether a repository already holds a blob (HEAD): what a push there would skip.</summary>
    public async Task<bool> BlobExistsAsync(ImageReference repository, string digest, CancellationToken cancellationToken = default)
    {
        var uri = new Uri(BaseUri(repository.Registry), $"v2/{repository.Repository}/blobs/{digest}");
        try
        {
            using var response = await SendAsync(repository, HttpMethod.Head, uri, null, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (WinEksPatchException ex) when (ex.ErrorId == ErrorIds.ImageNotFound)
        {
            return false;
        }
    }

    private async Task<HttpResponseMessage> SendAsync(ImageReference image, HttpMethod method, Uri uri, Action<HttpRequestMessage>? prepare,
        CancellationToken cancellationToken)
    {
        var scope = $"repository:{image.Repository}:pull";
        var key = $"{image.Registry}|{scope}";
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, uri);
            prepare?.Invoke(request);
            lock (_tokens)
            {
                if (_tokens.TryGetValue(key, out var auth))
                {
                    request.Headers.Authorization = auth;
                }
            }

            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw new WinEksPatchException(ErrorIds.RegistryUnreachable, ErrorKind.ConnectionError,
                    $"The registry {image.Registry} could not be reached: {ex.Message}", image.Registry, ex);
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0)
            {
                var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
                response.Dispose();
                var authorization = await AuthenticateAsync(image, uri, challenge, scope, cancellationToken).ConfigureAwait(false);
                lock (_tokens)
                {
                    _tokens[key] = authorization;
                }

                continue;
            }

            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            var status = response.StatusCode;
            var text = method == HttpMethod.Head ? "" : await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            response.Dispose();
            throw status switch
            {
                HttpStatusCode.NotFound => new WinEksPatchException(ErrorIds.ImageNotFound, ErrorKind.ObjectNotFound,
                    $"{image} was not found in {image.Registry} ({RegistryError(text) ?? "404"}).", image.ToString()),
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new WinEksPatchException(ErrorIds.RegistryAccessDenied, ErrorKind.PermissionDenied,
                    $"The registry {image.Registry} refused access to {image.Repository} ({(int)status} {RegistryError(text)}). Check the credentials (ECR: the AWS identity's ecr:BatchGetImage and ecr:GetAuthorizationToken; others: docker login).",
                    image.ToString()),
                _ => new WinEksPatchException(ErrorIds.RegistryError, ErrorKind.InvalidOperation,
                    $"The registry {image.Registry} answered {(int)status} for {image}: {RegistryError(text)}", image.ToString()),
            };
        }
    }

    /// <summary>Answers a 401 challenge: Basic with the credential; Bearer by asking the realm for a token (with the
    /// credential as Basic when there is one, anonymously otherwise). The credential goes only to a realm the registry may
    /// name: see <see cref="IsTrustedRealm"/>.</summary>
    private async Task<AuthenticationHeaderValue> AuthenticateAsync(ImageReference image, Uri registryUri, AuthenticationHeaderValue? challenge, string scope,
        CancellationToken cancellationToken)
    {
        var credential = await credentials.GetAsync(image.Registry, cancellationToken).ConfigureAwait(false);
        if (challenge == null || challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            return credential != null
                ? new AuthenticationHeaderValue("Basic", credential.BasicHeaderValue)
                : throw new WinEksPatchException(ErrorIds.RegistryAccessDenied, ErrorKind.PermissionDenied,
                    $"The registry {image.Registry} requires credentials and none were found (docker config or ECR).", image.Registry);
        }

        var parameters = ParseChallenge(challenge.Parameter ?? "");
        if (!parameters.TryGetValue("realm", out var realm))
        {
            throw new WinEksPatchException(ErrorIds.RegistryError, ErrorKind.InvalidData, $"The registry {image.Registry} sent a Bearer challenge without a realm.", image.Registry);
        }

        if (!Uri.TryCreate(realm, UriKind.Absolute, out var realmUri) || (realmUri.Scheme != Uri.UriSchemeHttps && realmUri.Scheme != Uri.UriSchemeHttp))
        {
            throw new WinEksPatchException(ErrorIds.RegistryError, ErrorKind.InvalidData, $"The registry {image.Registry} named a token realm that is not a URL ('{realm}').", image.Registry);
        }

        if (credential != null && !IsTrustedRealm(registryUri, realmUri))
        {
            throw new WinEksPatchException(ErrorIds.RegistryTokenRealmUntrusted, ErrorKind.SecurityError,
                $"The registry {image.Registry} asked for its credentials to be sent to {realmUri.GetLeftPart(UriPartial.Authority)}, which is not the registry's own host " +
                $"over https (or the auth service it documents, as auth.docker.io for Docker Hub). They were not sent.", image.Registry);
        }

        var query = new List<string>();
        if (parameters.TryGetValue("service", out var service))
        {
            query.Add("service=" + Uri.EscapeDataString(service));
        }

        query.Add("scope=" + Uri.EscapeDataString(parameters.GetValueOrDefault("scope") ?? scope));
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, $"{realm}{(realm.Contains('?', StringComparison.Ordinal) ? "&" : "?")}{string.Join("&", query)}");
        if (credential != null)
        {
            tokenRequest.Headers.Authorization = new AuthenticationHeaderValue("Basic", credential.BasicHeaderValue);
        }

        using var response = await http.SendAsync(tokenRequest, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new WinEksPatchException(ErrorIds.RegistryAccessDenied, ErrorKind.PermissionDenied,
                $"The token service of {image.Registry} refused a token for {image.Repository} ({(int)response.StatusCode}).", image.Registry);
        }

        using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
        var token = body.RootElement.TryGetProperty("token", out var t) ? t.GetString()
            : body.RootElement.TryGetProperty("access_token", out var a) ? a.GetString() : null;
        return new AuthenticationHeaderValue("Bearer", token ?? throw new WinEksPatchException(ErrorIds.RegistryError, ErrorKind.InvalidData,
            $"The token service of {image.Registry} returned no token.", image.Registry));
    }

    /// <summary>Where a registry's credentials may go: its own host and port over https, or the token service its operator
    /// documents for it (Docker Hub's registry-1.docker.io uses auth.docker.io). A loopback registry (the simulator) may name
    /// its own loopback endpoint over http. Anything else would hand the password to whichever host (or other service on the
    /// same host) the registry names.</summary>
    internal static bool IsTrustedRealm(Uri registry, Uri realm)
    {
        var sameEndpoint = string.Equals(realm.Host, registry.Host, StringComparison.OrdinalIgnoreCase) && realm.Port == registry.Port;
        if (realm.IsLoopback && registry.IsLoopback)
        {
            return sameEndpoint;
        }

        return realm.Scheme == Uri.UriSchemeHttps && (sameEndpoint
            || (registry.Host.Equals("registry-1.docker.io", StringComparison.OrdinalIgnoreCase) && realm.Host.Equals("auth.docker.io", StringComparison.OrdinalIgnoreCase)
                && realm.IsDefaultPort));
    }

    internal static Dictionary<string, string> ParseChallenge(string parameter)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (i < parameter.Length)
        {
            var eq = parameter.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            var name = parameter[i..eq].Trim().TrimStart(',').Trim();
            string value;
            if (eq + 1 < parameter.Length && parameter[eq + 1] == '"')
            {
                var end = parameter.IndexOf('"', eq + 2);
                end = end < 0 ? parameter.Length : end;
                value = parameter[(eq + 2)..end];
                i = end + 1;
            }
            else
            {
                var end = parameter.IndexOf(',', eq + 1);
                end = end < 0 ? parameter.Length : end;
                value = parameter[(eq + 1)..end].Trim();
                i = end;
            }

            result[name] = value;
            i = i < parameter.Length && parameter[i] == ',' ? i + 1 : i;
        }

        return result;
    }

    private static string? RegistryError(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var error = document.RootElement.GetProperty("errors")[0];
            return $"{error.GetProperty("code").GetString()}: {error.GetProperty("message").GetString()}";
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            return text.Length > 200 ? text[..200] : text;
        }
    }
}
