namespace WinEksPatch.Model;

/// <summary>One layer of a measured image.</summary>
public sealed record WinImageLayer(string Digest, long CompressedSize, long? Size, bool Foreign, bool Present, bool InRepository)
{
    /// <summary>How a list view and a -join print it: "sha256:1df53d9083c4… 243.0 MB compressed, 697.9 MB on disk, foreign, already on the target".</summary>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{Digest[..Math.Min(19, Digest.Length)]}… {CompressedSize / 1e6:N1} MB compressed, {(Size is { } size ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{size / 1e6:N1} MB") : "size unknown")} on disk{(Foreign ? ", foreign" : "")}{(Present ? ", already on the target" : "")}{(InRepository ? ", already in the repository" : "")}");
}

/// <summary>What an image really costs: output of <c>Measure-WinContainerImage</c>. Sizes are bytes.</summary>
public sealed class WinContainerImageSize
{
    public required string Image { get; init; }

    /// <summary>Digest of the platform manifest measured.</summary>
    public string? Digest { get; init; }

    public string? OsVersion { get; init; }

    /// <summary>Compressed layers the image's repository stores: what a push uploads and ECR reports.</summary>
    public long CompressedSize { get; init; }

    /// <summary>Compressed foreign layers (Windows base layers) a pull fetches from their own registry (MCR).</summary>
    public long ForeignCompressedSize { get; init; }

    /// <summary>Uncompressed layers: the size on disk once extracted (what <c>docker image ls</c> shows).</summary>
    public long? Size { get; init; }

    public IReadOnlyList<WinImageLayer> Layers { get; init => field = ItemList.From(value); } = new ItemList<WinImageLayer>();

    /// <summary>The AMI or node the image was measured against, if any.</summary>
    public string? Target { get; init; }

    /// <summary>Layers already present on the target (cached in the AMI or pulled before on the node).</summary>
    public int SharedLayerCount { get; init; }

    /// <summary>On-disk bytes of the layers already present.</summary>
    public long SharedSize { get; init; }

    /// <summary>Compressed bytes a pull on the target downloads.</summary>
    public long DownloadSize { get; init; }

    /// <summary>Uncompressed bytes a pull on the target extracts: what the image adds to the disk there.</summary>
    public long? ExtractSize { get; init; }

    /// <summary>With -Repository: the repository the push cost was measured for.</summary>
    public string? Repository { get; init; }

    /// <summary>With -Repository: compressed bytes a push there uploads (only the layers it lacks; never foreign layers).</summary>
    public long? PushSize { get; init; }

    public override string ToString() => Image;
}
