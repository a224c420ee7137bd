using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Registry;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows;

/// <summary>Get-WinContainerPatchStatus and Get-WinImageCachePlan: the containers on Windows nodes against their hosts
/// and against the AMI their node group launches.</summary>
public sealed class ContainerAssessment(ClusterSnapshotReader reader, ImageAnalyzer analyzer, ImageCost cost, PatchCalendar calendar)
{
    /// <summary>Nominal rates behind <see cref="WinImageCacheCandidate.EstimatedPullTime"/>.</summary>
    public const double DownloadBytesPerSecond = 20e6;
    public const double ExtractBytesPerSecond = 7.6e6;

    public async Task PatchStatusAsync(string clusterName, string? @namespace, IWorkflowHost host, CancellationToken cancellationToken = default)
    {
        var snapshot = await reader.ReadAsync(clusterName, includeInstances: false, includePods: true, cancellationToken).ConfigureAwait(false);
        var failed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in snapshot.WindowsNodes.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            var nodeBuild = WindowsBuild.ParseOrNull(node.KernelVersion);
            foreach (var pod in snapshot.PodsByNode.GetValueOrDefault(node.Name) ?? [])
            {
                if (@namespace != null && pod.Namespace != @namespace)
                {
                    continue;
                }

                foreach (var container in pod.Containers)
                {
                    var image = await TryResolveAsync(container.Image, nodeBuild?.Build, false, failed, host, cancellationToken).ConfigureAwait(false);
                    if (image == null)
                    {
                        continue;
                    }

                    var imageBuild = image.WindowsBuild;
                    var compatible = imageBuild != null && nodeBuild != null && imageBuild.Value.Build == nodeBuild.Value.Build;
                    host.Output(new WinContainerPatchStatus
                    {
                        ClusterName = clusterName,
                        Namespace = pod.Namespace,
                        PodName = pod.Name,
                        ContainerName = container.Name,
                        NodeName = node.Name,
                        Image = container.Image,
                        ImageOsVersion = image.OsVersion,
                        NodeOsBuild = nodeBuild?.ToString(),
                        Compatible = compatible,
                        MonthsBehind = compatible ? calendar.MonthsBehind(imageBuild!.Value, nodeBuild!.Value) : null,
                    });
                }
            }
        }
    }

    public async Task CachePlanAsync(string clusterName, IReadOnlyCollection<string> nodeGroupNames, IWorkflowHost host, CancellationToken cancellationToken = default)
    {
        var snapshot = await reader.ReadAsync(clusterName, includeInstances: false, includePods: true, cancellationToken).ConfigureAwait(false);
        var groups = FleetInventory.SelectGroups(snapshot, nodeGroupNames, host).ToDictionary(g => g.Name, StringComparer.Ordinal);

        // Which images run where: image → (group → pods, nodes).
        var usage = new Dictionary<string, Dictionary<string, (int Pods, HashSet<string> Nodes)>>(StringComparer.Ordinal);
        foreach (var node in snapshot.WindowsNodes)
        {
            if (snapshot.GroupOf(node) is not { } group || !groups.ContainsKey(group))
            {
                continue;
            }

            foreach (var image in (snapshot.PodsByNode.GetValueOrDefault(node.Name) ?? []).SelectMany(p => p.Containers.Select(c => c.Image).Distinct(StringComparer.Ordinal)))
            {
                var byGroup = usage.TryGetValue(image, out var g) ? g : usage[image] = new(StringComparer.Ordinal);
                var entry = byGroup.TryGetValue(group, out var e) ? e : (Pods: 0, Nodes: new HashSet<string>(StringComparer.Ordinal));
                entry.Nodes.Add(node.Name);
                byGroup[group] = (entry.Pods + 1, entry.Nodes);
            }
        }

        var presentByGroup = new Dictionary<string, (WindowsBuild? Build, IReadOnlySet<string> Layers)>(StringComparer.Ordinal);
        foreach (var group in groups.Values.Where(g => usage.Values.Any(u => u.ContainsKey(g.Name))))
        {
            var (build, layers, _) = group.TemplateVersion?.ImageId is { } ami
                ? await cost.PresentLayersAsync(new PullTarget.Ami(ami), cancellationToken).ConfigureAwait(false)
                : (null, new HashSet<string>(), null);
            // A group on an EKS AMI type names no AMI: its hosts' build is what its nodes report.
            build ??= snapshot.WindowsNodes.Where(n => snapshot.GroupOf(n) == group.Name).Select(n => WindowsBuild.ParseOrNull(n.KernelVersion))
                .FirstOrDefault(b => b != null);
            presentByGroup[group.Name] = (build, layers);
        }

        var failed = new HashSet<string>(StringComparer.Ordinal);
        var candidates = new List<WinImageCacheCandidate>();
        foreach (var (imageText, byGroup) in usage)
        {
            long download = 0, extract = 0, saved = 0;
            string? osVersion = null;
            var resolvedAny = false;
            var compatibleAny = false;
            var incompatible = new List<string>();
            foreach (var (group, (pods, _)) in byGroup)
            {
                var (build, present) = presentByGroup[group];
                var image = await TryResolveAsync(imageText, build?.Build, true, failed, host, cancellationToken).ConfigureAwait(false);
                if (image == null)
                {
                    continue;
                }

                resolvedAny = true;
                osVersion ??= image.OsVersion;
                if (build is { } hostBuild && WindowsBuild.ParseOrNull(image.OsVersion) is { } imageBuild && imageBuild.Build != hostBuild.Build)
                {
                    // Process isolation needs the container's Windows build to be the host's: this image cannot start on
                    // the group's nodes, and caching it in their AMI would only make the AMI bigger.
                    incompatible.Add($"{group} (hosts {hostBuild.Build})");
                    continue;
                }

                compatibleAny = true;
                var missing = image.Layers.Where(l => !present.Contains(l.Digest)).ToList();
                long groupDownload = missing.Sum(l => l.CompressedSize), groupExtract = missing.Sum(l => l.Size ?? 0);
                download = Math.Max(download, groupDownload);
                extract = Math.Max(extract, groupExtract);
                saved += (groupDownload + groupExtract) * pods;
            }

            if (incompatible.Count > 0)
            {
                host.Warning($"{imageText} is built for Windows {osVersion}, not the build of the nodes it runs on in {string.Join(", ", incompatible)}: " +
                    "it cannot start there with process isolation, so it is left out of the cache plan for those groups. Rebuild it on the hosts' Windows version.");
            }

            if (!resolvedAny || !compatibleAny)
            {
                continue;
            }

            candidates.Add(new WinImageCacheCandidate
            {
                ClusterName = clusterName,
                Image = imageText,
                OsVersion = osVersion,
                Pods = byGroup.Values.Sum(v => v.Pods),
                Nodes = byGroup.Values.Sum(v => v.Nodes.Count),
                NodeGroups = byGroup.Keys.Order(StringComparer.Ordinal).ToList(),
                DownloadSize = download,
                ExtractSize = extract,
                SavedBytes = saved,
                EstimatedPullTime = TimeSpan.FromSeconds((download / DownloadBytesPerSecond) + (extract / ExtractBytesPerSecond)),
                AlreadyCached = download == 0 && extract == 0,
            });
        }

        foreach (var candidate in candidates.OrderByDescending(c => c.SavedBytes).ThenBy(c => c.Image, StringComparer.Ordinal))
        {
            host.Output(candidate);
        }
    }

    /// <summary>Resolves an image once; a failure is reported once per image (not per pod) and the others go on.</summary>
    private async Task<ResolvedImage?> TryResolveAsync(string text, int? build, bool withSizes, HashSet<string> failed, IWorkflowHost host, CancellationToken cancellationToken)
    {
        if (failed.Contains(text))
        {
            return null;
        }

        try
        {
            return await analyzer.ResolveAsync(ImageCost.Parse(text, "Image"), build, withSizes, cancellationToken).ConfigureAwait(false);
        }
        catch (WinEksPatchException ex)
        {
            failed.Add(text);
            host.Error(ex);
            return null;
        }
    }
}
