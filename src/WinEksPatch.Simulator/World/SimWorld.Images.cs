namespace WinEksPatch.Simulator.World;

// Container images: the registries' content, what each AMI caches, and what each node has pulled.
public sealed partial class SimWorld
{
    /// <summary>Registry host (as in image references) → registry.</summary>
    public Dictionary<string, ContainerRegistry> ContainerRegistries { get; } = new(StringComparer.Ordinal);

    /// <summary>Every platform image of every registry by manifest digest.</summary>
    public Dictionary<string, PlatformImage> ManifestsByDigest { get; } = new(StringComparer.Ordinal);

    /// <summary>AMI id → the container images cached in it (pulled into containerd's k8s.io namespace).</summary>
    public Dictionary<string, List<CachedContainerImage>> AmiCachedImages { get; } = new(StringComparer.Ordinal);

    /// <summary>Registry bearer tokens and ECR passwords.</summary>
    public Registry.RegistryTokens RegistryTokens { get; } = new();

    /// <summary>Node uid → the layers on that node (created at first use from its AMI's cache).</summary>
    private readonly Dictionary<string, NodeImageStore> _nodeImageStores = new(StringComparer.Ordinal);

    public ContainerRepository? FindRepository(string registryHost, string name) =>
        ContainerRegistries.GetValueOrDefault(registryHost)?.Repositories.GetValueOrDefault(name);

    /// <summary>What a reference points to: an index (tag or index digest) or a single platform image (manifest digest).</summary>
    public ResolvedImage? ResolveImage(ImageReference reference)
    {
        ContainerRepository? repository = FindRepository(reference.Registry, reference.Repository);
        if (repository is null)
        {
            return null;
        }

        string key = reference.Reference;
        string? digest = key.StartsWith("sha256:", StringComparison.Ordinal) ? key : repository.Tags.GetValueOrDefault(key);
        if (digest is null)
        {
            return null;
        }

        if (repository.Indexes.TryGetValue(digest, out ImageIndex? index))
        {
            return new ResolvedImage(repository, index, null);
        }

        return repository.Manifests.TryGetValue(digest, out PlatformImage? image) ? new ResolvedImage(repository, null, image) : null;
    }

    /// <summary>
    /// The platform image a node of <paramref name="os"/> (and Windows build <paramref name="osVersion"/>) pulls, as
    /// containerd's Windows matcher orders them: same OS and architecture, preferring the entry of the host's build
    /// (major.minor.build), then the newest other build.
    /// </summary>
    public static PlatformImage? SelectPlatform(ResolvedImage resolved, string os, string? osVersion, string architecture = "amd64")
    {
        if (resolved.Image is not null)
        {
            return resolved.Image;
        }

        List<PlatformImage> candidates = resolved.Index!.Manifests.Where(m => m.Os == os && m.Architecture == architecture).ToList();
        string? hostBuild = BuildPrefix(osVersion);
        return candidates.Where(m => hostBuild is not null && BuildPrefix(m.OsVersion) == hostBuild).MaxBy(m => m.OsVersion, OsVersionComparer.Instance)
            ?? candidates.MaxBy(m => m.OsVersion, OsVersionComparer.Instance);
    }

    /// <summary>"10.0.20348" of "10.0.20348.2849".</summary>
    public static string? BuildPrefix(string? osVersion)
    {
        if (osVersion is null)
        {
            return null;
        }

        int last = osVersion.LastIndexOf('.');
        return last < 0 ? osVersion : osVersion[..last];
    }

    /// <summary>The node's image store, seeded with its AMI's cached images the first time it is asked for.</summary>
    internal NodeImageStore ImageStoreFor(KubeNode node)
    {
        if (_nodeImageStores.TryGetValue(node.Uid, out NodeImageStore? store))
        {
            return store;
        }

        store = new NodeImageStore();
        string? amiId = Instances.GetValueOrDefault(node.InstanceId)?.ImageId;
        foreach (CachedContainerImage cached in amiId is null ? [] : AmiCachedImages.GetValueOrDefault(amiId) ?? [])
        {
            if (ManifestsByDigest.TryGetValue(cached.ManifestDigest, out PlatformImage? image))
            {
                store.AddImage(image, DateTimeOffset.MinValue);
            }
        }

        _nodeImageStores[node.Uid] = store;
        return store;
    }

    /// <summary>Manifest digests of the images on a node (cached in its AMI or pulled since), for tests and tools.</summary>
    public IReadOnlyCollection<string> ImagesOnNode(KubeNode node) => ImageStoreFor(node).ImageDigests;

    /// <summary>Whether a layer is fully on the node (downloaded and extracted) at the current simulated time.</summary>
    public bool LayerOnNode(KubeNode node, string layerDigest) =>
        ImageStoreFor(node).LayerReadyAt(layerDigest) is { } readyAt && readyAt <= Clock.GetUtcNow();
}

/// <summary>A resolved reference: either an index (with platform images) or one platform image.</summary>
public sealed record ResolvedImage(ContainerRepository Repository, ImageIndex? Index, PlatformImage? Image);

/// <summary>The layers on one node and when each is (or will be) extracted; the kubelet pulls one image at a time.</summary>
internal sealed class NodeImageStore
{
    private readonly Dictionary<string, DateTimeOffset> _layerReadyAt = new(StringComparer.Ordinal);
    private readonly HashSet<string> _images = new(StringComparer.Ordinal);

    /// <summary>When the node's (serialized) image pulls are done.</summary>
    public DateTimeOffset PullQueueFreeAt { get; set; } = DateTimeOffset.MinValue;

    public IReadOnlyCollection<string> ImageDigests => _images;

    public DateTimeOffset? LayerReadyAt(string digest) => _layerReadyAt.TryGetValue(digest, out DateTimeOffset t) ? t : null;

    public void AddImage(PlatformImage image, DateTimeOffset readyAt)
    {
        _images.Add(image.Digest);
        foreach (OciLayer layer in image.Layers)
        {
            if (!_layerReadyAt.TryGetValue(layer.Digest, out DateTimeOffset existing) || readyAt < existing)
            {
                _layerReadyAt[layer.Digest] = readyAt;
            }
        }
    }
}

/// <summary>Orders Windows versions numerically (10.0.20348.10000 after 10.0.20348.999).</summary>
public sealed class OsVersionComparer : IComparer<string?>
{
    public static readonly OsVersionComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return x is null ? (y is null ? 0 : -1) : 1;
        }

        return Version.TryParse(x, out Version? a) && Version.TryParse(y, out Version? b) ? a.CompareTo(b) : string.CompareOrdinal(x, y);
    }
}
