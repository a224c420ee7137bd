using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace WinEksPatch.Simulator.Auth;

/// <summary>
/// A throwaway CA made at start: it signs the TLS certificate of the Kubernetes endpoint (127.0.0.1,
/// ::1, localhost), and its certificate goes into the kubeconfig and into EKS certificateAuthority.data,
/// so clients verify TLS exactly as against a real cluster (no "insecure-skip-tls-verify").
/// </summary>
public sealed class CertificateAuthority : IDisposable
{
    private CertificateAuthority(X509Certificate2 caCertificate, X509Certificate2 serverCertificate)
    {
        CaCertificate = caCertificate;
        ServerCertificate = serverCertificate;
        CaPem = PemEncoding.Write("CERTIFICATE", caCertificate.RawData) is { } chars ? new string(chars) + "\n" : "";
    }

    /// <summary>The CA certificate (public part only).</summary>
    public X509Certificate2 CaCertificate { get; }

    /// <summary>The server certificate with its private key, for Kestrel.</summary>
    public X509Certificate2 ServerCertificate { get; }

    public string CaPem { get; }

    /// <summary>base64 of the PEM text: the form of kubeconfig certificate-authority-data and EKS certificateAuthority.data.</summary>
    public string CaDataBase64 => Convert.ToBase64String(Encoding.ASCII.GetBytes(CaPem));

    public static CertificateAuthority Create(DateTimeOffset now)
    {
        using RSA caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=wineks-simulator-ca", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));

        // Valid from a day ago (clients' clocks) for ten years (the simulated clock may run far ahead).
        DateTimeOffset notBefore = now.AddDays(-1);
        using X509Certificate2 caWithKey = caRequest.CreateSelfSigned(notBefore, now.AddYears(10));

        using RSA serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        san.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(san.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(caWithKey, true, false));
        serverRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(serverRequest.PublicKey, false));

        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using X509Certificate2 serverPublic = serverRequest.Create(caWithKey, notBefore, now.AddYears(10).AddDays(-1), serial);
        using X509Certificate2 serverWithKey = serverPublic.CopyWithPrivateKey(serverKey);

        // Round-trip through PKCS#12: SslStream on Windows cannot use an ephemeral (never persisted) key.
        var server = new X509Certificate2(serverWithKey.Export(X509ContentType.Pkcs12), (string?)null, X509KeyStorageFlags.Exportable);
        var ca = new X509Certificate2(caWithKey.RawData);
        return new CertificateAuthority(ca, server);
    }

    public void Dispose()
    {
        CaCertificate.Dispose();
        ServerCertificate.Dispose();
    }
}
