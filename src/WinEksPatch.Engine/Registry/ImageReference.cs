using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace WinEksPatch.Registry;

/// <summary>
/// A container image reference, parsed by the grammar of the distribution project (reference.go, which containerd
/// and the OCI distribution spec follow): <c>[domain[:port]/]path[:tag][@digest]</c>. Anything outside the grammar is
/// rejected, never repaired, which is what makes a reference safe to pass as one literal argument: the grammar admits
/// no quotes, spaces, <c>;</c>, <c>$</c>, <c>(</c>, backticks or line breaks.
/// </summary>
public sealed partial record ImageReference(string Registry, string Repository, string? Tag, string? Digest)
{
    /// <summary>Docker Hub, where references without a domain point.</summary>
    public const string DockerHub = "docker.io";

    /// <summary>Longest reference accepted (the grammar's NameTotalLengthMax is 255 for the name alone).</summary>
    public const int MaxLength = 512;

    /// <summary>The canonical form: registry/repository[:tag][@digest], the tag defaulting to latest when there is no digest.</summary>
    public override string ToString() =>
        $"{Registry}/{Repository}{(Tag != null ? ":" + Tag : Digest == null ? ":latest" : "")}{(Digest != null ? "@" + Digest : "")}";

    /// <summary>The tag or digest to ask the registry's manifest endpoint for.</summary>
    public string ManifestReference => Digest ?? Tag ?? "latest";

    public static bool TryParse(string? text, [NotNullWhen(true)] out ImageReference? reference, out string? problem)
    {
        reference = null;
        if (string.IsNullOrEmpty(text))
        {
            problem = "the reference is empty";
            return false;
        }

        if (text.Length > MaxLength)
        {
            problem = $"the reference is longer than {MaxLength} characters";
            return false;
        }

        var m = Grammar().Match(text);
        if (!m.Success)
        {
            var bad = text.FirstOrDefault(c => !AllowedCharacter(c));
            problem = bad != default
                ? $"the character {Describe(bad)} is not allowed in an image reference"
                : "it does not follow the reference grammar [registry/]repository[:tag][@sha256:digest]";
            return false;
        }

        var name = m.Groups["name"].Value;
        if (name.Length > 255)
        {
            problem = "the repository name is longer than 255 characters";
            return false;
        }

        // The first component is a registry host only if it looks like one (has '.' or ':' or is localhost).
        string registry = DockerHub, repository = name;
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0)
        {
            var first = name[..slash];
            if (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost")
            {
                registry = first;
                repository = name[(slash + 1)..];
            }
        }

        if (registry == DockerHub && !repository.Contains('/', StringComparison.Ordinal))
        {
            repository = "library/" + repository;
        }

        if (!RepositoryPath().IsMatch(repository))
        {
            problem = "the repository path is not lower-case components separated by '/'";
            return false;
        }

        reference = new ImageReference(registry, repository, m.Groups["tag"].Success ? m.Groups["tag"].Value : null,
            m.Groups["digest"].Success ? m.Groups["digest"].Value : null);
        problem = null;
        return true;
    }

    public static ImageReference Parse(string text) =>
        TryParse(text, out var reference, out var problem) ? reference : throw new FormatException($"'{text}' is not an image reference: {problem}.");

    private static bool AllowedCharacter(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-' or '/' or ':' or '@';

    private static string Describe(char c) => c switch
    {
        '\n' => "line feed",
        '\r' => "carriage return",
        '\t' => "tab",
        ' ' => "space",
        _ when char.IsControl(c) => $"U+{(int)c:X4}",
        _ => $"'{c}'",
    };

    // name     := [domain '/'] path-component ('/' path-component)*
    // domain   := host [':' port] ; host := component ('.' component)* | '[' ipv6 ']'
    // tag      := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} (ASCII only: .NET's \w would admit any Unicode letter)
    // digest   := algorithm ':' hex (sha256: 64 hex, sha512: 128 hex)
    // \z, not $: in .NET '$' also matches before a trailing line feed, which must never pass.
    [GeneratedRegex(@"^(?<name>(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}))?\z", RegexOptions.CultureInvariant)]
    private static partial Regex Grammar();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex RepositoryPath();
}
