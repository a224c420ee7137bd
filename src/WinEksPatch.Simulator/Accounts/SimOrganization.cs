using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Accounts;

/// <summary>
/// Every account of a scenario and, per (account, region), its own <see cref="SimWorld"/>: clusters, instances, AMIs,
/// parameters and Image Builder resources of one account in one region, as AWS keeps them apart. A request reaches the
/// world of the account its access key belongs to, in the region it was signed for. A region the scenario does not name
/// is a world of its own too, made on first use with what every region has (the public AMI catalog and parameters) and
/// nothing of the account's, so it answers with the services' real not-found. All worlds share one clock.
/// </summary>
public sealed class SimOrganization
{
    private readonly Dictionary<(string Account, string Region), SimWorld> _worlds = [];
    private readonly List<SimWorld> _order = [];
    private readonly Func<SimAccount, string, SimWorld> _newRegion;

    /// <param name="accounts">The scenario's accounts in its order (the first is the primary account).</param>
    /// <param name="worlds">The worlds the scenario describes; the first is the primary world.</param>
    /// <param name="newRegion">Makes the world of a region the scenario does not name, for an account.</param>
    public SimOrganization(IReadOnlyList<SimAccount> accounts, IEnumerable<SimWorld> worlds, Func<SimAccount, string, SimWorld> newRegion)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        ArgumentNullException.ThrowIfNull(worlds);
        if (accounts.Count == 0)
        {
            throw new ArgumentException("An organization has at least one account.", nameof(accounts));
        }

        Accounts = accounts;
        _newRegion = newRegion;
        foreach (SimWorld world in worlds)
        {
            _worlds.Add((world.AccountId, world.Region), world);
            _order.Add(world);
        }

        Primary = _order.Count > 0 ? _order[0] : throw new ArgumentException("An organization has at least one world.", nameof(worlds));
    }

    public IReadOnlyList<SimAccount> Accounts { get; }

    /// <summary>The first account's first region: what the simulator's info names, the kubeconfig's first context, and
    /// the world of the admin path when a request does not name another.</summary>
    public SimWorld Primary { get; }

    public SimAccount PrimaryAccount => Accounts[0];

    /// <summary>Every world made so far, the scenario's first, in its order.</summary>
    public IReadOnlyList<SimWorld> Worlds
    {
        get
        {
            lock (_worlds)
            {
                return [.. _order];
            }
        }
    }

    public SimAccount? AccountByAccessKey(string accessKeyId) =>
        Accounts.FirstOrDefault(a => string.Equals(a.AccessKeyId, accessKeyId, StringComparison.Ordinal));

    public SimAccount? AccountById(string accountId) =>
        Accounts.FirstOrDefault(a => string.Equals(a.Id, accountId, StringComparison.Ordinal));

    /// <summary>The secret key of an access key id, or null when no account has it (SigV4 verification).</summary>
    public string? SecretFor(string accessKeyId) => AccountByAccessKey(accessKeyId)?.SecretAccessKey;

    public SimAccount AccountOf(SimWorld world) => AccountById(world.AccountId)
        ?? throw new InvalidOperationException($"The world {world.AccountId}/{world.Region} belongs to no account.");

    /// <summary>The world of an account in a region, made on first use for a region the scenario does not name.</summary>
    public SimWorld WorldOf(SimAccount account, string region)
    {
        ArgumentNullException.ThrowIfNull(account);
        lock (_worlds)
        {
            if (!_worlds.TryGetValue((account.Id, region), out SimWorld? world))
            {
                world = _newRegion(account, region);
                _worlds.Add((account.Id, region), world);
                _order.Add(world);
            }

            return world;
        }
    }

    /// <summary>The world of an account id in a region, or null when no account has that id.</summary>
    public SimWorld? Find(string accountId, string region) =>
        AccountById(accountId) is { } account ? WorldOf(account, region) : null;

    /// <summary>Stops every world's scheduler (the host is stopping).</summary>
    public void StopSchedulers()
    {
        foreach (SimWorld world in Worlds)
        {
            world.StopScheduler();
        }
    }
}
