using System.Net;
using k8s;
using k8s.Autorest;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;

namespace WinEksPatch.Kubernetes;

/// <summary><see cref="IKubernetesApi"/> over the real KubernetesClient.</summary>
public sealed class KubernetesApi(IKubernetes client, string clusterName) : IKubernetesApi
{
    private const int PageSize = 500;

    public async Task<IReadOnlyList<KubeNode>> ListNodesAsync(string? labelSelector = null, CancellationToken cancellationToken = default)
    {
        var nodes = new List<KubeNode>();
        string? next = null;
        do
        {
            var page = await CallAsync("list nodes", () => client.CoreV1.ListNodeAsync(
                labelSelector: labelSelector, limit: PageSize, continueParameter: next, cancellationToken: cancellationToken)).ConfigureAwait(false);
            nodes.AddRange(page.Items.Select(ToNode));
            next = string.IsNullOrEmpty(page.Metadata?.ContinueProperty) ? null : page.Metadata.ContinueProperty;
        }
        while (next != null);
        return nodes;
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
            p.Metadata.DeletionTimestamp is { } deleted ? new DateTimeOffset(DateTime.SpecifyKind(deleted, DateTimeKind.Utc)) : null);
    }

    private static KubeNode ToNode(k8s.Models.V1Node n) => new(
        n.Metadata.Name,
        n.Metadata.Labels is { } labels ? new Dictionary<string, string>(labels, StringComparer.Ordinal) : new Dictionary<string, string>(),
        n.Spec?.ProviderID,
        n.Status?.NodeInfo?.KernelVersion,
        n.Status?.NodeInfo?.OsImage,
        n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true,
        n.Spec?.Unschedulable == true,
        n.Metadata.CreationTimestamp is { } created ? new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) : null);

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
                clusterName, ex);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Forbidden)
        {
            throw new WinEksPatchException(ErrorIds.KubernetesApiError, ErrorKind.PermissionDenied,
                $"The Kubernetes API of cluster '{clusterName}' forbids {what} (403).", clusterName, ex);
        }
        catch (HttpOperationException ex)
        {
            throw new WinEksPatchException(ErrorIds.KubernetesApiError, ErrorKind.InvalidOperation,
                $"The Kubernetes API of cluster '{clusterName}' failed to {what}: {(int)ex.Response.StatusCode} {ex.Response.ReasonPhrase}.",
                clusterName, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new WinEksPatchException(ErrorIds.KubernetesUnreachable, ErrorKind.ConnectionError,
                $"The Kubernetes API of cluster '{clusterName}' could not be reached to {what}: {ex.Message}", clusterName, ex);
        }
    }
}
