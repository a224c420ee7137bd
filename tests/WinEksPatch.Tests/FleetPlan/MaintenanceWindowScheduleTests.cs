using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Workflows.FleetPlan;

namespace WinEksPatch.Tests.FleetPlan;

public sealed class MaintenanceWindowScheduleTests
{
    // Patch Thursday night in Berlin: the second Tuesday, two days on, 22:00 for six hours, no new target in the last hour.
    private static MaintenanceWindowSchedule PatchThursday(string schedule = "cron(0 22 ? * TUE#2 *)") => MaintenanceWindowSchedule.Parse(
        new WinEksMaintenanceWindow { Schedule = schedule, ScheduleOffset = 2, Duration = 6, Cutoff = 1, ScheduleTimezone = "Europe/Berlin" }, "waves[0].maintenanceWindow");

    private static DateTimeOffset Utc(int year, int month, int day, int hour, int minute = 0) => new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public void The_next_window_opens_on_the_offset_day_at_the_local_hour()
    {
        // December 2026: Tuesday the 1st and the 8th; Thursday the 10th, 22:00 CET = 21:00 UTC.
        var schedule = PatchThursday();
        Assert.Equal(Utc(2026, 12, 10, 21), schedule.NextStart(Utc(2026, 12, 7, 12)));
        Assert.Null(schedule.OpenAt(Utc(2026, 12, 10, 20, 59)));
        Assert.Equal((Utc(2026, 12, 10, 21), Utc(2026, 12, 11, 3)), schedule.OpenAt(Utc(2026, 12, 11, 0, 30)));
    }

    [Fact]
    public void No_target_starts_in_the_cutoff_and_the_next_start_is_next_months_window()
    {
        var schedule = PatchThursday();
        Assert.True(schedule.AllowsStart(Utc(2026, 12, 11, 1, 59)));
        Assert.False(schedule.AllowsStart(Utc(2026, 12, 11, 2, 0)), "the last hour of the window is its cutoff");
        Assert.NotNull(schedule.OpenAt(Utc(2026, 12, 11, 2, 30)));
        // January 2027: Tuesdays the 5th and 12th; Thursday the 14th.
        Assert.Equal(Utc(2027, 1, 14, 21), schedule.NextStart(Utc(2026, 12, 11, 2, 30)));
    }

    [Fact]
    public void Summer_time_keeps_the_local_hour()
    {
        // June 2026: Tuesdays the 2nd and 9th; Thursday the 11th, 22:00 CEST = 20:00 UTC.
        Assert.Equal(Utc(2026, 6, 11, 20), PatchThursday().NextStart(Utc(2026, 6, 1, 0)));
    }

    [Fact]
    public void Days_of_the_week_are_numbered_as_SSM_numbers_them()
    {
        // SSM: 1 = Sunday, so 3 is Tuesday.
        Assert.Equal(PatchThursday().NextStart(Utc(2026, 12, 1, 0)), PatchThursday("cron(0 22 ? * 3#2 *)").NextStart(Utc(2026, 12, 1, 0)));
        var weekdays = MaintenanceWindowSchedule.Parse(new WinEksMaintenanceWindow { Schedule = "cron(30 1 ? * 2-6 *)", Duration = 2 }, "w");
        // Saturday 2026-12-12 → Monday the 14th, 01:30 UTC.
        Assert.Equal(Utc(2026, 12, 14, 1, 30), weekdays.NextStart(Utc(2026, 12, 12, 12)));
    }

    [Theory]
    [InlineData("rate(7 days)", 4, 0, 0, null, "schedule", "write cron()")]
    [InlineData("cron(0 22 1 * TUE *)", 4, 0, 0, null, "schedule", "must be '?'")]
    [InlineData("cron(0 22 ? * TUE#2)", 4, 0, 0, null, "schedule", "is not cron(")]
    [InlineData("cron(0 22 ? * TUE#2 *)", 0, 0, 0, null, "duration", "1 to 24")]
    [InlineData("cron(0 22 ? * TUE#2 *)", 4, 4, 0, null, "cutoff", "less than the duration")]
    [InlineData("cron(0 22 ? * TUE#2 *)", 4, 0, 7, null, "scheduleOffset", "0 to 6")]
    [InlineData("cron(0 22 ? * TUE#2 *)", 4, 0, 0, "Mars/Olympus", "scheduleTimezone", "not a time zone")]
    public void A_malformed_window_is_FleetPlanInvalid_naming_the_field(string schedule, int duration, int cutoff, int offset, string? zone, string field, string expected)
    {
        var e = Assert.Throws<WinEksPatchException>(() => MaintenanceWindowSchedule.Parse(new WinEksMaintenanceWindow
        {
            Schedule = schedule,
            Duration = duration,
            Cutoff = cutoff,
            ScheduleOffset = offset,
            ScheduleTimezone = zone,
        }, "waves[1].maintenanceWindow"));
        Assert.Equal(ErrorIds.FleetPlanInvalid, e.ErrorId);
        Assert.StartsWith($"waves[1].maintenanceWindow.{field}:", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
