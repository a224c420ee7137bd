using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Registry;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows.AmiBuild;

/// <summary>What the registry says about an image to cache: the digest its tag points to, its OS version and layers.</summary>
public sealed record CacheImageFacts(string Digest, string? OsVersion, IReadOnlyList<ImageLayer> Layers);

/// <summary>Reads images to cache from their registries (a seam for tests).</summary>
public interface ICacheImageResolver
{
    Task<CacheImageFacts> ResolveAsync(ImageReference image, int? windowsBuild, CancellationToken cancellationToken);
}

/// <summary>The registry-backed resolver: the tag's top-level digest (what <c>ctr images ls</c> shows) and the Windows
/// image of the build with its on-disk layer sizes.</summary>
public sealed class RegistryCacheImageResolver(RegistryClient registry, ImageAnalyzer analyzer) : ICacheImageResolver
{
    public async Task<CacheImageFacts> ResolveAsync(ImageReference image, int? windowsBuild, CancellationToken cancellationToken)
    {
        var top = await registry.GetManifestAsync(image, cancellationToken: cancellationToken).ConfigureAwait(false);
        var resolved = await analyzer.ResolveAsync(image, windowsBuild, withSizes: true, cancellationToken).ConfigureAwait(false);
        return new CacheImageFacts(top.Digest, resolved.OsVersion, resolved.Layers);
    }
}

/// <summary>The images an AMI caches: each with the digest its build verifies (null: pulled unverified), those the registry
/// answered for (the plan lists them), and the root volume they need.</summary>
internal sealed record CachePlan(IReadOnlyList<CacheImage> Images, IReadOnlyList<WinNodeAmiCacheImage> Resolved, int RootVolumeGiB);

/// <summary>
/// The images to cache, read from their registries, and the root volume they need. What the registry answers for certain (no
/// such image, not Windows, another Windows build) refuses the build, before anything is created: a build that would fail an
/// hour later, or bake an image its nodes can never start, is money spent for nothing. A registry this machine cannot reach (a
/// private one the build instance can) only warns: the build pulls it without a digest check.
/// </summary>
internal sealed class CacheSizing(ICacheImageResolver resolver)
{
    /// <summary>Root volume of the EKS-optimized Windows AMIs (GiB); the recipe adds room for the cached images.</summary>
    public const int BaseVolumeGiB = 50;

    /// <summary>Each reference must follow the distribution grammar; refused, never repaired or escaped.</summary>
    public static List<ImageReference> ParseCacheImages(IReadOnlyList<string> texts)
    {
        var result = new List<ImageReference>();
        foreach (var text in texts)
        {
            if (!ImageReference.TryParse(text, out var reference, out var problem))
            {
                throw new WinEksPatchException(ErrorIds.InvalidImageReference, ErrorKind.InvalidArgument,
                    $"-CacheImage: '{Printable(text)}' is not an image reference: {problem}. References follow [registry/]repository[:tag][@sha256:digest]; nothing was created.",
                    text);
            }

            if (reference.ToString().Length > AmiTags.TagValueMax)
            {
                throw new WinEksPatchException(ErrorIds.InvalidImageReference, ErrorKind.InvalidArgument,
                    $"-CacheImage: '{reference}' is longer than {AmiTags.TagValueMax} characters and cannot be recorded in an AMI tag; nothing was created.", text);
            }

            if (!result.Contains(reference))
            {
                result.Add(reference);
            }
        }

        return result;
    }

    private static string Printable(string? text) =>
        string.Concat((text ?? "").Take(200).Select(c => char.IsControl(c) || c > '\u007e' ? $"\\u{(int)c:x4}" : c.ToString()));

