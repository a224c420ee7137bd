using WinEksPatch.Abstractions;
using WinEksPatch.Model;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>
/// Builds the plan of a rollout (which nodes, in what batches, the capacity floor) and its pre-flight: what in the
/// cluster will shape the rollout, named with what it will do to it, and an estimate of its duration from the group's
/// observed boot times.
/// </summary>
public static class ReplacementPlanner
{
    /// <summary>Assumed Windows boot-to-Ready time when the group shows none (EKS Windows nodes take about 10 minutes).</summary>
    public static readonly TimeSpan DefaultBoot = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Self-managed (<paramref name="managed"/> false): a sliding window of MaxSurge + MaxUnavailable old nodes, in
    /// <see cref="RolloutOrder"/>, each new start waiting for a node of the window to be done and the floor to hold.
    /// Managed (EKS's own update, as EKS documents it): <paramref name="surge"/> new nodes once up front, then <paramref name="unavailable"/> outdated nodes at a time, each cordoned, given 60 s and terminated.
    /// <paramref name="groupFindings"/>: what the group's Auto Scaling features do to the rollout (<see cref="GroupShape"/>).
    /// </summary>
    public static NodeReplacementPlan Plan(ClusterSnapshot snapshot, NodeGroupFacts group, string targetImageId, IReadOnlyList<Ec2Instance> oldInstances,
        int desired, int surge, int unavailable, IReadOnlyList<KubePdb> budgets, Ec2Image? targetImage, PatchCalendar calendar, bool resuming, DrainOverrides overrides,
        bool managed = false, IEnumerable<PreflightFinding>? groupFindings = null, FastLaunchPreflight? fastLaunch = null, bool paceToFastLaunch = false)
    {
        var window = Window(surge, unavailable, managed);
        var ordered = managed ? oldInstances.OrderBy(i => i.InstanceId, StringComparer.Ordinal).ToList()
            : RolloutOrder(oldInstances, snapshot.WindowsNodes).ToList();
        var notReady = snapshot.WindowsNodes.Where(n => !n.Ready && n.InstanceId != null).Select(n => n.InstanceId!).ToHashSet(StringComparer.Ordinal);
        var steps = ordered.Select((instance, k) => new ReplacementStep(k + 1, instance.InstanceId,
                snapshot.WindowsNodes.FirstOrDefault(n => n.InstanceId == instance.InstanceId)?.Name,
                managed ? "EKS picks the order; by instance id here"
                : instance.Tags.ContainsKey(RolloutState.InstanceTag) ? "its drain began in an earlier run: finished first"
                : notReady.Contains(instance.InstanceId) ? "NotReady: serves nothing, so it goes first"
                : $"oldest first (launched {instance.LaunchTime:yyyy-MM-dd})",
                k < window ? null : k + 1 - window))
            .ToList();
        var waves = (int)Math.Ceiling(steps.Count / (double)window);
        var oldNodes = snapshot.WindowsNodes.Where(n => oldInstances.Any(i => i.InstanceId == n.InstanceId)).ToList();
        var pods = oldNodes.SelectMany(n => snapshot.PodsByNode.GetValueOrDefault(n.Name) ?? []).ToList();
        var allPods = snapshot.PodsByNode.Values.SelectMany(p => p).ToList();

        var boot = ObservedBoot(snapshot, group) ?? DefaultBoot;
        var grace = TimeSpan.FromSeconds(pods.Select(p => p.TerminationGracePeriodSeconds ?? 30).DefaultIfEmpty(30).Max());
        var drainAndTerminate = grace + TimeSpan.FromMinutes(1) + TimeSpan.FromMinutes(2); // drain, settle (EKS: 60 s after the cordon), terminate
        // Windows of launches that find pre-provisioned snapshots boot faster; the rest the standard way.
        var fastWaves = managed || fastLaunch is null ? 0 : fastLaunch.Covered(steps.Count) / window;
        var fastBoot = boot * FastLaunchPreflight.BootFraction;
        // Pacing holds surge launches: with -MaxSurge 0 every launch brings the group back to its size, and goes at once.
        var paced = paceToFastLaunch && !managed && surge > 0;
        var pacedDuration = paced ? fastLaunch?.PacedDuration(steps.Count, window, boot, drainAndTerminate) : null;
        return new NodeReplacementPlan
        {
            ClusterName = snapshot.Cluster.Name,
            NodeGroupName = group.Name,
            Kind = group.Kind.ToString(),
            TargetImageId = targetImageId,
            DesiredSize = desired,
            MaxSurge = surge,
            MaxUnavailable = unavailable,
            CapacityFloor = desired - unavailable,
            Window = window,
            Steps = steps,
            Preflight = [.. Preflight(pods, allPods, budgets, targetImage, calendar, overrides, managed), .. groupFindings ?? [],
                .. fastLaunch is null || managed ? [] : new[] { fastLaunch.Finding(steps.Count, window, paced, unavailable, pacingWithoutSurge: paceToFastLaunch && surge == 0) }],
            EstimatedDuration = managed ? boot + drainAndTerminate * waves
                : pacedDuration ?? (fastBoot + drainAndTerminate) * fastWaves + (boot + drainAndTerminate) * (waves - fastWaves),
            PacedToFastLaunch = pacedDuration != null,
            FastLaunchSnapshots = managed || fastLaunch is not { IsOn: true } ? null : fastLaunch.EstimatedOnHand,
            Resuming = resuming,
        };
    }

