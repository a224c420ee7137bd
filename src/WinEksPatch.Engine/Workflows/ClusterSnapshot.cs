using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows;

/// <summary>A node group of the cluster with everything read about it, before deciding whether it is Windows.</summary>
public sealed record NodeGroupFacts(
    string Name,
    NodeGroupKind Kind,
    EksNodegroup? Managed,
    AutoScalingGroup? AutoScalingGroup,
    LaunchTemplateReference? LaunchTemplate,
    LaunchTemplateVersion? TemplateVersion,
    Ec2Image? Image,
    bool IsWindows);

/// <summary>
/// One consistent read of a cluster's Windows fleet, shared by the assessment cmdlets. Calls are batched: one
/// DescribeCluster and ListNodegroups, one DescribeNodegroup per managed group, one filtered DescribeAutoScalingGroups,
/// one DescribeLaunchTemplateVersions per group, one LIST of Windows nodes, DescribeInstances/DescribeImages in batches
/// of 200, and (only when asked) one LIST of pods.
/// </summary>
public sealed class ClusterSnapshot
{
    public required EksCluster Cluster { get; init; }

    public required string Region { get; init; }

    public required IReadOnlyList<NodeGroupFacts> NodeGroups { get; init; }

    public required IReadOnlyList<KubeNode> WindowsNodes { get; init; }

    public required IReadOnlyDictionary<string, Ec2Instance> Instances { get; init; }

    public required IReadOnlyDictionary<string, Ec2Image> Images { get; init; }

    /// <summary>Active pods bound to Windows nodes, by node name (empty unless pods were loaded).</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<KubePod>> PodsByNode { get; init; }

    /// <summary>With pods read: the cluster's pods no node was found for yet (Pending, unscheduled), from the same list.</summary>
    public IReadOnlyList<KubePod> UnscheduledPods { get; init; } = [];

    /// <summary>Which group a Windows node belongs to: the EKS label, else the ASG holding its instance.</summary>
    public string? GroupOf(KubeNode node) =>
        node.ManagedNodegroup ?? (node.InstanceId is { } id
            ? NodeGroups.FirstOrDefault(g => g.AutoScalingGroup?.Instances.Any(i => i.InstanceId == id) == true)?.Name
            : null);

    public Ec2Image? ImageOf(KubeNode node) =>
        node.InstanceId is { } id && Instances.TryGetValue(id, out var instance) && instance.ImageId is { } ami
            ? Images.GetValueOrDefault(ami) : null;
}

/// <summary>Reads a <see cref="ClusterSnapshot"/>.</summary>
public sealed class ClusterSnapshotReader(IEksApi eks, IAutoScalingApi autoScaling, IEc2Api ec2, Func<EksCluster, IKubernetesApi> kubernetesFor, string region)
{
    public const string EksNodegroupTag = "eks:nodegroup-name";

