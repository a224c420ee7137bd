using System.Runtime.CompilerServices;
using System.Threading.Channels;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Tests.Infrastructure;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Tests.Replacement;

/// <summary>The drain's safety rules, and the switch each one needs to be overridden (never -Force).</summary>
public sealed class DrainerTests
{
    private static KubePod Pod(string name, string? ownerKind = "ReplicaSet", bool emptyDir = false) =>
        new("shop", name, "uid-" + name, "ip-10-0-0-1", "Running", ownerKind, ownerKind == null ? null : name + "-rs", [], new Dictionary<string, string>(),
            false, emptyDir, 30, null);

    [Fact]
    public async Task A_pod_that_no_controller_recreates_stops_the_drain_and_nothing_is_evicted_unless_EvictUnreplicatedPods()
    {
        var cluster = new DrainCluster(Pod("web-1"), Pod("debug-shell", ownerKind: null));
        var refused = await Assert.ThrowsAsync<WinEksPatchException>(() =>
            new Drainer(cluster, TimeProvider.System).DrainAsync("ip-10-0-0-1", TimeSpan.FromMinutes(5), DrainOverrides.DeletePodsBlockedByBudget, _ => { }, CancellationToken.None));
        Assert.Equal(ErrorIds.DrainRefused, refused.ErrorId);
        Assert.Contains("shop/debug-shell", refused.Message, StringComparison.Ordinal);
        Assert.Contains("-EvictUnreplicatedPods", refused.Message, StringComparison.Ordinal);
        Assert.Empty(cluster.Evicted);

        var allowed = await new Drainer(cluster, TimeProvider.System).DrainAsync("ip-10-0-0-1", TimeSpan.FromMinutes(5), DrainOverrides.EvictUnreplicatedPods, _ => { },
            CancellationToken.None);
        Assert.True(allowed.Completed);
        Assert.Equal(["shop/debug-shell", "shop/web-1"], cluster.Evicted.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Pods_with_emptyDir_data_are_evicted_like_any_other()
    {
        var cluster = new DrainCluster(Pod("cache-1", emptyDir: true));
        var outcome = await new Drainer(cluster, TimeProvider.System).DrainAsync("ip-10-0-0-1", TimeSpan.FromMinutes(5), DrainOverrides.None, _ => { }, CancellationToken.None);
        Assert.True(outcome.Completed);
        Assert.Equal(["shop/cache-1"], cluster.Evicted);
    }

    [Fact]
    public async Task A_pod_a_budget_still_blocks_at_the_timeout_is_never_deleted_without_OverridePodDisruptionBudget()
    {
        var cluster = new DrainCluster(Pod("payments-1"), Pod("web-1")) { Blocked = { "payments-1" } };
        // A timeout shorter than the 5 s eviction retry: the blocked pod is given up at once.
        var outcome = await new Drainer(cluster, TimeProvider.System).DrainAsync("ip-10-0-0-1", TimeSpan.FromSeconds(1), DrainOverrides.EvictUnreplicatedPods, _ => { },
            CancellationToken.None);
        Assert.False(outcome.Completed);
        Assert.Empty(outcome.Deleted);
        Assert.Empty(cluster.Deleted);
        Assert.Contains(outcome.Blockers, b => b.StartsWith("shop/payments-1 (PodDisruptionBudget payments", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_OverridePodDisruptionBudget_the_pods_still_blocked_at_the_timeout_are_deleted_and_named()
    {
        var cluster = new DrainCluster(Pod("payments-1"), Pod("web-1")) { Blocked = { "payments-1" } };
        var outcome = await new Drainer(cluster, TimeProvider.System).DrainAsync("ip-10-0-0-1", TimeSpan.FromSeconds(1), DrainOverrides.DeletePodsBlockedByBudget, _ => { },
            CancellationToken.None);
        Assert.True(outcome.Completed);
        Assert.Equal(["shop/payments-1"], outcome.Deleted);
        Assert.Equal(["shop/payments-1"], cluster.Deleted);
        Assert.Equal(["shop/web-1"], cluster.Evicted);
    }

    /// <summary>One node's pods: evictions succeed unless the pod is in <see cref="Blocked"/> (429, budget "payments"); an
    /// evicted or deleted pod is gone at once, as the pod watch reports.</summary>
    private sealed class DrainCluster(params KubePod[] pods) : KubernetesApiStub
    {
        private readonly Channel<WatchEvent<KubePod>> _events = Channel.CreateUnbounded<WatchEvent<KubePod>>();

        public HashSet<string> Blocked { get; } = [];

        public List<string> Evicted { get; } = [];

        public List<string> Deleted { get; } = [];

        public override Task<(IReadOnlyList<KubePod> Items, string? ResourceVersion)> ListPodsForWatchAsync(string? fieldSelector, CancellationToken cancellationToken = default) =>
            Task.FromResult(((IReadOnlyList<KubePod>)pods.Where(p => !Evicted.Contains(Key(p)) && !Deleted.Contains(Key(p))).ToList(), (string?)"1"));

        public override async IAsyncEnumerable<WatchEvent<KubePod>> WatchPodsAsync(string? fieldSelector, string? resourceVersion,
            [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var e in _events.Reader.ReadAllAsync(cancellationToken))
            {
                yield return e;
            }
        }

        public override Task<EvictionOutcome> EvictAsync(string @namespace, string podName, CancellationToken cancellationToken = default)
        {
            var pod = pods.Single(p => p.Name == podName);
            if (Blocked.Contains(podName))
            {
                return Task.FromResult(new EvictionOutcome(EvictionResult.Blocked, "Cannot evict pod as it would violate the pod's disruption budget.", "payments"));
            }

            lock (Evicted)
            {
                Evicted.Add(Key(pod));
            }

            _events.Writer.TryWrite(new WatchEvent<KubePod>(WatchEventType.Deleted, pod));
            return Task.FromResult(new EvictionOutcome(EvictionResult.Evicted, null, null));
        }

        public override Task DeletePodAsync(string @namespace, string podName, CancellationToken cancellationToken = default)
        {
            var pod = pods.Single(p => p.Name == podName);
            Deleted.Add(Key(pod));
            _events.Writer.TryWrite(new WatchEvent<KubePod>(WatchEventType.Deleted, pod));
            return Task.CompletedTask;
        }

        private static string Key(KubePod pod) => $"{pod.Namespace}/{pod.Name}";
    }
}
