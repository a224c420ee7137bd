using Microsoft.Extensions.Time.Testing;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Tests.Infrastructure;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Tests.Replacement;

public sealed class RolloutLeaseTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 8, 3, 0, 0, TimeSpan.Zero);

    /// <summary>A holder on another machine, so that its process cannot be looked up from here.</summary>
    private static RolloutHolder Remote(string run, string host = "jumpbox-2") => new(host, "svc-patch", 4242, Start, run);

    /// <summary>A run contending from a third machine (on the holder's own host a dead process is taken over at once).</summary>
    private static RolloutHolder Contender(string run) => Remote(run, "jumpbox-3");

    [Fact]
    public async Task The_first_run_takes_the_lease_and_a_second_is_refused_naming_the_holder_and_when_it_expires()
    {
        var time = new FakeTimeProvider(Start);
        var store = new LeaseStore();
        await using var first = await RolloutLease.AcquireAsync(store, "prod", "win-ng", Remote("run1"), time, CancellationToken.None);

        Assert.Equal("winekspatch-win-ng", store.Current!.Name);
        Assert.Equal("kube-system", store.Current.Namespace);
        Assert.Equal("jumpbox-2_run1", store.Current.HolderIdentity);
        Assert.Equal("svc-patch", store.Current.Annotations["winekspatch.io/user"]);

        var busy = await Assert.ThrowsAsync<WinEksPatchException>(() =>
            RolloutLease.AcquireAsync(store, "prod", "win-ng", Contender("run2"), time, CancellationToken.None));
        Assert.Equal(ErrorIds.NodeGroupBusy, busy.ErrorId);
        Assert.Equal(ErrorKind.ResourceBusy, busy.Kind);
        Assert.Contains("svc-patch@jumpbox-2 (process 4242, run run1)", busy.Message, StringComparison.Ordinal);
        Assert.Contains("since 2026-12-08 03:00:00Z", busy.Message, StringComparison.Ordinal);
        Assert.Contains("expires at 2026-12-08 03:02:00Z", busy.Message, StringComparison.Ordinal);
        Assert.Equal("jumpbox-2_run1", store.Current.HolderIdentity);
    }

    [Fact]
    public async Task The_holder_renews_while_it_runs_and_releases_the_lease_when_done()
    {
        var time = new FakeTimeProvider(Start);
        var store = new LeaseStore();
        var lease = await RolloutLease.AcquireAsync(store, "prod", "win-ng", Remote("run1"), time, CancellationToken.None);

        // The fake clock moves in small steps: the renewal loop sets its next timer only after a renewal's write returns,
        // and a jump of a whole interval made before that would be lost (the timer would start after it). Each renewal
        // must come within one interval (plus one step) of the one before.
        for (var i = 1; i <= 10; i++)
        {
            var last = store.Current!.RenewTime;
            await AdvanceUntil(time, () => store.Current?.RenewTime > last);
            Assert.InRange(store.Current!.RenewTime!.Value - last!.Value, RolloutLease.RenewInterval, RolloutLease.RenewInterval + Step);
        }

        // Ten renewals later (5 minutes, far past the lease duration) the lease is still this run's and still valid.
        Assert.False(lease.Lost.IsCancellationRequested);
        await Assert.ThrowsAsync<WinEksPatchException>(() => RolloutLease.AcquireAsync(store, "prod", "win-ng", Contender("run2"), time, CancellationToken.None));

        await lease.DisposeAsync();
        Assert.Null(store.Current);
        await using var next = await RolloutLease.AcquireAsync(store, "prod", "win-ng", Contender("run2"), time, CancellationToken.None);
        Assert.Equal("jumpbox-3_run2", store.Current!.HolderIdentity);
    }

    [Fact]
    public async Task A_lease_not_renewed_for_its_duration_is_taken_over_by_the_next_run()
    {
        var time = new FakeTimeProvider(Start);
        var store = new LeaseStore();
        store.Put(new KubeLease("kube-system", "winekspatch-win-ng", "jumpbox-2_crashed", 120, Start, Start, 0, Remote("crashed").Annotations()));

        time.Advance(TimeSpan.FromSeconds(119));
        await Assert.ThrowsAsync<WinEksPatchException>(() => RolloutLease.AcquireAsync(store, "prod", "win-ng", Contender("run2"), time, CancellationToken.None));

        time.Advance(TimeSpan.FromSeconds(1));
        await using var taken = await RolloutLease.AcquireAsync(store, "prod", "win-ng", Contender("run2"), time, CancellationToken.None);
        Assert.Equal("jumpbox-3_run2", store.Current!.HolderIdentity);
        Assert.Equal(1, store.Current.LeaseTransitions);
    }

    [Fact]
    public async Task On_the_holders_own_host_a_lease_whose_process_is_gone_is_taken_over_at_once()
    {
        var time = new FakeTimeProvider(Start);
        var store = new LeaseStore();
        // This host, a process id that cannot be running (ids are below 2^22 on Linux, and Windows' are multiples of 4).
        var dead = new RolloutHolder(Environment.MachineName, Environment.UserName, int.MaxValue - 2, Start, "killed");
        store.Put(new KubeLease("kube-system", "winekspatch-win-ng", dead.Identity, 120, Start, Start, 0, dead.Annotations()));

        await using var taken = await RolloutLease.AcquireAsync(store, "prod", "win-ng", RolloutHolder.Current(), time, CancellationToken.None);
        Assert.StartsWith(Environment.MachineName + "_", store.Current!.HolderIdentity, StringComparison.Ordinal);

        // The live process of this test is not taken over.
        var busy = await Assert.ThrowsAsync<WinEksPatchException>(() =>
            RolloutLease.AcquireAsync(store, "prod", "win-ng", RolloutHolder.Current(), time, CancellationToken.None));
        Assert.Equal(ErrorIds.NodeGroupBusy, busy.ErrorId);
    }

    [Fact]
    public async Task A_run_whose_lease_was_taken_over_learns_it_at_its_next_renewal_and_does_not_release_the_new_holders_lease()
    {
        var time = new FakeTimeProvider(Start);
        var store = new LeaseStore();
        var lease = await RolloutLease.AcquireAsync(store, "prod", "win-ng", Remote("run1"), time, CancellationToken.None);

        // Another run took it over (as after this one failed to renew for a whole duration).
        store.Put(store.Current! with { HolderIdentity = "jumpbox-3_run9", Annotations = Remote("run9").Annotations() });
        time.Advance(RolloutLease.RenewInterval);
        await WaitUntil(() => lease.Lost.IsCancellationRequested);

        await lease.DisposeAsync();
        Assert.Equal("jumpbox-3_run9", store.Current!.HolderIdentity);
    }

    [Fact]
    public async Task A_renewal_the_server_applied_after_the_run_stopped_waiting_for_it_does_not_keep_the_lease_held()
    {
        var time = new FakeTimeProvider(Start);
        var store = new LeaseStore();
        var lease = await RolloutLease.AcquireAsync(store, "prod", "win-ng", Remote("run1"), time, CancellationToken.None);

        // A renewal cancelled in flight (Ctrl+C) that the API server applied anyway: the version the run knows is stale.
        store.Put(store.Current! with { RenewTime = Start + TimeSpan.FromSeconds(30) });
        await lease.DisposeAsync();

        Assert.Null(store.Current);
    }

    [Theory]
    [InlineData("win-ng", "winekspatch-win-ng")]
    [InlineData("Win_NG", "winekspatch-win-ng-")]
    [InlineData("eks-win-2022-abcd1234", "winekspatch-eks-win-2022-abcd1234")]
    public void Lease_names_are_dns_subdomains_and_changed_names_get_a_hash_so_they_never_collide(string group, string prefix)
    {
        var name = RolloutLease.NameFor(group);
        Assert.StartsWith(prefix, name, StringComparison.Ordinal);
        Assert.Matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", name);
        Assert.NotEqual(RolloutLease.NameFor("win-ng"), RolloutLease.NameFor("Win_NG"));
    }

    private static readonly TimeSpan Step = TimeSpan.FromSeconds(5);

    /// <summary>Moves the fake clock <see cref="Step"/> at a time, letting the lease's loop run in between, until the condition holds.</summary>
    private static async Task AdvanceUntil(FakeTimeProvider time, Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            time.Advance(Step);
            await Task.Delay(5);
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(5);
        }
    }

    /// <summary>One Lease with the API server's optimistic concurrency: every write must carry the current resourceVersion.</summary>
    private sealed class LeaseStore : KubernetesApiStub
    {
        private readonly object _sync = new();
        private long _version = 100;

        public KubeLease? Current { get; private set; }

        /// <summary>Someone else's write.</summary>
        public void Put(KubeLease lease)
        {
            lock (_sync)
            {
                Current = lease with { ResourceVersion = (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture) };
            }
        }

        public override Task<KubeLease?> GetLeaseAsync(string @namespace, string name, CancellationToken cancellationToken = default)
        {
            lock (_sync)
            {
                return Task.FromResult(Current?.Name == name && Current.Namespace == @namespace ? Current : null);
            }
        }

        public override Task<KubeLease?> CreateLeaseAsync(KubeLease lease, CancellationToken cancellationToken = default)
        {
            lock (_sync)
            {
                if (Current != null)
                {
                    return Task.FromResult<KubeLease?>(null);
                }

                Put(lease);
                return Task.FromResult<KubeLease?>(Current);
            }
        }

        public override Task<KubeLease?> ReplaceLeaseAsync(KubeLease lease, CancellationToken cancellationToken = default)
        {
            lock (_sync)
            {
                if (Current == null || lease.ResourceVersion != Current.ResourceVersion)
                {
                    return Task.FromResult<KubeLease?>(null);
                }

                Put(lease);
                return Task.FromResult<KubeLease?>(Current);
            }
        }

        public override Task<bool> DeleteLeaseAsync(string @namespace, string name, string resourceVersion, CancellationToken cancellationToken = default)
        {
            lock (_sync)
            {
                if (Current?.ResourceVersion != resourceVersion)
                {
                    return Task.FromResult(false);
                }

                Current = null;
                return Task.FromResult(true);
            }
        }
    }
}
