using System.Text.RegularExpressions;
using WinEksPatch.Abstractions;

namespace WinEksPatch.Windows;

/// <summary>What can be read off an AMI: Windows version, edition, Kubernetes version and OS build.</summary>
public static partial class AmiFacts
{
    /// <summary>Tags the module puts on the AMIs it builds (and reads back).</summary>
    public const string OsBuildTag = "WinEksPatch:OsBuild";
    public const string KubernetesVersionTag = "WinEksPatch:KubernetesVersion";
    public const string WindowsVersionTag = "WinEksPatch:WindowsVersion";
    public const string CachedImagesTag = "WinEksPatch:CachedImages";
    public const string ClusterTag = "WinEksPatch:Cluster";
    public const string EditionTag = "WinEksPatch:Edition";

    /// <summary>Set by EC2 Image Builder on the AMIs it distributes: the image build version's ARN.</summary>
    public const string ImageBuilderArnTag = "Ec2ImageBuilderArn";

    /// <summary>Reads the EKS-optimized naming scheme <c>Windows_Server-2022-English-Core-EKS_Optimized-1.31-2025.01.15</c>.</summary>
    public static (string? WindowsVersion, string? Edition, string? KubernetesVersion) FromName(string? name)
    {
        if (name == null)
        {
            return (null, null, null);
        }

        var m = EksName().Match(name);
        return m.Success ? (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value) : (null, null, null);
    }

    /// <summary>Reads an EKS AMI type such as <c>WINDOWS_CORE_2022_x86_64</c>.</summary>
    public static (string? WindowsVersion, string? Edition) FromAmiType(string? amiType)
    {
        var m = amiType == null ? Match.Empty : AmiTypePattern().Match(amiType);
        return m.Success ? (m.Groups[2].Value, m.Groups[1].Value == "CORE" ? "Core" : "Full") : (null, null);
    }

    /// <summary>The AMI's Windows version: its tag, its name, else null.</summary>
    public static string? WindowsVersion(Ec2Image? image) =>
        image == null ? null
        : image.Tags.TryGetValue(WindowsVersionTag, out var tagged) ? tagged
        : FromName(image.Name).WindowsVersion;

    /// <summary>
    /// The AMI's OS build: a WinEksPatch tag when the module built it; else, for a known Windows version, the newest
    /// monthly release published before the AMI was created (EKS publishes its Windows AMIs days after Patch Tuesday).
    /// </summary>
    public static WindowsBuild? OsBuild(Ec2Image? image, PatchCalendar calendar)
    {
        if (image == null)
        {
            return null;
        }

        if (image.Tags.TryGetValue(OsBuildTag, out var tagged) && WindowsBuild.TryParse(tagged, out var build))
        {
            return build;
        }

        if (WindowsBuild.BuildOf(WindowsVersion(image)) is not { } series || image.CreationDate is not { } created)
        {
            return null;
        }

        var day = DateOnly.FromDateTime(created.UtcDateTime);
        return calendar.MonthlyReleases(series).LastOrDefault(r => r.ReleaseDate <= day)?.Build;
    }

    /// <summary>
    /// The container images cached in an AMI: the list New-WinNodeAmi recorded in its tags, else (EKS-optimized Windows
    /// AMIs) pause, nanoserver and servercore of the AMI's Windows build, which those AMIs cache.
    /// </summary>
    public static IReadOnlyList<string> CachedImages(Ec2Image? image, WindowsBuild? build)
    {
        if (image == null)
        {
            return [];
        }

        var tagged = image.Tags.Where(t => t.Key == CachedImagesTag || t.Key.StartsWith(CachedImagesTag + ":", StringComparison.Ordinal))
            .OrderBy(t => t.Key, StringComparer.Ordinal)
            .SelectMany(t => t.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToList();
        if (tagged.Count > 0)
        {
            return tagged;
        }

        return build is { } b && b.WindowsServer is { } server ? EksCachedImages(server, b) : [];
    }

    /// <summary>What an EKS-optimized Windows AMI caches: pause, and nanoserver and servercore of its exact build
    /// (MCR tags every servercore/nanoserver release with its full OS version).</summary>
    public static IReadOnlyList<string> EksCachedImages(string windowsServer, WindowsBuild? build) =>
    [
        "mcr.microsoft.com/oss/kubernetes/pause:3.9",
        $"mcr.microsoft.com/windows/nanoserver:{(build is { } n ? n.ToString() : "ltsc" + windowsServer)}",
        $"mcr.microsoft.com/windows/servercore:{(build is { } s ? s.ToString() : "ltsc" + windowsServer)}",
    ];

    [GeneratedRegex(@"^Windows_Server-(2019|2022|2025)-English-(Core|Full)-EKS_Optimized-(\d+\.\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex EksName();

    [GeneratedRegex(@"^WINDOWS_(CORE|FULL)_(2019|2022|2025)_", RegexOptions.CultureInvariant)]
    private static partial Regex AmiTypePattern();
}
