using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using WinEksPatch.Errors;
using WinEksPatch.Simulator;

namespace WinEksPatch.Tests.Aws;

/// <summary>The module trusts a TLS simulator's CA for that simulator's AWS endpoint only, and never anything else.</summary>
public sealed class SimulatorTrustTests : IDisposable
{
    private const string Endpoint = "https://127.0.0.1:44321";
    private readonly string _folder = Directory.CreateTempSubdirectory("wineks-trust-").FullName;
    private readonly X509Certificate2 _simulatorCa;
    private readonly X509Certificate2 _otherCa;
    private readonly string _caPath;

    public SimulatorTrustTests()
    {
        _simulatorCa = NewCa("CN=wineks-simulator-ca");
        _otherCa = NewCa("CN=someone-else");
        _caPath = Path.Combine(_folder, "ca.crt");
        File.WriteAllText(_caPath, _simulatorCa.ExportCertificatePem());
    }

    public void Dispose()
    {
        _simulatorCa.Dispose();
        _otherCa.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public void An_http_endpoint_needs_no_trust()
    {
        Assert.Null(SimulatorTrust.For("http://127.0.0.1:4566", _caPath));
        Assert.Null(SimulatorTrust.For(Endpoint, null));
    }

    [Fact]
    public void Accepts_a_certificate_for_the_endpoint_that_chains_to_the_simulator_CA()
    {
        using var trust = SimulatorTrust.For(Endpoint, _caPath)!;
        using var leaf = NewLeaf(_simulatorCa);
        Assert.True(trust.Validate(Request(Endpoint + "/_sim/clock"), leaf, null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.True(trust.Validate(Request("https://127.0.0.1:44321/registry/x/v2/"), leaf, null, SslPolicyErrors.None));
    }

    [Fact]
    public void Refuses_another_CA_a_name_mismatch_and_a_missing_certificate_at_the_endpoint()
    {
        using var trust = SimulatorTrust.For(Endpoint, _caPath)!;
        using var foreign = NewLeaf(_otherCa);
        using var leaf = NewLeaf(_simulatorCa);
        Assert.False(trust.Validate(Request(Endpoint + "/"), foreign, null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(trust.Validate(Request(Endpoint + "/"), leaf, null, SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(trust.Validate(Request(Endpoint + "/"), null, null, SslPolicyErrors.RemoteCertificateNotAvailable));
    }

    [Fact]
    public void Trusts_the_simulator_CA_nowhere_else_and_leaves_other_hosts_to_the_platform()
    {
        using var trust = SimulatorTrust.For(Endpoint, _caPath)!;
        using var leaf = NewLeaf(_simulatorCa);
        foreach (var elsewhere in new[] { "https://127.0.0.1:44322/", "https://localhost:44321/", "https://ec2.us-west-2.amazonaws.com/" })
        {
            Assert.False(trust.Validate(Request(elsewhere), leaf, null, SslPolicyErrors.RemoteCertificateChainErrors), elsewhere);
            Assert.True(trust.Validate(Request(elsewhere), leaf, null, SslPolicyErrors.None), elsewhere); // the platform's verdict stands
        }
    }

    [Fact]
    public void A_file_that_is_no_CA_certificate_is_SimulatorCaCertificateInvalid()
    {
        using var leaf = NewLeaf(_simulatorCa);
        var leafPath = Path.Combine(_folder, "leaf.crt");
        File.WriteAllText(leafPath, leaf.ExportCertificatePem());
        var notPem = Path.Combine(_folder, "kubeconfig");
        File.WriteAllText(notPem, "apiVersion: v1\nkind: Config\n");
        foreach (var path in new[] { leafPath, notPem, Path.Combine(_folder, "missing.crt") })
        {
            var e = Assert.Throws<WinEksPatchException>(() => SimulatorTrust.For(Endpoint, path));
            Assert.Equal(ErrorIds.SimulatorCaCertificateInvalid, e.ErrorId);
            Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        }
    }

    private static HttpRequestMessage Request(string url) => new(HttpMethod.Get, url);

    private static X509Certificate2 NewCa(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    private static X509Certificate2 NewLeaf(X509Certificate2 issuer)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        return request.Create(issuer, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddMonths(6), RandomNumberGenerator.GetBytes(12));
    }
}
