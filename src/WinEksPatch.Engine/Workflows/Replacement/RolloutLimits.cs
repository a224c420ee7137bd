using System.Globalization;
using WinEksPatch.Errors;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>
/// -MaxSurge or -MaxUnavailable as Kubernetes writes them: a count ("2") or a percentage of the group's desired size
/// ("25%"). Parsed once, at the cmdlet boundary; resolved against the group's size when the group is known.
/// </summary>
public readonly record struct RolloutLimit(int Value, bool IsPercentage)
{
    /// <summary>Parses a limit; a bad value is InvalidRolloutLimit naming the parameter (nothing has been read or changed yet).</summary>
    public static RolloutLimit Parse(string value, string parameter)
    {
        var text = value.Trim();
        var percentage = text.EndsWith('%');
        if (!int.TryParse(percentage ? text[..^1] : text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            throw new WinEksPatchException(ErrorIds.InvalidRolloutLimit, ErrorKind.InvalidArgument,
                $"-{parameter}: '{value}' is neither a count (2) nor a percentage (25%).", parameter);
        }

        if (percentage && number > 100)
        {
            throw new WinEksPatchException(ErrorIds.InvalidRolloutLimit, ErrorKind.InvalidArgument,
                $"-{parameter}: '{value}' is more than the whole group; a percentage is at most 100% (all of its nodes).", parameter);
        }

        return new RolloutLimit(number, percentage);
    }

    public override string ToString() => IsPercentage ? $"{Value}%" : Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Resolves the two limits of a rollout against the group they apply to.</summary>
public static class RolloutLimits
{
    /// <summary>A percentage rounds up for surge and down for unavailable, as Deployments do. A count above the group's
    /// desired size is refused: it is almost always a typo (-MaxUnavailable 10000 would drain every node at once), and
    /// "all of them" is written 100%.</summary>
    public static int Resolve(RolloutLimit limit, int desired, bool roundUp, string parameter, string groupName)
    {
        if (limit.IsPercentage)
        {
            var exact = desired * limit.Value / 100.0;
            return roundUp ? (int)Math.Ceiling(exact) : (int)Math.Floor(exact);
        }

        if (limit.Value > desired && limit.Value > 1)
        {
            throw new WinEksPatchException(ErrorIds.InvalidRolloutLimit, ErrorKind.InvalidArgument,
                $"-{parameter} {limit} is more than the {desired} node(s) of {groupName}: give at most {desired}, or a percentage (100% means all of them).",
                parameter);
        }

        return limit.Value;
    }

    /// <summary>Both limits; at least one must allow progress.</summary>
    public static (int Surge, int Unavailable) Resolve(RolloutLimit maxSurge, RolloutLimit maxUnavailable, int desired, string groupName)
    {
        var surge = Resolve(maxSurge, desired, roundUp: true, "MaxSurge", groupName);
        var unavailable = Resolve(maxUnavailable, desired, roundUp: false, "MaxUnavailable", groupName);
        if (surge == 0 && unavailable == 0)
        {
            throw new WinEksPatchException(ErrorIds.RolloutCannotProgress, ErrorKind.InvalidArgument,
                $"-MaxSurge {maxSurge} and -MaxUnavailable {maxUnavailable} resolve to 0 for {groupName} ({desired} node(s)): no node could ever be replaced. Allow a surge (e.g. -MaxSurge 1) or some unavailability.",
                "MaxSurge");
        }

        return (surge, unavailable);
    }
}