    /// <summary>How many old nodes a rollout has in progress at once: MaxSurge + MaxUnavailable (at least one) for a
    /// self-managed group; EKS's maxUnavailable for a managed one.</summary>
    public static int Window(int surge, int unavailable, bool managed = false) => Math.Max(1, managed ? unavailable : surge + unavailable);

    /// <summary>The order a self-managed rollout takes old instances in (the plan shows it, the run follows it): a resumed
    /// rollout's nodes already being drained first, then NotReady ones (they serve nothing, so replacing them costs no
    /// capacity), then the oldest.</summary>
    internal static IOrderedEnumerable<Ec2Instance> RolloutOrder(IEnumerable<Ec2Instance> oldInstances, IEnumerable<KubeNode> nodes)
    {
        var notReady = nodes.Where(n => !n.Ready && n.InstanceId != null).Select(n => n.InstanceId!).ToHashSet(StringComparer.Ordinal);
        return oldInstances.OrderByDescending(i => i.Tags.ContainsKey(RolloutState.InstanceTag))
            .ThenByDescending(i => notReady.Contains(i.InstanceId))
            .ThenBy(i => i.LaunchTime);
    }

    /// <summary>The pre-flight finding of a pod under more than one budget (which no eviction can move).</summary>
    public const string MultipleBudgets = "MultiplePodDisruptionBudgets";

