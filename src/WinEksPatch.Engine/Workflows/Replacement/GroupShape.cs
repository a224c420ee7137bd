using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>
/// The Auto Scaling features of a self-managed group that shape a rollout or rule it out, read before its first change.
/// An instance refresh in progress refuses it: both would replace the same instances, each terminating what the other
/// counts on. Termination lifecycle hooks (the Node Termination Handler's, a Lambda's) hold each drained old instance
/// in Terminating:Wait until they are completed or their heartbeat timeout runs out: the run waits for that, naming the
/// hooks. Launch hooks hold new instances in Pending:Wait; their nodes count once usable, whatever the hook. A warm pool
/// must hold no instance of another AMI (a surge takes those first). Capacity Rebalancing is turned off for the rollout.
/// </summary>
internal sealed record GroupShape(IReadOnlyList<LifecycleHookInfo> Hooks, IReadOnlyList<AutoScalingGroupInstance> WarmPool)
{
    public static async Task<GroupShape> ReadAsync(IAutoScalingApi autoScaling, string groupName, CancellationToken cancellationToken)
    {
        var refreshes = await autoScaling.DescribeInstanceRefreshesAsync(groupName, cancellationToken).ConfigureAwait(false);
        if (refreshes.FirstOrDefault(r => r.IsActive) is { } refresh)
        {
            throw new WinEksPatchException(ErrorIds.InstanceRefreshInProgress, ErrorKind.ResourceBusy,
                $"{groupName}: instance refresh {refresh.InstanceRefreshId} is {refresh.Status}" +
                (refresh.StartTime is { } started ? $" (started {started:u}" + (refresh.PercentageComplete is { } done ? $", {done}% done)" : ")") : "") +
                ". It replaces the group's instances itself, and a rollout at the same time would terminate instances it counts on (and the other way round). " +
                "Nothing was changed. Wait for it to end, or cancel it (aws autoscaling cancel-instance-refresh), then run again.", groupName);
        }

        return new GroupShape(await autoScaling.DescribeLifecycleHooksAsync(groupName, cancellationToken).ConfigureAwait(false),
            await autoScaling.DescribeWarmPoolInstancesAsync(groupName, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// A warm pool's instances keep the AMI they were launched with, and a surge takes them before it launches anything:
    /// warm instances not on the target would come back as old nodes (each replaced again, the surge spent on them).
    /// Auto Scaling replaces warm instances only through an instance refresh or a new pool, so the group is refused.
    /// </summary>
    public void RequireWarmPoolOn(string target, IReadOnlyDictionary<string, Ec2Instance> instances, string groupName)
    {
        var outdated = WarmPool.Where(i => i.LifecycleState?.StartsWith("Warmed:Terminating", StringComparison.Ordinal) != true
                && instances.GetValueOrDefault(i.InstanceId)?.ImageId is { } ami && ami != target)
            .Select(i => $"{i.InstanceId} ({instances[i.InstanceId].ImageId}, {i.LifecycleState})")
            .ToList();
        if (outdated.Count > 0)
        {
            throw new WinEksPatchException(ErrorIds.WarmPoolInstancesOutdated, ErrorKind.InvalidOperation,
                $"{groupName}: its warm pool holds {outdated.Count} instance(s) launched from another AMI than {target}: {NodeReplacement.Summary(outdated)}. A surge takes warm " +
                "instances first, so they would join as old nodes. Nothing was changed. Replace them first (delete the pool with aws autoscaling delete-warm-pool " +
                "--force-delete and put it back, which refills it from the current launch template), then run again.", groupName);
        }
    }

    public IReadOnlyList<LifecycleHookInfo> TerminationHooks => Hooks.Where(h => h.Transition == LifecycleHookInfo.Terminating).ToList();

    /// <summary>The longest a terminated instance can wait on the termination hooks before it goes: the longest heartbeat timeout.</summary>
    public TimeSpan TerminationWait => TimeSpan.FromSeconds(TerminationHooks.Select(h => h.HeartbeatTimeoutSeconds).DefaultIfEmpty(0).Max());

    /// <summary>The longest a new instance can wait on the launch hooks: the longest heartbeat timeout.</summary>
    public TimeSpan LaunchWait => TimeSpan.FromSeconds(Hooks.Where(h => h.Transition == LifecycleHookInfo.Launching).Select(h => h.HeartbeatTimeoutSeconds).DefaultIfEmpty(0).Max());

    /// <summary>What the group's hooks and Capacity Rebalancing do to the rollout, for the plan's pre-flight.</summary>
    public IEnumerable<PreflightFinding> Findings(AutoScalingGroup group, RolloutState? state) =>
        (group.CapacityRebalance || state?.RebalancePaused == true
            ? [new PreflightFinding("CapacityRebalance", group.Name,
                "a rebalance recommendation would make Auto Scaling terminate an old Spot instance that nobody drained: Capacity Rebalancing is turned off " +
                "for the rollout and back on at its end (the state tag remembers it if the run stops)")]
            : Enumerable.Empty<PreflightFinding>())
        .Concat(HookFindings());

    private IEnumerable<PreflightFinding> HookFindings() => Hooks.Select(h => new PreflightFinding("LifecycleHook", h.Name,
        h.Transition == LifecycleHookInfo.Terminating
            ? $"each drained old instance waits in Terminating:Wait until the hook is completed, or up to {Seconds(h.HeartbeatTimeoutSeconds)} " +
                $"(then {h.DefaultResult ?? "ABANDON"}), before it goes: the end of the rollout waits for that"
            : $"each new instance waits in Pending:Wait until the hook is completed, or up to {Seconds(h.HeartbeatTimeoutSeconds)} " +
                $"(then {h.DefaultResult ?? "ABANDON"}{(h.DefaultResult == "CONTINUE" ? "" : ", which terminates it")}); its node counts once it is usable"));

    private static string Seconds(int seconds) => seconds >= 60 && seconds % 60 == 0 ? $"{seconds / 60} min" : $"{seconds} s";
}
