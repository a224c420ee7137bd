using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using WatchEventType = WinEksPatch.Abstractions.WatchEventType;
using WatchEventType_ = k8s.WatchEventType;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;

namespace WinEksPatch.Kubernetes;

/// <summary><see cref="IKubernetesApi"/> over the real KubernetesClient.</summary>
public sealed class KubernetesApi(IKubernetes client, string clusterName) : IKubernetesApi
{
    private const int PageSize = 500;

    public async Task<IReadOnlyList<KubeNode>> ListNodesAsync(string? labelSelector = null, CancellationToken cancellationToken = default) =>
        (await ListNodesForWatchAsync(labelSelector, cancellationToken).ConfigureAwait(false)).Items;

    public async Task<(IReadOnlyList<KubeNode> Items, string? ResourceVersion)> ListNodesForWatchAsync(string? labelSelector, CancellationToken cancellationToken = default)
    {
        var nodes = new List<KubeNode>();
        string? next = null, version = null;
        do
        {
            var page = await CallAsync("list nodes", () => client.CoreV1.ListNodeAsync(
                labelSelector: labelSelector, limit: PageSize, continueParameter: next, cancellationToken: cancellationToken)).ConfigureAwait(false);
            nodes.AddRange(page.Items.Select(ToNode));
            version = page.Metadata?.ResourceVersion;
            next = string.IsNullOrEmpty(page.Metadata?.ContinueProperty) ? null : page.Metadata.ContinueProperty;
        }
        while (next != null);
        return (nodes, version);
    }

