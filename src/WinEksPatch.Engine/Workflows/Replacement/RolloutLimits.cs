using System.Globalization;
using WinEksPatch.Errors;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>-MaxSurge and -MaxUnavailable as Kubernetes writes them: a count ("2") or a percentage of the desired size ("25%").</summary>
public static class RolloutLimits
{
    /// <summary>Resolves a limit against <paramref name="desired"/>: percentages round up for surge, down for unavailable, as
    /// Deployments do.</summary>
    public static int Resolve(string value, int desired, bool roundUp, string parameter)
    {
        var text = value.Trim();
        if (text.EndsWith('%'))
        {
            if (!int.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var percent) || percent > 100)
            {
                throw Invalid(value, parameter);
            }

            var exact = desired * percent / 100.0;
            return roundUp ? (int)Math.Ceiling(exact) : (int)Math.Floor(exact);
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : throw Invalid(value, parameter);
    }

    /// <summary>Both limits; at least one must allow progress.</summary>
    public static (int Surge, int Unavailable) Resolve(string maxSurge, string maxUnavailable, int desired)
    {
        var surge = Resolve(maxSurge, desired, roundUp: true, "MaxSurge");
        var unavailable = Resolve(maxUnavailable, desired, roundUp: false, "MaxUnavailable");
        if (surge == 0 && unavailable == 0)
        {
            throw new WinEksPatchException(ErrorIds.RolloutCannotProgress, ErrorKind.InvalidArgument,
                $"-MaxSurge {maxSurge} and -MaxUnavailable {maxUnavailable} resolve to 0 for a group of {desired}: no node could ever be replaced. Allow a surge (e.g. -MaxSurge 1) or some unavailability.",
                "MaxSurge");
        }

        return (surge, unavailable);
    }

    private static WinEksPatchException Invalid(string value, string parameter) =>
        new(ErrorIds.InvalidRolloutLimit, ErrorKind.InvalidArgument, $"-{parameter}: '{value}' is neither a count (2) nor a percentage (25%).", parameter);
}
