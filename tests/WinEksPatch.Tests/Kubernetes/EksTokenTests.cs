using System.Globalization;
using System.Net;
using System.Text;
using Amazon;
using Microsoft.Extensions.Time.Testing;
using WinEksPatch.Kubernetes;
using WinEksPatch.Tests.Aws;
using WinEksPatch.Tests.Infrastructure;

namespace WinEksPatch.Tests.Kubernetes;

public class EksTokenTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 10, 8, 30, 0, TimeSpan.Zero);

    internal static Uri Decode(string token)
    {
        Assert.StartsWith("k8s-aws-v1.", token, StringComparison.Ordinal);
        var b64 = token["k8s-aws-v1.".Length..].Replace('-', '+').Replace('_', '/');
        Assert.DoesNotContain("=", token, StringComparison.Ordinal);
        b64 = b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=');
        return new Uri(Encoding.UTF8.GetString(Convert.FromBase64String(b64)));
    }

    internal static Dictionary<string, string> Query(Uri url) => url.Query.TrimStart('?').Split('&')
        .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => WebUtility.UrlDecode(p[1]));

    [Fact]
    public async Task Token_is_a_presigned_GetCallerIdentity_that_the_AWS_SDK_for_JavaScript_signs_identically()
    {
        var time = new FakeTimeProvider(Start);
        var generator = new EksTokenGenerator(TestCredentials.Basic, RegionEndpoint.USWest2, time);

        var token = await generator.CreateAsync("demo");

        var url = Decode(token.Value);
        var query = Query(url);
        Assert.Equal(("https", "sts.us-west-2.amazonaws.com", "/"), (url.Scheme, url.Host, url.AbsolutePath));
        Assert.Equal("GetCallerIdentity", query["Action"]);
        Assert.Equal("2011-06-15", query["Version"]);
        Assert.Equal("20261110T083000Z", query["X-Amz-Date"]);
        Assert.Equal("host;x-k8s-aws-id", query["X-Amz-SignedHeaders"]);
        Assert.Equal($"{TestCredentials.AccessKey}/20261110/us-west-2/sts/aws4_request", query["X-Amz-Credential"]);
        Assert.Equal(Start + TimeSpan.FromMinutes(14), token.RefreshAt);

        var js = SmithySigner.Run(new
        {
            mode = "presign",
            accessKeyId = TestCredentials.AccessKey,
            secretAccessKey = TestCredentials.SecretKey,
            region = "us-west-2",
            service = "sts",
            date = Start.UtcDateTime.ToString("o", CultureInfo.InvariantCulture),
            method = "GET",
            protocol = "https:",
            hostname = url.Host,
            path = "/",
            query = new Dictionary<string, string> { ["Action"] = "GetCallerIdentity", ["Version"] = "2011-06-15" },
            headers = new Dictionary<string, string> { ["host"] = url.Host, ["x-k8s-aws-id"] = "demo" },
            expiresIn = int.Parse(query["X-Amz-Expires"], CultureInfo.InvariantCulture),
        });
        Assert.Equal((string?)js["query"]!["X-Amz-Signature"], query["X-Amz-Signature"]);
    }

    [Fact]
    public async Task Token_is_signed_for_the_cluster_name_so_another_cluster_does_not_accept_it()
    {
        var generator = new EksTokenGenerator(TestCredentials.Basic, RegionEndpoint.USWest2, new FakeTimeProvider(Start));

        var a = Query(Decode((await generator.CreateAsync("alpha")).Value))["X-Amz-Signature"];
        var b = Query(Decode((await generator.CreateAsync("beta")).Value))["X-Amz-Signature"];

        Assert.NotEqual(a, b);
    }

    [Fact]
    public async Task Provider_reuses_a_token_for_14_minutes_then_signs_a_new_one()
    {
        var time = new FakeTimeProvider(Start);
        var provider = new EksTokenProvider(new EksTokenGenerator(TestCredentials.Basic, RegionEndpoint.USWest2, time), "demo", time);

        var first = (await provider.GetAuthenticationHeaderAsync(default)).Parameter;
        time.Advance(TimeSpan.FromMinutes(13) + TimeSpan.FromSeconds(59));
        var stillFirst = (await provider.GetAuthenticationHeaderAsync(default)).Parameter;
        time.Advance(TimeSpan.FromSeconds(1));
        var second = (await provider.GetAuthenticationHeaderAsync(default)).Parameter;

        Assert.Equal(first, stillFirst);
        Assert.NotEqual(first, second);
        Assert.Equal("20261110T084400Z", Query(Decode(second!))["X-Amz-Date"]);
        Assert.Equal(2, provider.TokensSigned);
    }

    [Fact]
    public async Task A_401_makes_the_handler_sign_a_new_token_and_retry_once()
    {
        var time = new FakeTimeProvider(Start);
        var provider = new EksTokenProvider(new EksTokenGenerator(TestCredentials.Basic, RegionEndpoint.USWest2, time), "demo", time);
        var seen = new List<string>();
        var inner = new StubHandler(request =>
        {
            seen.Add(request.Headers.Authorization!.Parameter!);
            return seen.Count == 1 ? HttpStatusCode.Unauthorized : HttpStatusCode.OK;
        });
        using var client = new HttpClient(new ReauthenticateOnUnauthorizedHandler(provider) { InnerHandler = inner });
        var first = await provider.GetAuthenticationHeaderAsync(default);
        time.Advance(TimeSpan.FromSeconds(5)); // a new signature needs a new timestamp to differ
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://k8s.example/api/v1/nodes");
        request.Headers.Authorization = first;

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, seen.Count);
        Assert.NotEqual(seen[0], seen[1]);
        Assert.Equal(2, provider.TokensSigned);
    }

    [Fact]
    public async Task Token_never_appears_in_its_ToString()
    {
        var token = await new EksTokenGenerator(TestCredentials.Basic, RegionEndpoint.USWest2, new FakeTimeProvider(Start)).CreateAsync("demo");

        Assert.DoesNotContain("k8s-aws-v1", token.ToString(), StringComparison.Ordinal);
    }

    private sealed class StubHandler(Func<HttpRequestMessage, HttpStatusCode> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(answer(request)));
    }
}