    public async Task<CachePlan> PlanAsync(IReadOnlyList<ImageReference> requested, AmiBuildTarget target, IWorkflowHost host, CancellationToken cancellationToken)
    {
        var seriesBuild = WindowsBuild.BuildOf(target.WindowsVersion);
        var cacheImages = new List<CacheImage>();
        var requestedFacts = new List<(ImageReference Reference, CacheImageFacts Facts)>();
        var refused = new List<WinEksPatchException>();
        var unresolved = 0;
        foreach (var reference in requested)
        {
            try
            {
                var facts = await resolver.ResolveAsync(reference, seriesBuild, cancellationToken).ConfigureAwait(false);
                if (WindowsBuild.ParseOrNull(facts.OsVersion) is { } imageBuild && seriesBuild is { } nodeBuild && imageBuild.Build != nodeBuild)
                {
                    refused.Add(new WinEksPatchException(ErrorIds.ImageWindowsBuildMismatch, ErrorKind.InvalidArgument,
                        $"{reference} is built for Windows build {imageBuild.Build} ({imageBuild.WindowsServer ?? "unknown"}), and nodes of Windows Server " +
                        $"{target.WindowsVersion} (build {nodeBuild}) cannot run it with process isolation, the only isolation EKS supports.", reference.ToString()));
                    continue;
                }

                requestedFacts.Add((reference, facts));
                cacheImages.Add(new CacheImage(reference, facts.Digest));
            }
            catch (WinEksPatchException ex) when (ex.ErrorId is ErrorIds.ImageNotFound or ErrorIds.ImageNotWindows or ErrorIds.ImageManifestInvalid)
            {
                refused.Add(ex);
            }
            catch (WinEksPatchException ex)
            {
                unresolved++;
                cacheImages.Add(new CacheImage(reference, null));
                host.Warning($"{reference} could not be read from its registry here ({ex.Message}) The build pulls it without a digest check, and fails if the build instance cannot pull it either.");
            }
        }

        if (refused.Count > 0)
        {
            throw new WinEksPatchException(refused[0].ErrorId, refused[0].Kind,
                $"-CacheImage: {string.Join(" ", refused.Select(r => r.Message))} Nothing was created; leave {(refused.Count == 1 ? "it" : "them")} out " +
                "(Get-WinImageCachePlan shows what each group can cache).", refused[0].Target, refused[0]);
        }

        var volume = await RootVolumeGiBAsync(target, [.. requestedFacts.Select(r => r.Facts)], unresolved, seriesBuild, cancellationToken).ConfigureAwait(false);
        var resolved = requestedFacts.Select(r => new WinNodeAmiCacheImage(r.Reference.ToString(), r.Facts.Digest, r.Facts.OsVersion,
            r.Facts.Layers.Sum(l => l.Size ?? l.CompressedSize))).ToList();
        return new CachePlan(cacheImages, resolved, volume);
    }

    /// <summary>The base volume plus what the new layers need (extracted + the download being unpacked), +10 %, in steps of
    /// 5 GiB so small changes keep the recipe.</summary>
    private async Task<int> RootVolumeGiBAsync(AmiBuildTarget target, IReadOnlyList<CacheImageFacts> requested, int unresolved, int? seriesBuild,
        CancellationToken cancellationToken)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var text in target.ParentCachedImages)
        {
            if (ImageReference.TryParse(text, out var reference, out _) && await TryResolveAsync(reference, seriesBuild, cancellationToken).ConfigureAwait(false) is { } facts)
            {
                present.UnionWith(facts.Layers.Select(l => l.Digest));
            }
        }

        var images = new List<CacheImageFacts>();
        long needed = 0;
        foreach (var baseImage in ImageCacheDocument.BaseImages(target.WindowsVersion))
        {
            if (await TryResolveAsync(baseImage, seriesBuild, cancellationToken).ConfigureAwait(false) is { } facts)
            {
                images.Add(facts);
            }
            else
            {
                needed += 8L * 1024 * 1024 * 1024;
            }
        }

        images.AddRange(requested);
        needed += unresolved * 4L * 1024 * 1024 * 1024;
        foreach (var layer in images.SelectMany(i => i.Layers))
        {
            if (present.Add(layer.Digest))
            {
                needed += (layer.Size ?? layer.CompressedSize * 3) + layer.CompressedSize;
            }
        }

        var gib = BaseVolumeGiB + (int)Math.Ceiling(needed * 1.1 / (1024.0 * 1024 * 1024));
        return (gib + 4) / 5 * 5;
    }

    private async Task<CacheImageFacts?> TryResolveAsync(ImageReference reference, int? build, CancellationToken cancellationToken)
    {
        try
        {
            return await resolver.ResolveAsync(reference, build, cancellationToken).ConfigureAwait(false);
        }
        catch (WinEksPatchException)
        {
            return null;
        }
    }
}
