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
