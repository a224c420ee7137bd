using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows;

/// <summary>Turns a <see cref="ClusterSnapshot"/> into the objects of Get-WinNodeGroup and Get-WinNode.</summary>
public sealed class FleetInventory(ClusterSnapshotReader reader, PatchCalendar calendar, TimeProvider time)
{
    public async Task<IReadOnlyList<WinNodeGroup>> GetNodeGroupsAsync(string clusterName, IReadOnlyCollection<string> names, IWorkflowHost host,
        CancellationToken cancellationToken = default)
    {
        var snapshot = await reader.ReadAsync(clusterName, includeInstances: true, includePods: false, cancellationToken).ConfigureAwait(false);
        var result = new List<WinNodeGroup>();
        foreach (var group in SelectGroups(snapshot, names, host))
        {
            var projected = ToNodeGroup(snapshot, group);
            host.Output(projected);
            result.Add(projected);
        }

        return result;
    }

    public async Task GetNodesAsync(string clusterName, IReadOnlyCollection<string> nodeGroupNames, IWorkflowHost host, CancellationToken cancellationToken = default)
    {
        var snapshot = await reader.ReadAsync(clusterName, includeInstances: true, includePods: true, cancellationToken).ConfigureAwait(false);
        var groups = SelectGroups(snapshot, nodeGroupNames, host).Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
        var now = time.GetUtcNow();
        foreach (var node in snapshot.WindowsNodes.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            var group = snapshot.GroupOf(node);
            if (nodeGroupNames.Count > 0 && (group == null || !groups.Contains(group)))
            {
                continue;
            }

            var instance = node.InstanceId is { } id ? snapshot.Instances.GetValueOrDefault(id) : null;
            var image = snapshot.ImageOf(node);
            var build = WindowsBuild.ParseOrNull(node.KernelVersion);
            host.Output(new WinNode
            {
                ClusterName = clusterName,
                NodeName = node.Name,
                NodeGroupName = group,
                InstanceId = node.InstanceId,
                ImageId = instance?.ImageId,
                AmiName = image?.Name,
                AmiCreationDate = image?.CreationDate,
                OsBuild = build?.ToString() ?? node.KernelVersion,
                WindowsVersion = build?.WindowsServer,
                Ready = node.Ready,
                Schedulable = !node.Unschedulable,
                CreatedAt = node.CreatedAt,
                Age = node.CreatedAt is { } created ? now - created : null,
                PodCount = snapshot.PodsByNode.GetValueOrDefault(node.Name)?.Count ?? 0,
                InstanceType = instance?.InstanceType,
                AvailabilityZone = instance?.AvailabilityZone,
            });
        }
    }

    /// <summary>The Windows groups asked for (all when <paramref name="names"/> is empty). A name that is not a group, or
    /// a group that is not Windows, is an error for that name; the others go on.</summary>
    internal static IEnumerable<NodeGroupFacts> SelectGroups(ClusterSnapshot snapshot, IReadOnlyCollection<string> names, IWorkflowHost host)
    {
        var (selected, refused) = ClassifyGroups(snapshot, names);
        foreach (var error in refused)
        {
            host.Error(error);
        }

        return selected;
    }

    /// <summary>The Windows groups asked for, and an error for each name that is not a group or not a Windows one.</summary>
    internal static (List<NodeGroupFacts> Selected, List<WinEksPatchException> Refused) ClassifyGroups(ClusterSnapshot snapshot, IReadOnlyCollection<string> names)
    {
        if (names.Count == 0)
        {
            return ([.. snapshot.NodeGroups.Where(g => g.IsWindows).OrderBy(g => g.Name, StringComparer.Ordinal)], []);
        }

        var selected = new List<NodeGroupFacts>();
        var refused = new List<WinEksPatchException>();
        foreach (var name in names)
        {
            var group = snapshot.NodeGroups.FirstOrDefault(g => g.Name == name);
            if (group == null)
            {
                refused.Add(new WinEksPatchException(ErrorIds.NodeGroupNotFound, ErrorKind.ObjectNotFound,
                    $"Cluster '{snapshot.Cluster.Name}' has no node group '{name}' (neither an EKS managed node group nor an Auto Scaling group tagged kubernetes.io/cluster/{snapshot.Cluster.Name})" +
                    Closest(snapshot, name) + ".",
                    name));
            }
            else if (!group.IsWindows)
            {
                refused.Add(new WinEksPatchException(ErrorIds.NodeGroupNotWindows, ErrorKind.InvalidArgument,
                    $"Node group '{name}' of cluster '{snapshot.Cluster.Name}' runs no Windows nodes (AMI type {group.Managed?.AmiType ?? "n/a"}, AMI {group.Image?.Name ?? group.TemplateVersion?.ImageId ?? "unknown"}).",
                    name));
            }
            else
            {
                selected.Add(group);
            }
        }

        return (selected, refused);
    }

