namespace WinEksPatch.Simulator.Auth;

/// <summary>
/// The simulator's fixed, documented test credentials. They are not secrets: they only open this
/// loopback simulator, and being fixed lets scripts and docs name them.
/// </summary>
public static class SimCredentials
{
    public const string AccessKeyId = "AKIASIMULATOR0000001";
    public const string SecretAccessKey = "WinEksPatchSimulator/NotASecret/00000000";

    /// <summary>The IAM user the credentials belong to (GetCallerIdentity).</summary>
    public const string UserName = "wineks-simulator";
    public const string UserId = "AIDASIMULATOR0000001";

    /// <summary>Static bearer token of the kubeconfig's user (the cluster-admin of every cluster).</summary>
    public const string KubernetesStaticToken = "wineks-simulator-static-token-0000000000000000";

    /// <summary>Secret key for an access key id, or null when the key is unknown.</summary>
    public static string? SecretFor(string accessKeyId) =>
        string.Equals(accessKeyId, AccessKeyId, StringComparison.Ordinal) ? SecretAccessKey : null;
}
