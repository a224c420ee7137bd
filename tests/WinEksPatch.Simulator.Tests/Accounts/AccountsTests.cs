using WinEksPatch.Simulator.Accounts;
using WinEksPatch.Simulator.Auth;
using WinEksPatch.Simulator.Clock;
using WinEksPatch.Simulator.Scenarios;
using WinEksPatch.Simulator.Tests.Infrastructure;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Tests.Accounts;

public sealed class AccountsTests
{
    private static readonly DateTimeOffset Start = new(2026, 10, 20, 8, 0, 0, TimeSpan.Zero);

    private static ScenarioDefinition Fleet(params AccountDefinition[] accounts) => new() { Accounts = [.. accounts] };

    private static AccountDefinition Account(string id, string profile, params string[] regions) =>
        new() { Id = id, Profile = profile, Regions = [.. regions.Select(r => new RegionDefinition { Region = r })] };

    [Fact]
    public void A_scenario_without_accounts_is_one_account_in_one_region()
    {
        var scenario = new ScenarioDefinition { AccountId = "210987654321", Region = "eu-central-1" };
        var organization = scenario.Organization();
        (AccountDefinition account, IReadOnlyList<ScenarioDefinition> regions) = Assert.Single(organization);
        Assert.Equal(("210987654321", ScenarioDefinition.DefaultProfile), (account.Id, account.Profile));
        Assert.Same(scenario, Assert.Single(regions));
    }

    [Fact]
    public void Each_region_of_each_account_is_a_world_scenario_with_the_shared_catalog_and_its_own_clusters()
    {
        AccountDefinition prod = Account("777788889999", "prod", "us-west-2", "eu-west-1");
        prod.Regions[1].Clusters = [new ClusterDefinition { Name = "prod-euw1" }];
        ScenarioDefinition scenario = Fleet(Account("111122223333", "dev", "us-west-2"), prod);
        scenario.Seed = 7;
        scenario.AmiCatalog.FirstMonth = "2026-01";

        var organization = scenario.Organization();
        Assert.Equal(["dev", "prod"], organization.Select(a => a.Account.Profile));
        ScenarioDefinition euw1 = organization[1].Regions[1];
        Assert.Equal(("777788889999", "eu-west-1", 7, "2026-01"), (euw1.AccountId, euw1.Region, euw1.Seed, euw1.AmiCatalog.FirstMonth));
        Assert.Equal("prod-euw1", Assert.Single(euw1.Clusters).Name);
        Assert.Empty(organization[1].Regions[0].Clusters);
    }