    /// <summary>"; its Windows groups: a, b" so that a misspelt name is corrected at once.</summary>
    private static string Closest(ClusterSnapshot snapshot, string name)
    {
        var windows = snapshot.NodeGroups.Where(g => g.IsWindows).Select(g => g.Name).Order(StringComparer.Ordinal).ToList();
        return windows.Count == 0 ? "; it has no Windows node group" : $"; its Windows node groups: {string.Join(", ", windows)}";
    }

    internal WinNodeGroup ToNodeGroup(ClusterSnapshot snapshot, NodeGroupFacts group)
    {
        var nodes = snapshot.WindowsNodes.Where(n => snapshot.GroupOf(n) == group.Name).ToList();
        // A managed group on an EKS AMI type names no AMI in its launch template: EKS picks it by release version, so
        // the AMI its nodes run is the group's AMI.
        var targetAmi = group.TemplateVersion?.ImageId
            ?? nodes.Select(n => n.InstanceId is { } id ? snapshot.Instances.GetValueOrDefault(id)?.ImageId : null).OfType<string>()
                .GroupBy(a => a, StringComparer.Ordinal).OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefault();
        var image = group.Image ?? (targetAmi != null ? snapshot.Images.GetValueOrDefault(targetAmi) : null);

        // The group's OS build: what its nodes on the target AMI report, else what the AMI says.
        var build = nodes.Where(n => n.InstanceId != null && snapshot.Instances.GetValueOrDefault(n.InstanceId)?.ImageId == targetAmi)
            .Select(n => WindowsBuild.ParseOrNull(n.KernelVersion)).OfType<WindowsBuild>().DefaultIfEmpty().Max();
        var osBuild = build != default ? build : AmiFacts.OsBuild(image, calendar);
        var (typeVersion, typeEdition) = AmiFacts.FromAmiType(group.Managed?.AmiType);
        var (nameVersion, nameEdition, _) = AmiFacts.FromName(image?.Name);

        return new WinNodeGroup
        {
            ClusterName = snapshot.Cluster.Name,
            NodeGroupName = group.Name,
            Kind = group.Kind.ToString(),
            Region = snapshot.Region,
            AutoScalingGroupName = group.AutoScalingGroup?.Name ?? group.Managed?.AutoScalingGroupNames.FirstOrDefault(),
            LaunchTemplateId = group.TemplateVersion?.LaunchTemplateId ?? group.LaunchTemplate?.Id,
            LaunchTemplateName = group.TemplateVersion?.LaunchTemplateName ?? group.LaunchTemplate?.Name,
            LaunchTemplateVersion = group.LaunchTemplate?.Version,
            ImageId = targetAmi,
            AmiName = image?.Name,
            AmiType = group.Managed?.AmiType,
            WindowsVersion = AmiFacts.WindowsVersion(image) ?? typeVersion ?? nameVersion ?? osBuild?.WindowsServer,
            Edition = typeEdition ?? nameEdition,
            ImageOsBuild = osBuild?.ToString(),
            KubernetesVersion = group.Managed?.Version ?? snapshot.Cluster.Version,
            DesiredSize = group.Managed?.DesiredSize ?? group.AutoScalingGroup?.DesiredCapacity ?? 0,
            MinSize = group.Managed?.MinSize ?? group.AutoScalingGroup?.MinSize ?? 0,
            MaxSize = group.Managed?.MaxSize ?? group.AutoScalingGroup?.MaxSize ?? 0,
            NodeCount = nodes.Count,
            SuspendedProcesses = group.AutoScalingGroup?.SuspendedProcesses ?? [],
            RolloutInProgress = group.AutoScalingGroup?.Tags.ContainsKey(Replacement.RolloutState.GroupTag) == true,
        };
    }
}
