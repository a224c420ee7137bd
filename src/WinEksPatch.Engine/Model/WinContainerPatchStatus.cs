namespace WinEksPatch.Model;

/// <summary>A Windows container against its host: output of <c>Get-WinContainerPatchStatus</c>.</summary>
public sealed class WinContainerPatchStatus
{
    public required string ClusterName { get; init; }

    public required string Namespace { get; init; }

    public required string PodName { get; init; }

    public required string ContainerName { get; init; }

    public string? NodeName { get; init; }

    public required string Image { get; init; }

    /// <summary>The image's platform os.version, e.g. 10.0.20348.2849.</summary>
    public string? ImageOsVersion { get; init; }

    /// <summary>The node's build from kernelVersion.</summary>
    public string? NodeOsBuild { get; init; }

    /// <summary>Process isolation needs the same build number (20348 = 2022) in image and host.</summary>
    public bool Compatible { get; init; }

    /// <summary>Monthly patches the image's base is behind the host (same build only; 0 when current or newer).</summary>
    public int? MonthsBehind { get; init; }

    public override string ToString() => $"{Namespace}/{PodName}/{ContainerName}";
}

/// <summary>An image worth caching in the AMI: output of <c>Get-WinImageCachePlan</c>; pipes into
/// <c>New-WinNodeAmi -CacheImage</c> by its <see cref="Image"/> property.</summary>
public sealed class WinImageCacheCandidate
{
    public required string ClusterName { get; init; }

    public required string Image { get; init; }

    public string? OsVersion { get; init; }

    /// <summary>Pods that run the image on Windows nodes now.</summary>
    public int Pods { get; init; }

    public int Nodes { get; init; }

    public IReadOnlyList<string> NodeGroups { get; init => field = ItemList.From(value); } = new ItemList<string>();

    /// <summary>Compressed bytes a new node of the group downloads for it (layers not cached in the group's AMI).</summary>
    public long DownloadSize { get; init; }

    /// <summary>Uncompressed bytes a new node extracts for it.</summary>
    public long ExtractSize { get; init; }

    /// <summary>(download + extract) bytes × pods: what caching it saves per round of new nodes; the ranking key.</summary>
    public long SavedBytes { get; init; }

    /// <summary>Nominal pull time on a new node (20 MB/s download, 7.6 MB/s Windows extraction: servercore's 74 s and
    /// 12.5 min).</summary>
    public TimeSpan EstimatedPullTime { get; init; }

    /// <summary>True when every layer is already cached in the group's AMI.</summary>
    public bool AlreadyCached { get; init; }

    public override string ToString() => Image;
}
