using System.Text.RegularExpressions;
using WinEksPatch.Abstractions;
using WinEksPatch.Model;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows;

/// <summary>What AMIs to look for; null means any.</summary>
public sealed record AmiQuery(string? KubernetesVersion = null, string? WindowsVersion = null, string? Edition = null);

/// <summary>
/// Candidate Windows AMIs for EKS nodes: the latest EKS-optimized ones AWS publishes as SSM public parameters
/// (<c>/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.31/image_id</c>).
/// </summary>
public sealed partial class AmiCatalog(ISsmApi ssm, IEc2Api ec2, PatchCalendar calendar, string region)
{
    public const string EksParameterPath = "/aws/service/ami-windows-latest";

    /// <summary>The exact public parameter of one EKS-optimized Windows AMI.</summary>
    public static string EksParameterName(string windowsVersion, string edition, string kubernetesVersion) =>
        $"{EksParameterPath}/Windows_Server-{windowsVersion}-English-{edition}-EKS_Optimized-{kubernetesVersion}/image_id";

    /// <summary>The latest EKS-optimized Windows AMIs matching <paramref name="query"/>. With every field of the query set
    /// this is one GetParameter; otherwise one walk of the parameter path.</summary>
    public async Task<IReadOnlyList<WinNodeAmi>> LatestEksAsync(AmiQuery query, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<SsmParameter> parameters;
        if (query is { KubernetesVersion: { } k8s, WindowsVersion: { } windows, Edition: { } edition })
        {
            var single = await ssm.GetParameterAsync(EksParameterName(windows, edition, k8s), cancellationToken).ConfigureAwait(false);
            parameters = single == null ? [] : [single];
        }
        else
        {
            parameters = await ssm.GetParametersByPathAsync(EksParameterPath, recursive: true, cancellationToken).ConfigureAwait(false);
        }

        var matches = parameters
            .Select(p => (Parameter: p, Match: EksParameter().Match(p.Name)))
            .Where(x => Matches(x.Match, query))
            .ToList();
        var images = (await ec2.DescribeImagesAsync([.. matches.Select(m => m.Parameter.Value)], cancellationToken).ConfigureAwait(false))
            .ToDictionary(i => i.ImageId, StringComparer.Ordinal);

        return matches
            .Select(m =>
            {
                var image = images.GetValueOrDefault(m.Parameter.Value);
                return new WinNodeAmi
                {
                    ImageId = m.Parameter.Value,
                    Name = image?.Name,
                    Region = region,
                    Source = nameof(AmiSource.Eks),
                    KubernetesVersion = m.Match.Groups["k8s"].Value,
                    WindowsVersion = m.Match.Groups["windows"].Value,
                    Edition = m.Match.Groups["edition"].Value,
                    OsBuild = AmiFacts.OsBuild(image, calendar)?.ToString(),
                    CreationDate = image?.CreationDate,
                    CachedImages = AmiFacts.EksCachedImages(m.Match.Groups["windows"].Value, AmiFacts.OsBuild(image, calendar)),
                    ParameterName = m.Parameter.Name,
                };
            })
            .OrderBy(a => a.WindowsVersion, StringComparer.Ordinal)
            .ThenBy(a => a.Edition, StringComparer.Ordinal)
            .ThenBy(a => Version.TryParse(a.KubernetesVersion, out var v) ? v : new Version(0, 0))
            .ToList();
    }

    /// <summary>Whether an EKS parameter name (matched by <see cref="EksParameter"/>) is one <paramref name="query"/> asks for.</summary>
    private static bool Matches(System.Text.RegularExpressions.Match parameter, AmiQuery query) =>
        parameter.Success
        && (query.WindowsVersion == null || parameter.Groups["windows"].Value == query.WindowsVersion)
        && (query.Edition == null || string.Equals(parameter.Groups["edition"].Value, query.Edition, StringComparison.OrdinalIgnoreCase))
        && (query.KubernetesVersion == null || parameter.Groups["k8s"].Value == query.KubernetesVersion);

    /// <summary>What to tell a user whose query matched no AMI: the query, and the Kubernetes versions (for the query's
    /// Windows version and edition) for which EKS-optimized Windows AMIs are published in the region, nearest first.</summary>
    public async Task<string> NothingMatchesAsync(AmiQuery query, IReadOnlyCollection<string> sources, CancellationToken cancellationToken = default)
    {
        var asked = string.Join(", ", new[]
        {
            query.KubernetesVersion is { } k ? $"Kubernetes {k}" : null,
            query.WindowsVersion is { } w ? $"Windows Server {w}" : null,
            query.Edition,
        }.OfType<string>());
        if (!sources.Contains("Eks"))
        {
            return $"No AMI built by New-WinNodeAmi matches {(asked.Length == 0 ? "anything" : asked)} in {region}: New-WinNodeAmi builds one.";
        }

        var published = (await ssm.GetParametersByPathAsync(EksParameterPath, recursive: true, cancellationToken).ConfigureAwait(false))
            .Select(p => EksParameter().Match(p.Name))
            .Where(m => Matches(m, query with { KubernetesVersion = null }))
            .Select(m => m.Groups["k8s"].Value)
            .Distinct(StringComparer.Ordinal)
            .Select(v => (Text: v, Version: Version.TryParse(v, out var parsed) ? parsed : new Version(0, 0)))
            .ToList();
        var wanted = Version.TryParse(query.KubernetesVersion, out var w2) ? w2 : null;
        var nearest = published
            .OrderBy(p => wanted == null ? 0 : Math.Abs((p.Version.Major * 1000 + p.Version.Minor) - (wanted.Major * 1000 + wanted.Minor)))
            .ThenByDescending(p => p.Version)
            .Select(p => p.Text)
            .ToList();
        return $"No AMI of {string.Join(" or ", sources)} matches {(asked.Length == 0 ? "anything" : asked)} in {region}. " +
            (nearest.Count == 0
                ? "No EKS-optimized Windows AMI is published here for that Windows version and edition."
                : $"EKS-optimized Windows AMIs are published here for Kubernetes {string.Join(", ", nearest.Take(5))}" + (nearest.Count > 5 ? ", …" : "") + ".");
    }

