using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace WinEksPatch.Windows;

/// <summary>
/// A Windows OS build such as <c>10.0.20348.2849</c>: <see cref="Build"/> (20348) says which Windows Server it is and
/// must match between a host and a process-isolated container; <see cref="Revision"/> (2849, the UBR) rises with each
/// monthly patch. Read a node's from <c>status.nodeInfo.kernelVersion</c> (not <c>osImage</c>), an image's from its
/// platform <c>os.version</c>.
/// </summary>
public readonly record struct WindowsBuild(int Major, int Minor, int Build, int Revision) : IComparable<WindowsBuild>
{
    public static bool TryParse(string? text, [NotNullWhen(true)] out WindowsBuild? build)
    {
        build = null;
        var parts = text?.Trim().Split('.');
        if (parts is not { Length: 4 } || !parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            return false;
        }

        var n = parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        build = new WindowsBuild(n[0], n[1], n[2], n[3]);
        return true;
    }

    public static WindowsBuild? ParseOrNull(string? text) => TryParse(text, out var build) ? build : null;

    /// <summary>The Windows Server release of this build: 2019, 2022, 2025, or null for other builds.</summary>
    public string? WindowsServer => ServerOf(Build);

    public static string? ServerOf(int build) => build switch
    {
        17763 => "2019",
        20348 => "2022",
        26100 => "2025",
        _ => null,
    };

    public static int? BuildOf(string? windowsServer) => windowsServer switch
    {
        "2019" => 17763,
        "2022" => 20348,
        "2025" => 26100,
        _ => null,
    };

    public int CompareTo(WindowsBuild other) =>
        (Major, Minor, Build, Revision).CompareTo((other.Major, other.Minor, other.Build, other.Revision));

    public static bool operator <(WindowsBuild a, WindowsBuild b) => a.CompareTo(b) < 0;

    public static bool operator >(WindowsBuild a, WindowsBuild b) => a.CompareTo(b) > 0;

    public static bool operator <=(WindowsBuild a, WindowsBuild b) => a.CompareTo(b) <= 0;

    public static bool operator >=(WindowsBuild a, WindowsBuild b) => a.CompareTo(b) >= 0;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}.{Build}.{Revision}");
}