    internal static IReadOnlyList<PreflightFinding> Preflight(IReadOnlyList<KubePod> podsToMove, IReadOnlyList<KubePod> allPods, IReadOnlyList<KubePdb> budgets,
        Ec2Image? targetImage, PatchCalendar calendar, DrainOverrides overrides, bool managed)
    {
        var deleteBlocked = overrides.HasFlag(DrainOverrides.DeletePodsBlockedByBudget);
        var evictUnreplicated = overrides.HasFlag(DrainOverrides.EvictUnreplicatedPods);
        var findings = new List<PreflightFinding>();
        var (evictable, unreplicated) = Drainer.Filter(podsToMove);
        foreach (var budget in budgets.Where(b => b.DisruptionsAllowed == 0 && evictable.Any(b.Selects)))
        {
            var blocked = evictable.Where(budget.Selects).Select(Drainer.Key).ToList();
            var effect = !managed
                ? $"evicting {string.Join(", ", blocked)} waits until another replica is Ready elsewhere" +
                    (deleteBlocked ? "; -OverridePodDisruptionBudget deletes the pod(s) still blocked after -DrainTimeout" : ", and the rollout stops after -DrainTimeout")
                : deleteBlocked ? $"EKS's drain of {string.Join(", ", blocked)} waits 15 minutes, then the forced update (-OverridePodDisruptionBudget) deletes the pod(s)"
                : $"EKS's drain of {string.Join(", ", blocked)} waits until another replica is Ready elsewhere, and after 15 minutes the update fails with PodEvictionFailure";
            findings.Add(new PreflightFinding("PodDisruptionBudget", $"{budget.Namespace}/{budget.Name}",
                $"allows no disruption now ({budget.CurrentHealthy} healthy, {budget.DesiredHealthy} needed): {effect}"));
        }

        foreach (var pod in evictable)
        {
            var selecting = budgets.Where(b => b.Selects(pod)).Select(b => $"{b.Namespace}/{b.Name}").ToList();
            if (selecting.Count > 1)
            {
                findings.Add(new PreflightFinding(MultipleBudgets, Drainer.Key(pod),
                    $"is selected by {selecting.Count} PodDisruptionBudgets ({string.Join(", ", selecting)}) on {pod.NodeName}: the eviction API refuses to evict a pod " +
                    "under more than one budget, so " + (managed ? "EKS's drain of its node fails with PodEvictionFailure" : "its node cannot be drained")));
            }
        }

        foreach (var pod in unreplicated)
        {
            findings.Add(new PreflightFinding("NoController", Drainer.Key(pod),
                managed ? "no controller recreates it: EKS evicts it and it is gone for good"
                : evictUnreplicated ? "no controller recreates it: -EvictUnreplicatedPods evicts it and it is gone for good"
                : "no controller recreates it: the drain of its node stops and names it (move it, or pass -EvictUnreplicatedPods)"));
        }

        foreach (var pod in evictable.Where(p => p.HasLocalStorage))
        {
            findings.Add(new PreflightFinding("LocalStorage", Drainer.Key(pod), "uses emptyDir: it is evicted like any pod and its scratch data is lost (as EKS and Karpenter drain)"));
        }

        foreach (var pod in evictable.Where(p => p.TerminationGracePeriodSeconds > 300))
        {
            findings.Add(new PreflightFinding("LongGracePeriod", Drainer.Key(pod),
                $"may take up to {p(pod.TerminationGracePeriodSeconds!.Value)} to stop, which lengthens its node's drain"));
        }

        foreach (var owner in evictable.Where(p => p.OwnerKind != null).GroupBy(p => (p.Namespace, p.OwnerKind, p.OwnerName)))
        {
            var replicas = allPods.Count(p => p.Namespace == owner.Key.Namespace && p.OwnerKind == owner.Key.OwnerKind && p.OwnerName == owner.Key.OwnerName && p.IsActive);
            if (replicas == 1)
            {
                findings.Add(new PreflightFinding("SingleReplica", $"{owner.Key.Namespace}/{owner.Key.OwnerName}",
                    "has one replica: it is unavailable from its eviction until its new pod is Ready on another node"));
            }
        }

        var cached = AmiFacts.CachedImages(targetImage, AmiFacts.OsBuild(targetImage, calendar)).ToHashSet(StringComparer.Ordinal);
        foreach (var image in evictable.SelectMany(p => p.Containers.Select(c => c.Image)).Distinct(StringComparer.Ordinal).Where(i => !cached.Contains(i)).Order(StringComparer.Ordinal))
        {
            findings.Add(new PreflightFinding("ImageNotCached", image, "not cached in the target AMI: every new node pulls and extracts it before its pods start"));
        }

        return findings;

        static string p(long seconds) => TimeSpan.FromSeconds(seconds).TotalMinutes >= 1 ? $"{TimeSpan.FromSeconds(seconds).TotalMinutes:0.#} min" : $"{seconds} s";
    }

    /// <summary>Median time from instance launch to node registration in the group, plus a minute until Ready with its pod IPs.</summary>
    private static TimeSpan? ObservedBoot(ClusterSnapshot snapshot, NodeGroupFacts group)
    {
        var samples = snapshot.WindowsNodes
            .Where(n => snapshot.GroupOf(n) == group.Name && n.InstanceId != null && n.CreatedAt != null)
            .Select(n => snapshot.Instances.GetValueOrDefault(n.InstanceId!)?.LaunchTime is { } launched ? n.CreatedAt!.Value - launched : (TimeSpan?)null)
            .OfType<TimeSpan>()
            .Where(t => t > TimeSpan.Zero && t < TimeSpan.FromHours(2))
            .Order()
            .ToList();
        return samples.Count == 0 ? null : samples[samples.Count / 2] + TimeSpan.FromMinutes(1);
    }
}