    /// <summary>The cluster as the module needs it. With <paramref name="onlyNodeGroup"/>, the node group facts are of that
    /// group alone (no DescribeNodegroup or launch template read for the others; every Windows node, instance and pod is still
    /// read): what a change to one group needs. A name that is no group of the cluster reads the whole cluster, so that the
    /// error names the groups there are.</summary>
    public async Task<ClusterSnapshot> ReadAsync(string clusterName, bool includeInstances, bool includePods, CancellationToken cancellationToken = default,
        string? onlyNodeGroup = null)
    {
        EksCluster cluster;
        try
        {
            cluster = await eks.DescribeClusterAsync(clusterName, cancellationToken).ConfigureAwait(false);
        }
        catch (WinEksPatchException ex) when (ex.ErrorId == ErrorIds.AwsResourceNotFound)
        {
            throw new WinEksPatchException(ErrorIds.ClusterNotFound, ErrorKind.ObjectNotFound,
                $"No EKS cluster named '{clusterName}' in {region}.", clusterName, ex);
        }

        var managed = new List<EksNodegroup>();
        foreach (var name in (await eks.ListNodegroupsAsync(clusterName, cancellationToken).ConfigureAwait(false)).Where(n => onlyNodeGroup is null || n == onlyNodeGroup))
        {
            managed.Add(await eks.DescribeNodegroupAsync(clusterName, name, cancellationToken).ConfigureAwait(false));
        }

        // Self-managed groups carry the cluster's ownership tag; EKS-created ASGs of managed groups carry eks:nodegroup-name too.
        var clusterAsgs = await autoScaling.DescribeAutoScalingGroupsAsync(
            filters: new Dictionary<string, IReadOnlyCollection<string>> { ["tag-key"] = [$"kubernetes.io/cluster/{clusterName}"] },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        var selfManaged = clusterAsgs.Where(g => !g.Tags.ContainsKey(EksNodegroupTag) && (onlyNodeGroup is null || g.Name == onlyNodeGroup)).ToList();
        if (onlyNodeGroup is not null && managed.Count == 0 && selfManaged.Count == 0)
        {
            return await ReadAsync(clusterName, includeInstances, includePods, cancellationToken).ConfigureAwait(false);
        }

        var groups = new List<(string Name, NodeGroupKind Kind, EksNodegroup? Managed, AutoScalingGroup? Asg, LaunchTemplateReference? Template)>();
        groups.AddRange(managed.Select(m => (m.Name, NodeGroupKind.Managed, (EksNodegroup?)m, clusterAsgs.FirstOrDefault(a => m.AutoScalingGroupNames.Contains(a.Name)),
            m.LaunchTemplateId != null || m.LaunchTemplateName != null ? new LaunchTemplateReference(m.LaunchTemplateId, m.LaunchTemplateName, m.LaunchTemplateVersion) : null)));
        groups.AddRange(selfManaged.Select(a => (a.Name, NodeGroupKind.SelfManaged, (EksNodegroup?)null, (AutoScalingGroup?)a, a.LaunchTemplate)));

        var versions = new Dictionary<string, LaunchTemplateVersion>(StringComparer.Ordinal);
        foreach (var group in groups.Where(g => g.Template != null))
        {
            versions[group.Name] = await ec2.DescribeLaunchTemplateVersionAsync(group.Template!, cancellationToken).ConfigureAwait(false);
        }

        var nodes = await kubernetesFor(cluster).ListNodesAsync(ClusterInventory.WindowsNodeSelector, cancellationToken).ConfigureAwait(false);
        var instances = includeInstances
            ? (await ec2.DescribeInstancesAsync([.. nodes.Select(n => n.InstanceId).OfType<string>()], cancellationToken).ConfigureAwait(false))
                .ToDictionary(i => i.InstanceId, StringComparer.Ordinal)
            : new Dictionary<string, Ec2Instance>(StringComparer.Ordinal);
        var imageIds = versions.Values.Select(v => v.ImageId).Concat(instances.Values.Select(i => i.ImageId)).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var images = (await ec2.DescribeImagesAsync(imageIds, cancellationToken).ConfigureAwait(false)).ToDictionary(i => i.ImageId, StringComparer.Ordinal);

        var facts = groups.Select(g =>
        {
            var version = versions.GetValueOrDefault(g.Name);
            var image = version?.ImageId is { } ami ? images.GetValueOrDefault(ami) : null;
            var windows = g.Managed?.IsWindowsAmiType == true || image?.IsWindows == true
                || nodes.Any(n => n.ManagedNodegroup == g.Name)
                || (g.Asg != null && nodes.Any(n => g.Asg.Instances.Any(i => i.InstanceId == n.InstanceId)));
            return new NodeGroupFacts(g.Name, g.Kind, g.Managed, g.Asg, g.Template, version, image, windows);
        }).ToList();

        var podsByNode = new Dictionary<string, IReadOnlyList<KubePod>>(StringComparer.Ordinal);
        IReadOnlyList<KubePod> unscheduled = [];
        if (includePods)
        {
            var windowsNodeNames = nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
            var pods = await kubernetesFor(cluster).ListPodsAsync(fieldSelector: "status.phase!=Succeeded,status.phase!=Failed",
                cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var group in pods.Where(p => p.NodeName != null && windowsNodeNames.Contains(p.NodeName)).GroupBy(p => p.NodeName!))
            {
                podsByNode[group.Key] = group.ToList();
            }

            unscheduled = [.. pods.Where(p => p.NodeName == null)];
        }

        return new ClusterSnapshot
        {
            Cluster = cluster,
            Region = region,
            NodeGroups = facts,
            WindowsNodes = nodes,
            Instances = instances,
            Images = images,
            PodsByNode = podsByNode,
            UnscheduledPods = unscheduled,
        };
    }
}
