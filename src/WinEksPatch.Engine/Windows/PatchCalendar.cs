using System.Globalization;

namespace WinEksPatch.Windows;

/// <summary>One monthly (or out-of-band) Windows Server release.</summary>
public sealed record WindowsRelease(WindowsBuild Build, DateOnly ReleaseDate, string Kb, bool Monthly);

/// <summary>
/// The Windows Server patch calendar: the real monthly cumulative updates of 2019 (17763), 2022 (20348) and
/// 2025 (26100), shipped with the module. "Monthly patches behind" counts the monthly releases between two builds of
/// the same series. Builds newer than the table are expected (the table ends when the module was built): they count
/// as one release per month after the table's last one, by the reference date when known.
/// </summary>
public sealed class PatchCalendar
{
    private readonly Dictionary<int, List<WindowsRelease>> _monthly;
    private readonly Dictionary<int, List<WindowsRelease>> _all;

    public PatchCalendar(IEnumerable<WindowsRelease> releases)
    {
        var list = releases.ToList();
        _all = list.GroupBy(r => r.Build.Build).ToDictionary(g => g.Key, g => g.OrderBy(r => r.Build).ToList());
        _monthly = list.Where(r => r.Monthly).GroupBy(r => r.Build.Build).ToDictionary(g => g.Key, g => g.OrderBy(r => r.Build).ToList());
    }

    /// <summary>The calendar embedded in the module.</summary>
    public static PatchCalendar Default { get; } = new(LoadEmbedded());

    public IReadOnlyList<WindowsRelease> MonthlyReleases(int build) => _monthly.TryGetValue(build, out var list) ? list : [];

    /// <summary>The release of exactly this build (monthly, out-of-band or hotpatch), if known.</summary>
    public WindowsRelease? Find(WindowsBuild build) =>
        _all.TryGetValue(build.Build, out var list) ? list.FirstOrDefault(r => r.Build == build) : null;

    /// <summary>The newest monthly release of a series in the table.</summary>
    public WindowsRelease? Newest(int build) => MonthlyReleases(build) is { Count: > 0 } list ? list[^1] : null;

    /// <summary>
    /// How many monthly patches <paramref name="current"/> is behind <paramref name="reference"/> (same series; null
    /// when the series differ). A reference beyond the table adds the months from the table's last release to
    /// <paramref name="referenceDate"/> (at least one).
    /// </summary>
    public int? MonthsBehind(WindowsBuild current, WindowsBuild reference, DateOnly? referenceDate = null)
    {
        if (current.Build != reference.Build)
        {
            return null;
        }

        if (current.Revision >= reference.Revision)
        {
            return 0;
        }

        var releases = MonthlyReleases(current.Build);
        var behind = releases.Count(r => r.Build.Revision > current.Revision && r.Build.Revision <= reference.Revision);
        var last = releases.Count > 0 ? releases[^1] : null;
        if (last == null || reference.Revision > last.Build.Revision)
        {
            // Beyond the table: one release per Patch Tuesday since the table's last one.
            var extra = 1;
            if (last != null && referenceDate is { } date)
            {
                extra = Math.Max(1, ((date.Year - last.ReleaseDate.Year) * 12) + date.Month - last.ReleaseDate.Month);
            }

            behind += extra;
        }

        return behind;
    }

    private static IEnumerable<WindowsRelease> LoadEmbedded()
    {
        var assembly = typeof(PatchCalendar).Assembly;
        foreach (var (resource, monthly) in new[] { ("WinEksPatch.Data.windows-server-builds.csv", true), ("WinEksPatch.Data.windows-server-builds-extra.csv", false) })
        {
            using var stream = assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"Embedded resource {resource} is missing.");
            using var reader = new StreamReader(stream);
            var header = reader.ReadLine()!.Split(',');
            int Column(string name) => Array.IndexOf(header, name);
            int dateColumn = Column("release_date"), kbColumn = Column("kb"), versionColumn = Column("os_version");
            while (reader.ReadLine() is { } line)
            {
                // The last column (source) may contain commas; the ones we read come first.
                var fields = line.Split(',');
                if (fields.Length <= versionColumn || !WindowsBuild.TryParse(fields[versionColumn], out var build))
                {
                    continue;
                }

                yield return new WindowsRelease(build.Value,
                    DateOnly.ParseExact(fields[dateColumn], "yyyy-MM-dd", CultureInfo.InvariantCulture), fields[kbColumn], monthly);
            }
        }
    }
}
