namespace WinEksPatch.Simulator.World;

// The container image catalogue's entities: registries, repositories, image indexes (manifest lists), platform
// images (manifests) and layers. Manifests and configs are real JSON documents whose digests are their sha256;
// layers are described by size only (their bytes are generated when served, so their digests are synthetic).

/// <summary>Media types of the OCI image spec and of Docker's image manifest v2 schema 2.</summary>
public static class OciMediaTypes
{
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string OciForeignLayer = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public const string DockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

    public static bool IsIndex(string mediaType) => mediaType is OciIndex or DockerManifestList;
}

/// <summary>How a registry authenticates pulls.</summary>
public enum RegistryAuth
{
    /// <summary>No credentials at all (mcr.microsoft.com).</summary>
    Anonymous,
    /// <summary>Anonymous bearer token from the registry's token endpoint (public.ecr.aws, Docker Hub).</summary>
    Bearer,
    /// <summary>Basic AWS:&lt;password from ECR GetAuthorizationToken&gt;.</summary>
    Ecr,
}

public sealed class OciLayer
{
    /// <summary>sha256:... of the compressed blob (synthetic: derived from the layer's name).</summary>
    public required string Digest { get; init; }
    /// <summary>sha256:... of the uncompressed tar (rootfs.diff_ids in the config).</summary>
    public required string DiffId { get; init; }
    /// <summary>Compressed size: what a pull downloads and what a registry stores.</summary>
    public required long Size { get; init; }
    /// <summary>Uncompressed size: what a pull extracts to disk.</summary>
    public required long UncompressedSize { get; init; }
    /// <summary>Non-distributable Windows base layer: derived images' registries do not store it.</summary>
    public bool Foreign { get; init; }
    /// <summary>The repository (host/path) whose registry serves the blob.</summary>
    public required string SourceRepository { get; init; }
    /// <summary>Human-readable origin, e.g. "mcr.microsoft.com/windows/servercore 10.0.20348.5622 update".</summary>
    public string Description { get; init; } = "";

    public string MediaType(bool oci) => (oci, Foreign) switch
    {
        (true, true) => OciMediaTypes.OciForeignLayer,
        (true, false) => OciMediaTypes.OciLayer,
        (false, true) => OciMediaTypes.DockerForeignLayer,
        _ => OciMediaTypes.DockerLayer,
    };
}

/// <summary>One platform's image: a manifest, its config blob and its layers (base layers first).</summary>
public sealed class PlatformImage
{
    public required string Digest { get; init; }
    public required string MediaType { get; init; }
    public required byte[] ManifestBytes { get; init; }
    public required string ConfigDigest { get; init; }
    public required byte[] ConfigBytes { get; init; }
    public required string Os { get; init; }
    /// <summary>Windows: the full build of the base image, e.g. 10.0.20348.5622; null for Linux.</summary>
    public string? OsVersion { get; init; }
    public string Architecture { get; init; } = "amd64";
    public required IReadOnlyList<OciLayer> Layers { get; init; }
    /// <summary>Reference of the base image (by version tag), null for images without a base.</summary>
    public string? BaseReference { get; init; }
    public int BaseLayerCount { get; init; }

    public long CompressedSize => Layers.Sum(l => l.Size);
    public long UncompressedSize => Layers.Sum(l => l.UncompressedSize);
    /// <summary>What the image's registry stores and ECR reports: the layers that are not foreign.</summary>
    public long DistributableSize => Layers.Where(l => !l.Foreign).Sum(l => l.Size);
}

/// <summary>An image index / manifest list: what a tag points to.</summary>
public sealed class ImageIndex
{
    public required string Digest { get; init; }
    public required string MediaType { get; init; }
    public required byte[] Bytes { get; init; }
    public required IReadOnlyList<PlatformImage> Manifests { get; init; }
}

public sealed class ContainerRepository
{
    public required string RegistryHost { get; init; }
    /// <summary>Path inside the registry, e.g. windows/servercore or shop/web-iis.</summary>
    public required string Name { get; init; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>tag → index digest.</summary>
    public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, ImageIndex> Indexes { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, PlatformImage> Manifests { get; } = new(StringComparer.Ordinal);
    /// <summary>Layer blobs this repository's registry stores (foreign base layers of derived images are not among them).</summary>
    public Dictionary<string, OciLayer> Layers { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, byte[]> Configs { get; } = new(StringComparer.Ordinal);
    /// <summary>When each manifest digest was pushed.</summary>
    public Dictionary<string, DateTimeOffset> PushedAt { get; } = new(StringComparer.Ordinal);

    public string FullName => $"{RegistryHost}/{Name}";
}

public sealed class ContainerRegistry
{
    public required string Host { get; init; }
    public required RegistryAuth Auth { get; init; }
    public Dictionary<string, ContainerRepository> Repositories { get; } = new(StringComparer.Ordinal);

    /// <summary>For ECR registries (&lt;account&gt;.dkr.ecr.&lt;region&gt;.amazonaws.com): the account id.</summary>
    public string? EcrAccountId => Auth == RegistryAuth.Ecr ? Host.Split('.')[0] : null;
}

/// <summary>An image cached in an AMI (pulled into containerd's k8s.io namespace when the AMI was built).</summary>
public sealed record CachedContainerImage(string Reference, string ManifestDigest);
