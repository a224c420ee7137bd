using System.Text.Json;
using System.Text.Json.Serialization;
using WinEksPatch.Abstractions;
using WinEksPatch.Aws.Thin;

namespace WinEksPatch.Aws.Eks;

/// <summary>EKS over rest-json (service model eks-2017-11-01): only the operations the module uses.</summary>
public sealed class EksClient(ThinServiceClient client) : IEksApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Task<IReadOnlyList<string>> ListClustersAsync(CancellationToken cancellationToken = default) =>
        ListAllAsync<ListClustersResponse>("ListClusters", "/clusters", null, r => (r.Clusters, r.NextToken), cancellationToken);

    public async Task<EksCluster> DescribeClusterAsync(string clusterName, CancellationToken cancellationToken = default)
    {
        var response = await SendAsync<DescribeClusterResponse>(
            new ThinRequest("DescribeCluster") { HttpMethod = "GET", Path = "/clusters/{name}", PathLabels = { ["name"] = clusterName } },
            clusterName, cancellationToken).ConfigureAwait(false);
        var c = response.Cluster ?? throw new InvalidDataException("DescribeCluster returned no cluster.");
        return new EksCluster(c.Name ?? clusterName, c.Arn, c.Version, c.Status, c.Endpoint, c.CertificateAuthority?.Data,
            c.PlatformVersion, c.CreatedAt is { } epoch ? DateTimeOffset.FromUnixTimeMilliseconds((long)(epoch * 1000)) : null)
        {
            Tags = c.Tags ?? [],
        };
    }

    public Task<IReadOnlyList<string>> ListNodegroupsAsync(string clusterName, CancellationToken cancellationToken = default) =>
        ListAllAsync<ListNodegroupsResponse>("ListNodegroups", "/clusters/{name}/node-groups", clusterName,
            r => (r.Nodegroups, r.NextToken), cancellationToken, request => request.PathLabels["name"] = clusterName);

    public async Task<EksNodegroup> DescribeNodegroupAsync(string clusterName, string nodegroupName, CancellationToken cancellationToken = default)
    {
        var response = await SendAsync<DescribeNodegroupResponse>(
            new ThinRequest("DescribeNodegroup")
            {
                HttpMethod = "GET",
                Path = "/clusters/{name}/node-groups/{nodegroupName}",
                PathLabels = { ["name"] = clusterName, ["nodegroupName"] = nodegroupName },
            },
            nodegroupName, cancellationToken).ConfigureAwait(false);
        var n = response.Nodegroup ?? throw new InvalidDataException("DescribeNodegroup returned no node group.");
        return new EksNodegroup(n.NodegroupName ?? nodegroupName, n.ClusterName ?? clusterName, n.AmiType, n.ReleaseVersion,
            n.Version, n.Status, n.CapacityType, n.ScalingConfig?.MinSize, n.ScalingConfig?.MaxSize, n.ScalingConfig?.DesiredSize,
            n.LaunchTemplate?.Id, n.LaunchTemplate?.Name, n.LaunchTemplate?.Version,
            n.Resources?.AutoScalingGroups?.Select(g => g.Name).OfType<string>().ToList() ?? [],
            n.InstanceTypes ?? [])
        {
            MaxUnavailable = n.UpdateConfig?.MaxUnavailable,
            MaxUnavailablePercentage = n.UpdateConfig?.MaxUnavailablePercentage,
        };
    }

    public async Task<EksUpdate> UpdateNodegroupVersionAsync(string clusterName, string nodegroupName, LaunchTemplateReference? launchTemplate,
        string? releaseVersion, bool force, CancellationToken cancellationToken = default)
    {
        var body = new Dictionary<string, object?>
        {
            ["force"] = force,
            ["clientRequestToken"] = Guid.NewGuid().ToString(),
        };
        if (launchTemplate != null)
        {
            body["launchTemplate"] = new Dictionary<string, string?> { ["id"] = launchTemplate.Id, ["name"] = launchTemplate.Id == null ? launchTemplate.Name : null, ["version"] = launchTemplate.Version }
                .Where(kv => kv.Value != null).ToDictionary(kv => kv.Key, kv => kv.Value);
        }

        if (releaseVersion != null)
        {
            body["releaseVersion"] = releaseVersion;
        }

        var response = await SendAsync<UpdateResponse>(new ThinRequest("UpdateNodegroupVersion")
        {
            HttpMethod = "POST",
            Path = "/clusters/{name}/node-groups/{nodegroupName}/update-version",
            PathLabels = { ["name"] = clusterName, ["nodegroupName"] = nodegroupName },
            JsonBody = JsonSerializer.Serialize(body, Json),
        }, nodegroupName, cancellationToken).ConfigureAwait(false);
        return ToUpdate(response.Update);
    }

    public async Task<EksUpdate> DescribeUpdateAsync(string clusterName, string nodegroupName, string updateId, CancellationToken cancellationToken = default)
    {
        var request = new ThinRequest("DescribeUpdate")
        {
            HttpMethod = "GET",
            Path = "/clusters/{name}/updates/{updateId}",
            PathLabels = { ["name"] = clusterName, ["updateId"] = updateId },
        };
        request.Parameters["nodegroupName"] = nodegroupName;
        var response = await SendAsync<UpdateResponse>(request, updateId, cancellationToken).ConfigureAwait(false);
        return ToUpdate(response.Update);
    }

    public Task<IReadOnlyList<string>> ListUpdatesAsync(string clusterName, string nodegroupName, CancellationToken cancellationToken = default) =>
        ListAllAsync<ListUpdatesResponse>("ListUpdates", "/clusters/{name}/updates", nodegroupName,
            page => (page.UpdateIds, page.NextToken), cancellationToken, request =>
            {
                request.PathLabels["name"] = clusterName;
                request.Parameters["nodegroupName"] = nodegroupName;
            });

    private static EksUpdate ToUpdate(UpdateShape? u) => u == null
        ? throw new InvalidDataException("EKS returned no update.")
        : new EksUpdate(u.Id ?? "", u.Status, u.Type, u.CreatedAt is { } epoch ? DateTimeOffset.FromUnixTimeMilliseconds((long)(epoch * 1000)) : null,
            (u.Errors ?? []).Select(e => new EksUpdateError(e.ErrorCode, e.ErrorMessage, e.ResourceIds ?? [])).ToList());

    private async Task<IReadOnlyList<string>> ListAllAsync<TPage>(string operation, string path, object? target,
        Func<TPage, (List<string>? Items, string? Next)> read, CancellationToken cancellationToken, Action<ThinRequest>? addLabelsAndParameters = null)
    {
        var all = new List<string>();
        string? next = null;
        do
        {
            var request = new ThinRequest(operation) { HttpMethod = "GET", Path = path };
            addLabelsAndParameters?.Invoke(request);
            request.Parameters["maxResults"] = "100";
            if (next != null)
            {
                request.Parameters["nextToken"] = next;
            }

            var page = await SendAsync<TPage>(request, target, cancellationToken).ConfigureAwait(false);
            var (items, token) = read(page);
            all.AddRange(items ?? []);
            next = string.IsNullOrEmpty(token) ? null : token;
        }
        while (next != null);
        return all;
    }

    private async Task<T> SendAsync<T>(ThinRequest request, object? target, CancellationToken cancellationToken)
    {
        var response = await AwsErrorTranslator.CallAsync(request.Operation, target,
            () => client.SendAsync(request, cancellationToken)).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize<T>(response.Body, Json)
                ?? throw new InvalidDataException($"{request.Operation} returned an empty body.");
        }
        catch (JsonException ex)
        {
            // An endpoint that is not the service (a proxy page, a mock) or a model change: say which call, not a parser trace.
            throw new Errors.WinEksPatchException(Errors.ErrorIds.AwsServiceError, Errors.ErrorKind.InvalidData,
                $"{request.Operation} returned a body that is not its response shape ({ex.Message}).", target, ex);
        }
    }

    // Wire shapes, named as in the service model.
    private sealed record UpdateResponse(UpdateShape? Update);

    private sealed record UpdateShape(string? Id, string? Status, string? Type, double? CreatedAt, List<UpdateErrorShape>? Errors);

    private sealed record UpdateErrorShape(string? ErrorCode, string? ErrorMessage, List<string>? ResourceIds);

    private sealed record ListUpdatesResponse(List<string>? UpdateIds, string? NextToken);

    private sealed record ListClustersResponse(List<string>? Clusters, string? NextToken);

    private sealed record ListNodegroupsResponse(List<string>? Nodegroups, string? NextToken);

    private sealed record DescribeClusterResponse(ClusterShape? Cluster);

    private sealed record ClusterShape(string? Name, string? Arn, string? Version, string? Status, string? Endpoint,
        CertificateShape? CertificateAuthority, string? PlatformVersion,
        [property: JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)] double? CreatedAt, Dictionary<string, string>? Tags);

    private sealed record CertificateShape(string? Data);

    private sealed record DescribeNodegroupResponse(NodegroupShape? Nodegroup);

    private sealed record NodegroupShape(string? NodegroupName, string? ClusterName, string? Version, string? ReleaseVersion,
        string? Status, string? CapacityType, string? AmiType, ScalingShape? ScalingConfig, List<string>? InstanceTypes,
        LaunchTemplateShape? LaunchTemplate, ResourcesShape? Resources, UpdateConfigShape? UpdateConfig);

    private sealed record UpdateConfigShape(int? MaxUnavailable, int? MaxUnavailablePercentage);

    private sealed record ScalingShape(int? MinSize, int? MaxSize, int? DesiredSize);

    private sealed record LaunchTemplateShape(string? Name, string? Version, string? Id);

    private sealed record ResourcesShape(List<NamedShape>? AutoScalingGroups);

    private sealed record NamedShape(string? Name);
}
