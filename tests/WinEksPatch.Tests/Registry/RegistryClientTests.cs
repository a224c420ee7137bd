using System.Buffers.Binary;
using System.Net;
using System.Text;
using System.Text.Json;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Registry;

namespace WinEksPatch.Tests.Registry;

/// <summary>A registry in a handler: an index with Windows 2019/2022 entries, manifests, configs, and layer blobs
/// whose last four bytes are the gzip ISIZE trailer; anonymous bearer tokens or Basic credentials.</summary>
internal sealed class FakeRegistry : HttpMessageHandler
{
    public const string Host = "registry.example";
    public string? RequireBasic { get; init; }
    public List<HttpRequestMessage> Requests { get; } = [];
    public Dictionary<string, (string MediaType, byte[] Body)> Manifests { get; } = [];
    public Dictionary<string, long> Uncompressed { get; } = [];
    public Dictionary<string, long> Compressed { get; } = [];

    /// <summary>The token realm a Bearer challenge names (default: https://{Host}/token).</summary>
    public string? Realm { get; init; }

    public static string Digest(string seed) => "sha256:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(seed))).ToLowerInvariant();

    public FakeRegistry AddImage(string repository, string tag, params (string OsVersion, (string Seed, long Compressed, long Uncompressed)[] Layers)[] platforms)
    {
        var entries = new List<object>();
        foreach (var (osVersion, layers) in platforms)
        {
            var config = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["os"] = "windows", ["os.version"] = osVersion, ["architecture"] = "amd64" });
            var configDigest = Digest(Encoding.UTF8.GetString(config));
            Manifests[$"{repository}@{configDigest}"] = ("application/vnd.oci.image.config.v1+json", config);
            foreach (var (seed, compressed, uncompressed) in layers)
            {
                Compressed[Digest(seed)] = compressed;
                Uncompressed[Digest(seed)] = uncompressed;
            }

            var manifest = JsonSerializer.SerializeToUtf8Bytes(new
            {
                schemaVersion = 2,
                mediaType = MediaTypes.OciManifest,
                config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = configDigest, size = config.Length },
                layers = layers.Select(l => new { mediaType = "application/vnd.oci.image.layer.v1.tar+gzip", digest = Digest(l.Seed), size = l.Compressed }),
            });
            var manifestDigest = Digest(Encoding.UTF8.GetString(manifest));
            Manifests[$"{repository}@{manifestDigest}"] = (MediaTypes.OciManifest, manifest);
            entries.Add(new { mediaType = MediaTypes.OciManifest, digest = manifestDigest, size = manifest.Length, platform = new Dictionary<string, string> { ["os"] = "windows", ["architecture"] = "amd64", ["os.version"] = osVersion } });
        }

        entries.Add(new { mediaType = MediaTypes.OciManifest, digest = Digest("linux" + repository), size = 10, platform = new { os = "linux", architecture = "amd64" } });
        Manifests[$"{repository}:{tag}"] = (MediaTypes.OciIndex, JsonSerializer.SerializeToUtf8Bytes(new { schemaVersion = 2, mediaType = MediaTypes.OciIndex, manifests = entries }));
        return this;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Add(request);
        var path = request.RequestUri!.AbsolutePath;
        if (path == "/token")
        {
            return Task.FromResult(Json(HttpStatusCode.OK, """{"token":"anon-token"}"""));
        }

        var expected = RequireBasic != null ? "Basic " + RequireBasic : "Bearer anon-token";
        if (request.Headers.Authorization?.ToString() != expected)
        {
            var denied = Json(HttpStatusCode.Unauthorized, """{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}""");
            denied.Headers.WwwAuthenticate.ParseAdd(RequireBasic != null && Realm == null ? $"Basic realm=\"{Host}\"" : $"Bearer realm=\"{Realm ?? $"https://{Host}/token"}\",service=\"{Host}\"");
            return Task.FromResult(denied);
        }

        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries); // v2 / repo... / manifests|blobs / ref
        var kind = parts[^2];
        var reference = parts[^1];
        var repository = string.Join('/', parts[1..^2]);
        if (kind == "manifests")
        {
            var key = reference.StartsWith("sha256:", StringComparison.Ordinal) ? $"{repository}@{reference}" : $"{repository}:{reference}";
            if (!Manifests.TryGetValue(key, out var m))
            {
                return Task.FromResult(Json(HttpStatusCode.NotFound, """{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"""));
            }

            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(m.Body) };
            response.Content.Headers.ContentType = new(m.MediaType);
            response.Headers.Add("Docker-Content-Digest", reference.StartsWith("sha256:", StringComparison.Ordinal) ? reference : Digest(Encoding.UTF8.GetString(m.Body)));
            return Task.FromResult(response);
        }

        if (Manifests.TryGetValue($"{repository}@{reference}", out var blob))
        {
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(blob.Body) });
        }

        if (!Uncompressed.TryGetValue(reference, out var size))
        {
            return Task.FromResult(Json(HttpStatusCode.NotFound, """{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}"""));
        }

        var trailer = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, unchecked((uint)size));
        var partial = new HttpResponseMessage(request.Headers.Range != null ? HttpStatusCode.PartialContent : HttpStatusCode.OK) { Content = new ByteArrayContent(trailer) };
        return Task.FromResult(partial);
    }

    private static HttpResponseMessage Json(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
}

