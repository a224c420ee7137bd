using System.Globalization;

namespace WinEksPatch.Simulator.Scenarios;

/// <summary>One monthly Windows Server cumulative update ("B" release on Patch Tuesday).</summary>
public sealed record WindowsBuild(int OsBuildMajor, string WindowsServer, DateOnly ReleaseDate, string Kb, string OsVersion)
{
    /// <summary>The month the update belongs to (first day of the month).</summary>
    public DateOnly PatchMonth => new(ReleaseDate.Year, ReleaseDate.Month, 1);

    /// <summary>Update build revision: the last number of the OS version, the monthly patch level.</summary>
    public int Ubr => int.Parse(OsVersion[(OsVersion.LastIndexOf('.') + 1)..], CultureInfo.InvariantCulture);
}

/// <summary>
/// The real Windows Server monthly builds (Scenarios/data/windows-server-builds.csv, copied from the
/// project's shared facts), from which the simulator derives its EKS-optimized AMIs and node kernel versions.
/// </summary>
public sealed class PatchCalendar
{
    private readonly List<WindowsBuild> _builds;

    private PatchCalendar(List<WindowsBuild> builds) => _builds = builds;

    public IReadOnlyList<WindowsBuild> Builds => _builds;

    public static PatchCalendar Load(string csvPath)
    {
        var builds = new List<WindowsBuild>();
        foreach (string line in File.ReadLines(csvPath).Skip(1))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            // os_build_major,windows_server,release_date,kb,os_version,source (source may contain commas: ignore the rest)
            string[] f = line.Split(',');
            builds.Add(new WindowsBuild(
                int.Parse(f[0], CultureInfo.InvariantCulture),
                f[1],
                DateOnly.ParseExact(f[2], "yyyy-MM-dd", CultureInfo.InvariantCulture),
                f[3],
                f[4]));
        }

        builds.Sort((a, b) => a.ReleaseDate.CompareTo(b.ReleaseDate));
        return new PatchCalendar(builds);
    }

    /// <summary>Monthly builds of one Windows Server release ("2019", "2022", "2025"), oldest first.</summary>
    public IEnumerable<WindowsBuild> For(string windowsServer) => _builds.Where(b => b.WindowsServer == windowsServer);
}
