using System.Text.Json;
using System.Text.RegularExpressions;

namespace WinEksPatch.Simulator.Scenarios;

public sealed partial class ScenarioDefinition
{
    /// <summary>The accounts of a multi-account scenario (the fleet), each with the regions it has clusters in. Absent: the
    /// scenario is one account (<see cref="AccountId"/>) in one region (<see cref="Region"/>) with <see cref="Clusters"/>.
    /// Present: the top-level <see cref="Clusters"/> must be empty, and <see cref="AmiCatalog"/>, <see cref="ContainerImages"/>,
    /// <see cref="InstanceProfiles"/> and <see cref="Seed"/> are what every region has unless it says otherwise.</summary>
    public List<AccountDefinition>? Accounts { get; set; }

    /// <summary>The profile name of a single-account scenario's account.</summary>
    public const string DefaultProfile = "simulator";

    /// <summary>
    /// The scenario as accounts, each with one world scenario per region (its clusters, in that account and region), in
    /// the file's order; the first account's first region is the primary world. Throws InvalidDataException naming what
    /// is wrong: a malformed or repeated account id, profile or region, or clusters both at the top and under accounts.
    /// </summary>
    public IReadOnlyList<(AccountDefinition Account, IReadOnlyList<ScenarioDefinition> Regions)> Organization()
    {
        if (Accounts is null or { Count: 0 })
        {
            var only = new AccountDefinition { Id = AccountId, Profile = DefaultProfile, Regions = [new RegionDefinition { Region = Region, Clusters = Clusters }] };
            Check(only);
            return [(only, [this])];
        }

        if (Clusters.Count > 0 || Faults is { Count: > 0 })
        {
            throw new InvalidDataException("The scenario has top-level \"clusters\" or \"faults\" and \"accounts\": put them under their account and region.");
        }

        var profiles = new HashSet<string>(StringComparer.Ordinal);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var organization = new List<(AccountDefinition, IReadOnlyList<ScenarioDefinition>)>();
        foreach (AccountDefinition account in Accounts)
        {
            Check(account);
            if (!ids.Add(account.Id))
            {
                throw new InvalidDataException($"The scenario names account {account.Id} twice.");
            }

            if (!profiles.Add(account.Profile!))
            {
                throw new InvalidDataException($"The scenario gives the profile name '{account.Profile}' to two accounts.");
            }

            organization.Add((account, [.. account.Regions.Select(r => ForRegion(account, r))]));
        }

        return organization;
    }

    /// <summary>The world scenario of a region of an account the scenario does not name: what every region has, no clusters.</summary>
    public ScenarioDefinition ForEmptyRegion(string accountId, string region) =>
        ForRegion(new AccountDefinition { Id = accountId, Profile = DefaultProfile }, new RegionDefinition { Region = region });

    private ScenarioDefinition ForRegion(AccountDefinition account, RegionDefinition region) => new()
    {
        Description = $"{Description} ({account.Profile}, {region.Region})",
        Region = region.Region,
        AccountId = account.Id,
        Seed = region.Seed ?? Seed,
        AmiCatalog = AmiCatalog,
        ContainerImages = ContainerImages,
        InstanceProfiles = region.InstanceProfiles ?? InstanceProfiles,
        Clusters = region.Clusters,
        Faults = region.Faults,
        Alarms = region.Alarms,
    };

    private static void Check(AccountDefinition account)
    {
        if (!AccountIdPattern().IsMatch(account.Id))
        {
            throw new InvalidDataException($"The scenario's account id '{account.Id}' is not 12 digits.");
        }

        if (string.IsNullOrWhiteSpace(account.Profile) || account.Profile.Any(c => char.IsWhiteSpace(c) || c is '[' or ']'))
        {
            throw new InvalidDataException($"Account {account.Id} needs a profile name without spaces or brackets (\"profile\").");
        }

        if (account.Profile == "default")
        {
            throw new InvalidDataException($"Account {account.Id}: 'default' is the config file's own section (the first account); give the account a name of its own.");
        }

        if (account.OrganizationalUnit is { } ou && !OrganizationalUnitPattern().IsMatch(ou))
        {
            throw new InvalidDataException($"Account {account.Id}: '{ou}' is not an organizational unit id (ou-xxxx-xxxxxxxx).");
        }

        if (account.Regions.Count == 0)
        {
            throw new InvalidDataException($"Account {account.Id} ({account.Profile}) names no region.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (RegionDefinition region in account.Regions)
        {
            if (!RegionPattern().IsMatch(region.Region))
            {
                throw new InvalidDataException($"Account {account.Id} names '{region.Region}', which is not a region code (e.g. us-west-2).");
            }

            if (!seen.Add(region.Region))
            {
                throw new InvalidDataException($"Account {account.Id} names the region {region.Region} twice.");
            }
        }
    }

    [GeneratedRegex("^[0-9]{12}$")]
    private static partial Regex AccountIdPattern();

    /// <summary>An organizational unit id, as AWS Organizations and SSM's TargetLocations write it.</summary>
    [GeneratedRegex("^ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$")]
    public static partial Regex OrganizationalUnitPattern();

    /// <summary>Region codes as AWS writes them: us-west-2, eu-central-1, us-gov-west-1, ap-southeast-3.</summary>
    [GeneratedRegex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$")]
    public static partial Regex RegionPattern();
}

/// <summary>An account of a multi-account scenario.</summary>
public sealed class AccountDefinition
{
    /// <summary>The 12-digit account id.</summary>
    public string Id { get; set; } = "";

    /// <summary>The name of the account's profile in the shared config file the simulator writes (e.g. "prod").</summary>
    public string? Profile { get; set; }

    /// <summary>The regions the account has clusters (or other resources) in; the first is its home region.</summary>
    public List<RegionDefinition> Regions { get; set; } = [];

    /// <summary>The AWS Organizations organizational unit the account is in (ou-xxxx-xxxxxxxx), which SSM Automation's
    /// TargetLocations can name instead of the account; none when absent.</summary>
    public string? OrganizationalUnit { get; set; }
}

/// <summary>One region of an account of a multi-account scenario: what exists there.</summary>
public sealed class RegionDefinition
{
    public string Region { get; set; } = "";

    /// <summary>The scenario's seed unless set.</summary>
    public int? Seed { get; set; }

    public List<ClusterDefinition> Clusters { get; set; } = [];

    /// <summary>The scenario's instance profiles unless set.</summary>
    public List<string>? InstanceProfiles { get; set; }

    /// <summary>Fault rules in force from the start in this account and region.</summary>
    public List<JsonElement>? Faults { get; set; }

    /// <summary>CloudWatch metric alarms in this account and region.</summary>
    public List<AlarmDefinition>? Alarms { get; set; }
}
