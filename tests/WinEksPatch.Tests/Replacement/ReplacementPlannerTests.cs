using WinEksPatch.Abstractions;
using WinEksPatch.Model;
using WinEksPatch.Windows;
using WinEksPatch.Workflows;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Tests.Replacement;

public sealed class ReplacementPlannerTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static Ec2Instance Instance(string id, int ageDays, bool beingDrained = false) =>
        new(id, "ami-old", "running", "m5.2xlarge", "us-west-2a", $"ip-{id}", Start.AddDays(-ageDays),
            beingDrained ? new Dictionary<string, string> { [RolloutState.InstanceTag] = RolloutState.Draining } : new Dictionary<string, string>());

    private static KubeNode Node(string instanceId) =>
        new($"node-{instanceId}", new Dictionary<string, string> { ["kubernetes.io/os"] = "windows" }, $"aws:///us-west-2a/{instanceId}", "10.0.20348.5020",
            "Windows Server 2022 Datacenter", true, false, Start);

    private static KubePod Pod(string name, string node, string? ownerKind = "ReplicaSet", bool emptyDir = false, string app = "web") =>
        new("shop", name, "uid-" + name, node, "Running", ownerKind, ownerKind == null ? null : app, [], new Dictionary<string, string> { ["app"] = app },
            false, emptyDir, 30, null);

    private static KubePdb Budget(string app, int allowed) =>
        new("shop", app, new Dictionary<string, string> { ["app"] = app }, [], "1", null, allowed, 1, 1, 1);

    private static (ClusterSnapshot Snapshot, NodeGroupFacts Group, IReadOnlyList<Ec2Instance> Old) Cluster(IReadOnlyList<Ec2Instance> instances, IReadOnlyList<KubePod> pods)
    {
        var group = new AutoScalingGroup("win-ng", 2, 8, instances.Count, null, false,
            instances.Select(i => new AutoScalingGroupInstance(i.InstanceId, "InService", "Healthy", "us-west-2a", false, null)).ToList(), new Dictionary<string, string>(), []);
        var facts = new NodeGroupFacts("win-ng", NodeGroupKind.SelfManaged, null, group, null, null, null, true);
        var nodes = instances.Select(i => Node(i.InstanceId)).ToList();
        var snapshot = new ClusterSnapshot
        {
            Cluster = new EksCluster("prod", null, "1.31", "ACTIVE", null, null, null, Start.AddYears(-1)),
            Region = "us-west-2",
            NodeGroups = [facts],
            WindowsNodes = nodes,
            Instances = instances.ToDictionary(i => i.InstanceId),
            Images = new Dictionary<string, Ec2Image>(),
            PodsByNode = pods.GroupBy(p => p.NodeName!).ToDictionary(g => g.Key, g => (IReadOnlyList<KubePod>)g.ToList()),
        };
        return (snapshot, facts, instances);
    }

    [Fact]
    public void The_plan_takes_the_nodes_in_the_order_the_run_does_in_windows_of_surge_plus_unavailable_above_the_floor()
    {
        var (snapshot, group, old) = Cluster([Instance("i-a", 30), Instance("i-b", 90), Instance("i-c", 60, beingDrained: true), Instance("i-d", 10), Instance("i-e", 45)], []);
        var plan = ReplacementPlanner.Plan(snapshot, group, "ami-new", old, desired: 5, surge: 2, unavailable: 1, [], null, PatchCalendar.Default, resuming: true,
            DrainOverrides.None);

        // A resumed rollout's half-drained node first, then the oldest; three at once, each later one after the step a
        // window before it.
        Assert.Equal(3, plan.Window);
        Assert.Equal(["i-c", "i-b", "i-e", "i-a", "i-d"], plan.Steps.Select(s => s.InstanceId));
        Assert.Equal([1, 2, 3, 4, 5], plan.Steps.Select(s => s.Step));
        Assert.Equal([null, null, null, 1, 2], plan.Steps.Select(s => s.AfterStep));
        Assert.Equal("its drain began in an earlier run: finished first", plan.Steps[0].Reason);
        Assert.StartsWith("oldest first (launched ", plan.Steps[1].Reason, StringComparison.Ordinal);
        Assert.Equal("4. i-a (node-i-a): oldest first (launched 2026-10-02); starts once step 1 is done and the floor holds", plan.Steps[3].ToString());
        Assert.Equal(4, plan.CapacityFloor);
        Assert.True(plan.Resuming);
        Assert.Equal(5, plan.NodesToReplace);
    }

    [Fact]
    public void The_preflight_says_what_the_drain_will_do_with_each_override_and_without()
    {
        var node = "node-i-a";
        var (snapshot, group, old) = Cluster([Instance("i-a", 30)],
            [Pod("payments-1", node, app: "payments"), Pod("debug-shell", node, ownerKind: null), Pod("cache-1", node, emptyDir: true, app: "cache")]);
        IReadOnlyList<KubePdb> budgets = [Budget("payments", allowed: 0)];

        var strict = ReplacementPlanner.Plan(snapshot, group, "ami-new", old, 1, 1, 0, budgets, null, PatchCalendar.Default, false, DrainOverrides.None).Preflight;
        Assert.Contains(strict, f => f.Kind == "PodDisruptionBudget" && f.Subject == "shop/payments" && f.Effect.EndsWith("and the rollout stops after -DrainTimeout", StringComparison.Ordinal));
        Assert.Contains(strict, f => f.Kind == "NoController" && f.Subject == "shop/debug-shell" && f.Effect.Contains("pass -EvictUnreplicatedPods", StringComparison.Ordinal));
        Assert.Contains(strict, f => f.Kind == "LocalStorage" && f.Subject == "shop/cache-1");

        var overridden = ReplacementPlanner.Plan(snapshot, group, "ami-new", old, 1, 1, 0, budgets, null, PatchCalendar.Default, false,
            DrainOverrides.DeletePodsBlockedByBudget | DrainOverrides.EvictUnreplicatedPods).Preflight;
        Assert.Contains(overridden, f => f.Kind == "PodDisruptionBudget" && f.Effect.Contains("-OverridePodDisruptionBudget deletes the pod(s) still blocked", StringComparison.Ordinal));
        Assert.Contains(overridden, f => f.Kind == "NoController" && f.Effect.Contains("-EvictUnreplicatedPods evicts it and it is gone for good", StringComparison.Ordinal));
    }

    [Fact]
    public void A_pod_under_two_budgets_and_a_workload_of_one_replica_are_named_in_the_preflight()
    {
        var node = "node-i-a";
        var (snapshot, group, old) = Cluster([Instance("i-a", 30)], [Pod("web-1", node, app: "web"), Pod("web-2", node, app: "web"), Pod("payments-1", node, app: "payments")]);
        IReadOnlyList<KubePdb> budgets = [Budget("web", allowed: 1), Budget("web", allowed: 1) with { Name = "web-canary" }, Budget("payments", allowed: 1)];

        var preflight = ReplacementPlanner.Plan(snapshot, group, "ami-new", old, 1, 1, 0, budgets, null, PatchCalendar.Default, false, DrainOverrides.None).Preflight;

        var twoBudgets = preflight.Where(f => f.Kind == ReplacementPlanner.MultipleBudgets).ToList();
        Assert.Equal(["shop/web-1", "shop/web-2"], twoBudgets.Select(f => f.Subject));
        Assert.All(twoBudgets, f => Assert.Contains("selected by 2 PodDisruptionBudgets (shop/web, shop/web-canary) on node-i-a", f.Effect, StringComparison.Ordinal));
        Assert.Equal(["shop/payments"], preflight.Where(f => f.Kind == "SingleReplica").Select(f => f.Subject));
        Assert.DoesNotContain(preflight, f => f.Kind == ReplacementPlanner.MultipleBudgets && f.Subject == "shop/payments-1");
    }

    [Fact]
    public void Pacing_to_Fast_Launch_is_planned_only_with_a_surge_to_hold_and_the_finding_says_why_not()
    {
        var (snapshot, group, old) = Cluster([Instance("i-a", 30), Instance("i-b", 90), Instance("i-c", 60), Instance("i-d", 10)], []);
        // Two snapshots on hand an hour after enabling (a target of two, six made at a time), for four launches.
        var fastLaunch = new FastLaunchPreflight("ami-new", "enabled", 2, 6, Start.AddHours(-1)) { Now = Start };
        ReplacementPlan Plan(int surge, int unavailable, bool pace)
        {
            var plan = ReplacementPlanner.Plan(snapshot, group, "ami-new", old, 4, surge, unavailable, [], null, PatchCalendar.Default, false, DrainOverrides.None,
                fastLaunch: fastLaunch, paceToFastLaunch: pace);
            return new ReplacementPlan(plan.PacedToFastLaunch, plan.EstimatedDuration, plan.Preflight.Single(f => f.Kind == FastLaunchPreflight.Kind).Effect);
        }

        var unpaced = Plan(surge: 2, unavailable: 0, pace: false);
        var paced = Plan(surge: 2, unavailable: 0, pace: true);
        var noSurge = Plan(surge: 0, unavailable: 1, pace: true);
        var withUnavailable = Plan(surge: 2, unavailable: 1, pace: true);

        Assert.False(unpaced.Paced);
        Assert.True(paced.Paced);
        Assert.Contains("-PaceToFastLaunch holds the launches beyond those on hand", paced.Effect, StringComparison.Ordinal);
        Assert.True(paced.Duration > unpaced.Duration, "the paced estimate counts the wait for EC2's next round");
        Assert.False(noSurge.Paced);
        Assert.Contains("with -MaxSurge 0 every launch brings the group back to its size and goes at once", noSurge.Effect, StringComparison.Ordinal);
        Assert.True(withUnavailable.Paced);
        Assert.Contains("with -MaxUnavailable above 0, a replacement that brings the group back to its size goes at once", withUnavailable.Effect, StringComparison.Ordinal);
    }

    private sealed record ReplacementPlan(bool Paced, TimeSpan Duration, string Effect);
}
