namespace WinEksPatch.Abstractions;

/// <summary>The ECR operations the module uses: only registry authentication (image data comes over the OCI API).</summary>
public interface IEcrApi
{
    Task<EcrAuthorization> GetAuthorizationTokenAsync(CancellationToken cancellationToken = default);
}

/// <summary>A registry credential. <see cref="ToString"/> never shows the token.</summary>
public sealed record EcrAuthorization(string ProxyEndpoint, string UserName, string Password, DateTimeOffset? ExpiresAt)
{
    public override string ToString() => $"EcrAuthorization {{ ProxyEndpoint = {ProxyEndpoint}, UserName = {UserName}, ExpiresAt = {ExpiresAt:o} }}";
}
