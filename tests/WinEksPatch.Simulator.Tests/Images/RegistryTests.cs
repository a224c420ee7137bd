using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WinEksPatch.Simulator.Hosting;
using WinEksPatch.Simulator.Tests.Infrastructure;

namespace WinEksPatch.Simulator.Tests.Images;

/// <summary>The OCI distribution API (auth dances, manifests, blobs, errors) and ECR's side of it.</summary>
[Collection(SimulatorCollection.Name)]
public sealed class RegistryTests(SimulatorFixture sim)
{
    private const string EcrHost = "111122223333.dkr.ecr.us-west-2.amazonaws.com";
    private static readonly HttpClient Http = new();

    private string Base(string host) => sim.Info.Registries[host];

    [Fact]
    public void The_info_line_maps_each_registry_host_to_a_url()
    {
        Assert.Equal(["111122223333.dkr.ecr.us-west-2.amazonaws.com", "mcr.microsoft.com", "public.ecr.aws"], sim.Info.Registries.Keys.Order(StringComparer.Ordinal));
        Assert.Equal($"{sim.Info.Endpoint}/registry/mcr.microsoft.com", Base("mcr.microsoft.com"));
    }

    [Fact]
    public async Task Mcr_is_anonymous_and_serves_a_manifest_list_whose_digest_is_the_sha256_of_its_body()
    {
        using HttpResponseMessage index = await Http.GetAsync($"{Base("mcr.microsoft.com")}/v2/windows/servercore/manifests/ltsc2022");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("application/vnd.docker.distribution.manifest.list.v2+json", index.Content.Headers.ContentType!.MediaType);
        byte[] body = await index.Content.ReadAsByteArrayAsync();
        string digest = index.Headers.GetValues("Docker-Content-Digest").Single();
        Assert.Equal("sha256:" + Convert.ToHexString(SHA256.HashData(body)).ToLowerInvariant(), digest);

        JsonElement entry = JsonDocument.Parse(body).RootElement.GetProperty("manifests")[0];
        Assert.Equal("windows", entry.GetProperty("platform").GetProperty("os").GetString());
        Assert.Equal("10.0.20348.5622", entry.GetProperty("platform").GetProperty("os.version").GetString());

        // By digest, HEAD: same type and digest, no body.
        string child = entry.GetProperty("digest").GetString()!;
        using var head = new HttpRequestMessage(HttpMethod.Head, $"{Base("mcr.microsoft.com")}/v2/windows/servercore/manifests/{child}");
        using HttpResponseMessage headResponse = await Http.SendAsync(head);
        Assert.Equal(HttpStatusCode.OK, headResponse.StatusCode);
        Assert.Equal("application/vnd.docker.distribution.manifest.v2+json", headResponse.Content.Headers.ContentType!.MediaType);
        Assert.Equal(child, headResponse.Headers.GetValues("Docker-Content-Digest").Single());

        // The image manifest: foreign layers with urls, and a config blob with os.version and diff_ids.
        JsonElement manifest = JsonDocument.Parse(await Http.GetStringAsync($"{Base("mcr.microsoft.com")}/v2/windows/servercore/manifests/{child}")).RootElement;
        JsonElement layer = manifest.GetProperty("layers")[0];
        Assert.Equal("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", layer.GetProperty("mediaType").GetString());
        Assert.StartsWith("https://mcr.microsoft.com/v2/windows/servercore/blobs/sha256:", layer.GetProperty("urls")[0].GetString(), StringComparison.Ordinal);
        string configDigest = manifest.GetProperty("config").GetProperty("digest").GetString()!;
        byte[] config = await Http.GetByteArrayAsync($"{Base("mcr.microsoft.com")}/v2/windows/servercore/blobs/{configDigest}");
        Assert.Equal(configDigest, "sha256:" + Convert.ToHexString(SHA256.HashData(config)).ToLowerInvariant());
        JsonElement configJson = JsonDocument.Parse(config).RootElement;
        Assert.Equal("10.0.20348.5622", configJson.GetProperty("os.version").GetString());
        Assert.Equal(2, configJson.GetProperty("rootfs").GetProperty("diff_ids").GetArrayLength());

        // A layer by declared size, and a range of it.
        long size = layer.GetProperty("size").GetInt64();
        string layerUrl = $"{Base("mcr.microsoft.com")}/v2/windows/servercore/blobs/{layer.GetProperty("digest").GetString()}";
        using var headBlob = new HttpRequestMessage(HttpMethod.Head, layerUrl);
        using HttpResponseMessage blobHead = await Http.SendAsync(headBlob);
        Assert.Equal(size, blobHead.Content.Headers.ContentLength);
        using var ranged = new HttpRequestMessage(HttpMethod.Get, layerUrl);
        ranged.Headers.Range = new RangeHeaderValue(size - 100, null);
        using HttpResponseMessage part = await Http.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal($"bytes {size - 100}-{size - 1}/{size}", part.Content.Headers.ContentRange!.ToString());
        Assert.Equal(100, (await part.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task Unknown_manifests_and_blobs_get_registry_errors()
    {
        using HttpResponseMessage manifest = await Http.GetAsync($"{Base("mcr.microsoft.com")}/v2/windows/servercore/manifests/ltsc1999");
        Assert.Equal(HttpStatusCode.NotFound, manifest.StatusCode);
        Assert.Equal("MANIFEST_UNKNOWN", JsonDocument.Parse(await manifest.Content.ReadAsStringAsync()).RootElement.GetProperty("errors")[0].GetProperty("code").GetString());

        using HttpResponseMessage blob = await Http.GetAsync($"{Base("mcr.microsoft.com")}/v2/windows/servercore/blobs/sha256:{new string('0', 64)}");
        Assert.Equal(HttpStatusCode.NotFound, blob.StatusCode);
        Assert.Equal("BLOB_UNKNOWN", JsonDocument.Parse(await blob.Content.ReadAsStringAsync()).RootElement.GetProperty("errors")[0].GetProperty("code").GetString());

        using HttpResponseMessage name = await Http.GetAsync($"{Base("mcr.microsoft.com")}/v2/windows/nothing/manifests/latest");
        Assert.Equal("NAME_UNKNOWN", JsonDocument.Parse(await name.Content.ReadAsStringAsync()).RootElement.GetProperty("errors")[0].GetProperty("code").GetString());
    }

    [Fact]
    public async Task Public_ecr_wants_the_anonymous_bearer_token_dance()
    {
        string manifestUrl = $"{Base("public.ecr.aws")}/v2/aws-observability/aws-for-fluent-bit/manifests/windowsservercore-stable";
        using HttpResponseMessage challenge = await Http.GetAsync(manifestUrl);
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        AuthenticationHeaderValue auth = challenge.Headers.WwwAuthenticate.Single();
        Assert.Equal("Bearer", auth.Scheme);
        Dictionary<string, string> p = auth.Parameter!.Split(',').Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1].Trim('"'));
        Assert.Equal("public.ecr.aws", p["service"]);
        Assert.Equal("repository:aws-observability/aws-for-fluent-bit:pull", p["scope"]);

        JsonElement token = JsonDocument.Parse(await Http.GetStringAsync($"{p["realm"]}?service={p["service"]}&scope={p["scope"]}")).RootElement;
        using var request = new HttpRequestMessage(HttpMethod.Get, manifestUrl);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.GetProperty("token").GetString());
        using HttpResponseMessage index = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        JsonElement manifests = JsonDocument.Parse(await index.Content.ReadAsStringAsync()).RootElement.GetProperty("manifests");
        Assert.Equal(["10.0.17763", "10.0.20348"], manifests.EnumerateArray().Select(m => m.GetProperty("platform").GetProperty("os.version").GetString()![..10]));

        // The token is scoped: another repository needs its own.
        using var other = new HttpRequestMessage(HttpMethod.Get, $"{Base("public.ecr.aws")}/v2/other/repo/manifests/latest");
        other.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.GetProperty("token").GetString());
        using HttpResponseMessage denied = await Http.SendAsync(other);
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        Assert.Contains("insufficient_scope", denied.Headers.WwwAuthenticate.Single().Parameter, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ecr_wants_basic_auth_with_the_password_of_GetAuthorizationToken()
    {
        using HttpResponseMessage challenge = await Http.GetAsync($"{Base(EcrHost)}/v2/");
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        Assert.Equal($"Basic realm=\"https://{EcrHost}/\",service=\"ecr.amazonaws.com\"", challenge.Headers.WwwAuthenticate.Single().ToString());

        SignedHttp.Response token = await SignedHttp.SendAsync(sim.Info.Endpoint, "ecr", "POST", "/", body: "{}", contentType: "application/x-amz-json-1.1",
            headers: new Dictionary<string, string> { ["X-Amz-Target"] = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken" });
        Assert.Equal(200, token.Status);
        JsonElement data = JsonDocument.Parse(token.Body).RootElement.GetProperty("authorizationData")[0];
        Assert.Equal($"https://{EcrHost}", data.GetProperty("proxyEndpoint").GetString());
        string basic = data.GetProperty("authorizationToken").GetString()!;
        Assert.StartsWith("AWS:", Encoding.UTF8.GetString(Convert.FromBase64String(basic)), StringComparison.Ordinal);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Base(EcrHost)}/v2/fluentd-windows/manifests/latest");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
        using HttpResponseMessage manifest = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);

        using var forged = new HttpRequestMessage(HttpMethod.Get, $"{Base(EcrHost)}/v2/fluentd-windows/manifests/latest");
        forged.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:forged.token")));
        using HttpResponseMessage refused = await Http.SendAsync(forged);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Ecr_DescribeImages_reports_the_compressed_size_without_foreign_base_layers()
    {
        SignedHttp.Response response = await SignedHttp.SendAsync(sim.Info.Endpoint, "ecr", "POST", "/",
            body: """{"repositoryName":"fluentd-windows","imageIds":[{"imageTag":"latest"}]}""", contentType: "application/x-amz-json-1.1",
            headers: new Dictionary<string, string> { ["X-Amz-Target"] = "AmazonEC2ContainerRegistry_V20150921.DescribeImages" });
        Assert.Equal(200, response.Status);
        JsonElement detail = JsonDocument.Parse(response.Body).RootElement.GetProperty("imageDetails")[0];
        Assert.Equal(533_050_000, detail.GetProperty("imageSizeInBytes").GetInt64());
        Assert.Contains("1.17.3-ltsc2019", detail.GetProperty("imageTags").EnumerateArray().Select(t => t.GetString()));

        SignedHttp.Response missing = await SignedHttp.SendAsync(sim.Info.Endpoint, "ecr", "POST", "/",
            body: """{"repositoryName":"no-such-repo"}""", contentType: "application/x-amz-json-1.1",
            headers: new Dictionary<string, string> { ["X-Amz-Target"] = "AmazonEC2ContainerRegistry_V20150921.DescribeImages" });
        Assert.Equal(400, missing.Status);
        Assert.Equal("RepositoryNotFoundException", JsonDocument.Parse(missing.Body).RootElement.GetProperty("__type").GetString());
    }
}
