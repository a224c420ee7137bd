using WinEksPatch.Workflows.FastLaunch;
using WinEksPatch.Workflows.Replacement;
using Xunit;

namespace WinEksPatch.Tests.Replacement;

public sealed class FastLaunchPreflightTests
{
    private static readonly DateTimeOffset Enabled = new(2026, 12, 7, 20, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(10, 0)]     // enabled just now: nothing made yet
    [InlineData(30, 6)]     // one round of six
    [InlineData(60, 12)]    // two rounds
    [InlineData(600, 20)]   // never beyond the target
    public void The_snapshots_on_hand_are_the_rounds_EC2_can_have_finished_since_it_was_enabled_up_to_the_target(int minutes, int expected)
    {
        var preflight = new FastLaunchPreflight("ami-0123456789abcdef0", "enabled", 20, 6, Enabled) { Now = Enabled.AddMinutes(minutes) };
        Assert.Equal(expected, preflight.EstimatedOnHand);
        Assert.Equal(Math.Min(4, expected), preflight.Covered(4));
    }

    [Fact]
    public void A_configuration_that_is_not_enabled_covers_no_launch_and_says_so()
    {
        var preflight = new FastLaunchPreflight("ami-0123456789abcdef0", "enabling", 20, 6, Enabled) { Now = Enabled.AddHours(5) };
        Assert.Equal(0, preflight.Covered(10));
        Assert.Contains("new nodes boot the standard way", preflight.Finding(10, 2).Effect, StringComparison.Ordinal);
    }

    [Fact]
    public void The_finding_names_the_launches_beyond_the_snapshots_on_hand()
    {
        var finding = new FastLaunchPreflight("ami-0123456789abcdef0", "enabled", 20, 6, Enabled) { Now = Enabled.AddMinutes(30) }.Finding(10, 2);
        Assert.Contains("up to 20 pre-provisioned snapshot(s) on hand, about 6 by now", finding.Effect, StringComparison.Ordinal);
        Assert.Contains("launches beyond those on hand boot the standard way", finding.Effect, StringComparison.Ordinal);
    }

    [Fact]
    public void Paced_launches_wait_for_the_snapshots_and_boot_from_them_so_the_estimate_counts_the_wait()
    {
        var boot = TimeSpan.FromMinutes(6);
        var drain = TimeSpan.FromMinutes(3);
        // Five snapshots on hand (an hour after enabling), six made at a time, ten launches two at a time.
        var preflight = new FastLaunchPreflight("ami-0123456789abcdef0", "enabled", 5, 6, Enabled) { Now = Enabled.AddHours(1) };
        var paced = preflight.PacedDuration(10, 2, boot, drain);
        var perWindow = boot * FastLaunchPreflight.BootFraction + drain;
        Assert.NotNull(paced);
        // Windows 1 and 2 take four of the five at once; window 3 takes the fifth and waits for one more (25 min after the
        // first launches); the rest come as EC2 replenishes: never shorter than five windows back to back, and longer by a wait.
        Assert.True(paced > perWindow * 5, $"{paced} should include a wait for snapshots beyond {perWindow * 5}");
        Assert.True(paced < perWindow * 5 + FastLaunchPool.RoundAtMost * 2, $"{paced}");

        // Everything on hand: no wait at all.
        var plenty = new FastLaunchPreflight("ami-0123456789abcdef0", "enabled", 20, 6, Enabled) { Now = Enabled.AddHours(3) };
        Assert.Equal(perWindow * 5, plenty.PacedDuration(10, 2, boot, drain));

        // Not enabled: nothing to pace against.
        Assert.Null(new FastLaunchPreflight("ami-0123456789abcdef0", "enabling", 20, 6, Enabled).PacedDuration(10, 2, boot, drain));
        Assert.Contains("-PaceToFastLaunch has nothing to pace against", new FastLaunchPreflight("ami-0123456789abcdef0", "enabling", 20, 6, Enabled)
            .Finding(10, 2, paced: true).Effect, StringComparison.Ordinal);
    }
}
