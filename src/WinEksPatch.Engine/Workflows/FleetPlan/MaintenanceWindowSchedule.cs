using System.Globalization;
using System.Text.RegularExpressions;
using Cronos;
using WinEksPatch.Errors;
using WinEksPatch.Model;

namespace WinEksPatch.Workflows.FleetPlan;

/// <summary>
/// A maintenance window's times: when it is open, and when the next one opens. The schedule is SSM's cron format,
/// cron(minutes hours day-of-month month day-of-week year), read with Cronos after the two differences are mapped (SSM
/// numbers days of the week 1–7 from Sunday, Cronos 0–6; SSM has a year field). Times are the schedule's time zone's,
/// so a window keeps its local hours across daylight-saving changes.
/// </summary>
public sealed partial class MaintenanceWindowSchedule
{
    private readonly CronExpression _cron;
    private readonly TimeZoneInfo _zone;
    private readonly Func<int, bool> _year;

    private MaintenanceWindowSchedule(WinEksMaintenanceWindow window, CronExpression cron, TimeZoneInfo zone, Func<int, bool> year)
    {
        Window = window;
        _cron = cron;
        _zone = zone;
        _year = year;
    }

    public WinEksMaintenanceWindow Window { get; }

    public TimeSpan Duration => TimeSpan.FromHours(Window.Duration);

    public TimeSpan Cutoff => TimeSpan.FromHours(Window.Cutoff);

    /// <summary>Reads a window; <paramref name="where"/> names it in the plan (e.g. "waves[2].maintenanceWindow") in the
    /// FleetPlanInvalid error a malformed one gets.</summary>
    public static MaintenanceWindowSchedule Parse(WinEksMaintenanceWindow window, string where)
    {
        ArgumentNullException.ThrowIfNull(window);
        WinEksPatchException Invalid(string field, string problem) => new(ErrorIds.FleetPlanInvalid, ErrorKind.InvalidArgument,
            $"{where}.{field}: {problem}", window.Schedule);

        if (window.Duration is < 1 or > 24)
        {
            throw Invalid("duration", $"{window.Duration} hours; a window lasts 1 to 24 hours.");
        }

        if (window.Cutoff < 0 || window.Cutoff >= window.Duration)
        {
            throw Invalid("cutoff", $"{window.Cutoff} hours; the cutoff is 0 to {window.Duration - 1} (less than the duration).");
        }

        if (window.ScheduleOffset is < 0 or > 6)
        {
            throw Invalid("scheduleOffset", $"{window.ScheduleOffset} days; the offset is 0 to 6.");
        }

        TimeZoneInfo zone;
        try
        {
            zone = string.IsNullOrWhiteSpace(window.ScheduleTimezone) ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(window.ScheduleTimezone);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw Invalid("scheduleTimezone", $"'{window.ScheduleTimezone}' is not a time zone this machine knows (IANA names, e.g. Europe/Berlin, America/New_York).");
        }

        Match m = CronPattern().Match(window.Schedule ?? "");
        if (!m.Success)
        {
            throw Invalid("schedule", $"'{window.Schedule}' is not cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 22 ? * TUE#2 *)." +
                (window.Schedule?.StartsWith("rate(", StringComparison.OrdinalIgnoreCase) == true ? " A rate() repeats from when a window was created, which a plan has not: write cron()." : ""));
        }

        string[] fields = m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields[2] != "?" && fields[4] != "?")
        {
            throw Invalid("schedule", $"'{window.Schedule}': one of day-of-month and day-of-week must be '?', as in SSM.");
        }

