using WinEksPatch.Simulator.Auth;

namespace WinEksPatch.Simulator.Accounts;

/// <summary>
/// One AWS account of the simulated organization: its id, the profile name its credentials are written under (the
/// shared config file the simulator writes, and the module's -ProfileName), its home region (the profile's region, and
/// where account-wide IAM lives), the organizational unit it is in (if the scenario names one) and its own test
/// credentials (<see cref="SimCredentials"/>, numbered by <see cref="Index"/>).
/// </summary>
public sealed record SimAccount(int Index, string Id, string Profile, string HomeRegion, string? OrganizationalUnit = null)
{
    public string AccessKeyId => SimCredentials.AccessKeyIdFor(Index);

    public string SecretAccessKey => SimCredentials.SecretAccessKeyFor(Index);

    public string UserId => SimCredentials.UserIdFor(Index);

    /// <summary>The simulator's IAM user in this account, the principal of every call signed with its keys.</summary>
    public string UserArn => $"arn:aws:iam::{Id}:user/{SimCredentials.UserName}";

    /// <summary>No secret in logs and messages, even a test one.</summary>
    public override string ToString() => $"{Profile} ({Id})";
}
