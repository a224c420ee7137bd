using WinEksPatch.Workflows.FastLaunch;
using Xunit;

namespace WinEksPatch.Tests.FastLaunch;

public sealed class FastLaunchPoolTests
{
    private static readonly DateTimeOffset Enabled = new(2026, 12, 7, 20, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Round = TimeSpan.FromMinutes(25);

    [Fact]
    public void EC2_makes_the_target_in_rounds_of_its_parallel_launches()
    {
        var pool = new FastLaunchPool(target: 10, maxParallelLaunches: 6, Enabled, Round);
        Assert.Equal(0, pool.OnHand(Enabled.AddMinutes(24)));
        Assert.Equal(6, pool.OnHand(Enabled.AddMinutes(25)));
        Assert.Equal(6, pool.OnHand(Enabled.AddMinutes(49)));
        Assert.Equal(10, pool.OnHand(Enabled.AddMinutes(50)));
        Assert.Equal(10, pool.OnHand(Enabled.AddHours(9)));
        Assert.Null(pool.NextReady(Enabled.AddHours(9))); // full: nothing in the making
        Assert.Equal(Enabled.AddMinutes(50), pool.NextReady(Enabled.AddMinutes(30)));
    }

    [Fact]
    public void A_launch_takes_one_and_EC2_makes_its_replacement_one_round_later()
    {
        var pool = new FastLaunchPool(5, 6, Enabled, Round);
        var full = Enabled.AddHours(1);
        Assert.Equal(3, pool.Take(full, 3));
        Assert.Equal(2, pool.OnHand(full));
        Assert.Equal(2, pool.Take(full.AddMinutes(1), 4)); // only two left: the other two launches find none
        Assert.Equal(0, pool.OnHand(full.AddMinutes(1)));
        Assert.Equal(full.AddMinutes(25), pool.NextReady(full.AddMinutes(1)));
        Assert.Equal(3, pool.OnHand(full.AddMinutes(25)));
        Assert.Equal(5, pool.OnHand(full.AddMinutes(26)));
    }

    [Fact]
    public void Replenishing_is_bounded_by_the_parallel_launches()
    {
        var pool = new FastLaunchPool(12, 6, Enabled, Round);
        var full = Enabled.AddHours(2);
        Assert.Equal(12, pool.Take(full, 12));
        Assert.Equal(6, pool.OnHand(full + Round));      // six at a time
        Assert.Equal(12, pool.OnHand(full + Round * 2));
    }

    [Fact]
    public void ReadyAt_is_when_that_many_are_on_hand_at_once()
    {
        var pool = new FastLaunchPool(20, 6, Enabled, Round);
        Assert.Equal(Enabled.AddMinutes(75), pool.ReadyAt(14, Enabled));  // 6, 12, 18
        Assert.Equal(Enabled.AddMinutes(100), pool.ReadyAt(99, Enabled)); // never beyond the target (20)
        Assert.Equal(Enabled.AddHours(5), pool.ReadyAt(3, Enabled.AddHours(5)));
    }

    [Fact]
    public void Without_a_state_time_the_pool_counts_as_full_and_each_launch_comes_back_a_round_later()
    {
        var pool = new FastLaunchPool(4, 6, since: null, Round);
        var now = Enabled;
        Assert.Equal(4, pool.OnHand(now));
        Assert.Equal(4, pool.Take(now, 9));
        Assert.Equal(0, pool.OnHand(now.AddMinutes(1)));
        Assert.Equal(now + Round, pool.NextReady(now.AddMinutes(1)));
        Assert.Equal(4, pool.OnHand(now + Round));
    }

    [Fact]
    public void Without_a_state_time_replenishing_is_bounded_by_the_parallel_launches_too()
    {
        var pool = new FastLaunchPool(12, 6, since: null, Round);
        Assert.Equal(12, pool.Take(Enabled, 12));
        Assert.Equal(6, pool.OnHand(Enabled + Round));
        Assert.Equal(12, pool.OnHand(Enabled + Round * 2));
    }
}
