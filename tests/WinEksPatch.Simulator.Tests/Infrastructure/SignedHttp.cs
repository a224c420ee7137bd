using System.Net.Http.Headers;
using System.Text;
using Amazon.Runtime;
using Amazon.Runtime.Endpoints;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;

namespace WinEksPatch.Simulator.Tests.Infrastructure;

/// <summary>
/// Requests signed by AWSSDK.Core's own AWS4Signer (not by simulator code), for the services whose
/// SDK clients are not served here (EKS, Auto Scaling), and EKS tokens as `aws eks get-token` makes them.
/// Adapted from shared/reference (AwsSigV4HttpProbe, EksTokenProbe).
/// </summary>
public static class SignedHttp
{
    public sealed record Response(int Status, string Body, HttpResponseMessage Message);

    public static async Task<Response> SendAsync(string endpoint, string signingName, string method, string path,
        IDictionary<string, string>? query = null, string? body = null, string? contentType = null,
        IDictionary<string, string>? headers = null, AWSCredentials? credentials = null, string region = "us-west-2", HttpClient? client = null)
    {
        var config = new GenericConfig(signingName, region);
        var request = new DefaultRequest(new NoopRequest(), signingName) { HttpMethod = method, Endpoint = new Uri(endpoint), ResourcePath = path };
        if (query is not null)
        {
            foreach (KeyValuePair<string, string> kv in query)
            {
                request.Parameters[kv.Key] = kv.Value;
            }

            request.UseQueryString = true;
        }

        if (body is not null)
        {
            request.Content = Encoding.UTF8.GetBytes(body);
            request.Headers["Content-Type"] = contentType ?? "application/json";
        }

        foreach (KeyValuePair<string, string> kv in headers ?? new Dictionary<string, string>())
        {
            request.Headers[kv.Key] = kv.Value;
        }

        request.AuthenticationRegion = region;
        new AWS4Signer().Sign(request, config, null, credentials ?? new BasicAWSCredentials("AKIASIMULATOR0000001", "WinEksPatchSimulator/NotASecret/00000000"));

        Uri uri = AmazonServiceClient.ComposeUrl(request);
        using var message = new HttpRequestMessage(new HttpMethod(method), uri);
        if (request.Content is not null)
        {
            message.Content = new ByteArrayContent(request.Content);
        }

        foreach (KeyValuePair<string, string> h in request.Headers)
        {
            if (h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                message.Content!.Headers.ContentType = MediaTypeHeaderValue.Parse(h.Value);
            }
            else if (h.Key.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                message.Headers.Host = h.Value;
            }
            else if (!h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                message.Headers.TryAddWithoutValidation(h.Key, h.Value);
            }
        }

        using var owned = client is null ? new HttpClient() : null;
        HttpResponseMessage response = await (client ?? owned!).SendAsync(message);
        return new Response((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    /// <summary>An awsQuery call (form POST with Action and Version).</summary>
    public static Task<Response> QueryAsync(string endpoint, string signingName, string version, string action, IDictionary<string, string>? parameters = null, AWSCredentials? credentials = null)
    {
        var form = new List<string> { "Action=" + Uri.EscapeDataString(action), "Version=" + version };
        form.AddRange((parameters ?? new Dictionary<string, string>()).Select(kv => Uri.EscapeDataString(kv.Key) + "=" + Uri.EscapeDataString(kv.Value)));
        return SendAsync(endpoint, signingName, "POST", "/", body: string.Join('&', form), contentType: "application/x-www-form-urlencoded; charset=utf-8", credentials: credentials);
    }

    /// <summary>k8s-aws-v1.base64url(presigned STS GetCallerIdentity URL), signed at <paramref name="signedAt"/>.</summary>
    public static string EksToken(string clusterName, string stsEndpoint, DateTime signedAt, string secretKey = "WinEksPatchSimulator/NotASecret/00000000", string region = "us-west-2",
        string accessKeyId = "AKIASIMULATOR0000001")
    {
        var config = new AmazonSecurityTokenServiceConfig { RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region) };
        var request = new DefaultRequest(new GetCallerIdentityRequest(), "SecurityTokenService")
        {
            HttpMethod = "GET",
            Endpoint = new Uri(stsEndpoint),
            ResourcePath = "/",
            UseQueryString = true,
        };
        request.Parameters["Action"] = "GetCallerIdentity";
        request.Parameters["Version"] = "2011-06-15";
        request.Parameters["X-Amz-Expires"] = "60";
        request.Headers["x-k8s-aws-id"] = clusterName;
        AWS4SigningResult signature = AWS4PreSignedUrlSigner.SignRequest(request, config, null, accessKeyId, secretKey, "sts", region, signedAt);
        string url = AmazonServiceClient.ComposeUrl(request).AbsoluteUri + "&" + signature.ForQueryParameters;
        return "k8s-aws-v1." + Convert.ToBase64String(Encoding.UTF8.GetBytes(url)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private sealed class NoopRequest : AmazonWebServiceRequest
    {
    }

    /// <summary>The minimal ClientConfig the signer needs (service name, region).</summary>
    private sealed class GenericConfig : ClientConfig
    {
        private readonly string _signingName;

        public GenericConfig(string signingName, string region)
            : base(new DefaultConfigurationProvider([new DefaultConfiguration { Name = DefaultConfigurationMode.Standard, RetryMode = RequestRetryMode.Standard }]))
        {
            _signingName = signingName;
            AuthenticationServiceName = signingName;
            AuthenticationRegion = region;
        }

        public override string RegionEndpointServiceName => _signingName;

        public override string ServiceVersion => "test";

        public override string UserAgent => "wineks-simulator-tests";

        public override Endpoint DetermineServiceOperationEndpoint(ServiceOperationEndpointParameters parameters) => throw new NotSupportedException();
    }
}
