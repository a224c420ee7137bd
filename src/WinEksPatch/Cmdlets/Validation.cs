using System.Management.Automation;
using WinEksPatch.Errors;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Commands;

/// <summary>
/// -MaxSurge and -MaxUnavailable, checked when PowerShell binds them, so a bad limit fails before the cmdlet reads anything,
/// with the accepted range in the message: a count from 0 to <see cref="MaxCount"/>, or a percentage from 0% to 100%. (A
/// count above the group's own size is refused later, once the group is known.)
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateRolloutLimitAttribute : ValidateArgumentsAttribute
{
    /// <summary>No Auto Scaling group is larger (its default quota of instances is far below this).</summary>
    public const int MaxCount = 10_000;

    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        var text = arguments as string ?? Convert.ToString(arguments, System.Globalization.CultureInfo.InvariantCulture) ?? "";
        RolloutLimit limit;
        try
        {
            limit = RolloutLimit.Parse(text, "limit");
        }
        catch (WinEksPatchException)
        {
            throw Refused(text);
        }

        if (!limit.IsPercentage && limit.Value > MaxCount)
        {
            throw Refused(text);
        }
    }

    private static ValidationMetadataException Refused(string text) =>
        new($"'{text}' is not a rollout limit: give a count from 0 to {MaxCount:N0} (at most the group's size), or a percentage of the group from 0% to 100% (for example 2 or 25%).");
}

/// <summary>A timeout checked when PowerShell binds it: at least a second, or (with <see cref="AllowZero"/>) zero, and at
/// most a week. Both ends catch unit mistakes: PowerShell reads a bare number as ticks (-ReadyTimeout 30 is 3 µs, and a
/// rollout with it terminates every new instance as not ready), and '30' as a string is 30 days.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateTimeoutAttribute : ValidateArgumentsAttribute
{
    public bool AllowZero { get; set; }

    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        if (arguments is not TimeSpan value)
        {
            return; // PowerShell converts to TimeSpan first; anything else failed there with its own message
        }

        if (AllowZero && value == TimeSpan.Zero)
        {
            return;
        }

        if (value < TimeSpan.FromSeconds(1) || value > TimeSpan.FromDays(7))
        {
            var ticks = value > TimeSpan.Zero && value < TimeSpan.FromSeconds(1) ? $" ({value.Ticks} ticks of 100 ns: a bare number is read as ticks)" : "";
            throw new ValidationMetadataException(
                $"{value}{ticks} is not a timeout here: give one from {(AllowZero ? "00:00:00 or " : "")}00:00:01 to 7.00:00:00 (7 days), as hh:mm:ss (for example 00:30:00 for 30 minutes).");
        }
    }
}
