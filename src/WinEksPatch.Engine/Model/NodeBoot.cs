namespace WinEksPatch.Model;

/// <summary>
/// How one new node came into service, from its launch request to its first workload pod running, as the APIs record it:
/// EC2's launch time; EC2Launch v2's "Windows is Ready to use" line in the console output (GetConsoleOutput), which ends
/// Sysprep's specialize and OOBE phases, or a Fast Launch snapshot's short start; the node's creation (the kubelet
/// registered it); its Ready condition's last transition; its pod IPs advertised (first seen by the rollout's watch); the
/// earliest container start of a workload pod on it. A time the APIs do not give is null, and so are the phases next to it.
/// The phases are consecutive, so the known ones add up to <see cref="LaunchToUsable"/>.
/// </summary>
public sealed record NodeBoot
{
    public DateTimeOffset? LaunchedAt { get; init; }

    public DateTimeOffset? OsReadyAt { get; init; }

    public DateTimeOffset? RegisteredAt { get; init; }

    public DateTimeOffset? ReadyAt { get; init; }

    public DateTimeOffset? UsableAt { get; init; }

    public DateTimeOffset? FirstPodRunningAt { get; init; }

    /// <summary>Launch request → Windows ready to use: EC2 start, then Sysprep specialize and OOBE (or a Fast Launch restore).</summary>
    public TimeSpan? OsBoot => Between(LaunchedAt, OsReadyAt);

    /// <summary>Windows ready → node registered: the EKS bootstrap script starts the kubelet, which registers the node.</summary>
    public TimeSpan? Bootstrap => Between(OsReadyAt, RegisteredAt);

    /// <summary>Registered → Ready (the CNI and the kubelet's own checks).</summary>
    public TimeSpan? NodeReady => Between(RegisteredAt, ReadyAt);

    /// <summary>Ready → usable: the VPC resource controller advertises the node's pod IPs.</summary>
    public TimeSpan? PodIps => Between(ReadyAt, UsableAt);

    /// <summary>Usable → the first workload pod's container running (scheduling, image pull or cache, start).</summary>
    public TimeSpan? FirstPod => Between(UsableAt, FirstPodRunningAt);

    public TimeSpan? LaunchToUsable => Between(LaunchedAt, UsableAt);

    /// <summary>The phases by name, in order, with their durations (null where a time is unknown).</summary>
    public IReadOnlyList<KeyValuePair<string, TimeSpan?>> Phases =>
    [
        new(nameof(OsBoot), OsBoot), new(nameof(Bootstrap), Bootstrap), new(nameof(NodeReady), NodeReady), new(nameof(PodIps), PodIps),
        new(nameof(FirstPod), FirstPod),
    ];

    /// <summary>The longest known phase.</summary>
    public string? SlowestPhase => Phases.Where(p => p.Value != null).OrderByDescending(p => p.Value).Select(p => p.Key).FirstOrDefault();

    private static TimeSpan? Between(DateTimeOffset? from, DateTimeOffset? to) => from is { } a && to is { } b && b >= a ? b - a : null;

    public override string ToString() =>
        string.Join(", ", Phases.Where(p => p.Value != null).Select(p => $"{p.Key} {p.Value!.Value.TotalSeconds:N0}s"));
}

/// <summary>The boot phases of a group's new nodes summed up (in a <see cref="WinEksPatchGroupReport"/>): the mean of each
/// phase over the nodes that have it, and the slowest phase (the largest mean).</summary>
public sealed class NodeBootSummary
{
    public int Nodes { get; init; }

    public TimeSpan? OsBoot { get; init; }

    public TimeSpan? Bootstrap { get; init; }

    public TimeSpan? NodeReady { get; init; }

    public TimeSpan? PodIps { get; init; }

    public TimeSpan? FirstPod { get; init; }

    public TimeSpan? LaunchToUsable { get; init; }

    public string? SlowestPhase { get; init; }

    /// <summary>The summary of <paramref name="boots"/>; null when there are none.</summary>
    public static NodeBootSummary? Of(IReadOnlyCollection<NodeBoot> boots)
    {
        if (boots.Count == 0)
        {
            return null;
        }

        static TimeSpan? Mean(IEnumerable<TimeSpan?> values) =>
            values.Where(v => v != null).Select(v => v!.Value.Ticks).ToList() is { Count: > 0 } ticks ? TimeSpan.FromTicks((long)ticks.Average()) : null;
        var means = new Dictionary<string, TimeSpan?>(StringComparer.Ordinal)
        {
            [nameof(OsBoot)] = Mean(boots.Select(b => b.OsBoot)),
            [nameof(Bootstrap)] = Mean(boots.Select(b => b.Bootstrap)),
            [nameof(NodeReady)] = Mean(boots.Select(b => b.NodeReady)),
            [nameof(PodIps)] = Mean(boots.Select(b => b.PodIps)),
            [nameof(FirstPod)] = Mean(boots.Select(b => b.FirstPod)),
        };
        return new NodeBootSummary
        {
            Nodes = boots.Count,
            OsBoot = means[nameof(OsBoot)],
            Bootstrap = means[nameof(Bootstrap)],
            NodeReady = means[nameof(NodeReady)],
            PodIps = means[nameof(PodIps)],
            FirstPod = means[nameof(FirstPod)],
            LaunchToUsable = Mean(boots.Select(b => b.LaunchToUsable)),
            SlowestPhase = means.Where(m => m.Value != null).OrderByDescending(m => m.Value).Select(m => m.Key).FirstOrDefault(),
        };
    }

    public override string ToString() =>
        $"{Nodes} node(s): launch to usable {LaunchToUsable?.TotalSeconds:N0}s on average, slowest phase {SlowestPhase ?? "unknown"}";
}
