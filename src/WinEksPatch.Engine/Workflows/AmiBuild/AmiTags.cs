using System.Text;
using WinEksPatch.Errors;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows.AmiBuild;

/// <summary>The tags New-WinNodeAmi puts on the AMI (through the distribution configuration), which Measure-WinContainerImage
/// and Set-NodeGroupAmi read back (<see cref="AmiFacts"/>).</summary>
internal static class AmiTags
{
    /// <summary>AWS allows 50 tags per AMI; Image Builder adds Ec2ImageBuilderArn and CreatedBy; six are the module's own.</summary>
    public const int MaxCachedImagesTags = 42;

    public const int TagValueMax = 256;

    /// <summary>The module's tags (AmiFacts reads them back); the cached list split into WinEksPatch:CachedImages:1..n values of at
    /// most 256 characters, references separated by spaces.</summary>
    public static Dictionary<string, string> For(string clusterName, AmiBuildTarget target, WindowsBuild? osBuild, IReadOnlyList<string> cached)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [AmiFacts.ClusterTag] = clusterName,
            [AmiFacts.KubernetesVersionTag] = target.KubernetesVersion,
            [AmiFacts.WindowsVersionTag] = target.WindowsVersion,
            [AmiFacts.EditionTag] = target.Edition,
        };
        if (osBuild is { } build)
        {
            tags[AmiFacts.OsBuildTag] = build.ToString();
        }

        var chunks = new List<string>();
        var current = new StringBuilder();
        foreach (var image in cached)
        {
            if (current.Length > 0 && current.Length + 1 + image.Length > TagValueMax)
            {
                chunks.Add(current.ToString());
                current.Clear();
            }

            current.Append(current.Length > 0 ? " " : "").Append(image);
        }

        if (current.Length > 0)
        {
            chunks.Add(current.ToString());
        }

        if (chunks.Count > MaxCachedImagesTags)
        {
            throw new WinEksPatchException(ErrorIds.CacheListTooLong, ErrorKind.InvalidArgument,
                $"-CacheImage: {cached.Count} images need {chunks.Count} tags of {TagValueMax} characters to be recorded on the AMI; at most {MaxCachedImagesTags} fit. Cache fewer images.",
                "CacheImage");
        }

        for (var i = 0; i < chunks.Count; i++)
        {
            tags[$"{AmiFacts.CachedImagesTag}:{i + 1}"] = chunks[i];
        }

        return tags;
    }
}