    [Theory]
    [InlineData("twice", "names account 111122223333 twice")]
    [InlineData("profile", "gives the profile name 'dev' to two accounts")]
    [InlineData("region", "names the region us-west-2 twice")]
    [InlineData("badregion", "names 'us-west', which is not a region code")]
    [InlineData("badid", "'1111' is not 12 digits")]
    [InlineData("noregion", "names no region")]
    [InlineData("toplevel", "put them under their account and region")]
    public void A_malformed_organization_is_refused_naming_what_is_wrong(string problem, string expected)
    {
        ScenarioDefinition scenario = problem switch
        {
            "twice" => Fleet(Account("111122223333", "dev", "us-west-2"), Account("111122223333", "prod", "us-west-2")),
            "profile" => Fleet(Account("111122223333", "dev", "us-west-2"), Account("444455556666", "dev", "us-west-2")),
            "region" => Fleet(Account("111122223333", "dev", "us-west-2", "us-west-2")),
            "badregion" => Fleet(Account("111122223333", "dev", "us-west")),
            "badid" => Fleet(Account("1111", "dev", "us-west-2")),
            "noregion" => Fleet(Account("111122223333", "dev")),
            _ => Fleet(Account("111122223333", "dev", "us-west-2")),
        };
        if (problem == "toplevel")
        {
            scenario.Clusters = [new ClusterDefinition { Name = "stray" }];
        }

        InvalidDataException e = Assert.Throws<InvalidDataException>(() => scenario.Organization());
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_organization_finds_accounts_by_key_and_makes_a_region_world_once_on_first_use()
    {
        var clock = new SimClock(Start, 1);
        SimAccount dev = new(0, "111122223333", "dev", "us-west-2");
        SimAccount prod = new(1, "777788889999", "prod", "us-west-2");
        int made = 0;
        var organization = new SimOrganization([dev, prod], [new SimWorld(clock, "us-west-2", dev.Id), new SimWorld(clock, "us-west-2", prod.Id)],
            (account, region) =>
            {
                made++;
                return new SimWorld(clock, region, account.Id);
            });

        Assert.Equal(SimCredentials.AccessKeyId, dev.AccessKeyId);
        Assert.Equal(SimCredentials.SecretAccessKey, organization.SecretFor(dev.AccessKeyId));
        Assert.Equal("AKIASIMULATOR0000002", prod.AccessKeyId);
        Assert.Same(prod, organization.AccountByAccessKey(prod.AccessKeyId));
        Assert.Null(organization.SecretFor("AKIAUNKNOWN000000000"));
        Assert.DoesNotContain(prod.SecretAccessKey, prod.ToString(), StringComparison.Ordinal);

        SimWorld tokyo = organization.WorldOf(prod, "ap-northeast-1");
        Assert.Same(tokyo, organization.WorldOf(prod, "ap-northeast-1"));
        Assert.Equal(1, made);
        Assert.Equal(("777788889999", "ap-northeast-1"), (tokyo.AccountId, tokyo.Region));
        Assert.NotSame(organization.WorldOf(dev, "us-west-2"), organization.WorldOf(prod, "us-west-2"));
        Assert.Equal(3, organization.Worlds.Count);
        Assert.Null(organization.Find("999999999999", "us-west-2"));
    }

    [Fact]
    public void The_shared_config_file_has_a_profile_per_account_and_the_first_as_default()
    {
        SimAccount dev = new(0, "111122223333", "dev", "us-west-2");
        SimAccount prod = new(1, "777788889999", "prod", "eu-west-1");
        string config = SharedConfigWriter.Render([dev, prod], "https://127.0.0.1:4566", "/tmp/ca.crt");
        string[] sections = config.Split('\n').Where(l => l.StartsWith('[')).ToArray();
        Assert.Equal(["[default]", "[profile dev]", "[profile prod]"], sections);
        string prodSection = config[config.IndexOf("[profile prod]", StringComparison.Ordinal)..];
        Assert.Contains("region = eu-west-1\n", prodSection, StringComparison.Ordinal);
        Assert.Contains($"aws_access_key_id = {prod.AccessKeyId}\n", prodSection, StringComparison.Ordinal);
        Assert.Contains($"aws_secret_access_key = {prod.SecretAccessKey}\n", prodSection, StringComparison.Ordinal);
        Assert.Contains("endpoint_url = https://127.0.0.1:4566\n", prodSection, StringComparison.Ordinal);
        Assert.Contains("ca_bundle = /tmp/ca.crt\n", prodSection, StringComparison.Ordinal);
    }

    [Fact]
    public void An_EKS_token_opens_only_clusters_of_the_account_whose_key_signed_it()
    {
        var clock = new SimClock(Start, 1);
        SimAccount dev = new(0, "111122223333", "dev", "us-west-2");
        SimAccount prod = new(1, "777788889999", "prod", "us-west-2");
        var organization = new SimOrganization([dev, prod], [new SimWorld(clock, "us-west-2", dev.Id)], (a, r) => new SimWorld(clock, r, a.Id));
        var prodClusters = new EksTokenValidator(clock, organization, prod.Id);
        string signedBy(SimAccount account) => SignedHttp.EksToken("prod-usw2", "https://sts.us-west-2.amazonaws.com", Start.UtcDateTime, account.SecretAccessKey, accessKeyId: account.AccessKeyId);

        Assert.True(prodClusters.Validate(signedBy(prod), "prod-usw2").Ok);
        EksTokenValidator.Result refused = prodClusters.Validate(signedBy(dev), "prod-usw2");
        Assert.False(refused.Ok);
        Assert.Contains("arn:aws:iam::111122223333:user/wineks-simulator has no access entry", refused.Reason, StringComparison.Ordinal);
    }
}
