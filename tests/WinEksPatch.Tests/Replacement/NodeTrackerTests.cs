using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using WinEksPatch.Abstractions;
using WinEksPatch.Tests.Infrastructure;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Tests.Replacement;

public sealed class NodeTrackerTests
{
    private static KubeNode Node(bool ready) => new("ip-10-0-0-1", new Dictionary<string, string> { ["kubernetes.io/os"] = "windows" },
        "aws:///us-west-2a/i-0123456789abcdef0", "10.0.20348.5622", "Windows Server 2022 Datacenter", ready, false, DateTimeOffset.UnixEpoch);

    [Fact]
    public async Task A_wait_for_settled_nodes_wakes_when_the_settle_period_ends_without_a_node_event()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        var kube = new ScriptedNodes();
        await using var tracker = new NodeTracker(kube, time);
        await tracker.StartAsync(CancellationToken.None);

        // The node turns Ready through the watch; from then on nothing more happens on the API server.
        await kube.Events.Writer.WriteAsync(new WatchEvent<KubeNode>(WatchEventType.Modified, Node(ready: true)));
        while (!tracker.Nodes.Single().Ready)
        {
            await Task.Delay(10);
        }

        var settle = TimeSpan.FromSeconds(30);
        Assert.Equal(settle, tracker.UntilNextSettled(settle));
        // A recheck far longer than the settle: only the settle-aware wake-up can end this wait in time.
        Task<bool> wait = tracker.WaitUntilAsync(nodes => tracker.IsUsable(nodes.Single(), settle), TimeSpan.FromHours(1), TimeSpan.FromMinutes(10),
            CancellationToken.None, settle);

        time.Advance(TimeSpan.FromSeconds(29));
        await Task.Delay(100);
        Assert.False(wait.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Null(tracker.UntilNextSettled(settle));
    }

    private const string PodIps = "vpc.amazonaws.com/PrivateIPv4Address";

    [Fact]
    public async Task A_Ready_Windows_node_counts_only_once_it_offers_its_pod_ips_and_carries_no_startup_taint()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        var kube = new ScriptedNodes();
        await using var tracker = new NodeTracker(kube, time);
        await tracker.StartAsync(CancellationToken.None);
        string[] required = [PodIps];
        Task<bool> wait = tracker.WaitUntilAsync(nodes => nodes.Any(n => tracker.IsUsable(n, TimeSpan.Zero, required)), TimeSpan.FromHours(1), TimeSpan.FromMinutes(10),
            CancellationToken.None);

        // Ready, but the VPC resource controller has not advertised the pod IPs yet; then Ready with them but still tainted.
        await kube.Events.Writer.WriteAsync(new WatchEvent<KubeNode>(WatchEventType.Modified, Node(ready: true)));
        await kube.Events.Writer.WriteAsync(new WatchEvent<KubeNode>(WatchEventType.Modified,
            Node(ready: true) with { ExtendedResources = [PodIps], TaintKeys = ["node.cloudprovider.kubernetes.io/uninitialized"] }));
        while (tracker.Nodes.Single().ExtendedResources.Count == 0)
        {
            await Task.Delay(10);
        }

        await Task.Delay(100);
        Assert.False(wait.IsCompleted);
        Assert.False(tracker.IsUsable(tracker.Nodes.Single(), TimeSpan.Zero), "the startup taint alone keeps it out");
        Assert.True(tracker.IsUsable(tracker.Nodes.Single() with { TaintKeys = ["example.com/dedicated"] }, TimeSpan.Zero, required), "other taints do not");
        // Its boot's "usable" time follows the same rule: none while tainted or cordoned.
        Assert.Null(tracker.UsableSince(tracker.Nodes.Single(), required));
        Assert.Null(tracker.UsableSince(tracker.Nodes.Single() with { TaintKeys = [], Unschedulable = true }, required));
        Assert.NotNull(tracker.UsableSince(tracker.Nodes.Single() with { TaintKeys = [] }, required));

        // The event that completes it wakes the wait at once, long before the 10-minute recheck.
        await kube.Events.Writer.WriteAsync(new WatchEvent<KubeNode>(WatchEventType.Modified, Node(ready: true) with { ExtendedResources = [PodIps] }));
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Replacements_must_offer_the_extended_resources_every_old_node_offers()
    {
        KubeNode On(string instance, params string[] resources) => Node(ready: true) with
        {
            Name = instance, ProviderId = $"aws:///us-west-2a/{instance}", ExtendedResources = resources,
        };
        Ec2Instance Old(string id) => new(id, "ami-old", null, null, null, null, null, new Dictionary<string, string>());
        KubeNode[] nodes = [On("i-1", PodIps, "nvidia.com/gpu"), On("i-2", PodIps), On("i-3", "example.com/other"), On("i-4")];

        Assert.Equal([PodIps], NodeReplacement.RequiredResources(nodes, [Old("i-1"), Old("i-2")]));
        Assert.Equal(["nvidia.com/gpu", PodIps], NodeReplacement.RequiredResources(nodes, [Old("i-1")]));
        Assert.Empty(NodeReplacement.RequiredResources(nodes, [Old("i-1"), Old("i-4")]));
        Assert.Empty(NodeReplacement.RequiredResources(nodes, [Old("i-9")])); // no node seen: nothing to require
    }

    [Theory]
    [InlineData("vpc.amazonaws.com/PrivateIPv4Address", true)]
    [InlineData("nvidia.com/gpu", true)]
    [InlineData("cpu", false)]
    [InlineData("hugepages-2Mi", false)]
    [InlineData("kubernetes.io/batch", false)]
    [InlineData("example.kubernetes.io/thing", false)]
    public void Extended_resources_are_domain_prefixed_names_outside_kubernetes_io(string name, bool extended) =>
        Assert.Equal(extended, KubeNode.IsExtendedResource(name));

    /// <summary>One NotReady node listed; watch events as the test writes them.</summary>
    private sealed class ScriptedNodes : KubernetesApiStub
    {
        public Channel<WatchEvent<KubeNode>> Events { get; } = Channel.CreateUnbounded<WatchEvent<KubeNode>>();

        public override Task<(IReadOnlyList<KubeNode> Items, string? ResourceVersion)> ListNodesForWatchAsync(string? labelSelector, CancellationToken cancellationToken = default) =>
            Task.FromResult<(IReadOnlyList<KubeNode>, string?)>(([Node(ready: false)], "1"));

        public override async IAsyncEnumerable<WatchEvent<KubeNode>> WatchNodesAsync(string? labelSelector, string? resourceVersion,
            [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var e in Events.Reader.ReadAllAsync(cancellationToken))
            {
                yield return e;
            }
        }
    }
}
