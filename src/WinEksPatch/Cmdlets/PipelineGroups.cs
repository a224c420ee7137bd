namespace WinEksPatch.Commands;

/// <summary>What a pipeline brought to a cmdlet that works a cluster at a time: per cluster (in the order first seen) the
/// node groups piped for it, or every group when any input named the cluster without groups.</summary>
internal sealed class PipelineGroups
{
    private readonly Dictionary<string, List<string>?> _groups = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    public IReadOnlyList<string> Clusters => _order;

    public void Add(string cluster, IEnumerable<string>? groups)
    {
        if (!_groups.TryGetValue(cluster, out var known))
        {
            _order.Add(cluster);
            _groups[cluster] = groups?.ToList();
            return;
        }

        if (known != null)
        {
            _groups[cluster] = groups == null ? null : [.. known, .. groups.Where(g => !known.Contains(g, StringComparer.Ordinal))];
        }
    }

    /// <summary>The groups of <paramref name="cluster"/>; empty means all of its Windows groups.</summary>
    public IReadOnlyList<string> GroupsOf(string cluster) => _groups[cluster] ?? [];
}
