using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Workflows.FleetPlan;

namespace WinEksPatch.Tests.FleetPlan;

public sealed class FleetPlanFileTests
{
    private const string Yaml = """
        name: patch-tuesday
        rollout:
          imageSource: EksLatest
          maxSurge: "2"
        waves:
          - name: dev
            soakTime: "00:30:00"
            targets:
              - { profileName: dev, region: us-west-2, clusterName: dev-usw2 }
          - name: prod
            maxConcurrency: 2
            maxErrors: 1
            gates: { maxRestartIncrease: 3, noPendingPods: false, alarms: ["{ClusterName}-windows-5xx", "{Region}-nat-errors"] }
            maintenanceWindow: { schedule: "cron(0 22 ? * TUE#2 *)", scheduleOffset: 2, duration: 6, scheduleTimezone: Europe/Berlin }
            targets:
              - profileName: prod
                region: us-west-2
                clusterName: prod-usw2
                nodeGroupName: [win-managed]
              - { profileName: prod, region: eu-west-1, clusterName: prod-euw1 }
        """;

    [Fact]
    public void A_YAML_plan_reads_into_the_plan_with_defaults_for_what_it_leaves_out()
    {
        WinEksFleetPlan plan = FleetPlanFile.Parse(Yaml, yaml: true, "plan.yaml");
        Assert.Equal("patch-tuesday", plan.Name);
        Assert.True(plan.Rollback);
        Assert.Equal(("2", "0"), (plan.Rollout.MaxSurge, plan.Rollout.MaxUnavailable));
        Assert.Equal(["dev", "prod"], plan.Waves.Select(w => w.Name));
        Assert.Equal(TimeSpan.FromMinutes(30), plan.Waves[0].SoakTime);
        WinEksFleetWave prod = plan.Waves[1];
        Assert.Equal((2, 1, 3, false, true), (prod.MaxConcurrency, prod.MaxErrors, prod.Gates.MaxRestartIncrease, prod.Gates.NoPendingPods, prod.Gates.NodesReady));
        Assert.Equal(("Europe/Berlin", 2, 6), (prod.MaintenanceWindow!.ScheduleTimezone, prod.MaintenanceWindow.ScheduleOffset, prod.MaintenanceWindow.Duration));
        Assert.Equal(["win-managed"], prod.Targets[0].NodeGroupName);
        Assert.Equal(["prod-euw1-windows-5xx", "eu-west-1-nat-errors"], prod.Gates.AlarmsFor(prod.Targets[1]));
        Assert.Empty(plan.Waves[0].Gates.AlarmsFor(plan.Waves[0].Targets[0]));
        Assert.Equal(["dev/us-west-2/dev-usw2", "prod/us-west-2/prod-usw2", "prod/eu-west-1/prod-euw1"], plan.AllTargets.Select(t => t.Key));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_plan_written_as_JSON_or_YAML_reads_back_the_same(bool yaml)
    {
        WinEksFleetPlan plan = FleetPlanFile.Parse(Yaml, yaml: true, "plan.yaml");
        string text = FleetPlanFile.Write(plan, yaml);
        WinEksFleetPlan back = FleetPlanFile.Parse(text, yaml, "written");
        Assert.Equal(FleetPlanFile.Write(plan, yaml: false), FleetPlanFile.Write(back, yaml: false));
        Assert.DoesNotContain("allTargets", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"key\"", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("maxConcurency: 2", "waves[0]", "maxConcurency")]
    [InlineData("maxConcurrency: lots", "waves[0].maxConcurrency", "a whole number")]
    [InlineData("soakTime: half an hour", "waves[0].soakTime", "time span")]
    public void A_field_the_plan_does_not_have_or_cannot_read_is_named_with_its_path(string line, string path, string expected)
    {
        string yaml = $"""
            name: p
            waves:
              - name: w
                {line}
                targets: [ {"{"} region: us-west-2, clusterName: c {"}"} ]
            """;
        var e = Assert.Throws<WinEksPatchException>(() => FleetPlanFile.Parse(yaml, yaml: true, "plan.yaml"));
        Assert.Equal(ErrorIds.FleetPlanInvalid, e.ErrorId);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("imageSource: ami-0123456789abcdef0", "rollout.imageSource", "belongs to one account and region")]
    [InlineData("maxSurge: \"0\"", "rollout", "both 0")]
    [InlineData("maxUnavailable: 120%", "rollout.maxUnavailable", "at most 100%")]
    public void The_rollout_is_checked(string line, string field, string expected)
    {
        string yaml = $"""
            name: p
            rollout:
              {line}
            waves:
              - name: w
                targets: [ {"{"} region: us-west-2, clusterName: c {"}"} ]
            """;
        var e = Assert.Throws<WinEksPatchException>(() => FleetPlanFile.Parse(yaml, yaml: true, "plan.yaml"));
        Assert.Contains($"{field}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"{Cluster}-5xx\"", "holds a placeholder the plan does not fill in")]
    [InlineData("\"\"", "is not a CloudWatch alarm name")]
    [InlineData("\"a\\tb\"", "is not a CloudWatch alarm name")]
    public void Alarm_names_are_checked(string alarm, string expected)
    {
        string json = $$"""{ "name": "p", "waves": [ { "name": "w", "gates": { "alarms": [ {{alarm}} ] }, "targets": [ { "region": "us-west-2", "clusterName": "c" } ] } ] }""";
        var e = Assert.Throws<WinEksPatchException>(() => FleetPlanFile.Parse(json, yaml: false, "p.json"));
        Assert.Contains("waves[0].gates.alarms: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Targets_are_checked_and_a_cluster_is_patched_once()
    {
        string Plan(string targets) => $$"""{ "name": "p", "waves": [ { "name": "a", "targets": [ {{targets}} ] } ] }""";
        var twice = Assert.Throws<WinEksPatchException>(() => FleetPlanFile.Parse(
            Plan("""{ "region": "us-west-2", "clusterName": "c" }, { "region": "us-west-2", "clusterName": "c" }"""), yaml: false, "p.json"));
        Assert.Contains("waves[0].targets[1]: (default)/us-west-2/c is already waves[0].targets[0]", twice.Message, StringComparison.Ordinal);
        var region = Assert.Throws<WinEksPatchException>(() => FleetPlanFile.Parse(Plan("""{ "region": "Oregon", "clusterName": "c" }"""), yaml: false, "p.json"));
        Assert.Contains("waves[0].targets[0].region: 'Oregon' is not a region code", region.Message, StringComparison.Ordinal);
        var none = Assert.Throws<WinEksPatchException>(() => FleetPlanFile.Parse("""{ "name": "p", "waves": [] }""", yaml: false, "p.json"));
        Assert.Contains("waves: a plan has at least one wave", none.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_FleetPlanNotFound()
    {
        var e = Assert.Throws<WinEksPatchException>(() => FleetPlanFile.Read(Path.Combine(Path.GetTempPath(), "no-such-plan-" + Guid.NewGuid() + ".yaml")));
        Assert.Equal(ErrorIds.FleetPlanNotFound, e.ErrorId);
    }
}
