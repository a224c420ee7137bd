using System.Globalization;

namespace WinEksPatch.Simulator.Auth;

/// <summary>
/// The simulator's fixed, documented test credentials. They are not secrets: they only open this
/// loopback simulator, and being fixed lets scripts and docs name them. Each account of a scenario has its own
/// pair, numbered from 1 in the scenario's order; the first account's are the constants below.
/// </summary>
public static class SimCredentials
{
    public const string AccessKeyId = "AKIASIMULATOR0000001";
    public const string SecretAccessKey = "WinEksPatchSimulator/NotASecret/00000000";

    /// <summary>The IAM user the credentials belong to (GetCallerIdentity), in every account.</summary>
    public const string UserName = "wineks-simulator";
    public const string UserId = "AIDASIMULATOR0000001";

    /// <summary>Static bearer token of the kubeconfig's user (the cluster-admin of every cluster).</summary>
    public const string KubernetesStaticToken = "wineks-simulator-static-token-0000000000000000";

    /// <summary>The access key id of the account at <paramref name="index"/> (0-based) of the scenario.</summary>
    public static string AccessKeyIdFor(int index) => "AKIASIMULATOR" + (index + 1).ToString("D7", CultureInfo.InvariantCulture);

    /// <summary>The secret key of the account at <paramref name="index"/> (0-based) of the scenario.</summary>
    public static string SecretAccessKeyFor(int index) => "WinEksPatchSimulator/NotASecret/" + index.ToString("D8", CultureInfo.InvariantCulture);

    /// <summary>The IAM user id of the simulator's user in the account at <paramref name="index"/>.</summary>
    public static string UserIdFor(int index) => "AIDASIMULATOR" + (index + 1).ToString("D7", CultureInfo.InvariantCulture);
}
