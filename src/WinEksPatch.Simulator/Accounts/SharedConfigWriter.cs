using System.Text;

namespace WinEksPatch.Simulator.Accounts;

/// <summary>
/// Writes an AWS shared config file with one profile per account of the scenario: its test credentials, its home
/// region and the simulator's endpoint (endpoint_url; ca_bundle with TLS), so the AWS CLI, the SDKs
/// (AWS_CONFIG_FILE, or their profile file options) and WinEksPatch's -ProfileName reach each account as a
/// platform team's own config reaches theirs. The first account is also [default].
/// </summary>
public static class SharedConfigWriter
{
    public static string Render(IReadOnlyList<SimAccount> accounts, string endpoint, string? caBundlePath)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        var sb = new StringBuilder();
        sb.Append("# The WinEksPatch simulator's accounts (test credentials: they open only this simulator).\n");
        for (int i = 0; i < accounts.Count; i++)
        {
            if (i == 0)
            {
                Profile(sb, "default", accounts[0], endpoint, caBundlePath);
            }

            Profile(sb, "profile " + accounts[i].Profile, accounts[i], endpoint, caBundlePath);
        }

        return sb.ToString();
    }

    private static void Profile(StringBuilder sb, string section, SimAccount account, string endpoint, string? caBundlePath)
    {
        sb.Append('\n').Append('[').Append(section).Append("]\n")
          .Append("# account ").Append(account.Id).Append('\n')
          .Append("region = ").Append(account.HomeRegion).Append('\n')
          .Append("aws_access_key_id = ").Append(account.AccessKeyId).Append('\n')
          .Append("aws_secret_access_key = ").Append(account.SecretAccessKey).Append('\n')
          .Append("endpoint_url = ").Append(endpoint).Append('\n');
        if (caBundlePath is not null)
        {
            sb.Append("ca_bundle = ").Append(caBundlePath).Append('\n');
        }
    }
}
