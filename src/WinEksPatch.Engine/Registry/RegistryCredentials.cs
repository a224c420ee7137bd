using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using WinEksPatch.Abstractions;

namespace WinEksPatch.Registry;

/// <summary>A user name and password for a registry. <see cref="ToString"/> hides the password.</summary>
public sealed record RegistryCredential(string UserName, string Password)
{
    public override string ToString() => $"RegistryCredential {{ UserName = {UserName} }}";

    public string BasicHeaderValue => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{UserName}:{Password}"));
}

/// <summary>
/// Where registry credentials come from, in order: ECR registries get a token from ECR GetAuthorizationToken (with
/// the module's AWS identity, for the registry's own region); other registries use the user's docker config
/// (<c>$DOCKER_CONFIG/config.json</c> or <c>~/.docker/config.json</c>, <c>auths.&lt;host&gt;.auth</c>); else anonymous.
/// </summary>
public sealed partial class RegistryCredentials(Func<string, IEcrApi?> ecrForRegion, string? dockerConfigPath = null)
{
    private readonly Dictionary<string, RegistryCredential?> _cache = new(StringComparer.OrdinalIgnoreCase);
    private readonly SemaphoreSlim _lock = new(1, 1);

    public static bool IsEcr(string registry, out string region)
    {
        var m = EcrHost().Match(registry);
        region = m.Success ? m.Groups[2].Value : "";
        return m.Success;
    }

    public async Task<RegistryCredential?> GetAsync(string registry, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_cache.TryGetValue(registry, out var credential))
            {
                credential = IsEcr(registry, out var region) && ecrForRegion(region) is { } ecr
                    ? await FromEcrAsync(ecr, cancellationToken).ConfigureAwait(false)
                    : FromDockerConfig(registry);
                _cache[registry] = credential;
            }

            return credential;
        }
        finally
        {
            _lock.Release();
        }
    }

    private static async Task<RegistryCredential> FromEcrAsync(IEcrApi ecr, CancellationToken cancellationToken)
    {
        var token = await ecr.GetAuthorizationTokenAsync(cancellationToken).ConfigureAwait(false);
        return new RegistryCredential(token.UserName, token.Password);
    }

    private RegistryCredential? FromDockerConfig(string registry)
    {
        var path = dockerConfigPath ?? Path.Combine(
            Environment.GetEnvironmentVariable("DOCKER_CONFIG") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker"),
            "config.json");
        if (!File.Exists(path))
        {
            return null;
        }

        using var document = JsonDocument.Parse(File.ReadAllText(path));
        if (!document.RootElement.TryGetProperty("auths", out var auths))
        {
            return null;
        }

        foreach (var entry in auths.EnumerateObject())
        {
            // Keys may be "host", "https://host" or "https://index.docker.io/v1/".
            var host = entry.Name.Replace("https://", "", StringComparison.OrdinalIgnoreCase).Replace("http://", "", StringComparison.OrdinalIgnoreCase).TrimEnd('/');
            host = host.Split('/')[0];
            var matches = string.Equals(host, registry, StringComparison.OrdinalIgnoreCase)
                || (registry == ImageReference.DockerHub && host is "index.docker.io" or "registry-1.docker.io");
            if (matches && entry.Value.TryGetProperty("auth", out var auth) && auth.GetString() is { Length: > 0 } encoded)
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    return new RegistryCredential(decoded[..colon], decoded[(colon + 1)..]);
                }
            }
        }

        return null;
    }

    [GeneratedRegex(@"^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$", RegexOptions.CultureInvariant)]
    private static partial Regex EcrHost();
}