    /// <summary>Every EKS-optimized Windows AMI AWS publishes in the region (not only the latest): older patch levels, to
    /// roll back to or to compare with. One filtered DescribeImages.</summary>
    public async Task<IReadOnlyList<WinNodeAmi>> AllEksAsync(AmiQuery query, CancellationToken cancellationToken = default)
    {
        var name = $"Windows_Server-{query.WindowsVersion ?? "*"}-English-{query.Edition ?? "*"}-EKS_Optimized-{query.KubernetesVersion ?? "*"}-*";
        var images = await ec2.DescribeImagesAsync("amazon", new Dictionary<string, IReadOnlyCollection<string>> { ["name"] = [name] }, cancellationToken).ConfigureAwait(false);
        return images
            .Select(image => (Image: image, Facts: AmiFacts.FromName(image.Name)))
            .Where(x => x.Facts.WindowsVersion != null)
            .Select(x =>
            {
                var build = AmiFacts.OsBuild(x.Image, calendar);
                return new WinNodeAmi
                {
                    ImageId = x.Image.ImageId,
                    Name = x.Image.Name,
                    Region = region,
                    Source = nameof(AmiSource.Eks),
                    KubernetesVersion = x.Facts.KubernetesVersion,
                    WindowsVersion = x.Facts.WindowsVersion,
                    Edition = x.Facts.Edition,
                    OsBuild = build?.ToString(),
                    CreationDate = x.Image.CreationDate,
                    CachedImages = AmiFacts.EksCachedImages(x.Facts.WindowsVersion!, build),
                };
            })
            .OrderBy(a => a.WindowsVersion, StringComparer.Ordinal)
            .ThenBy(a => a.Edition, StringComparer.Ordinal)
            .ThenBy(a => Version.TryParse(a.KubernetesVersion, out var v) ? v : new Version(0, 0))
            .ThenByDescending(a => a.CreationDate)
            .ToList();
    }

    /// <summary>AMIs this account built with WinEksPatch (New-WinNodeAmi tags its AMIs with the OS build, Kubernetes and
    /// Windows versions and the images it cached; Image Builder adds Ec2ImageBuilderArn).</summary>
    public async Task<IReadOnlyList<WinNodeAmi>> BuiltAsync(AmiQuery query, CancellationToken cancellationToken = default)
    {
        var images = await ec2.DescribeImagesAsync("self",
            new Dictionary<string, IReadOnlyCollection<string>> { ["tag-key"] = [AmiFacts.OsBuildTag] }, cancellationToken).ConfigureAwait(false);
        return images
            .Select(image =>
            {
                var (nameWindows, nameEdition, nameK8s) = AmiFacts.FromName(image.Name);
                return new WinNodeAmi
                {
                    ImageId = image.ImageId,
                    Name = image.Name,
                    Region = region,
                    Source = nameof(AmiSource.ImageBuilder),
                    KubernetesVersion = image.Tags.GetValueOrDefault(AmiFacts.KubernetesVersionTag) ?? nameK8s,
                    WindowsVersion = AmiFacts.WindowsVersion(image) ?? nameWindows,
                    Edition = image.Tags.GetValueOrDefault(AmiFacts.EditionTag) ?? nameEdition,
                    OsBuild = AmiFacts.OsBuild(image, calendar)?.ToString(),
                    CreationDate = image.CreationDate,
                    CachedImages = AmiFacts.CachedImages(image, AmiFacts.OsBuild(image, calendar)),
                    ImageBuildVersionArn = image.Tags.GetValueOrDefault(AmiFacts.ImageBuilderArnTag),
                };
            })
            .Where(a => (query.WindowsVersion == null || a.WindowsVersion == query.WindowsVersion)
                && (query.Edition == null || string.Equals(a.Edition, query.Edition, StringComparison.OrdinalIgnoreCase))
                && (query.KubernetesVersion == null || a.KubernetesVersion == query.KubernetesVersion))
            .OrderByDescending(a => a.CreationDate)
            .ToList();
    }

    [GeneratedRegex(@"/Windows_Server-(?<windows>2019|2022|2025)-English-(?<edition>Core|Full)-EKS_Optimized-(?<k8s>\d+\.\d+)/image_id$", RegexOptions.CultureInvariant)]
    private static partial Regex EksParameter();
}
