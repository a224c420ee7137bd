using WinEksPatch.Registry;

namespace WinEksPatch.Tests.Registry;

public class ImageReferenceTests
{
    [Theory]
    [InlineData("mcr.microsoft.com/windows/servercore:ltsc2022", "mcr.microsoft.com", "windows/servercore", "ltsc2022", null)]
    [InlineData("111122223333.dkr.ecr.us-west-2.amazonaws.com/fluentd-windows:1.16", "111122223333.dkr.ecr.us-west-2.amazonaws.com", "fluentd-windows", "1.16", null)]
    [InlineData("nginx", "docker.io", "library/nginx", null, null)]
    [InlineData("fluent/fluent-bit:3.1-windows", "docker.io", "fluent/fluent-bit", "3.1-windows", null)]
    [InlineData("localhost:5000/a/b__c:v1", "localhost:5000", "a/b__c", "v1", null)]
    [InlineData("registry.k8s.io/pause@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "registry.k8s.io", "pause", null, "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void Parses_valid_references(string text, string registry, string repository, string? tag, string? digest)
    {
        Assert.True(ImageReference.TryParse(text, out var reference, out var problem), problem);
        Assert.Equal((registry, repository, tag, digest), (reference.Registry, reference.Repository, reference.Tag, reference.Digest));
    }

    [Theory]
    [InlineData("nginx; rm -rf /", "';'")]
    [InlineData("nginx\nwhoami", "line feed")]
    [InlineData("nginx\n", "line feed")]
    [InlineData("nginx:$(whoami)", "'$'")]
    [InlineData("nginx:`id`", "'`'")]
    [InlineData("ngin\"x", "'\"'")]
    [InlineData("nginx' --all", "'''")]
    [InlineData("nginx && calc", "space")]
    [InlineData("nginx|calc", "'|'")]
    [InlineData("nginx:tag>out", "'>'")]
    [InlineData("Nginx", "grammar")]
    [InlineData("nginx:", "grammar")]
    [InlineData("nginx@sha256:123", "grammar")]
    [InlineData("-nginx", "grammar")]
    [InlineData("", "empty")]
    public void Rejects_references_outside_the_grammar_and_says_why(string text, string why)
    {
        Assert.False(ImageReference.TryParse(text, out var reference, out var problem));
        Assert.Null(reference);
        Assert.Contains(why, problem, StringComparison.Ordinal);
    }

    /// <summary>Fuzz: random strings over an alphabet rich in shell metacharacters. Whatever is accepted contains none
    /// of them and survives a round trip through its canonical form.</summary>
    [Fact]
    public void Fuzz_accepted_references_contain_no_shell_metacharacters_and_round_trip()
    {
        const string alphabet = "abcz09.-_/:@AZ ;$()`'\"\n\r\t|&<>\\*?!{}[]#%~=,+\u00e9";
        var random = new Random(20348);
        var accepted = 0;
        for (var i = 0; i < 50_000; i++)
        {
            var length = random.Next(1, 40);
            var chars = new char[length];
            for (var j = 0; j < length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            // Bias half the samples towards plausible shapes so acceptance is exercised too.
            var text = i % 2 == 0 ? new string(chars) : "mcr.microsoft.com/" + new string(chars).ToLowerInvariant();
            if (!ImageReference.TryParse(text, out var reference, out _))
            {
                continue;
            }

            accepted++;
            Assert.DoesNotContain(text, c => " ;$()`'\"\n\r\t|&<>\\*?!{}[]#%~=,+".Contains(c) || c > 127);
            Assert.True(ImageReference.TryParse(reference.ToString(), out var again, out _));
            Assert.Equal(reference.ToString(), again.ToString());
        }

        Assert.True(accepted > 100, $"the fuzzer accepted only {accepted} references: it no longer exercises acceptance");
    }
}
