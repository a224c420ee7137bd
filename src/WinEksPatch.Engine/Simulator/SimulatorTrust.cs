using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Amazon.Runtime;
using WinEksPatch.Errors;

namespace WinEksPatch.Simulator;

/// <summary>
/// Trust in the generated CA of a simulator that serves its AWS endpoint over TLS (<c>Start-WinEksSimulator -Tls</c>),
/// for that endpoint only: a request to the simulator's scheme, host and port is accepted when the server's certificate
/// names the host and chains to the simulator's CA (and to nothing else: the CA is the only trust anchor); every other
/// request keeps the platform's own validation. Nothing is trusted globally and certificate validation is never turned
/// off. The Kubernetes endpoint is trusted per cluster through DescribeCluster's certificateAuthority, as on EKS.
/// </summary>
public sealed class SimulatorTrust : IDisposable
{
    private readonly X509Certificate2 _ca;

    private SimulatorTrust(Uri endpoint, X509Certificate2 ca)
    {
        Endpoint = endpoint;
        _ca = ca;
    }

    /// <summary>The simulator's AWS endpoint (https) this trust applies to.</summary>
    public Uri Endpoint { get; }

    /// <summary>Thumbprint (SHA-256, hex) of the trusted CA certificate.</summary>
    public string CaThumbprint => _ca.GetCertHashString(HashAlgorithmName.SHA256);

    /// <summary>The trust for <paramref name="endpoint"/> in the CA of the PEM file <paramref name="caCertPath"/>; null for an
    /// http endpoint (nothing to trust). SimulatorCaCertificateInvalid when the file is missing or holds no CA certificate.</summary>
    public static SimulatorTrust? For(string endpoint, string? caCertPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(endpoint);
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || caCertPath is null)
        {
            return null;
        }

        X509Certificate2 ca;
        try
        {
            ca = X509Certificate2.CreateFromPem(File.ReadAllText(caCertPath)); // the certificate only; a CA file has no key
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new WinEksPatchException(ErrorIds.SimulatorCaCertificateInvalid, ErrorKind.InvalidArgument,
                $"The simulator's CA certificate '{caCertPath}' cannot be read as a PEM certificate (use the caCertPath the simulator printed): {ex.Message}", caCertPath, ex);
        }

        if (ca.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
        {
            ca.Dispose();
            throw new WinEksPatchException(ErrorIds.SimulatorCaCertificateInvalid, ErrorKind.InvalidArgument,
                $"'{caCertPath}' is not a CA certificate (use the caCertPath the simulator printed).", caCertPath);
        }

        return new SimulatorTrust(new Uri(uri.GetLeftPart(UriPartial.Authority)), ca);
    }

    /// <summary>True for a request to the simulator's endpoint (scheme, host and port).</summary>
    public bool Covers(Uri? requestUri) =>
        requestUri is { IsAbsoluteUri: true }
        && requestUri.Scheme == Endpoint.Scheme
        && string.Equals(requestUri.IdnHost, Endpoint.IdnHost, StringComparison.OrdinalIgnoreCase)
        && requestUri.Port == Endpoint.Port;

    /// <summary>The server certificate check of every HTTP client that may talk to the simulator
    /// (<see cref="HttpClientHandler.ServerCertificateCustomValidationCallback"/>).</summary>
    public bool Validate(HttpRequestMessage request, X509Certificate2? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Covers(request.RequestUri))
        {
            return errors == SslPolicyErrors.None; // anyone else: exactly the platform's verdict
        }

        // The host name must match; only the chain is judged against the simulator's CA instead of the system's roots.
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // a generated CA publishes no revocation list
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(certificate) && chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(_ca.RawDataMemory.Span);
    }

    /// <summary>A handler whose TLS checks are <see cref="Validate"/>.</summary>
    public HttpClientHandler CreateHandler() => new() { ServerCertificateCustomValidationCallback = Validate };

    /// <summary>An HttpClient for the simulator's endpoint (admin path, registries) that trusts its CA.</summary>
    public HttpClient CreateHttpClient(TimeSpan timeout) => new(CreateHandler(), disposeHandler: true) { Timeout = timeout };

    /// <summary>An AWS SDK <see cref="HttpClientFactory"/> for clients whose ServiceURL is the simulator's endpoint.</summary>
    public HttpClientFactory CreateAwsHttpClientFactory() => new AwsHttpClientFactory(this);

    public void Dispose() => _ca.Dispose();

    /// <summary>Builds the AWS SDK's HttpClients as the SDK does (no redirects unless configured, no decompression, its
    /// timeout), with this trust's certificate check; the SDK caches them per service client.</summary>
    private sealed class AwsHttpClientFactory(SimulatorTrust trust) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig)
        {
            ArgumentNullException.ThrowIfNull(clientConfig);
            var handler = trust.CreateHandler();
            handler.AllowAutoRedirect = clientConfig.AllowAutoRedirect;
            handler.AutomaticDecompression = System.Net.DecompressionMethods.None;
            if (clientConfig.MaxConnectionsPerServer is int max)
            {
                handler.MaxConnectionsPerServer = max;
            }

            var client = new HttpClient(handler, disposeHandler: true);
            if (clientConfig.Timeout is TimeSpan timeout)
            {
                client.Timeout = timeout;
            }

            return client;
        }

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => true;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

        // null: cached per service client, and disposed with it.
        public override string? GetConfigUniqueString(IClientConfig clientConfig) => null;
    }
}
