using System.Security.Cryptography;
using System.Text;

namespace WinEksPatch.Workflows.AmiBuild;

/// <summary>
/// The stable names of the Image Builder resources New-WinNodeAmi ensures, derived from the cluster and the Windows
/// version and edition (<c>WinEksPatch-demo-2022-Core</c> is the base):
/// <list type="bullet">
/// <item>component <c>&lt;base&gt;-image-cache</c>: versioned; a new semantic version (patch + 1) only when the document changes;</item>
/// <item>image recipe <c>&lt;base&gt;</c>: versioned; a new version when the parent AMI, components or root volume change;</item>
/// <item>infrastructure configuration <c>&lt;base&gt;-&lt;hash&gt;</c> and distribution configuration <c>&lt;base&gt;-&lt;hash&gt;</c>:
/// not versioned, so the name carries the first 8 hex digits of the SHA-256 of their settings; the same settings find the
/// same configuration, other settings get their own;</item>
/// <item>AMI <c>&lt;base&gt;-k8s-&lt;version&gt;-{{imagebuilder:buildDate}}</c>.</item>
/// </list>
/// A cluster name longer than 60 characters is cut to 51 and followed by a hash of the whole name, so every name stays
/// within Image Builder's 126 and EC2's 128 characters.
/// </summary>
public sealed record AmiBuildNames(string Base)
{
    public const string Prefix = "WinEksPatch";

    public static AmiBuildNames For(string clusterName, string windowsVersion, string edition)
    {
        var cluster = clusterName.Length <= 60 ? clusterName : $"{clusterName[..51]}-{Hash(clusterName)}";
        return new AmiBuildNames($"{Prefix}-{cluster}-{windowsVersion}-{edition}");
    }

    public string Component => $"{Base}-image-cache";

    public string Recipe => Base;

    public string Infrastructure(string settings) => $"{Base}-{Hash(settings)}";

    public string Distribution(string settings) => $"{Base}-{Hash(settings)}";

    public string AmiName(string kubernetesVersion) => $"{Base}-k8s-{kubernetesVersion}-{{{{imagebuilder:buildDate}}}}";

    /// <summary>First 8 hex digits (lower case) of the SHA-256 of <paramref name="text"/>.</summary>
    public static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..8].ToLowerInvariant();
}
