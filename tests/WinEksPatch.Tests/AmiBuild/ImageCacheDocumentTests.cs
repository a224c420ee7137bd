using System.Text;
using WinEksPatch.Errors;
using WinEksPatch.Registry;
using WinEksPatch.Workflows.AmiBuild;
using YamlDotNet.RepresentationModel;

namespace WinEksPatch.Tests.AmiBuild;

/// <summary>The image-cache component document: generated from objects, parses back, and every reference in it is one
/// single-quoted literal argument; references outside the grammar never reach it.</summary>
public class ImageCacheDocumentTests
{
    private const string Ecr = "111122223333.dkr.ecr.us-west-2.amazonaws.com";
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Fact]
    public void The_document_refreshes_the_bases_pulls_into_k8s_io_verifies_digests_and_records_the_list()
    {
        var yaml = ImageCacheDocument.Generate("c", "d", "2022",
        [
            new CacheImage(ImageReference.Parse($"{Ecr}/shop/web-iis:2026.06.1"), Digest),
            new CacheImage(ImageReference.Parse("nginx"), null),
        ]);

        var (phases, commands) = Parse(yaml);
        Assert.Equal(["build", "validate"], phases);
        var all = string.Join("\n", commands.SelectMany(c => c.Value));
        Assert.Contains("& ctr -n k8s.io images pull 'mcr.microsoft.com/windows/servercore:ltsc2022'", all, StringComparison.Ordinal);
        Assert.Contains("& ctr -n k8s.io images pull 'mcr.microsoft.com/windows/nanoserver:ltsc2022'", all, StringComparison.Ordinal);
        Assert.Contains($"& ctr -n k8s.io images pull --hosts-dir $hostsDir '{Ecr}/shop/web-iis:2026.06.1'", all, StringComparison.Ordinal);
        // The credential folder is closed before anything is written in it (a failing icacls stops the step), and removed whatever happens.
        Assert.Contains("if ($LASTEXITCODE -ne 0) { throw ('icacls could not restrict", all, StringComparison.Ordinal);
        Assert.True(all.IndexOf("& icacls", StringComparison.Ordinal) < all.IndexOf("Set-Content -Encoding ascii -Path (Join-Path $hostDir", StringComparison.Ordinal));
        Assert.Contains("} finally { $password = $null; $basic = $null; Remove-Item -Recurse -Force -LiteralPath $hostsDir }", all, StringComparison.Ordinal);
        Assert.Contains($"('  Authorization = [\"Basic {{0}}\"]' -f $basic)", all, StringComparison.Ordinal);
        Assert.Contains("Get-ECRLoginCommand -Region 'us-west-2'", all, StringComparison.Ordinal);
        Assert.Contains("aws ecr get-login-password --region 'us-west-2'", all, StringComparison.Ordinal);
        Assert.Contains($"-cne '{Digest}'", all, StringComparison.Ordinal);
        Assert.Contains("& ctr -n k8s.io images pull 'docker.io/library/nginx:latest'", all, StringComparison.Ordinal); // canonical: ctr does not expand short names
        Assert.Contains(ImageCacheDocument.RecordPath, all, StringComparison.Ordinal);
        // The password lives in variables: never echoed, never on a command line (no native command gets it as an argument).
        var lines = commands.SelectMany(c => c.Value).SelectMany(c => c.Split('\n')).ToList();
        Assert.DoesNotContain(lines, c => c.Contains("Write-", StringComparison.Ordinal) && (c.Contains("$password", StringComparison.Ordinal) || c.Contains("$basic", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, c => c.Contains("& ", StringComparison.Ordinal) && c.Contains("ctr", StringComparison.Ordinal)
            && (c.Contains("--user", StringComparison.Ordinal) || c.Contains("$password", StringComparison.Ordinal) || c.Contains("$basic", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, c => c.Contains("icacls", StringComparison.Ordinal) && (c.Contains("$password", StringComparison.Ordinal) || c.Contains("$basic", StringComparison.Ordinal)));
        // Same input, same document (the component gets a new version only when its content changes).
        Assert.Equal(yaml, ImageCacheDocument.Generate("c", "d", "2022",
            [new CacheImage(ImageReference.Parse($"{Ecr}/shop/web-iis:2026.06.1"), Digest), new CacheImage(ImageReference.Parse("nginx"), null)]));
    }

    [Fact]
    public void Fuzz_every_reference_the_grammar_accepts_is_one_literal_argument_of_a_document_that_parses()
    {
        var random = new Random(20260920);
        var accepted = 0;
        for (var i = 0; i < 2000; i++)
        {
            var text = RandomReference(random);
            if (!ImageReference.TryParse(text, out var reference, out _))
            {
                continue;
            }

            accepted++;
            var image = new CacheImage(reference, random.Next(2) == 0 ? Digest : null);
            var yaml = ImageCacheDocument.Generate("c", "d", "2022", [image]);
            var (_, commands) = Parse(yaml); // parses back
            var lines = commands.SelectMany(c => c.Value).ToList();
            var canonical = image.Text;
            var occurrences = 0;
            foreach (var line in lines)
            {
                for (var at = line.IndexOf(canonical, StringComparison.Ordinal); at >= 0; at = line.IndexOf(canonical, at + 1, StringComparison.Ordinal))
                {
                    occurrences++;
                    Assert.True(at > 0 && line[at - 1] == '\'' && at + canonical.Length < line.Length && line[at + canonical.Length] == '\'',
                        $"'{canonical}' is not a whole single-quoted literal in: {line}");
                    // The literal holds nothing else: the quote before it opens it, the one after closes it.
                    Assert.True(at < 2 || line[at - 2] is ' ' or '(' or ',', line);
                }
            }

            Assert.True(occurrences >= 3, $"{canonical}: pulled, verified and recorded ({occurrences})");
            // The pull line ends with the reference as its own argument (how AWSTOE's PowerShell and the simulator read it).
            var pull = lines.Single(l => l.Contains("images pull", StringComparison.Ordinal) && l.Contains(canonical, StringComparison.Ordinal));
            Assert.EndsWith($" '{canonical}'", pull, StringComparison.Ordinal);
        }

        Assert.True(accepted > 500, $"only {accepted} generated references were accepted");
    }

    [Theory]
    [InlineData("nginx'; Remove-Item C:\\ -Recurse; '")]
    [InlineData("nginx:$(Invoke-Expression whoami)")]
    [InlineData("nginx\nStop-Computer")]
    [InlineData("nginx\n")]
    [InlineData("mcr.microsoft.com/windows/servercore:ltsc2022`whoami`")]
    [InlineData("nginx:1.0 --all-platforms")]
    [InlineData("nginx\u2019; calc")]
    [InlineData("ngin\u0445")] // Cyrillic x
    [InlineData("-nginx")]
    [InlineData("nginx:latest\"")]
    public void Unsafe_or_malformed_references_are_refused_with_InvalidImageReference(string text)
    {
        var error = Assert.Throws<WinEksPatchException>(() => AmiBuilder.ParseCacheImages(["mcr.microsoft.com/windows/servercore:ltsc2022", text]));

        Assert.Equal(ErrorIds.InvalidImageReference, error.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("-CacheImage", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Fuzz_a_forbidden_character_anywhere_in_a_valid_reference_is_refused()
    {
        var random = new Random(7);
        char[] forbidden = ['\'', '"', ';', '$', '(', ')', '`', '\n', '\r', ' ', '\t', '&', '|', '<', '>', '{', '}', '\u2018', '\u201C', '\0', '\u00e9'];
        for (var i = 0; i < 1000; i++)
        {
            string text;
            do
            {
                text = RandomReference(random);
            }
            while (!ImageReference.TryParse(text, out _, out _));

            var at = random.Next(text.Length + 1);
            var bad = text.Insert(at, forbidden[random.Next(forbidden.Length)].ToString());
            var error = Assert.Throws<WinEksPatchException>(() => AmiBuilder.ParseCacheImages([bad]));
            Assert.Equal(ErrorIds.InvalidImageReference, error.ErrorId);
        }
    }

    [Theory]
    [InlineData(null, "1.0.0")]
    [InlineData("1.0.0", "1.0.1")]
    [InlineData("2.3.9", "2.3.10")]
    public void Versions_are_bumped_by_patch(string? latest, string next) => Assert.Equal(next, AmiBuilder.Bump(latest));

    [Fact]
    public void Names_are_stable_and_fit_image_builder_limits()
    {
        var names = AmiBuildNames.For("demo", "2022", "Core");
        Assert.Equal("WinEksPatch-demo-2022-Core-image-cache", names.Component);
        Assert.Equal("WinEksPatch-demo-2022-Core", names.Recipe);
        Assert.Equal(names.Infrastructure("a"), AmiBuildNames.For("demo", "2022", "Core").Infrastructure("a"));
        Assert.NotEqual(names.Infrastructure("a"), names.Infrastructure("b"));
        Assert.Equal("WinEksPatch-demo-2022-Core-k8s-1.31-{{imagebuilder:buildDate}}", names.AmiName("1.31"));

        var longName = AmiBuildNames.For(new string('c', 100), "2025", "Full");
        Assert.True(longName.Component.Length <= 126, longName.Component);
        Assert.True(longName.AmiName("1.33").Length <= 127);
        Assert.NotEqual(longName.Base, AmiBuildNames.For(new string('c', 99) + "d", "2025", "Full").Base);
    }

    private static (List<string> Phases, List<KeyValuePair<string, List<string>>> Commands) Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var root = (YamlMappingNode)stream.Documents.Single().RootNode;
        Assert.Equal("1.0", ((YamlScalarNode)root.Children[new YamlScalarNode("schemaVersion")]).Value);
        var phases = new List<string>();
        var commands = new List<KeyValuePair<string, List<string>>>();
        foreach (YamlMappingNode phase in (YamlSequenceNode)root.Children[new YamlScalarNode("phases")])
        {
            phases.Add(((YamlScalarNode)phase.Children[new YamlScalarNode("name")]).Value!);
            foreach (YamlMappingNode step in (YamlSequenceNode)phase.Children[new YamlScalarNode("steps")])
            {
                Assert.Equal("ExecutePowerShell", ((YamlScalarNode)step.Children[new YamlScalarNode("action")]).Value);
                var inputs = (YamlMappingNode)step.Children[new YamlScalarNode("inputs")];
                var list = ((YamlSequenceNode)inputs.Children[new YamlScalarNode("commands")]).Children.Select(c => ((YamlScalarNode)c).Value!).ToList();
                Assert.All(list, c => Assert.DoesNotContain('\n', c));
                commands.Add(KeyValuePair.Create(((YamlScalarNode)step.Children[new YamlScalarNode("name")]).Value!, list));
            }
        }

        return (phases, commands);
    }

    /// <summary>References from the grammar's alphabet: domains with ports, separators (., _, __, runs of -), tags and digests.</summary>
    private static string RandomReference(Random random)
    {
        const string Lower = "abcdefghijklmnopqrstuvwxyz0123456789";
        const string Alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        string Word(string alphabet, int max) => new([.. Enumerable.Range(0, random.Next(1, max + 1)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
        var sb = new StringBuilder();
        switch (random.Next(4))
        {
            case 0:
                break;
            case 1:
                sb.Append("localhost").Append(random.Next(2) == 0 ? ":" + random.Next(1, 65536) : "").Append('/');
                break;
            default:
                sb.Append(string.Join(".", Enumerable.Range(0, random.Next(2, 5)).Select(_ => Word(Alnum, 6) + (random.Next(4) == 0 ? "-" + Word(Alnum, 3) : ""))));
                if (random.Next(3) == 0)
                {
                    sb.Append(':').Append(random.Next(1, 65536));
                }

                sb.Append('/');
                break;
        }

        string[] separators = [".", "_", "__", "-", "--", "---"];
        sb.Append(string.Join("/", Enumerable.Range(0, random.Next(1, 4)).Select(_ =>
            string.Join(separators[random.Next(separators.Length)], Enumerable.Range(0, random.Next(1, 3)).Select(_ => Word(Lower, 8))))));
        if (random.Next(3) > 0)
        {
            sb.Append(':').Append(Word(Alnum + "_", 1)).Append(random.Next(2) == 0 ? Word(Alnum + "_.-", 20) : "");
        }

        if (random.Next(4) == 0)
        {
            sb.Append("@sha256:").Append(new string([.. Enumerable.Range(0, 64).Select(_ => "0123456789abcdef"[random.Next(16)])]));
        }

        return sb.ToString();
    }
}
