using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Registry;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows;

/// <summary>Where an image would be pulled: nowhere in particular, on a fresh node from an AMI, or on a running node.</summary>
public abstract record PullTarget
{
    public sealed record None : PullTarget;

    public sealed record Ami(string ImageId) : PullTarget;

    public sealed record Node(string ClusterName, string NodeName) : PullTarget;
}

/// <summary>
/// Measure-WinContainerImage: the compressed and on-disk size of an image, and what a pull costs on a given AMI or
/// node, where the layers it shares with images already there (the AMI's cache, images pulled by the node's pods)
/// are neither downloaded nor extracted again.
/// </summary>
public sealed class ImageCost(ImageAnalyzer analyzer, RegistryClient registry, IEc2Api ec2, PatchCalendar calendar,
    Func<string, Task<(EksCluster Cluster, IKubernetesApi Api)>> kubernetesForCluster)
{
    public async Task MeasureAsync(IReadOnlyList<string> images, PullTarget target, string? repository, IWorkflowHost host,
        CancellationToken cancellationToken = default)
    {
        ImageReference? repositoryReference = null;
        if (repository != null)
        {
            repositoryReference = Parse(repository, "Repository");
        }

        var (build, present, targetName) = await PresentLayersAsync(target, cancellationToken).ConfigureAwait(false);
        foreach (var text in images)
        {
            try
            {
                var reference = Parse(text, "Image");
                var image = await analyzer.ResolveAsync(reference, build?.Build, withSizes: true, cancellationToken).ConfigureAwait(false);
                host.Output(await ToSizeAsync(text, image, present, targetName, repositoryReference, cancellationToken).ConfigureAwait(false));
            }
            catch (WinEksPatchException ex)
            {
                host.Error(ex);
            }
        }
    }

    /// <summary>The layers already on a target and its Windows build.</summary>
    public async Task<(WindowsBuild? Build, IReadOnlySet<string> Layers, string? Name)> PresentLayersAsync(PullTarget target, CancellationToken cancellationToken)
    {
        switch (target)
        {
            case PullTarget.Ami ami:
            {
                var image = (await ec2.DescribeImagesAsync([ami.ImageId], cancellationToken).ConfigureAwait(false)).SingleOrDefault()
                    ?? throw new WinEksPatchException(ErrorIds.AmiNotFound, ErrorKind.ObjectNotFound, $"-ImageId: no AMI {ami.ImageId} in this region.", ami.ImageId);
                var build = AmiFacts.OsBuild(image, calendar);
                var layers = await LayersOfAsync(AmiFacts.CachedImages(image, build), build, cancellationToken).ConfigureAwait(false);
                return (build, layers, ami.ImageId);
            }

            case PullTarget.Node node:
            {
                var (cluster, kubernetes) = await kubernetesForCluster(node.ClusterName).ConfigureAwait(false);
                var found = (await kubernetes.ListNodesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).FirstOrDefault(n => n.Name == node.NodeName)
                    ?? throw new WinEksPatchException(ErrorIds.NodeNotFound, ErrorKind.ObjectNotFound,
                        $"-NodeName: cluster '{cluster.Name}' has no node '{node.NodeName}'.", node.NodeName);
                var build = WindowsBuild.ParseOrNull(found.KernelVersion);
                var instance = found.InstanceId is { } id ? (await ec2.DescribeInstancesAsync([id], cancellationToken).ConfigureAwait(false)).SingleOrDefault() : null;
                var ami = instance?.ImageId is { } amiId ? (await ec2.DescribeImagesAsync([amiId], cancellationToken).ConfigureAwait(false)).SingleOrDefault() : null;
                var pods = await kubernetes.ListPodsAsync(fieldSelector: $"spec.nodeName={node.NodeName}", cancellationToken: cancellationToken).ConfigureAwait(false);
                var pulled = pods.SelectMany(p => p.Containers).Select(c => c.Image);
                var layers = await LayersOfAsync(AmiFacts.CachedImages(ami, build).Concat(pulled).Distinct(StringComparer.Ordinal).ToList(), build, cancellationToken).ConfigureAwait(false);
                return (build, layers, node.NodeName);
            }

            default:
                return (null, new HashSet<string>(), null);
        }
    }

    private async Task<IReadOnlySet<string>> LayersOfAsync(IReadOnlyList<string> images, WindowsBuild? build, CancellationToken cancellationToken)
    {
        var layers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var text in images)
        {
            if (!ImageReference.TryParse(text, out var reference, out _))
            {
                continue;
            }

            try
            {
                var image = await analyzer.ResolveAsync(reference, build?.Build, withSizes: false, cancellationToken).ConfigureAwait(false);
                layers.UnionWith(image.Layers.Select(l => l.Digest));
            }
            catch (WinEksPatchException)
            {
                // A cached image the registry no longer has (or a Linux one) contributes no layers.
            }
        }

        return layers;
    }

    private async Task<WinContainerImageSize> ToSizeAsync(string text, ResolvedImage image, IReadOnlySet<string> present, string? target,
        ImageReference? repository, CancellationToken cancellationToken)
    {
        var inRepository = new HashSet<string>(StringComparer.Ordinal);
        if (repository != null)
        {
            foreach (var layer in image.Layers.Where(l => !l.Foreign))
            {
                if (await registry.BlobExistsAsync(repository, layer.Digest, cancellationToken).ConfigureAwait(false))
                {
                    inRepository.Add(layer.Digest);
                }
            }
        }

        var layers = image.Layers.Select(l => new WinImageLayer(l.Digest, l.CompressedSize, l.Size, l.Foreign, present.Contains(l.Digest), inRepository.Contains(l.Digest))).ToList();
        var missing = layers.Where(l => !l.Present).ToList();
        return new WinContainerImageSize
        {
            Image = text,
            Digest = image.ManifestDigest,
            OsVersion = image.OsVersion,
            CompressedSize = image.CompressedSize,
            ForeignCompressedSize = image.ForeignCompressedSize,
            Size = image.Size,
            Layers = layers,
            Target = target,
            SharedLayerCount = layers.Count(l => l.Present),
            SharedSize = layers.Where(l => l.Present).Sum(l => l.Size ?? 0),
            DownloadSize = missing.Sum(l => l.CompressedSize),
            ExtractSize = missing.All(l => l.Size != null) ? missing.Sum(l => l.Size!.Value) : null,
            Repository = repository?.ToString(),
            PushSize = repository == null ? null : layers.Where(l => !l.Foreign && !l.InRepository).Sum(l => l.CompressedSize),
        };
    }

    internal static ImageReference Parse(string text, string parameter) =>
        ImageReference.TryParse(text, out var reference, out var problem)
            ? reference
            : throw new WinEksPatchException(ErrorIds.InvalidImageReference, ErrorKind.InvalidArgument,
                $"-{parameter}: '{Printable(text)}' is not an image reference: {problem}.", text);

    /// <summary>Shows control characters escaped, so an error message cannot inject lines.</summary>
    internal static string Printable(string text) =>
        string.Concat(text.Take(200).Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}
