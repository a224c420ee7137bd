using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using WinEksPatch.Abstractions;
using WinEksPatch.Model;
using WinEksPatch.Tests.Infrastructure;
using WinEksPatch.Tests.Workflows;
using WinEksPatch.Windows;
using WinEksPatch.Workflows;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Tests.Replacement;

/// <summary>The follower of an EKS managed node group update, on a fake clock: what it asks EKS for, what it writes as
/// the old nodes leave, and when it names what holds EKS's drain.</summary>
public sealed class ManagedUpdateFollowerTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static KubeNode Node(string name, string instanceId, params string[] taints) =>
        new(name, new Dictionary<string, string> { ["kubernetes.io/os"] = "windows", ["eks.amazonaws.com/nodegroup"] = "win-custom" },
            $"aws:///us-west-2a/{instanceId}", "10.0.20348.5020", "Windows Server 2022 Datacenter", true, false, Start) { TaintKeys = taints };

    private static (ClusterSnapshot Snapshot, NodeGroupFacts Group) Cluster()
    {
        var nodegroup = new EksNodegroup("win-custom", "prod", "CUSTOM", null, "1.31", "ACTIVE", "ON_DEMAND", 1, 4, 2, "lt-1", null, "2", ["eks-win-custom"], [])
        {
            MaxUnavailable = 1,
        };
        var asg = new AutoScalingGroup("eks-win-custom", 1, 4, 2, null, false,
            [new("i-1", "InService", "Healthy", "us-west-2a", false, null), new("i-2", "InService", "Healthy", "us-west-2b", false, null)],
            new Dictionary<string, string>(), []);
        var group = new NodeGroupFacts("win-custom", NodeGroupKind.Managed, nodegroup, asg, new LaunchTemplateReference("lt-1", null, "2"),
            new LaunchTemplateVersion("lt-1", null, 2, false, "ami-new", null, null), null, true);
        Ec2Instance Old(string id, string zone) => new(id, "ami-old", "running", "m5.2xlarge", zone, null, Start.AddDays(-30), new Dictionary<string, string>());
        var snapshot = new ClusterSnapshot
        {
            Cluster = new EksCluster("prod", null, "1.31", "ACTIVE", null, null, null, Start.AddYears(-1)),
            Region = "us-west-2",
            NodeGroups = [group],
            WindowsNodes = [Node("node-1", "i-1"), Node("node-2", "i-2")],
            Instances = new Dictionary<string, Ec2Instance> { ["i-1"] = Old("i-1", "us-west-2a"), ["i-2"] = Old("i-2", "us-west-2b") },
            Images = new Dictionary<string, Ec2Image>(),
            PodsByNode = new Dictionary<string, IReadOnlyList<KubePod>>(),
        };
        return (snapshot, group);
    }

    private static ManagedUpdateFollower Follower(UpdatingEks eks, TimeProvider time) =>
        new(eks, new NoImages(), new AmiCatalog(new NoSsm(), new NoImages(), PatchCalendar.Default, "us-west-2"), PatchCalendar.Default, time);

    [Theory]
    [InlineData(DrainOverrides.None, false)]
    [InlineData(DrainOverrides.EvictUnreplicatedPods, false)]
    [InlineData(DrainOverrides.DeletePodsBlockedByBudget, true)]
    public async Task EKS_update_is_forced_only_by_OverridePodDisruptionBudget_and_each_old_node_is_reported_as_it_leaves(DrainOverrides overrides, bool force)
    {
        var time = new FakeTimeProvider(Start);
        var (snapshot, group) = Cluster();
        var eks = new UpdatingEks();
        var kube = new ManagedCluster(snapshot.WindowsNodes);
        var host = new RecordingHost();
        var run = Follower(eks, time).RunAsync(snapshot, group, kube, new ReplacementOptions { Overrides = overrides }, host, CancellationToken.None);

        await WaitUntil(() => eks.Started);
        Assert.Equal(force, eks.Force);
        Assert.Equal(new LaunchTemplateReference("lt-1", null, "2"), eks.Template);
        foreach (var (node, count) in new[] { (snapshot.WindowsNodes[0], 1), (snapshot.WindowsNodes[1], 2) })
        {
            await kube.Events.Writer.WriteAsync(new WatchEvent<KubeNode>(WatchEventType.Deleted, node));
            await WaitUntil(() => host.Outputs.Count == count);
        }

        eks.Done = true;
        await FinishAsync(run, time);
        var results = host.Outputs.OfType<NodeReplacementResult>().ToList();
        Assert.Equal(["i-1", "i-2"], results.Select(r => r.OldInstanceId));
        Assert.All(results, r => Assert.Equal(("ami-old", "ami-new", ReplacementOutcome.Replaced), (r.OldImageId, r.NewImageId, r.Outcome)));
    }

    [Fact]
    public async Task A_drain_held_for_two_minutes_is_explained_with_the_pod_and_budget_once_they_held_at_two_polls()
    {
        var time = new FakeTimeProvider(Start);
        var (snapshot, group) = Cluster();
        var eks = new UpdatingEks();
        var kube = new ManagedCluster(snapshot.WindowsNodes)
        {
            Pods = [new KubePod("shop", "payments-1", "uid-p", "node-1", "Running", "ReplicaSet", "payments", [], new Dictionary<string, string> { ["app"] = "payments" },
                false, false, 30, null)],
            Budgets = [new KubePdb("shop", "payments", new Dictionary<string, string> { ["app"] = "payments" }, [], "1", null, 0, 1, 1, 1)],
        };
        var host = new RecordingHost();
        var run = Follower(eks, time).RunAsync(snapshot, group, kube, new ReplacementOptions(), host, CancellationToken.None);
        await WaitUntil(() => eks.Started);

        // EKS taints the old node and starts its drain; the budget holds it.
        await kube.Events.Writer.WriteAsync(new WatchEvent<KubeNode>(WatchEventType.Modified, Node("node-1", "i-1", ManagedUpdateFollower.UpdateTaint)));
        string Held() => host.Messages.FirstOrDefault(m => m.StartsWith("WARNING: EKS's drain of win-custom is held by", StringComparison.Ordinal)) ?? "";
        for (var elapsed = TimeSpan.Zero; elapsed < TimeSpan.FromMinutes(2) && Held().Length == 0; elapsed += ManagedUpdateFollower.PollInterval)
        {
            await Task.Delay(50);
            time.Advance(ManagedUpdateFollower.PollInterval);
        }

        Assert.Equal("", Held()); // not before two minutes: a budget at its minimum while a replacement starts is no stall yet
        for (var polls = 0; polls < 4 && Held().Length == 0; polls++)
        {
            await Task.Delay(50);
            time.Advance(ManagedUpdateFollower.PollInterval);
            await WaitUntil(() => eks.Polls > polls, allowTimeout: true);
        }

        Assert.Equal("WARNING: EKS's drain of win-custom is held by pod shop/payments-1 on node-1 (PodDisruptionBudget shop/payments: 1 healthy, 1 needed); " +
            "EKS gives up after 15 minutes with PodEvictionFailure unless the update was started with -OverridePodDisruptionBudget (EKS's force).", Held());

        eks.Done = true;
        await FinishAsync(run, time);
    }

    /// <summary>Advances the fake clock a poll at a time until the follower ends. One advance is not enough: if the
    /// follower has not yet armed its next poll's timer when the clock moves (a loaded machine), that advance is lost and
    /// it would wait forever on a clock nobody moves.</summary>
    private static async Task FinishAsync(Task run, FakeTimeProvider time)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!run.IsCompleted && DateTime.UtcNow < deadline)
        {
            time.Advance(ManagedUpdateFollower.PollInterval);
            await Task.WhenAny(run, Task.Delay(20));
        }

        await run.WaitAsync(TimeSpan.FromSeconds(1));
    }

    private static async Task WaitUntil(Func<bool> condition, bool allowTimeout = false)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.True(allowTimeout, "condition not met within 30 s");
                return;
            }

            await Task.Delay(5);
        }
    }

    /// <summary>EKS: one update, InProgress until <see cref="Done"/>.</summary>
    private sealed class UpdatingEks : EksApiStub
    {
        public volatile bool Done;

        public bool Started { get; private set; }

        public bool Force { get; private set; }

        public LaunchTemplateReference? Template { get; private set; }

        public int Polls { get; private set; }

        public override Task<EksUpdate> UpdateNodegroupVersionAsync(string clusterName, string nodegroupName, LaunchTemplateReference? launchTemplate, string? releaseVersion,
            bool force, CancellationToken cancellationToken = default)
        {
            (Template, Force, Started) = (launchTemplate, force, true);
            return Task.FromResult(new EksUpdate("u-1", "InProgress", "VersionUpdate", Start, []));
        }

        public override Task<EksUpdate> DescribeUpdateAsync(string clusterName, string nodegroupName, string updateId, CancellationToken cancellationToken = default)
        {
            Polls++;
            return Task.FromResult(new EksUpdate(updateId, Done ? "Successful" : "InProgress", "VersionUpdate", Start, []));
        }
    }

    private sealed class ManagedCluster(IReadOnlyList<KubeNode> nodes) : KubernetesApiStub
    {
        public Channel<WatchEvent<KubeNode>> Events { get; } = Channel.CreateUnbounded<WatchEvent<KubeNode>>();

        public IReadOnlyList<KubePod> Pods { get; init; } = [];

        public IReadOnlyList<KubePdb> Budgets { get; init; } = [];

        public override Task<(IReadOnlyList<KubeNode> Items, string? ResourceVersion)> ListNodesForWatchAsync(string? labelSelector, CancellationToken cancellationToken = default) =>
            Task.FromResult<(IReadOnlyList<KubeNode>, string?)>((nodes, "1"));

        public override async IAsyncEnumerable<WatchEvent<KubeNode>> WatchNodesAsync(string? labelSelector, string? resourceVersion,
            [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var e in Events.Reader.ReadAllAsync(cancellationToken))
            {
                yield return e;
            }
        }

        public override Task<IReadOnlyList<KubePdb>> ListPdbsAsync(CancellationToken cancellationToken = default) => Task.FromResult(Budgets);

        public override Task<IReadOnlyList<KubePod>> ListPodsAsync(string? @namespace = null, string? fieldSelector = null, string? labelSelector = null,
            CancellationToken cancellationToken = default) => Task.FromResult(Pods);
    }

    private sealed class NoImages : Ec2ApiStub
    {
        public override Task<IReadOnlyList<Ec2Image>> DescribeImagesAsync(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<Ec2Image>>([]);
    }

    private sealed class NoSsm : SsmApiStub;
}