    public async Task<(IReadOnlyList<KubePod> Items, string? ResourceVersion)> ListPodsForWatchAsync(string? fieldSelector, CancellationToken cancellationToken = default)
    {
        var pods = new List<KubePod>();
        string? next = null, version = null;
        do
        {
            var page = await CallAsync("list pods", () => client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: fieldSelector, limit: PageSize,
                continueParameter: next, cancellationToken: cancellationToken)).ConfigureAwait(false);
            pods.AddRange(page.Items.Select(ToPod));
            version = page.Metadata?.ResourceVersion;
            next = string.IsNullOrEmpty(page.Metadata?.ContinueProperty) ? null : page.Metadata.ContinueProperty;
        }
        while (next != null);
        return (pods, version);
    }

    public async IAsyncEnumerable<WatchEvent<KubeNode>> WatchNodesAsync(string? labelSelector, string? resourceVersion,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var events = client.CoreV1.WatchListNodeAsync(labelSelector: labelSelector, resourceVersion: resourceVersion,
            timeoutSeconds: 300, cancellationToken: cancellationToken);
        await foreach (var (type, item) in WatchSafelyAsync(events, "watch nodes").ConfigureAwait(false))
        {
            if (ToEventType(type) is { } kind)
            {
                yield return new WatchEvent<KubeNode>(kind, ToNode(item));
            }
        }
    }

    public async IAsyncEnumerable<WatchEvent<KubePod>> WatchPodsAsync(string? fieldSelector, string? resourceVersion,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var events = client.CoreV1.WatchListPodForAllNamespacesAsync(fieldSelector: fieldSelector, resourceVersion: resourceVersion,
            timeoutSeconds: 300, cancellationToken: cancellationToken);
        await foreach (var (type, item) in WatchSafelyAsync(events, "watch pods").ConfigureAwait(false))
        {
            if (ToEventType(type) is { } kind)
            {
                yield return new WatchEvent<KubePod>(kind, ToPod(item));
            }
        }
    }

    public Task SetUnschedulableAsync(string nodeName, bool unschedulable, CancellationToken cancellationToken = default) =>
        CallAsync(unschedulable ? $"cordon node {nodeName}" : $"uncordon node {nodeName}", () => client.CoreV1.PatchNodeAsync(
            new V1Patch($"{{\"spec\":{{\"unschedulable\":{(unschedulable ? "true" : "false")}}}}}", V1Patch.PatchType.MergePatch), nodeName,
            cancellationToken: cancellationToken));

    public Task SetNodeLabelAsync(string nodeName, string key, string value, CancellationToken cancellationToken = default) =>
        CallAsync($"label node {nodeName}", () => client.CoreV1.PatchNodeAsync(
            new V1Patch(System.Text.Json.JsonSerializer.Serialize(new { metadata = new { labels = new Dictionary<string, string> { [key] = value } } }), V1Patch.PatchType.MergePatch),
            nodeName, cancellationToken: cancellationToken));

    public async Task<EvictionOutcome> EvictAsync(string @namespace, string podName, CancellationToken cancellationToken = default)
    {
        var eviction = new V1Eviction
        {
            ApiVersion = "policy/v1",
            Kind = "Eviction",
            Metadata = new V1ObjectMeta { Name = podName, NamespaceProperty = @namespace },
        };
        try
        {
            await client.CoreV1.CreateNamespacedPodEvictionAsync(eviction, podName, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            return new EvictionOutcome(EvictionResult.Evicted, null, null);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return new EvictionOutcome(EvictionResult.NotFound, null, null);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            // The budget is named in details.causes[] ("The disruption budget web-iis needs 5 healthy pods and has 5 currently").
            var message = KubernetesApiException.StatusMessageOf(ex.Response.Content);
            return new EvictionOutcome(EvictionResult.Blocked, message, BudgetName(ex.Response.Content));
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.InternalServerError
            && KubernetesApiException.StatusMessageOf(ex.Response.Content)?.Contains("more than one PodDisruptionBudget", StringComparison.OrdinalIgnoreCase) == true)
        {
            return new EvictionOutcome(EvictionResult.MultipleBudgets, KubernetesApiException.StatusMessageOf(ex.Response.Content), null);
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException)
        {
            await CallAsync<object?>($"evict pod {@namespace}/{podName}", () => throw ex).ConfigureAwait(false);
            throw;
        }
    }

    public Task DeletePodAsync(string @namespace, string podName, CancellationToken cancellationToken = default) =>
        CallAsync<V1Pod?>($"delete pod {@namespace}/{podName}", () => client.CoreV1.DeleteNamespacedPodAsync(podName, @namespace, cancellationToken: cancellationToken)!,
            null, HttpStatusCode.NotFound);

    public async Task<IReadOnlyList<KubePdb>> ListPdbsAsync(CancellationToken cancellationToken = default)
    {
        var list = await CallAsync("list poddisruptionbudgets", () => client.PolicyV1.ListPodDisruptionBudgetForAllNamespacesAsync(cancellationToken: cancellationToken)).ConfigureAwait(false);
        return list.Items.Select(p => new KubePdb(
            p.Metadata.NamespaceProperty ?? "default",
            p.Metadata.Name,
            p.Spec?.Selector?.MatchLabels is { } labels ? new Dictionary<string, string>(labels, StringComparer.Ordinal) : new Dictionary<string, string>(),
            (p.Spec?.Selector?.MatchExpressions ?? []).Select(e => (e.Key, e.OperatorProperty, (IReadOnlyList<string>)(e.Values?.ToList() ?? []))).ToList(),
            p.Spec?.MinAvailable?.Value,
            p.Spec?.MaxUnavailable?.Value,
            p.Status?.DisruptionsAllowed ?? 0,
            p.Status?.CurrentHealthy ?? 0,
            p.Status?.DesiredHealthy ?? 0,
            p.Status?.ExpectedPods ?? 0)).ToList();
    }

    private static WatchEventType? ToEventType(WatchEventType_ type) => type switch
    {
        WatchEventType_.Added => WatchEventType.Added,
        WatchEventType_.Modified => WatchEventType.Modified,
        WatchEventType_.Deleted => WatchEventType.Deleted,
        _ => null,
    };

    private async IAsyncEnumerable<(WatchEventType_, T)> WatchSafelyAsync<T>(IAsyncEnumerable<(WatchEventType_, T)> events, string what)
    {
        await using var enumerator = events.GetAsyncEnumerator();
        while (true)
        {
            bool more;
            try
            {
                more = await enumerator.MoveNextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or IOException)
            {
                await CallAsync<object?>(what, () => throw ex).ConfigureAwait(false);
                throw;
            }

            if (!more)
            {
                yield break;
            }

            yield return enumerator.Current;
        }
    }

    /// <summary>"Cannot evict pod as it would violate the pod's disruption budget." + causes; the budget name is in
    /// "The disruption budget web-pdb needs 5 healthy pods and has 5 currently".</summary>
    private static string? BudgetName(string? message)
    {
        var m = message == null ? null : System.Text.RegularExpressions.Regex.Match(message, @"disruption budget (?<name>[a-z0-9][a-z0-9.-]*) needs");
        return m is { Success: true } ? m.Groups["name"].Value : null;
    }

    public async Task<IReadOnlyList<KubePod>> ListPodsAsync(string? @namespace = null, string? fieldSelector = null, string? labelSelector = null,
        CancellationToken cancellationToken = default)
    {
        var pods = new List<KubePod>();
        string? next = null;
        do
        {
            var page = await CallAsync("list pods", () => @namespace == null
                ? client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: fieldSelector, labelSelector: labelSelector, limit: PageSize,
                    continueParameter: next, cancellationToken: cancellationToken)
                : client.CoreV1.ListNamespacedPodAsync(@namespace, fieldSelector: fieldSelector, labelSelector: labelSelector, limit: PageSize,
                    continueParameter: next, cancellationToken: cancellationToken)).ConfigureAwait(false);
            pods.AddRange(page.Items.Select(ToPod));
            next = string.IsNullOrEmpty(page.Metadata?.ContinueProperty) ? null : page.Metadata.ContinueProperty;
        }
        while (next != null);
        return pods;
    }

    public Task<KubeLease?> GetLeaseAsync(string @namespace, string name, CancellationToken cancellationToken = default) =>
        CallAsync<KubeLease?>($"read lease {@namespace}/{name}", async () => ToLease(await client.CoordinationV1.ReadNamespacedLeaseAsync(name, @namespace,
            cancellationToken: cancellationToken).ConfigureAwait(false)), null, HttpStatusCode.NotFound);

    public Task<KubeLease?> CreateLeaseAsync(KubeLease lease, CancellationToken cancellationToken = default) =>
        CallAsync<KubeLease?>($"create lease {lease.Namespace}/{lease.Name}", async () => ToLease(await client.CoordinationV1.CreateNamespacedLeaseAsync(FromLease(lease),
            lease.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false)), null, HttpStatusCode.Conflict);

    public Task<KubeLease?> ReplaceLeaseAsync(KubeLease lease, CancellationToken cancellationToken = default) =>
        CallAsync<KubeLease?>($"update lease {lease.Namespace}/{lease.Name}", async () => ToLease(await client.CoordinationV1.ReplaceNamespacedLeaseAsync(FromLease(lease),
            lease.Name, lease.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false)), null, HttpStatusCode.Conflict, HttpStatusCode.NotFound);

    public Task<bool> DeleteLeaseAsync(string @namespace, string name, string resourceVersion, CancellationToken cancellationToken = default) =>
        CallAsync($"delete lease {@namespace}/{name}", async () =>
        {
            await client.CoordinationV1.DeleteNamespacedLeaseAsync(name, @namespace,
                new V1DeleteOptions { Preconditions = new V1Preconditions { ResourceVersion = resourceVersion } }, cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }, false, HttpStatusCode.Conflict, HttpStatusCode.NotFound);

    private static KubeLease ToLease(V1Lease l) => new(
        l.Metadata.NamespaceProperty ?? "default",
        l.Metadata.Name,
        l.Spec?.HolderIdentity,
        l.Spec?.LeaseDurationSeconds,
        l.Spec?.AcquireTime is { } acquired ? new DateTimeOffset(DateTime.SpecifyKind(acquired, DateTimeKind.Utc)) : null,
        l.Spec?.RenewTime is { } renewed ? new DateTimeOffset(DateTime.SpecifyKind(renewed, DateTimeKind.Utc)) : null,
        l.Spec?.LeaseTransitions ?? 0,
        l.Metadata.Annotations is { } annotations ? new Dictionary<string, string>(annotations, StringComparer.Ordinal) : new Dictionary<string, string>(),
        l.Metadata.ResourceVersion);

    private static V1Lease FromLease(KubeLease l) => new()
    {
        ApiVersion = "coordination.k8s.io/v1",
        Kind = "Lease",
        Metadata = new V1ObjectMeta
        {
            Name = l.Name,
            NamespaceProperty = l.Namespace,
            ResourceVersion = l.ResourceVersion,
            Annotations = l.Annotations.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal),
            Labels = new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = "WinEksPatch" },
        },
        Spec = new V1LeaseSpec
        {
            HolderIdentity = l.HolderIdentity,
            LeaseDurationSeconds = l.LeaseDurationSeconds,
            AcquireTime = l.AcquireTime?.UtcDateTime,
            RenewTime = l.RenewTime?.UtcDateTime,
            LeaseTransitions = l.LeaseTransitions,
        },
    };

    internal static KubePod ToPod(k8s.Models.V1Pod p)
    {
        var owner = p.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true);
        var statuses = p.Status?.ContainerStatuses?.ToDictionary(s => s.Name, s => s.ImageID) ?? [];
        return new KubePod(
            p.Metadata.NamespaceProperty ?? "default",
            p.Metadata.Name,
            p.Metadata.Uid,
            p.Spec?.NodeName,
            p.Status?.Phase,
            owner?.Kind,
            owner?.Name,
            (p.Spec?.Containers ?? []).Select(c => new KubeContainer(c.Name, c.Image, statuses.GetValueOrDefault(c.Name))).ToList(),
            p.Metadata.Labels is { } labels ? new Dictionary<string, string>(labels, StringComparer.Ordinal) : new Dictionary<string, string>(),
            p.Metadata.Annotations?.ContainsKey("kubernetes.io/config.mirror") == true,
            p.Spec?.Volumes?.Any(v => v.EmptyDir != null) == true,
            p.Spec?.TerminationGracePeriodSeconds,
            p.Metadata.DeletionTimestamp is { } deleted ? new DateTimeOffset(DateTime.SpecifyKind(deleted, DateTimeKind.Utc)) : null)
        {
            RunningSince = p.Status?.ContainerStatuses?.Select(s => s.State?.Running?.StartedAt).Where(t => t != null).Min() is { } started
                ? new DateTimeOffset(DateTime.SpecifyKind(started, DateTimeKind.Utc)) : null,
            Ready = p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true,
            RestartCount = p.Status?.ContainerStatuses?.Sum(s => s.RestartCount) ?? 0,
            Unschedulable = p.Status?.Conditions?.Any(c => c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable") == true,
            WaitingReason = p.Status?.ContainerStatuses?.Select(s => s.State?.Waiting?.Reason).FirstOrDefault(r => r != null),
        };
    }

    private static KubeNode ToNode(k8s.Models.V1Node n) => new(
        n.Metadata.Name,
        n.Metadata.Labels is { } labels ? new Dictionary<string, string>(labels, StringComparer.Ordinal) : new Dictionary<string, string>(),
        n.Spec?.ProviderID,
        n.Status?.NodeInfo?.KernelVersion,
        n.Status?.NodeInfo?.OsImage,
        n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true,
        n.Spec?.Unschedulable == true,
        n.Metadata.CreationTimestamp is { } created ? new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) : null)
    {
        ReadySince = n.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.LastTransitionTime is { } since
            ? new DateTimeOffset(DateTime.SpecifyKind(since, DateTimeKind.Utc)) : null,
        TaintKeys = n.Spec?.Taints?.Select(t => t.Key).ToList() ?? [],
        ExtendedResources = n.Status?.Allocatable?.Where(r => KubeNode.IsExtendedResource(r.Key) && r.Value.ToDecimal() > 0).Select(r => r.Key).Order(StringComparer.Ordinal).ToList() ?? [],
    };

    /// <summary>Like <see cref="CallAsync{T}(string, Func{Task{T}})"/>, with the statuses that are an answer rather than a
    /// failure (404 for something already gone, 409 for an optimistic write that lost) returned as <paramref name="otherwise"/>.</summary>
    private Task<T> CallAsync<T>(string what, Func<Task<T>> call, T otherwise, params HttpStatusCode[] answers) =>
        CallAsync(what, async () =>
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (HttpOperationException ex) when (answers.Contains(ex.Response.StatusCode))
            {
                return otherwise;
            }
        });

    /// <summary>Runs one call and turns its failure into the module's error. An HttpOperationException is never kept as the
    /// inner exception (it holds the request and its bearer token): <see cref="KubernetesApiException"/> keeps the status,
    /// reason, the API server's message and the Audit-Id instead.</summary>
    private async Task<T> CallAsync<T>(string what, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Unauthorized)
        {
            throw new WinEksPatchException(ErrorIds.KubernetesUnauthorized, ErrorKind.AuthenticationError,
                $"The Kubernetes API of cluster '{clusterName}' refused the credentials ({what}: 401 Unauthorized). " +
                "Check that the IAM identity is mapped in the cluster (access entries or aws-auth) or the kubeconfig's user.",
                clusterName, KubernetesApiException.From(ex));
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Forbidden)
        {
            throw new WinEksPatchException(ErrorIds.KubernetesApiError, ErrorKind.PermissionDenied,
                $"The Kubernetes API of cluster '{clusterName}' forbids {what} (403).", clusterName, KubernetesApiException.From(ex));
        }
        catch (HttpOperationException ex)
        {
            throw new WinEksPatchException(ErrorIds.KubernetesApiError, ErrorKind.InvalidOperation,
                $"The Kubernetes API of cluster '{clusterName}' failed to {what}: {(int)ex.Response.StatusCode} {ex.Response.ReasonPhrase}.",
                clusterName, KubernetesApiException.From(ex));
        }
        catch (HttpRequestException ex)
        {
            throw new WinEksPatchException(ErrorIds.KubernetesUnreachable, ErrorKind.ConnectionError,
                $"The Kubernetes API of cluster '{clusterName}' could not be reached to {what}: {ex.Message}", clusterName, ex);
        }
        catch (IOException ex)
        {
            // A response cut off mid-stream (an HTTP/2 stream reset, a dropped connection): for a watch, a reason to re-list.
            throw new WinEksPatchException(ErrorIds.KubernetesUnreachable, ErrorKind.ConnectionError,
                $"The connection to the Kubernetes API of cluster '{clusterName}' broke while it was to {what}: {ex.Message}", clusterName, ex);
        }
    }
}
