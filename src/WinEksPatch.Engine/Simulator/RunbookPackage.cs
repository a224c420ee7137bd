using System.IO.Compression;
using System.Security.Cryptography;

namespace WinEksPatch.Simulator;

/// <summary>
/// The runbook package of the installed module, as `build.ps1 package` makes it (WinEksPatch.zip of the module folder, and
/// the runbooks with its SHA-256 filled in), for a simulator that starts with the runbooks deployed. Made once per module
/// build in the temp folder (named by the module's own file), then reused; made under a temporary name and moved into
/// place, so two sessions starting at once do not see a half-written package.
/// </summary>
public static class RunbookPackage
{
    public static readonly (string Document, string File)[] Runbooks = [("WinEksPatch", "WinEksPatch-Runbook.yaml"), ("WinEksPatch-Fleet", "WinEksPatch-Fleet.yaml")];

    /// <summary>The package folder for the module in <paramref name="moduleDirectory"/>, or null when the module has no
    /// runbooks (a module laid out without them).</summary>
    public static string? Ensure(string moduleDirectory)
    {
        var runbooks = Path.Combine(moduleDirectory, "runbook");
        if (!Runbooks.All(r => File.Exists(Path.Combine(runbooks, r.File))))
        {
            return null;
        }

        var module = new FileInfo(Path.Combine(moduleDirectory, "WinEksPatch.dll"));
        var stamp = Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{module.FullName}|{module.Length}|{module.LastWriteTimeUtc.Ticks}")))[..16].ToLowerInvariant();
        var folder = Path.Combine(Path.GetTempPath(), "winekspatch-runbook-package-" + stamp);
        if (Directory.Exists(folder))
        {
            return folder;
        }

        var building = folder + "." + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(building);
        try
        {
            var zip = Path.Combine(building, "WinEksPatch.zip");
            ZipFile.CreateFromDirectory(moduleDirectory, zip, CompressionLevel.Fastest, includeBaseDirectory: true);
            string hash;
            using (var stream = File.OpenRead(zip))
            {
                hash = Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
            }

            foreach (var (_, file) in Runbooks)
            {
                File.WriteAllText(Path.Combine(building, file), File.ReadAllText(Path.Combine(runbooks, file)).Replace("__WINEKSPATCH_ZIP_SHA256__", hash, StringComparison.Ordinal));
            }

            Directory.Move(building, folder);
        }
        catch (IOException) when (Directory.Exists(folder))
        {
            // Another session made it first: use theirs.
            Directory.Delete(building, recursive: true);
        }

        return folder;
    }
}
