namespace WinEksPatch.Model;

/// <summary>What Watch-WinNodeGroupHealth saw: the health gates of a cluster's Windows groups held for the whole watch
/// (Healthy), or the first that failed with its evidence.</summary>
public sealed class WinNodeGroupHealth
{
    public string ClusterName { get; init; } = "";

    public string Region { get; init; } = "";

    public IReadOnlyList<string> NodeGroupName { get; init; } = [];

    public bool Healthy { get; init; }

    /// <summary>NodesReady, PodsReady, Restarts, PendingPods or Alarms; null when healthy.</summary>
    public string? FailedGate { get; init; }

    public string? Evidence { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    /// <summary>The pods Pending for lack of a node at the first reading (their uids): what a later watch of the same
    /// cycle leaves out (-PendingBefore).</summary>
    public IReadOnlyList<string> PendingAtStart { get; init; } = [];

    public DateTimeOffset FinishedAt { get; init; }

    public override string ToString() => Healthy ? $"{ClusterName}: healthy" : $"{ClusterName}: {FailedGate} failed: {Evidence}";
}
