using System.Collections.Concurrent;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>What a drain did.</summary>
public sealed record DrainOutcome(bool Completed, int Evicted, IReadOnlyList<string> Deleted, IReadOnlyList<string> Blockers, TimeSpan Duration);

/// <summary>
/// Drains a node the way <c>kubectl drain</c> does (pkg/drain): a filter over its pods (skip DaemonSet, mirror and
/// finished pods; refuse pods without a controller unless told), evictions through the eviction subresource so that
/// PodDisruptionBudgets decide, 429 retried every 5 s while naming the pod and budget that block and since when, 404
/// meaning done, and a wait until every evicted pod is gone (from a pod watch, not polling). One overall timeout; only
/// with <see cref="DrainOverrides.DeletePodsBlockedByBudget"/> are pods still blocked at the timeout deleted (and named),
/// and only with <see cref="DrainOverrides.EvictUnreplicatedPods"/> are pods that no controller recreates evicted.
/// </summary>
/// <remarks>A node whose kubelet stopped (NotReady, as <paramref name="isNodeLost"/> tells) never confirms that an evicted
/// pod's containers stopped, so the pod stays Terminating for good: once its grace period is over it is counted as gone,
/// as kubectl drain --skip-wait-for-delete-timeout does, and the node is terminated with it.</remarks>
public sealed class Drainer(IKubernetesApi kubernetes, TimeProvider time, Func<string, bool>? isNodeLost = null)
{
    public static readonly TimeSpan EvictionRetry = TimeSpan.FromSeconds(5);

    /// <summary>Which of a node's pods a drain must move, and which it must refuse to (pods no controller would recreate).</summary>
    public static (IReadOnlyList<KubePod> ToEvict, IReadOnlyList<KubePod> Unreplicated) Filter(IEnumerable<KubePod> pods)
    {
        var toEvict = new List<KubePod>();
        var unreplicated = new List<KubePod>();
        foreach (var pod in pods)
        {
            if (pod.IsMirror || pod.OwnerKind == "DaemonSet" || !pod.IsActive)
            {
                continue; // kubectl drain: mirror pods cannot be evicted; DaemonSet pods would come back; finished pods hold nothing
            }

            (pod.OwnerKind == null ? unreplicated : toEvict).Add(pod);
        }

        return (toEvict, unreplicated);
    }

    public async Task<DrainOutcome> DrainAsync(string nodeName, TimeSpan timeout, DrainOverrides overrides, Action<string> report, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        var deadline = started + timeout;
        var (pods, version) = await kubernetes.ListPodsForWatchAsync($"spec.nodeName={nodeName}", cancellationToken).ConfigureAwait(false);
        var (evictable, unreplicated) = Filter(pods);
        if (unreplicated.Count > 0 && !overrides.HasFlag(DrainOverrides.EvictUnreplicatedPods))
        {
            throw new WinEksPatchException(ErrorIds.DrainRefused, ErrorKind.InvalidOperation,
                $"Node {nodeName} runs pods that no controller would recreate: {Names(unreplicated)}. Evicting them would lose them; move them yourself or pass -EvictUnreplicatedPods.",
                nodeName);
        }

        var deleteBlocked = overrides.HasFlag(DrainOverrides.DeletePodsBlockedByBudget);
        var toEvict = evictable.Concat(unreplicated).ToList(); // unreplicated pods only get here with -EvictUnreplicatedPods
        var remaining = new ConcurrentDictionary<string, KubePod>(toEvict.ToDictionary(p => p.Uid ?? Key(p), p => p));
        var gone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watchStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watch = WatchGoneAsync(nodeName, version, remaining, gone, watchStop.Token);
        if (remaining.IsEmpty)
        {
            gone.TrySetResult();
        }

        var blockers = new ConcurrentDictionary<string, (string Budget, DateTimeOffset Since)>(StringComparer.Ordinal);
        var evicted = 0;
        var stillBlocked = new ConcurrentBag<KubePod>();
        await Parallel.ForEachAsync(toEvict, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (pod, token) =>
        {
            while (true)
            {
                var outcome = await kubernetes.EvictAsync(pod.Namespace, pod.Name, token).ConfigureAwait(false);
                switch (outcome.Result)
                {
                    case EvictionResult.Evicted:
                        Interlocked.Increment(ref evicted);
                        blockers.TryRemove(Key(pod), out _);
                        return;
                    case EvictionResult.NotFound:
                        remaining.TryRemove(pod.Uid ?? Key(pod), out _);
                        if (remaining.IsEmpty)
                        {
                            gone.TrySetResult();
                        }

                        return;
                    case EvictionResult.MultipleBudgets:
                        throw new WinEksPatchException(ErrorIds.MultiplePodDisruptionBudgets, ErrorKind.InvalidOperation,
                            $"Pod {Key(pod)} on {nodeName} is selected by more than one PodDisruptionBudget, so no eviction can ever succeed: {outcome.Message}", Key(pod));
                    case EvictionResult.Blocked:
                        var since = blockers.GetOrAdd(Key(pod), _ => (outcome.BudgetName ?? "a PodDisruptionBudget", time.GetUtcNow())).Since;
                        report($"{Key(pod)} blocked by PodDisruptionBudget {outcome.BudgetName ?? "?"} since {since:HH:mm:ss} ({(time.GetUtcNow() - since).TotalMinutes:0.#} min)");
                        if (time.GetUtcNow() + EvictionRetry > deadline)
                        {
                            stillBlocked.Add(pod);
                            return;
                        }

                        await Task.Delay(EvictionRetry, time, token).ConfigureAwait(false);
                        break;
                }
            }
        }).ConfigureAwait(false);

        var deleted = new List<string>();
        if (!stillBlocked.IsEmpty && deleteBlocked)
        {
            foreach (var pod in stillBlocked)
            {
                await kubernetes.DeletePodAsync(pod.Namespace, pod.Name, cancellationToken).ConfigureAwait(false);
                deleted.Add(Key(pod));
            }

            report($"deleted after the drain timeout (-OverridePodDisruptionBudget): {string.Join(", ", deleted)}");
        }

        var describedBlockers = blockers.Select(b => $"{b.Key} (PodDisruptionBudget {b.Value.Budget}, since {b.Value.Since:u})").Order(StringComparer.Ordinal).ToList();
        if (!stillBlocked.IsEmpty && !deleteBlocked)
        {
            await watchStop.CancelAsync().ConfigureAwait(false);
            await IgnoreCancellation(watch).ConfigureAwait(false);
            return new DrainOutcome(false, evicted, deleted, describedBlockers, time.GetUtcNow() - started);
        }

        // Every pod was evicted (or deleted): wait until they are gone, within what is left of the timeout (at least the
        // longest grace period, so a pod given 10 minutes to stop is not cut short).
        var left = deadline - time.GetUtcNow();
        var grace = TimeSpan.FromSeconds(toEvict.Max(p => (double?)p.TerminationGracePeriodSeconds) ?? 30);
        var completed = await WaitGoneAsync(nodeName, gone, remaining, left > grace ? left : grace + TimeSpan.FromSeconds(30), report, cancellationToken).ConfigureAwait(false);
        await watchStop.CancelAsync().ConfigureAwait(false);
        await IgnoreCancellation(watch).ConfigureAwait(false);
        return new DrainOutcome(completed, evicted, deleted, describedBlockers, time.GetUtcNow() - started);
    }

