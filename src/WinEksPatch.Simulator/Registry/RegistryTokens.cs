using System.Security.Cryptography;
using System.Text;

namespace WinEksPatch.Simulator.Registry;

/// <summary>
/// Mints and checks the registry credentials: anonymous bearer tokens of token-auth registries (scoped to
/// repositories, 5 minutes like Docker Hub's) and ECR passwords from GetAuthorizationToken (12 hours). Both are
/// HMAC-signed by a key made at start and expire on the simulated clock.
/// </summary>
public sealed class RegistryTokens
{
    public static readonly TimeSpan BearerLifetime = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan EcrLifetime = TimeSpan.FromHours(12);

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    /// <summary>A bearer token for <paramref name="service"/> that may pull <paramref name="repositories"/>.</summary>
    public string IssueBearer(string service, IEnumerable<string> repositories, DateTimeOffset now) =>
        Sign($"bearer\n{service}\n{(now + BearerLifetime).ToUnixTimeSeconds()}\n{string.Join(',', repositories)}");

    /// <summary>Whether a bearer token is genuine, unexpired, for this registry, and allows pulling the repository (null: any valid token).</summary>
    public bool CheckBearer(string token, string service, string? repository, DateTimeOffset now) =>
        Verify(token) is [ "bearer", string s, string exp, string repos ] && s == service && NotExpired(exp, now)
        && (repository is null || repos.Split(',').Contains(repository, StringComparer.Ordinal));

    /// <summary>The password half of an ECR authorization token (user name "AWS").</summary>
    public string IssueEcrPassword(string accountId, DateTimeOffset expiresAt) => Sign($"ecr\n{accountId}\n{expiresAt.ToUnixTimeSeconds()}");

    public bool CheckEcrPassword(string password, string accountId, DateTimeOffset now) =>
        Verify(password) is [ "ecr", string account, string exp ] && account == accountId && NotExpired(exp, now);

    private static bool NotExpired(string exp, DateTimeOffset now) => long.TryParse(exp, out long seconds) && now.ToUnixTimeSeconds() < seconds;

    private string Sign(string payload)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(payload);
        return Base64Url(bytes) + "." + Base64Url(HMACSHA256.HashData(_key, bytes));
    }

    private string[]? Verify(string token)
    {
        int dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0)
        {
            return null;
        }

        try
        {
            byte[] payload = FromBase64Url(token[..dot]);
            byte[] mac = FromBase64Url(token[(dot + 1)..]);
            return CryptographicOperations.FixedTimeEquals(mac, HMACSHA256.HashData(_key, payload))
                ? Encoding.UTF8.GetString(payload).Split('\n')
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        string s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s + new string('=', (4 - (s.Length % 4)) % 4));
    }
}
