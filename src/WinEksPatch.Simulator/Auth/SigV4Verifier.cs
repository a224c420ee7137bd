using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace WinEksPatch.Simulator.Auth;

public enum SigV4Failure
{
    None,
    /// <summary>No Authorization header and no X-Amz-Credential query parameter.</summary>
    Missing,
    /// <summary>The Authorization header or the presign parameters cannot be parsed.</summary>
    Malformed,
    UnknownAccessKey,
    SignatureMismatch,
}

/// <summary>What the signature said about the request: who signed it, for which service and when.</summary>
public sealed record SigV4Result(SigV4Failure Failure, string? Message, string? AccessKeyId, string? Service, string? Region, DateTimeOffset? SignedAt, bool Presigned)
{
    public bool IsValid => Failure == SigV4Failure.None;
}

/// <summary>The parts of an HTTP request that Signature Version 4 covers.</summary>
public sealed record SignedRequest(string Method, string RawPath, string RawQuery, IReadOnlyDictionary<string, string[]> Headers, byte[] Body);

/// <summary>
/// Verifies AWS Signature Version 4 (header-signed and presigned-URL requests) as AWS does:
/// canonical request, string to sign, derived key, HMAC. See the AWS docs "Create a signed AWS API request".
/// The credential scope also routes the request: its service name picks the emulated service.
/// Clock skew is not checked for API calls: SDKs sign with the wall clock while the simulated clock may
/// run faster. (EKS tokens do check their age, on the simulated clock: see EksTokenValidator.)
/// </summary>
public static class SigV4Verifier
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    private static readonly string EmptyBodyHash = Hex(SHA256.HashData([]));

    /// <summary>Reads the credential scope without checking anything (to route and to pick the error shape).</summary>
    public static (string? AccessKeyId, string? Service, string? Region) PeekScope(string? authorization, string rawQuery)
    {
        string? credential = null;
        if (authorization is not null && authorization.StartsWith(Algorithm, StringComparison.Ordinal))
        {
            ParseAuthorization(authorization).TryGetValue("Credential", out credential);
        }
        else
        {
            ParseQuery(rawQuery).FirstOrDefault(p => p.Key == "X-Amz-Credential").Deconstruct(out _, out credential);
        }

        string[]? scope = credential?.Split('/');
        return scope is { Length: 5 } ? (scope[0], scope[3], scope[2]) : (null, null, null);
    }

    public static SigV4Result Verify(SignedRequest request, Func<string, string?> secretFor)
    {
        string? authorization = Header(request, "authorization");
        List<KeyValuePair<string, string>> query = ParseQuery(request.RawQuery);
        bool presigned = authorization is null && query.Exists(p => p.Key == "X-Amz-Credential");
        if (authorization is null && !presigned)
        {
            return Fail(SigV4Failure.Missing, "Request is missing Authentication Token", presigned);
        }

        string? credential, signedHeaders, signature, amzDate;
        if (presigned)
        {
            credential = QueryValue(query, "X-Amz-Credential");
            signedHeaders = QueryValue(query, "X-Amz-SignedHeaders");
            signature = QueryValue(query, "X-Amz-Signature");
            amzDate = QueryValue(query, "X-Amz-Date");
            if (QueryValue(query, "X-Amz-Algorithm") != Algorithm)
            {
                return Fail(SigV4Failure.Malformed, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"", presigned);
            }
        }
        else
        {
            if (!authorization!.StartsWith(Algorithm + " ", StringComparison.Ordinal))
            {
                return Fail(SigV4Failure.Malformed, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", presigned);
            }

            Dictionary<string, string> parts = ParseAuthorization(authorization);
            parts.TryGetValue("Credential", out credential);
            parts.TryGetValue("SignedHeaders", out signedHeaders);
            parts.TryGetValue("Signature", out signature);
            amzDate = Header(request, "x-amz-date");
            if (credential is null || signedHeaders is null || signature is null)
            {
                return Fail(SigV4Failure.Malformed, $"Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization={authorization}", presigned);
            }
        }

        string[]? scope = credential?.Split('/');
        if (scope is not { Length: 5 } || scope[4] != "aws4_request" || signedHeaders is null || signature is null || amzDate is null
            || !DateTimeOffset.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset signedAt))
        {
            return Fail(SigV4Failure.Malformed, "The request signature is malformed: credential scope, signed headers, signature or date missing.", presigned);
        }

        string accessKeyId = scope[0], date = scope[1], region = scope[2], service = scope[3];
        string? secret = secretFor(accessKeyId);
        if (secret is null)
        {
            return new SigV4Result(SigV4Failure.UnknownAccessKey, "The security token included in the request is invalid.", accessKeyId, service, region, signedAt, presigned);
        }

        string canonicalHeaders = CanonicalHeaders(request, signedHeaders);
        string canonicalQuery = CanonicalQuery(query.Where(p => !(presigned && p.Key == "X-Amz-Signature")));

        // Payload hash: the header's value when the client sent one (it is signed), else the body's hash.
        // Presigned URLs carry no body; some signers use UNSIGNED-PAYLOAD there.
        var payloadHashes = new List<string>();
        if (presigned)
        {
            payloadHashes.Add(EmptyBodyHash);
            payloadHashes.Add("UNSIGNED-PAYLOAD");
        }
        else
        {
            string bodyHash = Hex(SHA256.HashData(request.Body));
            string? declared = Header(request, "x-amz-content-sha256");
            if (declared is not null && declared != bodyHash && declared != "UNSIGNED-PAYLOAD")
            {
                return new SigV4Result(SigV4Failure.SignatureMismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.", accessKeyId, service, region, signedAt, presigned);
            }

            payloadHashes.Add(declared ?? bodyHash);
        }

        // Non-S3 signers encode the (already encoded) path once more; accept both spellings.
        string[] paths = [CanonicalPath(request.RawPath, doubleEncode: true), CanonicalPath(request.RawPath, doubleEncode: false)];
        byte[] key = SigningKey(secret, date, region, service);
        string scopeText = $"{date}/{region}/{service}/aws4_request";
        foreach (string path in paths.Distinct())
        {
            foreach (string payloadHash in payloadHashes)
            {
                string canonicalRequest = string.Join('\n', request.Method.ToUpperInvariant(), path, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash);
                string stringToSign = string.Join('\n', Algorithm, amzDate, scopeText, Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest))));
                string expected = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
                if (CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature.ToLowerInvariant())))
                {
                    return new SigV4Result(SigV4Failure.None, null, accessKeyId, service, region, signedAt, presigned);
                }
            }
        }

        return new SigV4Result(SigV4Failure.SignatureMismatch,
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
            accessKeyId, service, region, signedAt, presigned);
    }

    private static SigV4Result Fail(SigV4Failure failure, string message, bool presigned) => new(failure, message, null, null, null, null, presigned);

    private static string? Header(SignedRequest request, string name) =>
        request.Headers.TryGetValue(name, out string[]? values) && values.Length > 0 ? string.Join(',', values) : null;

    private static string? QueryValue(List<KeyValuePair<string, string>> query, string name) =>
        query.Find(p => p.Key == name).Value;

    private static Dictionary<string, string> ParseAuthorization(string authorization)
    {
        var parts = new Dictionary<string, string>(StringComparer.Ordinal);
        string rest = authorization.Length > Algorithm.Length ? authorization[Algorithm.Length..] : "";
        foreach (string part in rest.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                parts[part[..eq].Trim()] = part[(eq + 1)..].Trim();
            }
        }

        return parts;
    }

    /// <summary>Splits a raw query string into decoded pairs, keeping order and duplicates.</summary>
    public static List<KeyValuePair<string, string>> ParseQuery(string rawQuery)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (string pair in rawQuery.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            string k = eq < 0 ? pair : pair[..eq];
            string v = eq < 0 ? "" : pair[(eq + 1)..];
            result.Add(new(Uri.UnescapeDataString(k), Uri.UnescapeDataString(v)));
        }

        return result;
    }

    private static string CanonicalQuery(IEnumerable<KeyValuePair<string, string>> pairs) =>
        string.Join('&', pairs
            .Select(p => (Key: UriEncode(p.Key), Value: UriEncode(p.Value)))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => p.Key + "=" + p.Value));

    private static string CanonicalHeaders(SignedRequest request, string signedHeaders)
    {
        var sb = new StringBuilder();
        foreach (string name in signedHeaders.Split(';'))
        {
            request.Headers.TryGetValue(name, out string[]? values);
            string value = string.Join(',', (values ?? []).Select(CollapseSpaces));
            sb.Append(name).Append(':').Append(value).Append('\n');
        }

        return sb.ToString();
    }

    private static string CollapseSpaces(string value)
    {
        var sb = new StringBuilder(value.Length);
        bool space = false;
        foreach (char c in value.Trim())
        {
            if (c == ' ')
            {
                if (!space)
                {
                    sb.Append(c);
                }

                space = true;
            }
            else
            {
                sb.Append(c);
                space = false;
            }
        }

        return sb.ToString();
    }

    private static string CanonicalPath(string rawPath, bool doubleEncode)
    {
        if (string.IsNullOrEmpty(rawPath))
        {
            return "/";
        }

        IEnumerable<string> segments = rawPath.Split('/').Select(s => doubleEncode ? UriEncode(s) : UriEncode(Uri.UnescapeDataString(s)));
        return string.Join('/', segments);
    }

    /// <summary>RFC 3986 encoding as SigV4 wants it: everything but unreserved characters, upper-case hex.</summary>
    public static string UriEncode(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            char c = (char)b;
            if (c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.' or '~')
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    private static byte[] SigningKey(string secret, string date, string region, string service)
    {
        byte[] kDate = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secret), Encoding.UTF8.GetBytes(date));
        byte[] kRegion = HMACSHA256.HashData(kDate, Encoding.UTF8.GetBytes(region));
        byte[] kService = HMACSHA256.HashData(kRegion, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(kService, Encoding.UTF8.GetBytes("aws4_request"));
    }

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}
