using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;

namespace WinEksPatch.Workflows;

/// <summary>
/// Answers "which clusters are there and how much Windows runs in them": EKS for the cluster and its managed node
/// groups, Kubernetes for the Windows nodes, Auto Scaling to find the self-managed groups those nodes belong to.
/// One LIST of Windows nodes per cluster and one batched DescribeAutoScalingInstances, never a call per node.
/// </summary>
public sealed class ClusterInventory(IEksApi eks, IAutoScalingApi autoScaling, Func<EksCluster, IKubernetesApi> kubernetesFor, string region, string? profileName = null)
{
    public const string WindowsNodeSelector = "kubernetes.io/os=windows";

    /// <summary>Emits one <see cref="WinEksCluster"/> per cluster (all of the region when <paramref name="names"/> is empty);
    /// a cluster that fails is reported through <see cref="IWorkflowHost.Error"/> and the others go on.</summary>
    public async Task RunAsync(IReadOnlyCollection<string> names, IWorkflowHost host, CancellationToken cancellationToken = default)
    {
        var clusterNames = names.Count > 0 ? names : await eks.ListClustersAsync(cancellationToken).ConfigureAwait(false);
        foreach (var name in clusterNames)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                host.Output(await DescribeAsync(name, host, cancellationToken).ConfigureAwait(false));
            }
            catch (WinEksPatchException ex)
            {
                host.Error(ex);
            }
        }
    }

    private async Task<WinEksCluster> DescribeAsync(string name, IWorkflowHost host, CancellationToken cancellationToken)
    {
        EksCluster cluster;
        try
        {
            cluster = await eks.DescribeClusterAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (WinEksPatchException ex) when (ex.ErrorId == ErrorIds.AwsResourceNotFound)
        {
            throw new WinEksPatchException(ErrorIds.ClusterNotFound, ErrorKind.ObjectNotFound,
                $"No EKS cluster named '{name}' in {region}.", name, ex);
        }

        host.Verbose($"Cluster {name}: Kubernetes {cluster.Version}, {cluster.Status}.");
        var nodegroups = new List<EksNodegroup>();
        foreach (var nodegroupName in await eks.ListNodegroupsAsync(name, cancellationToken).ConfigureAwait(false))
        {
            nodegroups.Add(await eks.DescribeNodegroupAsync(name, nodegroupName, cancellationToken).ConfigureAwait(false));
        }

        var windowsNodes = await kubernetesFor(cluster).ListNodesAsync(WindowsNodeSelector, cancellationToken).ConfigureAwait(false);
        host.Verbose($"Cluster {name}: {windowsNodes.Count} Windows node(s), {nodegroups.Count} managed node group(s).");

        // Managed groups are Windows by AMI type, or (custom AMI in a launch template) because their nodes are Windows.
        var groups = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var group in nodegroups.Where(g => g.IsWindowsAmiType))
        {
            groups.Add(group.Name);
        }

        var unmanagedInstanceIds = new List<string>();
        foreach (var node in windowsNodes)
        {
            if (node.ManagedNodegroup is { } managed)
            {
                groups.Add(managed);
            }
            else if (node.InstanceId is { } instanceId)
            {
                unmanagedInstanceIds.Add(instanceId);
            }
        }

        if (unmanagedInstanceIds.Count > 0)
        {
            var memberships = await autoScaling.DescribeAutoScalingInstancesAsync(unmanagedInstanceIds, cancellationToken).ConfigureAwait(false);
            foreach (var membership in memberships)
            {
                groups.Add(membership.AutoScalingGroupName);
            }
        }

        return new WinEksCluster
        {
            ClusterName = cluster.Name,
            Region = region,
            KubernetesVersion = cluster.Version,
            Status = cluster.Status,
            Endpoint = cluster.Endpoint,
            PlatformVersion = cluster.PlatformVersion,
            Arn = cluster.Arn,
            AccountId = cluster.AccountId,
            CreatedAt = cluster.CreatedAt,
            WindowsNodeGroups = groups.ToList(),
            WindowsNodeCount = windowsNodes.Count,
            Tags = cluster.Tags,
            ProfileName = profileName,
        };
    }
}
