using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WinEksPatch.Tests.Infrastructure;

public static class Repo
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "WinEksPatch.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("WinEksPatch.sln not found above the test binaries.");
    }
}

/// <summary>Runs tests/conformance/tools/sigv4.mjs: the AWS SDK for JavaScript v3 signer, an implementation nobody here wrote.
/// build.ps1 test installs its npm packages (npm ci) before the xUnit suites run.</summary>
public static class SmithySigner
{
    public static JsonNode Run(object input)
    {
        var dir = Path.Combine(Repo.Root, "tests", "conformance");
        Assert.True(Directory.Exists(Path.Combine(dir, "node_modules", "@smithy", "signature-v4")),
            "npm packages of tests/conformance are not installed: run `dotnet pwsh ./build.ps1 test` (it runs npm ci).");
        var start = new ProcessStartInfo("node", "tools/sigv4.mjs")
        {
            WorkingDirectory = dir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        process.StandardInput.Write(JsonSerializer.Serialize(input));
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, "node sigv4.mjs failed: " + error);
        return JsonNode.Parse(output)!;
    }
}
