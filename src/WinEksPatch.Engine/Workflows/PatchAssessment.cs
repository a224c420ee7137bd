using WinEksPatch.Abstractions;
using WinEksPatch.Model;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows;

/// <summary>Get-WinPatchStatus: per Windows node group, current AMI(s) and builds against the newest candidate AMI.</summary>
public sealed class PatchAssessment(ClusterSnapshotReader reader, FleetInventory fleet, AmiCatalog catalog, PatchCalendar calendar, TimeProvider time)
{
    public async Task RunAsync(string clusterName, IReadOnlyCollection<string> nodeGroupNames, IWorkflowHost host, CancellationToken cancellationToken = default)
    {
        var snapshot = await reader.ReadAsync(clusterName, includeInstances: true, includePods: false, cancellationToken).ConfigureAwait(false);
        var groups = FleetInventory.SelectGroups(snapshot, nodeGroupNames, host).ToList();
        var query = new AmiQuery(KubernetesVersion: snapshot.Cluster.Version);
        var candidates = (await catalog.LatestEksAsync(query, cancellationToken).ConfigureAwait(false))
            .Concat(await catalog.BuiltAsync(query, cancellationToken).ConfigureAwait(false))
            .ToList();
        var now = time.GetUtcNow();

        foreach (var facts in groups)
        {
            var group = fleet.ToNodeGroup(snapshot, facts);
            var nodes = snapshot.WindowsNodes.Where(n => snapshot.GroupOf(n) == facts.Name).ToList();
            var latest = candidates
                .Where(c => c.WindowsVersion == group.WindowsVersion && (group.Edition == null || c.Edition == group.Edition))
                .OrderByDescending(c => WindowsBuild.ParseOrNull(c.OsBuild))
                .ThenByDescending(c => c.CreationDate)
                .FirstOrDefault();
            var latestBuild = WindowsBuild.ParseOrNull(latest?.OsBuild);
            var nodeBuilds = nodes.Select(n => (Node: n, Build: WindowsBuild.ParseOrNull(n.KernelVersion))).ToList();
            var oldestBuild = nodeBuilds.Select(n => n.Build).OfType<WindowsBuild>().DefaultIfEmpty().Min();
            var current = oldestBuild != default ? oldestBuild : WindowsBuild.ParseOrNull(group.ImageOsBuild);
            var oldestNode = nodes.Where(n => n.CreatedAt != null).MinBy(n => n.CreatedAt);

            host.Output(new WinPatchStatus
            {
                ClusterName = clusterName,
                NodeGroupName = group.NodeGroupName,
                Kind = group.Kind,
                WindowsVersion = group.WindowsVersion,
                KubernetesVersion = group.KubernetesVersion,
                ImageId = group.ImageId,
                CurrentImageIds = nodes.Select(n => n.InstanceId is { } id ? snapshot.Instances.GetValueOrDefault(id)?.ImageId : null)
                    .OfType<string>().Append(group.ImageId).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
                OsBuild = current?.ToString(),
                LatestImageId = latest?.ImageId,
                LatestOsBuild = latest?.OsBuild,
                LatestSource = latest?.Source,
                NodeCount = nodes.Count,
                OutdatedNodes = latestBuild is { } lb ? nodeBuilds.Count(n => n.Build is { } b && b < lb) : 0,
                MonthsBehind = current is { } c && latestBuild is { } l
                    ? calendar.MonthsBehind(c, l, latest?.CreationDate is { } d ? DateOnly.FromDateTime(d.UtcDateTime) : null)
                    : null,
                OldestNode = oldestNode?.Name,
                OldestNodeAge = oldestNode?.CreatedAt is { } created ? now - created : null,
            });
        }
    }
}
