using System.Text;
using System.Text.Json;
using WinEksPatch.Abstractions;
using WinEksPatch.Aws.Thin;

namespace WinEksPatch.Aws.Ecr;

/// <summary>ECR over JSON 1.1 (service model ecr-2015-09-21): registry authentication.</summary>
public sealed class EcrClient(ThinServiceClient client) : IEcrApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<EcrAuthorization> GetAuthorizationTokenAsync(CancellationToken cancellationToken = default)
    {
        var request = new ThinRequest("GetAuthorizationToken") { JsonBody = "{}" };
        var response = await AwsErrorTranslator.CallAsync(request.Operation, null,
            () => client.SendAsync(request, cancellationToken)).ConfigureAwait(false);
        var body = JsonSerializer.Deserialize<GetAuthorizationTokenResponse>(response.Body, Json);
        var data = body?.AuthorizationData?.FirstOrDefault()
            ?? throw new InvalidDataException("GetAuthorizationToken returned no authorizationData.");

        // The token is base64("AWS:<password>"), as `docker login` expects it split.
        var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(data.AuthorizationToken ?? ""));
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            throw new InvalidDataException("GetAuthorizationToken returned a token that is not user:password.");
        }

        DateTimeOffset? expires = data.ExpiresAt is { } epoch ? DateTimeOffset.FromUnixTimeMilliseconds((long)(epoch * 1000)) : null;
        return new EcrAuthorization(data.ProxyEndpoint ?? "", decoded[..colon], decoded[(colon + 1)..], expires);
    }

    private sealed record GetAuthorizationTokenResponse(List<AuthorizationDataShape>? AuthorizationData);

    private sealed record AuthorizationDataShape(string? AuthorizationToken, double? ExpiresAt, string? ProxyEndpoint);
}
