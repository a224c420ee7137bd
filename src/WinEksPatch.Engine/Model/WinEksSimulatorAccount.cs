namespace WinEksPatch.Model;

/// <summary>One account of a simulator's scenario in one of its regions: what <c>-ProfileName</c> and <c>-Region</c>
/// name to reach it while the session is pointed at the simulator (<c>WinEksSimulator.Accounts</c>).</summary>
public sealed class WinEksSimulatorAccount
{
    public required string AccountId { get; init; }

    /// <summary>The account's profile: in the simulator's config file (<c>ConfigFile</c>), and what -ProfileName takes.</summary>
    public required string ProfileName { get; init; }

    public required string Region { get; init; }

    /// <summary>The account's clusters in this region.</summary>
    public IReadOnlyList<string> Clusters { get; init => field = ItemList.From(value); } = new ItemList<string>();

    public override string ToString() => $"{ProfileName} ({AccountId}) {Region}";
}