        Func<int, bool> year;
        try
        {
            year = Years(fields[5]);
            string cronos = string.Join(' ', fields[0], fields[1], fields[2], fields[3], DaysOfWeekFromSsm(fields[4]));
            return new MaintenanceWindowSchedule(window, CronExpression.Parse(cronos, CronFormat.Standard), zone, year);
        }
        catch (Exception ex) when (ex is CronFormatException or FormatException or OverflowException)
        {
            throw Invalid("schedule", $"'{window.Schedule}' is not a cron expression SSM accepts: {ex.Message}");
        }
    }

    /// <summary>The window open at <paramref name="now"/> (its opening and closing), or null when none is.</summary>
    public (DateTimeOffset Opens, DateTimeOffset Closes)? OpenAt(DateTimeOffset now)
    {
        var (opens, closes) = FirstEndingAfter(now);
        return opens <= now ? (opens, closes) : null;
    }

    /// <summary>Whether a target may start now: a window is open and its cutoff has not begun.</summary>
    public bool AllowsStart(DateTimeOffset now) => OpenAt(now) is { } open && now < open.Closes - Cutoff;

    /// <summary>The first time at or after <paramref name="now"/> a target may start: now, when <see cref="AllowsStart"/>.</summary>
    public DateTimeOffset NextStart(DateTimeOffset now)
    {
        if (AllowsStart(now))
        {
            return now;
        }

        var (opens, closes) = FirstEndingAfter(now);
        // Inside a window's cutoff: the next window after this one.
        return opens <= now ? FirstEndingAfter(closes).Opens : opens;
    }

    /// <summary>The first window (by the schedule, offset included) that closes after <paramref name="from"/>.</summary>
    private (DateTimeOffset Opens, DateTimeOffset Closes) FirstEndingAfter(DateTimeOffset from)
    {
        // Start early enough to see a window that opened before `from` and is still open.
        DateTime cursor = (from - Duration - TimeSpan.FromDays(Window.ScheduleOffset + 1)).UtcDateTime;
        for (int i = 0; i < 10_000; i++)
        {
            DateTime? next = _cron.GetNextOccurrence(cursor, _zone);
            if (next is null)
            {
                break;
            }

            cursor = next.Value;
            // The offset moves the date in the schedule's zone: the window keeps its local time of day.
            DateTime local = TimeZoneInfo.ConvertTimeFromUtc(next.Value, _zone).AddDays(Window.ScheduleOffset);
            if (!_year(local.Year))
            {
                continue;
            }

            var opens = new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), _zone), TimeSpan.Zero);
            DateTimeOffset closes = opens + Duration;
            if (closes > from)
            {
                return (opens, closes);
            }
        }

        throw new WinEksPatchException(ErrorIds.FleetPlanInvalid, ErrorKind.InvalidArgument,
            $"The maintenance window {Window} never opens again after {from:u}.", Window.Schedule);
    }

    /// <summary>SSM's day-of-week numbers (1 = SUN … 7 = SAT) as Cronos's (0 = SUN … 6 = SAT); names stay.</summary>
    private static string DaysOfWeekFromSsm(string field) =>
        DayNumber().Replace(field, d => (int.Parse(d.Value, CultureInfo.InvariantCulture) is var n and >= 1 and <= 7
            ? n - 1 : throw new FormatException($"day of week {d.Value} is not 1 (SUN) to 7 (SAT)")).ToString(CultureInfo.InvariantCulture));

    private static Func<int, bool> Years(string field)
    {
        if (field == "*" || field == "?")
        {
            return _ => true;
        }

        var years = new HashSet<int>();
        foreach (string part in field.Split(','))
        {
            string[] range = part.Split('-');
            int first = int.Parse(range[0], CultureInfo.InvariantCulture);
            int last = range.Length > 1 ? int.Parse(range[1], CultureInfo.InvariantCulture) : first;
            for (int y = first; y <= last; y++)
            {
                years.Add(y);
            }
        }

        return years.Contains;
    }

    [GeneratedRegex(@"^cron\(\s*(\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+)\s*\)$", RegexOptions.IgnoreCase)]
    private static partial Regex CronPattern();

    // A number in the day-of-week field that is a day, not the n of "#n" (TUE#2: the 2 stays).
    [GeneratedRegex(@"(?<!#)\b\d+\b")]
    private static partial Regex DayNumber();
}
