using System.Text.RegularExpressions;
using WinEksPatch.Registry;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace WinEksPatch.Workflows.AmiBuild;

/// <summary>One image the cache component pulls: its canonical reference and, when the registry could be read, the
/// digest the tag pointed to when the document was generated (the build verifies the pull got exactly that).</summary>
public sealed record CacheImage(ImageReference Reference, string? ExpectedDigest)
{
    /// <summary>The reference as pulled and recorded: canonical (ctr does not expand short names the way the kubelet does).</summary>
    public string Text => Reference.ToString();
}

/// <summary>
/// The image-cache component: an AWSTOE document generated as objects and serialized with YamlDotNet (never built as
/// text). Phase <c>build</c> (it runs after <c>update-windows</c> in the recipe): refresh servercore and nanoserver of the
/// host's Windows release to the newest patch (so images built on this month's base share their layers), pull every
/// image into containerd's <c>k8s.io</c> namespace (the one the kubelet sees) with <c>ctr</c>, ECR images authenticated
/// with a password the instance role obtains, which reaches ctr through a hosts.toml only SYSTEM and Administrators read (never a command line), verify each digest,
/// and record the cached list on disk. Phase <c>validate</c>: every image is still there.
/// </summary>
/// <remarks>
/// Safety: every reference has passed <see cref="ImageReference"/>'s grammar (no quotes, spaces, <c>$</c>, <c>;</c>,
/// backticks, parentheses or line breaks can occur) and appears in the PowerShell commands only as one single-quoted
/// literal argument. Digests and regions are checked against their own strict patterns before they are written.
/// </remarks>
public static partial class ImageCacheDocument
{
    /// <summary>Where the build records the list of cached images on the AMI.</summary>
    public const string RecordPath = @"C:\ProgramData\WinEksPatch\cached-images.txt";

    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
        .DisableAliases()
        .Build();

    /// <summary>The base images of a Windows Server release refreshed after update-windows (their ltsc tag follows the newest patch).</summary>
    public static IReadOnlyList<ImageReference> BaseImages(string windowsVersion) =>
    [
        ImageReference.Parse($"mcr.microsoft.com/windows/servercore:ltsc{windowsVersion}"),
        ImageReference.Parse($"mcr.microsoft.com/windows/nanoserver:ltsc{windowsVersion}"),
    ];

    /// <summary>The AWS region of an ECR registry host (<c>111122223333.dkr.ecr.us-west-2.amazonaws.com</c>), else null.</summary>
    public static string? EcrRegion(string registry) => EcrHost().Match(registry) is { Success: true } m ? m.Groups["region"].Value : null;

    public static string Generate(string name, string description, string windowsVersion, IReadOnlyList<CacheImage> images)
    {
        if (!WindowsVersion().IsMatch(windowsVersion))
        {
            throw new ArgumentException($"'{windowsVersion}' is not a Windows Server version.", nameof(windowsVersion));
        }

        var build = new List<Step>();
        var number = 0;
        foreach (var image in BaseImages(windowsVersion))
        {
            build.Add(NewStep($"RefreshBaseImage{++number}", [.. Pull(new CacheImage(image, null)), .. Present(image.ToString())]));
        }

        number = 0;
        foreach (var image in images)
        {
            build.Add(NewStep($"CacheImage{++number}", [.. Pull(image), .. Verify(image)]));
        }

        var all = BaseImages(windowsVersion).Select(i => i.ToString()).Concat(images.Select(i => i.Text)).Distinct(StringComparer.Ordinal).ToList();
        build.Add(NewStep("RecordCachedImages",
        [
            "$ErrorActionPreference = 'Stop'",
            $"$null = New-Item -ItemType Directory -Force -Path {Quote(Path.GetDirectoryName(RecordPath)!)}",
            $"Set-Content -Encoding ascii -Path {Quote(RecordPath)} -Value @({string.Join(", ", all.Select(Quote))})",
        ]));

        var validate = new List<Step>
        {
            NewStep("VerifyCachedImages", ["$ErrorActionPreference = 'Stop'", .. all.SelectMany(Present)]),
        };

        var document = new Document
        {
            Name = name,
            Description = description,
            SchemaVersion = "1.0",
            Phases = [new Phase { Name = "build", Steps = build }, new Phase { Name = "validate", Steps = validate }],
        };
        return Serializer.Serialize(document);
    }

