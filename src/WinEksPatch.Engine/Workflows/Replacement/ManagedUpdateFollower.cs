using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>
/// Managed node groups: EKS replaces the nodes itself (surge, taint, drain with its fixed 15-minute limit, terminate).
/// This starts the update when none is running (to the launch template version Set-NodeGroupAmi made, or to the latest
/// EKS release for an EKS AMI type), follows the one in progress otherwise, streams a result per node as old nodes leave
/// and new ones become Ready (from the node watch), and while EKS's drain stalls names the pods and budgets that block it,
/// instead of leaving the user with PodEvictionFailure.
/// </summary>
public sealed class ManagedUpdateFollower(IEksApi eks, TimeProvider time)
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(30);

    public async Task<IReadOnlyList<NodeReplacementResult>> RunAsync(ClusterSnapshot snapshot, NodeGroupFacts group, IKubernetesApi kubernetes,
        ReplacementOptions options, IWorkflowHost host, CancellationToken cancellationToken)
    {
        var clusterName = snapshot.Cluster.Name;
        var updates = await eks.ListUpdatesAsync(clusterName, group.Name, cancellationToken).ConfigureAwait(false);
        EksUpdate? running = null;
        foreach (var id in updates.Take(5))
        {
            var update = await eks.DescribeUpdateAsync(clusterName, group.Name, id, cancellationToken).ConfigureAwait(false);
            if (update.Status == "InProgress")
            {
                running = update;
                break;
            }
        }

        if (running == null)
        {
            if (!await host.ShouldProcessAsync($"{clusterName}/{group.Name}", "Start an EKS managed node group update (EKS surges, drains and replaces the nodes)").ConfigureAwait(false))
            {
                return [];
            }

            var template = group.Managed?.AmiType == "CUSTOM" && group.LaunchTemplate != null ? group.LaunchTemplate : null;
            running = await eks.UpdateNodegroupVersionAsync(clusterName, group.Name, template, null, options.Force, cancellationToken).ConfigureAwait(false);
            host.Verbose($"{clusterName}/{group.Name}: EKS update {running.Id} started.");
        }
        else
        {
            host.Verbose($"{clusterName}/{group.Name}: following EKS update {running.Id} already in progress.");
        }

        var before = snapshot.WindowsNodes.Where(n => n.ManagedNodegroup == group.Name).ToDictionary(n => n.Name, StringComparer.Ordinal);
        var results = new List<NodeReplacementResult>();
        await using var tracker = new NodeTracker(kubernetes, time);
        await tracker.StartAsync(cancellationToken).ConfigureAwait(false);
        var started = time.GetUtcNow();
        var reportedBlockers = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
            var update = await eks.DescribeUpdateAsync(clusterName, group.Name, running.Id, cancellationToken).ConfigureAwait(false);
            var now = tracker.Nodes.Where(n => n.ManagedNodegroup == group.Name).ToList();
            foreach (var gone in before.Keys.Where(name => now.All(n => n.Name != name)).ToList())
            {
                var old = before[gone];
                before.Remove(gone);
                var fresh = now.Where(n => !snapshot.WindowsNodes.Any(o => o.Name == n.Name) && results.All(r => r.NewNodeName != n.Name)).OrderBy(n => n.CreatedAt).FirstOrDefault();
                var result = new NodeReplacementResult
                {
                    ClusterName = clusterName,
                    NodeGroupName = group.Name,
                    OldNodeName = old.Name,
                    OldInstanceId = old.InstanceId ?? "",
                    NewNodeName = fresh?.Name,
                    NewInstanceId = fresh?.InstanceId,
                    Result = ReplacementOutcome.Replaced,
                };
                results.Add(result);
                host.Output(result);
            }

            host.Progress(new ProgressUpdate(1, $"EKS update {running.Id} of {clusterName}/{group.Name}", update.Status ?? "?",
                before.Count + results.Count == 0 ? -1 : 100 * results.Count / (before.Count + results.Count)));
            if (update.Status != "InProgress")
            {
                host.Progress(new ProgressUpdate(1, $"EKS update {running.Id} of {clusterName}/{group.Name}", update.Status ?? "?", 100, Completed: true));
                if (update.Status == "Successful")
                {
                    return results;
                }

                var detail = string.Join("; ", update.Errors.Select(e => $"{e.ErrorCode}: {e.ErrorMessage}"));
                var blockers = await BlockersAsync(kubernetes, group.Name, tracker, cancellationToken).ConfigureAwait(false);
                throw new WinEksPatchException(ErrorIds.ManagedUpdateFailed, ErrorKind.InvalidOperation,
                    $"EKS update {running.Id} of {clusterName}/{group.Name} ended {update.Status}: {detail}." +
                    (blockers.Count > 0 ? $" What blocked the drain: {string.Join("; ", blockers)}." : ""), group.Name);
            }

            // A drain EKS cannot finish: say which pods and budgets hold it, once each, while it waits.
            if (time.GetUtcNow() - started > TimeSpan.FromMinutes(2))
            {
                foreach (var blocker in await BlockersAsync(kubernetes, group.Name, tracker, cancellationToken).ConfigureAwait(false))
                {
                    if (reportedBlockers.Add(blocker))
                    {
                        host.Warning($"EKS's drain of {group.Name} is held by {blocker} (EKS gives up after 15 minutes with PodEvictionFailure unless forced).");
                    }
                }
            }
        }
    }

    /// <summary>Pods still on the group's cordoned nodes that a PodDisruptionBudget allowing no disruption selects.</summary>
    private static async Task<IReadOnlyList<string>> BlockersAsync(IKubernetesApi kubernetes, string groupName, NodeTracker tracker, CancellationToken cancellationToken)
    {
        var cordoned = tracker.Nodes.Where(n => n.ManagedNodegroup == groupName && n.Unschedulable).Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        if (cordoned.Count == 0)
        {
            return [];
        }

        var budgets = (await kubernetes.ListPdbsAsync(cancellationToken).ConfigureAwait(false)).Where(b => b.DisruptionsAllowed == 0).ToList();
        var pods = await kubernetes.ListPodsAsync(fieldSelector: "status.phase=Running", cancellationToken: cancellationToken).ConfigureAwait(false);
        return pods.Where(p => p.NodeName != null && cordoned.Contains(p.NodeName))
            .SelectMany(p => budgets.Where(b => b.Selects(p)).Select(b => $"pod {Drainer.Key(p)} on {p.NodeName} (PodDisruptionBudget {b.Namespace}/{b.Name}: {b.CurrentHealthy} healthy, {b.DesiredHealthy} needed)"))
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