public class RegistryClientTests
{
    private const long GB = 1_000_000_000;

    private static (RegistryClient Client, FakeRegistry Registry) Create(FakeRegistry registry, Func<string, IEcrApi?>? ecr = null, string? dockerConfig = null) =>
        (new RegistryClient(new HttpClient(registry), new RegistryCredentials(ecr ?? (_ => null), dockerConfig ?? "/nonexistent/config.json")), registry);

    [Fact]
    public async Task Resolves_the_index_entry_of_the_node_build_and_reads_layer_sizes_from_the_gzip_trailer()
    {
        var (client, registry) = Create(new FakeRegistry().AddImage("app/web", "1.0",
            ("10.0.17763.6414", [("base2019", 1_600_000_000, 5_740_000_000), ("app2019", 300_000_000, 900_000_000)]),
            ("10.0.20348.2849", [("base2022", 1_500_000_000, 4_900_000_000), ("app2022", 200_000_000, 600_000_000)])));
        var analyzer = new ImageAnalyzer(client);

        var on2022 = await analyzer.ResolveAsync(ImageReference.Parse($"{FakeRegistry.Host}/app/web:1.0"), 20348, withSizes: true);
        var on2019 = await analyzer.ResolveAsync(ImageReference.Parse($"{FakeRegistry.Host}/app/web:1.0"), 17763, withSizes: true);

        Assert.Equal("10.0.20348.2849", on2022.OsVersion);
        Assert.Equal(1_700_000_000, on2022.CompressedSize);
        Assert.Equal(5_500_000_000, on2022.Size); // 4.9 GB wraps past 2^32 in ISIZE; the client unwraps it
        Assert.Equal(5_740_000_000 + 900_000_000, on2019.Size);
        Assert.Equal(["10.0.17763.6414", "10.0.20348.2849"], on2022.WindowsOsVersions);
        Assert.Contains(registry.Requests, r => r.RequestUri!.AbsolutePath == "/token");
        Assert.All(registry.Requests.Where(r => r.Headers.Range != null), r => Assert.Equal(4, r.Headers.Range!.Ranges.Single().To - r.Headers.Range.Ranges.Single().From + 1));
    }

    [Fact]
    public async Task Without_the_node_build_the_newest_Windows_entry_is_taken()
    {
        var (client, _) = Create(new FakeRegistry().AddImage("app/web", "1.0",
            ("10.0.17763.6414", [("a", 100, 200)]), ("10.0.20348.2849", [("b", 100, 200)])));

        var image = await new ImageAnalyzer(client).ResolveAsync(ImageReference.Parse($"{FakeRegistry.Host}/app/web:1.0"), null, withSizes: false);

        Assert.Equal("10.0.20348.2849", image.OsVersion);
        Assert.Null(image.Size);
    }