    /// <summary>Pulls one image into k8s.io; for ECR, with a password the instance role gets. The password never appears
    /// on a command line (a process listing shows those) or in the log. It is kept in a variable and turned into the
    /// Authorization header of a hosts.toml in a folder only SYSTEM and Administrators may read; ctr reads that folder
    /// through --hosts-dir, and the folder is removed whatever happens.</summary>
    private static IEnumerable<string> Pull(CacheImage image)
    {
        var text = image.Text;
        yield return "$ErrorActionPreference = 'Stop'";
        if (EcrRegion(image.Reference.Registry) is { } region)
        {
            var r = Quote(region);
            yield return "if (Get-Command -Name Get-ECRLoginCommand -ErrorAction SilentlyContinue) { $password = (Get-ECRLoginCommand -Region " + r
                + ").Password } else { $password = & aws ecr get-login-password --region " + r + " }";
            yield return "if (-not $password) { throw 'No ECR password: the build instance role needs ecr:GetAuthorizationToken (AWS Tools for PowerShell or the AWS CLI).' }";
            var host = Quote($"https://{image.Reference.Registry}");
            yield return "$hostsDir = Join-Path $env:ProgramData ('WinEksPatch\\pull-' + [guid]::NewGuid().ToString('n'))";
            yield return "$null = New-Item -ItemType Directory -Force -Path $hostsDir";
            yield return "try {";
            // The folder is closed to everyone but SYSTEM and Administrators before anything is written in it.
            yield return "$null = & icacls $hostsDir /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F'";
            yield return "if ($LASTEXITCODE -ne 0) { throw ('icacls could not restrict {0} (exit code {1}): the registry credential is not written' -f $hostsDir, $LASTEXITCODE) }";
            yield return $"$hostDir = Join-Path $hostsDir {Quote(image.Reference.Registry)}";
            yield return "$null = New-Item -ItemType Directory -Force -Path $hostDir";
            yield return "$basic = [Convert]::ToBase64String([Text.Encoding]::ASCII.GetBytes('AWS:' + $password))";
            yield return "$password = $null";
            yield return $"Set-Content -Encoding ascii -Path (Join-Path $hostDir 'hosts.toml') -Value @(('server = \"{{0}}\"' -f {host}), ('[host.\"{{0}}\"]' -f {host}), "
                + $"'  capabilities = [\"pull\", \"resolve\"]', ('[host.\"{{0}}\".header]' -f {host}), ('  Authorization = [\"Basic {{0}}\"]' -f $basic))";
            yield return "$basic = $null";
            yield return $"& ctr -n k8s.io images pull --hosts-dir $hostsDir {Quote(text)}";
            yield return "} finally { $password = $null; $basic = $null; Remove-Item -Recurse -Force -LiteralPath $hostsDir }";
        }
        else
        {
            yield return $"& ctr -n k8s.io images pull {Quote(text)}";
        }

        yield return $"if ($LASTEXITCODE -ne 0) {{ throw ('containerd could not pull {{0}} (exit code {{1}})' -f {Quote(text)}, $LASTEXITCODE) }}";
    }

    /// <summary>The image is in k8s.io with the digest its tag had when the document was generated.</summary>
    private static IEnumerable<string> Verify(CacheImage image)
    {
        var text = Quote(image.Text);
        if (image.ExpectedDigest is not { } digest || !Digest().IsMatch(digest))
        {
            foreach (var line in Present(image.Text))
            {
                yield return line;
            }

            yield break;
        }

        var expected = Quote(digest);
        yield return "$listed = & ctr -n k8s.io images ls";
        yield return $"$entry = $listed | Where-Object {{ ($_ -split '\\s+')[0] -ceq {text} }} | Select-Object -First 1";
        yield return $"if (-not $entry) {{ throw ('{{0}} is not in the k8s.io namespace after the pull' -f {text}) }}";
        yield return "$digest = ($entry -split '\\s+')[2]";
        yield return $"if ($digest -cne {expected}) {{ throw ('{{0}} has digest {{1}}, expected {{2}}' -f {text}, $digest, {expected}) }}";
        yield return $"Write-Output ('Cached {{0}} {{1}}' -f {text}, $digest)";
    }

    private static IEnumerable<string> Present(string reference)
    {
        var text = Quote(reference);
        yield return "$names = & ctr -n k8s.io images ls -q";
        yield return $"if (-not ($names -ccontains {text})) {{ throw ('{{0}} is missing from the k8s.io namespace' -f {text}) }}";
    }

    private static Step NewStep(string name, List<string> commands) =>
        new() { Name = name, Action = "ExecutePowerShell", Inputs = new Inputs { Commands = commands } };

    /// <summary>A PowerShell single-quoted literal. Only ever given grammar-checked references, digests, regions and our own
    /// constant paths, none of which can contain a quote; refuse rather than escape if that ever changes.</summary>
    private static string Quote(string value) =>
        value.Any(c => c is '\'' or '\u2018' or '\u2019' or '\u201A' or '\u201B' || char.IsControl(c))
            ? throw new ArgumentException("A value with a quote or control character cannot be written into the component document.", nameof(value))
            : $"'{value}'";

    [GeneratedRegex(@"^(?<account>[0-9]{12})\.dkr\.ecr(?:-fips)?\.(?<region>[a-z]{2}(?:-[a-z]+)+-[0-9])\.amazonaws\.com(?:\.cn)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex EcrHost();

    [GeneratedRegex(@"^sha256:[a-f0-9]{64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Digest();

    [GeneratedRegex(@"^20[0-9]{2}\z", RegexOptions.CultureInvariant)]
    private static partial Regex WindowsVersion();

    // The AWSTOE document shape (https://docs.aws.amazon.com/imagebuilder/latest/userguide/toe-use-documents.html).
    private sealed class Document
    {
        public string Name { get; init; } = "";
        public string? Description { get; init; }
        public string SchemaVersion { get; init; } = "1.0";
        public List<Phase> Phases { get; init; } = [];
    }

    private sealed class Phase
    {
        public string Name { get; init; } = "";
        public List<Step> Steps { get; init; } = [];
    }

    private sealed class Step
    {
        public string Name { get; init; } = "";
        public string Action { get; init; } = "";
        public Inputs Inputs { get; init; } = new();
    }

    private sealed class Inputs
    {
        public List<string> Commands { get; init; } = [];
    }
}
