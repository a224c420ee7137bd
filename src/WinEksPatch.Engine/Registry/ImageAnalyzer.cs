using System.Collections.Concurrent;
using WinEksPatch.Errors;
using WinEksPatch.Windows;

namespace WinEksPatch.Registry;

/// <summary>One layer of an image: its digest, what a pull transfers, and what it takes on disk once extracted.
/// A foreign layer (Windows base layers) is not stored in the image's repository but fetched from the URL it names.</summary>
public sealed record ImageLayer(string Digest, long CompressedSize, long? Size, bool Foreign = false);

/// <summary>An image resolved to one platform manifest.</summary>
public sealed record ResolvedImage(
    ImageReference Reference,
    string ManifestDigest,
    string? Os,
    string? OsVersion,
    IReadOnlyList<ImageLayer> Layers,
    IReadOnlyList<string> WindowsOsVersions)
{
    /// <summary>Compressed size of the layers the image's repository stores (what ECR reports and a push uploads).</summary>
    public long CompressedSize => Layers.Where(l => !l.Foreign).Sum(l => l.CompressedSize);

    /// <summary>Compressed size of the foreign layers, fetched from their own registry on pull.</summary>
    public long ForeignCompressedSize => Layers.Where(l => l.Foreign).Sum(l => l.CompressedSize);

    /// <summary>Size on disk when every layer's uncompressed size is known, else null.</summary>
    public long? Size => Layers.All(l => l.Size != null) ? Layers.Sum(l => l.Size!.Value) : null;

    public WindowsBuild? WindowsBuild => WinEksPatch.Windows.WindowsBuild.ParseOrNull(OsVersion);
}

/// <summary>
/// Resolves image references to the Windows manifest a node would pull (from a multi-OS index, the entry whose
/// os.version has the node's build number, newest revision first) and measures their layers. Results are cached
/// for the life of the analyzer (one cmdlet invocation).
/// </summary>
public sealed class ImageAnalyzer(RegistryClient registry)
{
    private readonly ConcurrentDictionary<(string, int?, bool), Task<ResolvedImage>> _cache = new();

    public Task<ResolvedImage> ResolveAsync(ImageReference image, int? windowsBuild, bool withSizes, CancellationToken cancellationToken = default) =>
        _cache.GetOrAdd((image.ToString(), windowsBuild, withSizes), _ => ResolveCoreAsync(image, windowsBuild, withSizes, cancellationToken));

    private async Task<ResolvedImage> ResolveCoreAsync(ImageReference image, int? windowsBuild, bool withSizes, CancellationToken cancellationToken)
    {
        var fetched = await registry.GetManifestAsync(image, cancellationToken: cancellationToken).ConfigureAwait(false);
        IReadOnlyList<string> windowsVersions = [];
        string? os = null, osVersion = null;
        if (MediaTypes.IsIndex(fetched.MediaType) || fetched.Document.Manifests != null)
        {
            var windows = (fetched.Document.Manifests ?? [])
                .Where(m => string.Equals(m.Platform?.Os, "windows", StringComparison.OrdinalIgnoreCase)
                    && (m.Platform?.Architecture is null or "amd64"))
                .Select(m => (Entry: m, Build: Windows.WindowsBuild.ParseOrNull(m.Platform?.OsVersion)))
                .ToList();
            if (windows.Count == 0)
            {
                var platforms = string.Join(", ", (fetched.Document.Manifests ?? []).Select(m => $"{m.Platform?.Os}/{m.Platform?.Architecture}"));
                throw new WinEksPatchException(ErrorIds.ImageNotWindows, ErrorKind.InvalidData,
                    $"{image} has no Windows image (platforms: {(platforms.Length == 0 ? "none" : platforms)}).", image.ToString());
            }

            windowsVersions = windows.Select(w => w.Entry.Platform?.OsVersion).OfType<string>().ToList();
            var chosen = windows
                .OrderByDescending(w => windowsBuild != null && w.Build?.Build == windowsBuild)
                .ThenByDescending(w => w.Build)
                .First();
            os = "windows";
            osVersion = chosen.Entry.Platform?.OsVersion;
            fetched = await registry.GetManifestAsync(image, chosen.Entry.Digest, cancellationToken).ConfigureAwait(false);
        }

        var document = fetched.Document;
        if (document.Layers == null || document.Config == null)
        {
            throw new WinEksPatchException(ErrorIds.ImageManifestInvalid, ErrorKind.InvalidData,
                $"{image} resolved to a manifest without config or layers ({fetched.MediaType}).", image.ToString());
        }

        if (osVersion == null)
        {
            var config = await registry.GetConfigAsync(image, document.Config, cancellationToken).ConfigureAwait(false);
            os = config.Os;
            osVersion = config.OsVersion;
            if (!string.Equals(os, "windows", StringComparison.OrdinalIgnoreCase))
            {
                throw new WinEksPatchException(ErrorIds.ImageNotWindows, ErrorKind.InvalidData,
                    $"{image} is a {os ?? "unknown"} image, not Windows.", image.ToString());
            }

            windowsVersions = osVersion == null ? [] : [osVersion];
        }

        var layers = new ImageLayer[document.Layers.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, layers.Length), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var descriptor = document.Layers[i];
                var size = withSizes ? await registry.GetUncompressedSizeAsync(image, descriptor, token).ConfigureAwait(false) : null;
                layers[i] = new ImageLayer(descriptor.Digest, descriptor.Size, size, descriptor.Urls is { Count: > 0 } || descriptor.MediaType?.Contains("foreign", StringComparison.Ordinal) == true);
            }).ConfigureAwait(false);

        return new ResolvedImage(image, fetched.Digest, os, osVersion, layers, windowsVersions);
    }
}
