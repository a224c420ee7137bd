using System.Globalization;
using System.Text.RegularExpressions;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>
/// Reads how a new node came into service (<see cref="NodeBoot"/>) from what the APIs keep: EC2's launch time, the
/// console output's EC2Launch v2 "Windows is Ready to use" line, the node's creation and Ready condition, the rollout's
/// watch for its pod IPs, and the first workload pod's container start. One call per node (GetConsoleOutput), and one
/// pod list for the whole rollout at its end (the pods evicted from the old nodes land on the new ones as the rollout
/// goes on). A boot that cannot be read in full is reported with what could be: never a reason to fail a rollout.
/// </summary>
internal sealed partial class BootReader(IEc2Api ec2, IKubernetesApi kubernetes, NodeTracker tracker, IReadOnlyCollection<string> requiredResources, IWorkflowHost host)
{
    private int _consoleRefusals;
    private int _podRefusals;

    /// <summary>EC2Launch v2's line, e.g. "2026/12/07 21:03:12Z: Message: Windows is Ready to use" (EC2Launch v1 writes
    /// "Message: Windows is Ready to use" after its own stamp too).</summary>
    [GeneratedRegex(@"^(?<at>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})Z: (?:Message: )?Windows is Ready to use", RegexOptions.Multiline)]
    private static partial Regex ReadyLine();

    private readonly List<NodeReplacementResult> _waitingForFirstPod = [];

    /// <summary>The boot of <paramref name="node"/>, the new node of <paramref name="result"/>, which gets it; its first
    /// workload pod is read when the rollout ends (<see cref="CompleteAsync"/>).</summary>
    public async Task<NodeReplacementResult> ReadAsync(NodeReplacementResult result, KubeNode node, Ec2Instance? instance, CancellationToken cancellationToken)
    {
        result.Boot = new NodeBoot
        {
            LaunchedAt = instance?.LaunchTime,
            OsReadyAt = node.InstanceId is { } id ? await OsReadyAsync(id, cancellationToken).ConfigureAwait(false) : null,
            RegisteredAt = node.CreatedAt,
            ReadyAt = node.Ready ? node.ReadySince : null,
            UsableAt = tracker.UsableSince(node, requiredResources),
        };
        lock (_waitingForFirstPod)
        {
            _waitingForFirstPod.Add(result);
        }

        return result;
    }

    /// <summary>At the end of the rollout (or when it fails): the first workload pod of each new node, from one list of the
    /// cluster's running pods. The results already written get it too (they are the same objects, so output formatted as it
    /// streamed shows none yet; the report and the objects kept show it).</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        List<NodeReplacementResult> waiting;
        lock (_waitingForFirstPod)
        {
            waiting = [.. _waitingForFirstPod.Where(r => r.Boot != null && r.NewNodeName != null)];
            _waitingForFirstPod.Clear();
        }

        if (waiting.Count == 0 || await FirstPodsRunningAsync(cancellationToken).ConfigureAwait(false) is not { } firstPods)
        {
            return;
        }

        foreach (var result in waiting)
        {
            result.Boot = result.Boot! with { FirstPodRunningAt = firstPods.TryGetValue(result.NewNodeName!, out var first) ? first : null };
        }
    }

    /// <summary>The time of the last "Windows is Ready to use" line (a reboot writes another), or null.</summary>
    internal static DateTimeOffset? ParseOsReady(string? console) =>
        console is null ? null
        : ReadyLine().Matches(console).LastOrDefault() is { } match
            && DateTimeOffset.TryParseExact(match.Groups["at"].Value, "yyyy/MM/dd HH:mm:ss", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at : null;

    private async Task<DateTimeOffset?> OsReadyAsync(string instanceId, CancellationToken cancellationToken)
    {
        try
        {
            return ParseOsReady(await ec2.GetConsoleOutputAsync(instanceId, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Without ec2:GetConsoleOutput (an older policy), or throttled: the boot is read without its OS phase; said once.
            Unread("Windows boot time", "GetConsoleOutput", ex);
            return null;
        }
    }

    /// <summary>When the first workload pod (not a DaemonSet's, not a mirror pod) started running on each node, or null
    /// when the pods could not be listed.</summary>
    private async Task<Dictionary<string, DateTimeOffset>?> FirstPodsRunningAsync(CancellationToken cancellationToken)
    {
        try
        {
            var pods = await kubernetes.ListPodsAsync(fieldSelector: "status.phase=Running", cancellationToken: cancellationToken).ConfigureAwait(false);
            return pods.Where(p => p.NodeName != null && p.OwnerKind != "DaemonSet" && !p.IsMirror && p.RunningSince != null)
                .GroupBy(p => p.NodeName!, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Min(p => p.RunningSince!.Value), StringComparer.Ordinal);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Unread("first workload pod", "the pod list", ex);
            return null;
        }
    }

    /// <summary>Reading a boot is never a reason to fail a rollout (its node is already replaced): a part that cannot be read
    /// is left out, with one warning per part.</summary>
    private void Unread(string what, string call, Exception ex)
    {
        var first = call == "GetConsoleOutput" ? Interlocked.Increment(ref _consoleRefusals) == 1 : Interlocked.Increment(ref _podRefusals) == 1;
        if (first)
        {
            host.Warning($"The new nodes' {what} is not known: {call} failed ({UnexpectedFailure.From(ex).Message}). Their boot phases are reported without it.");
        }
    }
}
