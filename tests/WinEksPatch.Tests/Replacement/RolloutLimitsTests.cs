using WinEksPatch.Errors;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Tests.Replacement;

public sealed class RolloutLimitsTests
{
    [Theory]
    [InlineData("2", 10, 2, 2)]
    [InlineData("25%", 10, 3, 2)]     // surge rounds up, unavailable down, as Deployments do
    [InlineData("100%", 4, 4, 4)]     // all of them, said so
    [InlineData("0", 4, 0, 0)]
    public void Counts_and_percentages_resolve_against_the_groups_size(string value, int desired, int surge, int unavailable)
    {
        var limit = RolloutLimit.Parse(value, "MaxSurge");
        Assert.Equal(surge, RolloutLimits.Resolve(limit, desired, roundUp: true, "MaxSurge", "win-ng"));
        Assert.Equal(unavailable, RolloutLimits.Resolve(limit, desired, roundUp: false, "MaxUnavailable", "win-ng"));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("two")]
    [InlineData("1.5")]
    [InlineData("250%")]
    [InlineData("%")]
    public void Values_that_are_no_limit_are_refused_at_the_boundary(string value)
    {
        var error = Assert.Throws<WinEksPatchException>(() => RolloutLimit.Parse(value, "MaxSurge"));
        Assert.Equal(ErrorIds.InvalidRolloutLimit, error.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.StartsWith("-MaxSurge: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_count_above_the_groups_size_is_refused_with_the_size_and_the_percentage_that_means_all()
    {
        var error = Assert.Throws<WinEksPatchException>(() =>
            RolloutLimits.Resolve(RolloutLimit.Parse("1", "MaxSurge"), RolloutLimit.Parse("10000", "MaxUnavailable"), 4, "win-ng"));
        Assert.Equal(ErrorIds.InvalidRolloutLimit, error.ErrorId);
        Assert.Equal("-MaxUnavailable 10000 is more than the 4 node(s) of win-ng: give at most 4, or a percentage (100% means all of them).", error.Message);
        Assert.Equal((1, 4), RolloutLimits.Resolve(RolloutLimit.Parse("1", "MaxSurge"), RolloutLimit.Parse("4", "MaxUnavailable"), 4, "win-ng"));
    }

    [Fact]
    public void Limits_that_can_never_make_progress_are_refused()
    {
        var error = Assert.Throws<WinEksPatchException>(() =>
            RolloutLimits.Resolve(RolloutLimit.Parse("0", "MaxSurge"), RolloutLimit.Parse("10%", "MaxUnavailable"), 4, "win-ng"));
        Assert.Equal(ErrorIds.RolloutCannotProgress, error.ErrorId);
    }
}