    [Fact]
    public async Task An_ECR_registry_gets_Basic_credentials_from_GetAuthorizationToken()
    {
        const string ecrHost = "111122223333.dkr.ecr.us-west-2.amazonaws.com";
        var registry = new FakeRegistry { RequireBasic = Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:ecr-password")) }
            .AddImage("fluentd-windows", "1.16", ("10.0.17763.6414", [("f", 10, 20)]));
        var ecr = new FakeEcr();
        var client = new RegistryClient(new HttpClient(registry), new RegistryCredentials(region => region == "us-west-2" ? ecr : null, "/nonexistent"),
            new Dictionary<string, string> { [ecrHost] = $"https://{FakeRegistry.Host}" });

        var image = await new ImageAnalyzer(client).ResolveAsync(ImageReference.Parse($"{ecrHost}/fluentd-windows:1.16"), 17763, withSizes: false);

        Assert.Equal("10.0.17763.6414", image.OsVersion);
        Assert.Equal(1, ecr.Calls);
    }

    [Fact]
    public async Task Docker_config_credentials_are_used_for_their_registry()
    {
        var config = Path.Combine(Path.GetTempPath(), $"wineks-docker-{Guid.NewGuid():N}.json");
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("me:pw"));
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new { auths = new Dictionary<string, object> { [$"https://{FakeRegistry.Host}"] = new { auth } } }));
        try
        {
            var registry = new FakeRegistry { RequireBasic = Convert.ToBase64String(Encoding.UTF8.GetBytes("me:pw")) }
                .AddImage("private/app", "1", ("10.0.20348.1", [("p", 10, 20)]));
            var (client, _) = Create(registry, dockerConfig: config);

            var image = await new ImageAnalyzer(client).ResolveAsync(ImageReference.Parse($"{FakeRegistry.Host}/private/app:1"), 20348, withSizes: false);

            Assert.Equal("10.0.20348.1", image.OsVersion);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public async Task A_registry_that_refuses_credentials_is_RegistryAccessDenied()
    {
        var registry = new FakeRegistry { RequireBasic = "something-else" }.AddImage("private/app", "1", ("10.0.20348.1", [("p", 10, 20)]));
        var (client, _) = Create(registry);

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() =>
            new ImageAnalyzer(client).ResolveAsync(ImageReference.Parse($"{FakeRegistry.Host}/private/app:1"), 20348, withSizes: false));

        Assert.Equal(ErrorIds.RegistryAccessDenied, error.ErrorId);
        Assert.Equal(ErrorKind.PermissionDenied, error.Kind);
    }

    [Fact]
    public async Task An_unknown_tag_is_ImageNotFound_with_the_registry_error_code()
    {
        var (client, _) = Create(new FakeRegistry().AddImage("app/web", "1.0", ("10.0.20348.1", [("a", 1, 2)])));

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() =>
            new ImageAnalyzer(client).ResolveAsync(ImageReference.Parse($"{FakeRegistry.Host}/app/web:2.0"), null, withSizes: false));

        Assert.Equal(ErrorIds.ImageNotFound, error.ErrorId);
        Assert.Contains("MANIFEST_UNKNOWN", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Challenge_parameters_are_parsed_with_quotes_and_commas()
    {
        var p = RegistryClient.ParseChallenge("realm=\"https://auth.example/token\",service=\"registry.example\",scope=\"repository:a/b:pull,push\"");

        Assert.Equal("https://auth.example/token", p["realm"]);
        Assert.Equal("registry.example", p["service"]);
        Assert.Equal("repository:a/b:pull,push", p["scope"]);
    }

    private sealed class FakeEcr : IEcrApi
    {
        public int Calls { get; private set; }

        public Task<EcrAuthorization> GetAuthorizationTokenAsync(CancellationToken cancellationToken = default)
        {
            Calls++;
            return Task.FromResult(new EcrAuthorization("https://111122223333.dkr.ecr.us-west-2.amazonaws.com", "AWS", "ecr-password", null));
        }
    }

    [Theory]
    [InlineData("https://evil.example/token")]
    [InlineData("http://registry.example/token")]
    [InlineData("https://registry.example.evil.example/token")]
    public async Task Credentials_are_never_sent_to_a_token_realm_other_than_the_registrys_own_host_over_https(string realm)
    {
        var config = Path.Combine(Path.GetTempPath(), $"wineks-docker-{Guid.NewGuid():N}.json");
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("me:pw"));
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new { auths = new Dictionary<string, object> { [$"https://{FakeRegistry.Host}"] = new { auth } } }));
        try
        {
            var registry = new FakeRegistry { Realm = realm }.AddImage("private/app", "1", ("10.0.20348.1", [("p", 10, 20)]));
            var (client, _) = Create(registry, dockerConfig: config);

            var error = await Assert.ThrowsAsync<WinEksPatchException>(() =>
                new ImageAnalyzer(client).ResolveAsync(ImageReference.Parse($"{FakeRegistry.Host}/private/app:1"), 20348, withSizes: false));

            Assert.Equal(ErrorIds.RegistryTokenRealmUntrusted, error.ErrorId);
            Assert.Equal(ErrorKind.SecurityError, error.Kind);
            Assert.Contains(new Uri(realm).GetLeftPart(UriPartial.Authority), error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(registry.Requests, r => r.RequestUri!.AbsoluteUri.StartsWith(realm, StringComparison.Ordinal));
            Assert.DoesNotContain(registry.Requests, r => r.Headers.Authorization?.Scheme == "Basic");
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Theory]
    [InlineData("https://registry-1.docker.io/", "https://auth.docker.io/token", true)]
    [InlineData("https://ghcr.io/", "https://ghcr.io/token", true)]
    [InlineData("http://127.0.0.1:5000/", "http://127.0.0.1:5000/_registry/token", true)]
    [InlineData("https://quay.io/", "https://auth.docker.io/token", false)]
    [InlineData("https://ghcr.io/", "http://ghcr.io/token", false)]
    [InlineData("https://ghcr.io/", "https://ghcr.io:8443/token", false)]
    [InlineData("http://127.0.0.1:5000/", "http://127.0.0.1:6000/token", false)]
    public void A_realm_is_trusted_on_the_registrys_host_over_https_or_at_its_documented_auth_service(string registry, string realm, bool trusted) =>
        Assert.Equal(trusted, RegistryClient.IsTrustedRealm(new Uri(registry), new Uri(realm)));
}
