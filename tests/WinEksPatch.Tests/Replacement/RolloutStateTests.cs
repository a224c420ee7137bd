using WinEksPatch.Abstractions;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Tests.Replacement;

public sealed class RolloutStateTests
{
    private static AutoScalingGroup Group(int min, int max, int desired) =>
        new("win-ng", min, max, desired, null, false, [], new Dictionary<string, string>(), []);

    [Fact]
    public void The_state_round_trips_through_its_tag_with_the_run_that_wrote_it_and_reads_tags_written_before_run_ids()
    {
        var state = new RolloutState("ami-0123456789abcdef0", 4, 6, ["AZRebalance", "ScheduledActions"], "0123456789ab");
        var tag = state.Serialize();
        Assert.Equal("target=ami-0123456789abcdef0;desired=4;max=6;suspended=AZRebalance,ScheduledActions;run=0123456789ab", tag);
        Assert.True(tag.Length <= 256);
        var parsed = RolloutState.Parse(tag)!;
        Assert.Equal(state with { Suspended = parsed.Suspended }, parsed);
        Assert.Equal(state.Suspended, parsed.Suspended);

        var older = RolloutState.Parse("target=ami-0123456789abcdef0;desired=4;max=6;suspended=")!;
        Assert.Null(older.RunId);
        Assert.Empty(older.Suspended);
        Assert.Null(RolloutState.Parse("desired=four"));
    }

    [Fact]
    public void Capacity_Rebalancing_paused_by_the_rollout_is_remembered_in_the_tag_and_absent_from_tags_that_did_not_pause_it()
    {
        var state = new RolloutState("ami-0123456789abcdef0", 4, 6, ["AZRebalance"], "0123456789ab", RebalancePaused: true);
        var tag = state.Serialize();
        Assert.Equal("target=ami-0123456789abcdef0;desired=4;max=6;suspended=AZRebalance;rebalance=paused;run=0123456789ab", tag);
        Assert.True(RolloutState.Parse(tag)!.RebalancePaused);
        Assert.False(RolloutState.Parse("target=ami-0123456789abcdef0;desired=4;max=6;suspended=AZRebalance;run=0123456789ab")!.RebalancePaused);
        Assert.DoesNotContain("rebalance", (state with { RebalancePaused = false }).Serialize(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_state_that_fits_the_group_has_no_problems()
    {
        var state = new RolloutState("ami-1", 4, 6, ["AZRebalance"]);
        Assert.Empty(state.Problems(Group(min: 2, max: 8, desired: 5), NodeReplacement.ProcessesToSuspend)); // surged by one
    }

    [Fact]
    public void A_state_the_group_contradicts_is_refused_with_every_reason()
    {
        var state = new RolloutState("ami-1", 6, 5, ["AZRebalance", "Launch"]);
        var problems = state.Problems(Group(min: 7, max: 8, desired: 4), NodeReplacement.ProcessesToSuspend);
        Assert.Contains(problems, p => p.StartsWith("desired=6 is below the group's minimum size 7", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("desired=6 is above the group's desired capacity now (4)", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("max=5 is below desired=6", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("never suspends (Launch)", StringComparison.Ordinal));
    }

    [Fact]
    public void A_drain_tag_records_when_the_drain_began_and_a_tag_without_a_time_reads_as_unknown()
    {
        var began = new DateTimeOffset(2026, 12, 8, 3, 4, 5, TimeSpan.FromHours(1));

        var tag = RolloutState.DrainingSince(began);

        Assert.Equal("started 2026-12-08T02:04:05Z", tag);
        Assert.Equal(began, RolloutState.DrainStartedAt(tag));
        Assert.Null(RolloutState.DrainStartedAt(RolloutState.Draining));
        Assert.Null(RolloutState.DrainStartedAt(RolloutState.Drained));
        Assert.Null(RolloutState.DrainStartedAt("started yesterday"));
    }
}
