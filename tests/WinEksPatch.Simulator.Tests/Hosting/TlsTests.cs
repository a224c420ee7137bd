using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using WinEksPatch.Simulator.Auth;
using WinEksPatch.Simulator.Hosting;
using WinEksPatch.Simulator.Tests.Infrastructure;

namespace WinEksPatch.Simulator.Tests.Hosting;

/// <summary>--tls: the AWS endpoint (with /_sim and the registries) is https with a certificate of the generated CA.</summary>
public sealed class TlsTests : IAsyncLifetime
{
    private SimulatorHost _host = null!;
    private X509Certificate2 _ca = null!;

    public async Task InitializeAsync()
    {
        _host = await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "demo", Tls = true });
        _ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(_host.Info.CaCertPath));
    }

    public async Task DisposeAsync()
    {
        _ca.Dispose();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task Every_AWS_side_url_is_https_and_the_certificate_names_loopback_and_chains_to_the_generated_CA()
    {
        SimulatorInfo info = _host.Info;
        Assert.StartsWith("https://127.0.0.1:", info.Endpoint, StringComparison.Ordinal);
        Assert.StartsWith("https://127.0.0.1:", info.KubernetesEndpoint, StringComparison.Ordinal);
        Assert.NotEqual(info.Endpoint, info.KubernetesEndpoint);
        Assert.Equal(info.Endpoint + "/_sim", info.AdminEndpoint);
        Assert.NotEmpty(info.Registries);
        Assert.All(info.Registries.Values, url => Assert.StartsWith(info.Endpoint + "/", url, StringComparison.Ordinal));

        X509Certificate2? presented = null;
        SslPolicyErrors presentedErrors = SslPolicyErrors.None;
        using var http = TrustingClient((cert, errors) =>
        {
            presented = X509CertificateLoader.LoadCertificate(cert.RawData);
            presentedErrors = errors;
        });
        using JsonDocument clock = JsonDocument.Parse(await http.GetStringAsync(info.AdminEndpoint + "/clock"));
        Assert.True(clock.RootElement.TryGetProperty("utcNow", out _));

        Assert.NotNull(presented);
        using (presented)
        {
            // The system does not know the CA (UntrustedRoot), but the name matches: 127.0.0.1 is in the certificate.
            Assert.Equal(SslPolicyErrors.RemoteCertificateChainErrors, presentedErrors);
            Assert.NotEqual(_ca.Thumbprint, presented.Thumbprint);
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(_ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            Assert.True(chain.Build(presented), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
            Assert.Equal(2, chain.ChainElements.Count);
            Assert.Equal(_ca.Thumbprint, chain.ChainElements[^1].Certificate.Thumbprint);
        }
    }

    [Fact]
    public async Task The_https_AWS_endpoint_answers_requests_signed_by_the_AWS_SDK_and_still_checks_signatures()
    {
        SimulatorInfo info = _host.Info;
        var credentials = new BasicAWSCredentials(info.AccessKeyId, info.SecretAccessKey);
        var factory = new TrustingFactory(this);

        using var sts = new AmazonSecurityTokenServiceClient(credentials,
            new AmazonSecurityTokenServiceConfig { ServiceURL = info.Endpoint, AuthenticationRegion = "us-west-2", MaxErrorRetry = 0, HttpClientFactory = factory });
        GetCallerIdentityResponse identity = await sts.GetCallerIdentityAsync(new GetCallerIdentityRequest());
        Assert.Equal("111122223333", identity.Account);

        using var ec2 = new AmazonEC2Client(credentials,
            new AmazonEC2Config { ServiceURL = info.Endpoint, AuthenticationRegion = "us-west-2", MaxErrorRetry = 0, HttpClientFactory = factory });
        DescribeInstancesResponse instances = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest
        {
            Filters = [new Filter("tag:aws:autoscaling:groupName", ["demo-win-selfmanaged"])],
        });
        Assert.Equal(4, instances.Reservations.SelectMany(r => r.Instances).Count());

        using HttpClient http = TrustingClient();
        SignedHttp.Response clusters = await SignedHttp.SendAsync(info.Endpoint, "eks", "GET", "/clusters", client: http);
        Assert.Equal(200, clusters.Status);
        Assert.Contains("\"demo\"", clusters.Body, StringComparison.Ordinal);

        SignedHttp.Response forged = await SignedHttp.SendAsync(info.Endpoint, "eks", "GET", "/clusters", client: http,
            credentials: new BasicAWSCredentials(info.AccessKeyId, "wrong-secret-wrong-secret-wrong-secret00"));
        Assert.Equal(403, forged.Status);
        Assert.Equal("InvalidSignatureException", forged.Message.Headers.GetValues("x-amzn-ErrorType").Single());

        Assert.True(factory.Created > 0, "the SDK clients used the trusting HttpClientFactory");
    }

    [Fact]
    public async Task Without_the_CA_the_endpoint_is_refused_and_plain_http_gets_no_AWS_answer()
    {
        SimulatorInfo info = _host.Info;
        using (var untrusting = new HttpClient())
        {
            HttpRequestException e = await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync(info.AdminEndpoint + "/clock"));
            Assert.IsAssignableFrom<AuthenticationException>(e.InnerException);
        }

        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string plainUrl = "http://" + info.Endpoint["https://".Length..] + "/_sim/clock";
        try
        {
            using HttpResponseMessage response = await plain.GetAsync(plainUrl);
            Assert.False(response.IsSuccessStatusCode);
        }
        catch (HttpRequestException)
        {
            // Kestrel closes a plaintext connection on a TLS port: also no answer.
        }
    }

    [Fact]
    public async Task The_Kubernetes_endpoint_still_serves_Kubernetes_on_its_own_port()
    {
        using HttpClient http = TrustingClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", SimCredentials.KubernetesStaticToken);
        using JsonDocument nodes = JsonDocument.Parse(await http.GetStringAsync(_host.Info.ClusterEndpoint("demo") + "/api/v1/nodes"));
        Assert.Equal("NodeList", nodes.RootElement.GetProperty("kind").GetString());
        Assert.True(nodes.RootElement.GetProperty("items").GetArrayLength() >= 7);
    }

    /// <summary>An HttpClient that trusts exactly the simulator's CA (and requires the host name to match).</summary>
    private HttpClient TrustingClient(Action<X509Certificate2, SslPolicyErrors>? seen = null) => new(TrustingHandler(seen));

    private HttpClientHandler TrustingHandler(Action<X509Certificate2, SslPolicyErrors>? seen = null) => new()
    {
        ServerCertificateCustomValidationCallback = (_, cert, _, errors) =>
        {
            if (cert is null)
            {
                return false;
            }

            seen?.Invoke(cert, errors);
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(_ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None && chain.Build(cert);
        },
    };

    /// <summary>The AWS SDK's way to bring its own HttpClient: here one that trusts the simulator's CA.</summary>
    private sealed class TrustingFactory(TlsTests owner) : HttpClientFactory
    {
        private int _created;

        public int Created => Volatile.Read(ref _created);

        public override HttpClient CreateHttpClient(IClientConfig clientConfig)
        {
            Interlocked.Increment(ref _created);
            return new HttpClient(owner.TrustingHandler());
        }

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => true;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

        public override string? GetConfigUniqueString(IClientConfig clientConfig) => null;
    }
}