    private async Task WatchGoneAsync(string nodeName, string? version, ConcurrentDictionary<string, KubePod> remaining, TaskCompletionSource gone,
        CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested && !gone.Task.IsCompleted)
        {
            try
            {
                await foreach (var e in kubernetes.WatchPodsAsync($"spec.nodeName={nodeName}", version, cancellationToken).ConfigureAwait(false))
                {
                    // A pod is gone when deleted, or when it finished (a Job's pod evicted to Succeeded/Failed holds nothing).
                    // Otherwise keep its latest state: its deletionTimestamp is what a lost node's wait goes by.
                    var key = e.Item.Uid ?? Key(e.Item);
                    if (e.Type == WatchEventType.Deleted || !e.Item.IsActive)
                    {
                        remaining.TryRemove(key, out _);
                    }
                    else if (remaining.TryGetValue(key, out var known))
                    {
                        remaining.TryUpdate(key, e.Item, known);
                    }

                    if (remaining.IsEmpty)
                    {
                        gone.TrySetResult();
                        return;
                    }
                }
            }
            catch (WinEksPatchException) when (!cancellationToken.IsCancellationRequested)
            {
                // A dropped watch (connection reset, 410 Gone): re-list below and watch again.
                await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken).ConfigureAwait(false);
            }

            // The watch ended: re-list what is still there and watch again.
            var (pods, fresh) = await kubernetes.ListPodsForWatchAsync($"spec.nodeName={nodeName}", cancellationToken).ConfigureAwait(false);
            var present = pods.Where(p => p.IsActive).ToDictionary(p => p.Uid ?? Key(p), StringComparer.Ordinal);
            foreach (var key in remaining.Keys)
            {
                if (present.TryGetValue(key, out var pod))
                {
                    remaining[key] = pod;
                }
                else
                {
                    remaining.TryRemove(key, out _);
                }
            }

            if (remaining.IsEmpty)
            {
                gone.TrySetResult();
                return;
            }

            version = fresh;
        }
    }

    /// <summary>Waits until every evicted pod is gone; on a lost node, pods still Terminating after their grace period are
    /// counted as gone, judged every <see cref="EvictionRetry"/> from the deletionTimestamps the pod watch delivered (no
    /// extra request).</summary>
    private async Task<bool> WaitGoneAsync(string nodeName, TaskCompletionSource gone, ConcurrentDictionary<string, KubePod> remaining, TimeSpan timeout,
        Action<string> report, CancellationToken cancellationToken)
    {
        var until = time.GetUtcNow() + timeout;
        while (true)
        {
            var left = until - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                return gone.Task.IsCompleted;
            }

            if (await WaitAsync(gone.Task, isNodeLost == null || left < EvictionRetry ? left : EvictionRetry, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            if (isNodeLost?.Invoke(nodeName) != true)
            {
                continue;
            }

            var now = time.GetUtcNow();
            foreach (var (key, pod) in remaining.Where(r => r.Value.DeletionTimestamp is { } ends && ends <= now).ToList())
            {
                remaining.TryRemove(key, out _);
                report($"{Key(pod)}: its node is NotReady, so no kubelet will confirm that it stopped; its grace period ended at {pod.DeletionTimestamp:u}, " +
                    "so it is counted as gone (kubectl drain --skip-wait-for-delete-timeout) and goes with the node");
            }

            if (remaining.IsEmpty)
            {
                gone.TrySetResult();
                return true;
            }
        }
    }

    private async Task<bool> WaitAsync(Task task, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var finished = await Task.WhenAny(task, Task.Delay(timeout, time, cancel.Token)).ConfigureAwait(false);
        await cancel.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return finished == task;
    }

    private static async Task IgnoreCancellation(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopped on purpose
        }
    }

    internal static string Key(KubePod pod) => $"{pod.Namespace}/{pod.Name}";

    private static string Names(IEnumerable<KubePod> pods) => string.Join(", ", pods.Select(Key));
}
