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
}
