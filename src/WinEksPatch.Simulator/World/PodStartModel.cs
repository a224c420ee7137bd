namespace WinEksPatch.Simulator.World;

/// <summary>
/// How long a pod takes from being bound to a node until it runs: image pull (download) plus extraction, minus the
/// layers already on the node (cached in its AMI or pulled before). The scheduler and controllers call this; the
/// container image catalogue (layers, sizes, registry) implements it.
/// </summary>
/// <remarks>
/// Calibrated on DESIGN.md's measurement of a servercore pull with containerd on an empty node: 74 s of download and
/// ~12.5 min of extraction. servercore ltsc2022 (2026-09) is 1.85 GB compressed and 6.00 GB uncompressed in the
/// catalogue, hence 25 MB/s download and 8 MB/s extraction (Windows extraction is slow: it expands layers into a
/// sandbox VHD and registers each file). The kubelet pulls images one at a time per node (serializeImagePulls
/// defaults to true), so pulls of pods bound together queue; a layer another pod is pulling is waited for, not
/// downloaded twice. Images the catalogue does not know (e.g. the Linux system images) take <see cref="UnknownImagePull"/>.
/// </remarks>
public static class PodStartModel
{
    /// <summary>Effective registry download throughput of a node (bytes of compressed layers per second).</summary>
    public const double DownloadBytesPerSecond = 25_000_000;

    /// <summary>Windows layer extraction throughput (bytes of uncompressed layer per second).</summary>
    public const double ExtractBytesPerSecond = 8_000_000;

    /// <summary>Creating and starting the containers once the images are there.</summary>
    public static readonly TimeSpan ContainerStart = TimeSpan.FromSeconds(3);

    /// <summary>Pull time of an image that is not in the catalogue.</summary>
    public static readonly TimeSpan UnknownImagePull = TimeSpan.FromSeconds(17);

    /// <summary>Delay between binding <paramref name="pod"/> to <paramref name="node"/> and the pod turning Running/Ready.
    /// Records the pulled layers on the node, so the next pod there starts faster. Called with <see cref="SimWorld.Gate"/> held.</summary>
    public static TimeSpan StartDelay(SimWorld world, KubeNode node, KubePod pod)
    {
        ArgumentNullException.ThrowIfNull(world);
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(pod);

        DateTimeOffset now = world.Clock.GetUtcNow();
        NodeImageStore store = world.ImageStoreFor(node);
        DateTimeOffset ready = now;
        foreach (KubeContainer container in pod.Containers)
        {
            PlatformImage? image = ImageReference.TryParse(container.Image, out ImageReference? reference) && world.ResolveImage(reference) is { } resolved
                ? SimWorld.SelectPlatform(resolved, node.OperatingSystem, node.KernelVersion)
                : null;
            if (image is null)
            {
                ready = Max(ready, now + UnknownImagePull);
                continue;
            }

            PullCost cost = Cost(image, digest => store.LayerReadyAt(digest) is not null);
            DateTimeOffset inFlight = image.Layers.Select(l => store.LayerReadyAt(l.Digest) ?? DateTimeOffset.MinValue).DefaultIfEmpty(DateTimeOffset.MinValue).Max();
            DateTimeOffset done = Max(now, inFlight);
            if (cost.DownloadBytes > 0 || cost.ExtractBytes > 0)
            {
                DateTimeOffset pullStart = Max(now, store.PullQueueFreeAt);
                done = Max(done, pullStart + cost.Duration);
                store.PullQueueFreeAt = done;
            }

            store.AddImage(image, done);
            ready = Max(ready, done);
        }

        return ready - now + ContainerStart;
    }

    /// <summary>Bytes a pull of <paramref name="image"/> downloads and extracts, given which layers are already present.</summary>
    public static PullCost Cost(PlatformImage image, Func<string, bool> present)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(present);
        List<OciLayer> missing = image.Layers.Where(l => !present(l.Digest)).DistinctBy(l => l.Digest).ToList();
        return new PullCost(missing.Sum(l => l.Size), missing.Sum(l => l.UncompressedSize));
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}

/// <summary>What a pull costs on a node: compressed bytes to download, uncompressed bytes to extract, and the time both take.</summary>
public readonly record struct PullCost(long DownloadBytes, long ExtractBytes)
{
    public TimeSpan Duration => TimeSpan.FromSeconds((DownloadBytes / PodStartModel.DownloadBytesPerSecond) + (ExtractBytes / PodStartModel.ExtractBytesPerSecond));
}
