using System.Text;
using WinEksPatch.Simulator.Accounts;

namespace WinEksPatch.Simulator.Auth;

/// <summary>
/// Validates the bearer tokens the Kubernetes endpoint accepts: the kubeconfig's static token, and
/// EKS tokens as `aws eks get-token` and aws-iam-authenticator make them:
/// "k8s-aws-v1." + base64url(presigned STS GetCallerIdentity GET URL), with the signed header
/// x-k8s-aws-id naming the cluster. Like the EKS authenticator, a token is good for 15 minutes after its
/// X-Amz-Date, measured here on the simulated clock. A token signed with another account's keys is refused: the
/// simulator's user of one account has no access entry in the clusters of another.
/// </summary>
public sealed class EksTokenValidator(TimeProvider clock, SimOrganization organization, string clusterAccountId)
{
    public const string Prefix = "k8s-aws-v1.";
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);

    public sealed record Result(bool Ok, string? User, string Reason);

    public Result Validate(string? token, string clusterName)
    {
        if (string.IsNullOrEmpty(token))
        {
            return new(false, null, "no bearer token");
        }

        if (string.Equals(token, SimCredentials.KubernetesStaticToken, StringComparison.Ordinal))
        {
            return new(true, "kubernetes-admin", "static token");
        }

        if (!token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return new(false, null, "unknown token");
        }

        Uri url;
        try
        {
            string b64 = token[Prefix.Length..].Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=');
            url = new Uri(Encoding.UTF8.GetString(Convert.FromBase64String(b64)), UriKind.Absolute);
        }
        catch (Exception e) when (e is FormatException or UriFormatException)
        {
            return new(false, null, "token is not base64url of a URL");
        }

        List<KeyValuePair<string, string>> query = SigV4Verifier.ParseQuery(url.Query);
        if (query.Find(p => p.Key == "Action").Value != "GetCallerIdentity")
        {
            return new(false, null, "token URL is not an STS GetCallerIdentity call");
        }

        string? signedHeaders = query.Find(p => p.Key == "X-Amz-SignedHeaders").Value;
        if (signedHeaders is null || !signedHeaders.Split(';').Contains("x-k8s-aws-id"))
        {
            return new(false, null, "x-k8s-aws-id is not signed");
        }

        // Re-create the request STS would receive: GET of that URL with Host and x-k8s-aws-id headers.
        var headers = new Dictionary<string, string[]>(StringComparer.Ordinal)
        {
            ["host"] = [url.IsDefaultPort ? url.Host : url.Authority],
            ["x-k8s-aws-id"] = [clusterName],
        };
        SigV4Result sig = SigV4Verifier.Verify(new SignedRequest("GET", url.AbsolutePath, url.Query, headers, []), organization.SecretFor);
        if (!sig.IsValid)
        {
            // A wrong cluster name shows up as a signature mismatch, as with real STS.
            return new(false, null, "signature: " + sig.Failure);
        }

        if (sig.Service != "sts")
        {
            return new(false, null, "token is not signed for sts");
        }

        TimeSpan age = clock.GetUtcNow() - sig.SignedAt!.Value;
        if (age > Lifetime)
        {
            return new(false, null, $"token expired ({age.TotalMinutes:0.#} minutes old)");
        }

        SimAccount signer = organization.AccountByAccessKey(sig.AccessKeyId!)!;
        if (!string.Equals(signer.Id, clusterAccountId, StringComparison.Ordinal))
        {
            return new(false, null, $"{signer.UserArn} has no access entry in this cluster (account {clusterAccountId})");
        }

        return new(true, SimCredentials.UserName, "EKS token");
    }
}
