using WinEksPatch.Abstractions;
using WinEksPatch.Errors;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>
/// The cluster's Windows nodes as a watch keeps them: one LIST, then a WATCH from its resource version, re-listed when
/// the server ends the watch. Waits re-check their condition on every event instead of polling. Also remembers since
/// when each node has been continuously Ready (for -MinReadyTime: user data that restarts a node after it joined).
/// </summary>
public sealed class NodeTracker : IAsyncDisposable
{
    private readonly IKubernetesApi _kubernetes;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private readonly Dictionary<string, KubeNode> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _readySince = new(StringComparer.Ordinal);
    // When each node was first seen offering each extended resource (Kubernetes keeps no time for allocatable changes).
    private readonly Dictionary<(string Node, string Resource), DateTimeOffset> _resourceSince = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;

    // Wakes just after a settle period ends rather than on it, so the node then counts as settled.
    private static readonly TimeSpan SettleMargin = TimeSpan.FromMilliseconds(1);

    public NodeTracker(IKubernetesApi kubernetes, TimeProvider time)
    {
        _kubernetes = kubernetes;
        _time = time;
    }

    /// <summary>Lists, then watches in the background.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var version = await RelistAsync(cancellationToken).ConfigureAwait(false);
        _loop = Task.Run(() => WatchLoopAsync(version, _stop.Token), CancellationToken.None);
    }

    public IReadOnlyList<KubeNode> Nodes
    {
        get
        {
            lock (_gate)
            {
                return [.. _nodes.Values];
            }
        }
    }

    /// <summary>
    /// Usable for pods: Ready, schedulable, without a startup taint, offering every extended resource in
    /// <paramref name="requiredResources"/> (on EKS a Windows node can run no Windows pod until the VPC resource controller
    /// advertises its pod IPs, some seconds after Ready), and continuously Ready for at least <paramref name="settle"/>.
    /// </summary>
    public bool IsUsable(KubeNode node, TimeSpan settle, IReadOnlyCollection<string>? requiredResources = null)
    {
        if (!ServesPods(node, requiredResources))
        {
            return false;
        }

        lock (_gate)
        {
            return _readySince.TryGetValue(node.Name, out var since)
                && (since == DateTimeOffset.MinValue || _time.GetUtcNow() - since >= settle);
        }
    }

    /// <summary>The scheduler can place pods on it now: Ready, schedulable, no startup taint, every required resource offered.
    /// What <see cref="IsUsable"/> and <see cref="UsableSince"/> both start from.</summary>
    private static bool ServesPods(KubeNode node, IReadOnlyCollection<string>? requiredResources) =>
        node.Ready && !node.Unschedulable && !node.TaintKeys.Any(KubeNode.StartupTaints.Contains)
        && (requiredResources == null || requiredResources.All(node.ExtendedResources.Contains));

    /// <summary>When the node became usable as this watch saw it: Ready (its condition's time) and offering every resource in
    /// <paramref name="requiredResources"/> (the first event that showed it). Null while it cannot serve pods (as for
    /// <see cref="IsUsable"/>: NotReady, cordoned, a startup taint, a resource missing). A -MinReadyTime on top is the
    /// rollout's own wait, not part of the node's boot, so it is not added here.</summary>
    public DateTimeOffset? UsableSince(KubeNode node, IReadOnlyCollection<string> requiredResources)
    {
        if (!ServesPods(node, requiredResources))
        {
            return null;
        }

        lock (_gate)
        {
            var since = node.ReadySince ?? _readySince.GetValueOrDefault(node.Name);
            foreach (var resource in requiredResources)
            {
                if (_resourceSince.TryGetValue((node.Name, resource), out var seen) && seen > since)
                {
                    since = seen;
                }
            }

            return since;
        }
    }

    /// <summary>How long until the next Ready node completes <paramref name="settle"/> of continuous Ready; null when none is settling.</summary>
    public TimeSpan? UntilNextSettled(TimeSpan settle)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var pending = _readySince.Values.Where(since => since != DateTimeOffset.MinValue && now - since < settle).Select(since => since + settle - now).ToList();
            return pending.Count == 0 ? null : pending.Min();
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds over the current nodes, re-checking on every node event,
    /// at the moment a node completes <paramref name="settle"/> (settle periods end without an event), and at least
    /// every <paramref name="recheck"/>. False on timeout.</summary>
    public async Task<bool> WaitUntilAsync(Func<IReadOnlyList<KubeNode>, bool> condition, TimeSpan timeout, TimeSpan recheck, CancellationToken cancellationToken,
        TimeSpan? settle = null)
    {
        var deadline = _time.GetUtcNow() + timeout;
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                changed = _changed.Task;
            }

            if (condition(Nodes))
            {
                return true;
            }

            var left = deadline - _time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            var wait = left < recheck ? left : recheck;
            if (settle is { } period && UntilNextSettled(period) is { } settling && settling + SettleMargin < wait)
            {
                wait = settling + SettleMargin;
            }

            using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var delay = Task.Delay(wait, _time, wake.Token);
            await Task.WhenAny(changed, delay).ConfigureAwait(false);
            await wake.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop != null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // stopping
            }
        }

        _stop.Dispose();
    }

    private async Task<string?> RelistAsync(CancellationToken cancellationToken)
    {
        var (items, version) = await _kubernetes.ListNodesForWatchAsync(ClusterInventory.WindowsNodeSelector, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _nodes.Clear();
            foreach (var node in items)
            {
                // Nodes already Ready when the rollout starts have long passed their bootstrap.
                if (node.Ready && !_readySince.ContainsKey(node.Name))
                {
                    _readySince[node.Name] = DateTimeOffset.MinValue;
                }

                Apply(node);
            }

            Signal();
        }

        return version;
    }

    private async Task WatchLoopAsync(string? version, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var e in _kubernetes.WatchNodesAsync(ClusterInventory.WindowsNodeSelector, version, cancellationToken).ConfigureAwait(false))
                {
                    lock (_gate)
                    {
                        if (e.Type == WatchEventType.Deleted)
                        {
                            _nodes.Remove(e.Item.Name);
                            _readySince.Remove(e.Item.Name);
                            foreach (var key in _resourceSince.Keys.Where(k => k.Node == e.Item.Name).ToList())
                            {
                                _resourceSince.Remove(key);
                            }
                        }
                        else
                        {
                            Apply(e.Item);
                        }

                        Signal();
                    }
                }

                // The server ended the watch (timeout): start again from a fresh list so nothing is missed.
                version = await RelistAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (WinEksPatchException)
            {
                // A dropped or expired watch (410 Gone, connection reset): re-list after a short pause.
                await Task.Delay(TimeSpan.FromSeconds(5), _time, cancellationToken).ConfigureAwait(false);
                version = await RelistAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private void Apply(KubeNode node)
    {
        _nodes[node.Name] = node;
        foreach (var resource in node.ExtendedResources)
        {
            _resourceSince.TryAdd((node.Name, resource), _time.GetUtcNow());
        }

        if (!node.Ready)
        {
            _readySince.Remove(node.Name);
        }
        else if (!_readySince.ContainsKey(node.Name))
        {
            _readySince[node.Name] = _time.GetUtcNow();
        }
    }

    private void Signal()
    {
        var previous = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }
}
