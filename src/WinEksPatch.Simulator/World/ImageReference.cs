using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace WinEksPatch.Simulator.World;

/// <summary>
/// A parsed image reference (host/path[:tag][@digest]) following the distribution reference grammar: a first
/// component with a dot, a colon or "localhost" is the registry host, otherwise the host is docker.io.
/// </summary>
public sealed partial record ImageReference(string Registry, string Repository, string? Tag, string? Digest)
{
    public string FullRepository => $"{Registry}/{Repository}";

    /// <summary>The tag or digest to look up (digest wins, as containerd does).</summary>
    public string Reference => Digest ?? Tag ?? "latest";

    public override string ToString() => FullRepository + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    public static bool TryParse(string? text, [NotNullWhen(true)] out ImageReference? reference)
    {
        reference = null;
        if (string.IsNullOrEmpty(text) || text.Length > 4096)
        {
            return false;
        }

        Match m = Grammar().Match(text);
        if (!m.Success)
        {
            return false;
        }

        string name = m.Groups["name"].Value;
        string? tag = m.Groups["tag"].Success ? m.Groups["tag"].Value : null;
        string? digest = m.Groups["digest"].Success ? m.Groups["digest"].Value : null;
        int slash = name.IndexOf('/', StringComparison.Ordinal);
        string first = slash < 0 ? "" : name[..slash];
        (string registry, string repository) = slash >= 0 && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost")
            ? (first, name[(slash + 1)..])
            : ("docker.io", slash < 0 ? "library/" + name : name);
        if (tag is null && digest is null)
        {
            tag = "latest";
        }

        reference = new ImageReference(registry, repository, tag, digest);
        return true;
    }

    // name: optional host[:port], then lowercase path components separated by '/'; tag: [\w][\w.-]{0,127}; digest: algo:hex.
    [GeneratedRegex(@"^(?<name>(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$", RegexOptions.CultureInvariant)]
    private static partial Regex Grammar();
}
