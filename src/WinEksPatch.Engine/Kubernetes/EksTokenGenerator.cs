using System.Text;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;

namespace WinEksPatch.Kubernetes;

/// <summary>A bearer token for the EKS API server and when it should be replaced. <see cref="ToString"/> hides the token.</summary>
public sealed record EksToken(string Value, DateTimeOffset SignedAt, DateTimeOffset RefreshAt)
{
    public override string ToString() => $"EksToken {{ SignedAt = {SignedAt:o}, RefreshAt = {RefreshAt:o} }}";
}

/// <summary>
/// Makes EKS tokens the way <c>aws eks get-token</c> and aws-iam-authenticator do: <c>k8s-aws-v1.</c> followed by
/// the unpadded base64url of a presigned STS <c>GetCallerIdentity</c> GET URL whose signed headers include
/// <c>x-k8s-aws-id: &lt;cluster name&gt;</c>. EKS accepts such a URL for 15 minutes after its X-Amz-Date; we replace it
/// after 14 (as the AWS CLI's expirationTimestamp does), and sign with the injected clock so that simulated time and
/// token age agree.
/// </summary>
public sealed class EksTokenGenerator(AWSCredentials credentials, RegionEndpoint region, TimeProvider time, string? stsEndpoint = null)
{
    /// <summary>How long a token is used before a new one is signed (EKS accepts 15 minutes).</summary>
    public static readonly TimeSpan RefreshAfter = TimeSpan.FromMinutes(14);

    public async Task<EksToken> CreateAsync(string clusterName, CancellationToken cancellationToken = default)
    {
        var identity = await credentials.GetCredentialsAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var config = new AmazonSecurityTokenServiceConfig { RegionEndpoint = region };

        // ServiceURL folds in AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL / endpoint_url, so the simulator's STS is used when set.
        var endpoint = stsEndpoint ?? config.ServiceURL ?? $"https://sts.{region.SystemName}.{Aws.AwsPartition.DnsSuffix(region.SystemName)}";
        IRequest request = new DefaultRequest(new GetCallerIdentityRequest(), "SecurityTokenService")
        {
            HttpMethod = "GET",
            Endpoint = new Uri(endpoint),
            ResourcePath = "/",
            UseQueryString = true,
        };
        request.Parameters["Action"] = "GetCallerIdentity";
        request.Parameters["Version"] = "2011-06-15";
        request.Parameters["X-Amz-Expires"] = "60";
        if (identity.UseToken)
        {
            request.Parameters["X-Amz-Security-Token"] = identity.Token;
        }

        request.Headers["x-k8s-aws-id"] = clusterName;
        var signedAt = time.GetUtcNow();
        var signature = AWS4PreSignedUrlSigner.SignRequest(request, config, null, identity.AccessKey, identity.SecretKey,
            "sts", region.SystemName, signedAt.UtcDateTime);
        var url = AmazonServiceClient.ComposeUrl(request).AbsoluteUri + "&" + signature.ForQueryParameters;
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(url)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return new EksToken("k8s-aws-v1." + encoded, signedAt, signedAt + RefreshAfter);
    }
}
