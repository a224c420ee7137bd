using System.Management.Automation;
using WinEksPatch.Errors;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Commands;

/// <summary>
/// The parameters of a rollout, shared by Invoke-NodeReplacement and Invoke-WinEksPatch, parsed and checked here before
/// anything is read or changed. -Force skips prompts and nothing else; each safety rule a drain may override has a
/// switch of its own that says so.
/// </summary>
public abstract class RolloutCmdlet : FleetCmdlet
{
    /// <summary>Nodes that may be unavailable at once, as a count or a percentage of the group's desired size (default 0).
    /// A count above the group's size is refused; 100% means all of its nodes.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidateRolloutLimit]
    public string MaxUnavailable { get; set; } = "0";

    /// <summary>Extra nodes launched above the desired size during the rollout, as a count or a percentage (default 1).
    /// A count above the group's size is refused.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidateRolloutLimit]
    public string MaxSurge { get; set; } = "1";

    /// <summary>How long one node's drain may take (default 30 minutes). Then the node is uncordoned and the rollout
    /// stops naming the pods and budgets that blocked it (or, with -OverridePodDisruptionBudget, the pods still blocked are
    /// deleted). Must be positive.</summary>
    [Parameter]
    [ValidateTimeout]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long new Windows nodes may take to become usable (boot, bootstrap, Ready, pod IPs). Default 40
    /// minutes. Must be positive.</summary>
    [Parameter]
    [ValidateTimeout]
    public TimeSpan ReadyTimeout { get; set; } = TimeSpan.FromMinutes(40);

    /// <summary>How long a new node must have stayed Ready before it counts, on top of its own signals (Ready, pod IPs
    /// advertised). Default 0; set it when the group's user data restarts a node after it joined the cluster.</summary>
    [Parameter]
    [ValidateTimeout(AllowZero = true)]
    public TimeSpan MinReadyTime { get; set; } = TimeSpan.Zero;

    /// <summary>Overrides PodDisruptionBudgets: pods that a budget still blocks after -DrainTimeout are deleted instead of
    /// evicted (like kubectl drain --disable-eviction), and named in the result and report (PodsDeleted, Result
    /// ReplacedPodsDeleted). For a managed node group, EKS's update is started with force. Without it a blocked drain
    /// stops the rollout and nothing is deleted. -Force does not imply it.</summary>
    [Parameter]
    public SwitchParameter OverridePodDisruptionBudget { get; set; }

    /// <summary>Evicts pods that no controller recreates (no ReplicaSet, StatefulSet, Job...): they are gone for good (like
    /// kubectl drain --force). Without it the drain of a node running such a pod stops and names it. -Force does not
    /// imply it.</summary>
    [Parameter]
    public SwitchParameter EvictUnreplicatedPods { get; set; }

    /// <summary>What to do with an old node whose drain cannot finish (a PodDisruptionBudget still blocks it at
    /// -DrainTimeout, a pod no controller recreates, a pod under two budgets). Stop (default): uncordon it and stop the
    /// rollout naming the blocker; a pod under two budgets, which is known before any change, refuses the rollout then
    /// (MultiplePodDisruptionBudgets). Skip: leave it cordoned and labelled winekspatch.io/drain-status=blocked with its
    /// replacement kept, replace the other nodes, and end with a NodesLeftBlocked error that names it; the same command
    /// run again once the blocker is resolved drains it first. Self-managed groups only.</summary>
    [Parameter]
    [ValidateSet("Stop", "Skip")]
    public string BlockedNodeAction { get; set; } = "Stop";

    /// <summary>Launch a surge node only when the target AMI's EC2 Fast Launch has a pre-provisioned snapshot for it, so that
    /// new nodes boot from one (about half the standard Windows boot) rather than the standard way. EC2 reports no ready
    /// count: the rollout estimates it from the time Fast Launch was enabled, its target and its parallel launches (at most
    /// 25 minutes a snapshot, plus a minute), takes one for each launch and holds the surge until the next is due; the
    /// plan's EstimatedDuration counts the wait and PacedToFastLaunch says it is on. The floor is unchanged: pacing only
    /// launches later. With -MaxUnavailable 0 (the default) every launch is a surge launch; above 0, a replacement that
    /// brings the group back to its size goes at once; with -MaxSurge 0 it holds nothing. Self-managed groups only; without
    /// Fast Launch on the AMI it holds nothing (the pre-flight says so).</summary>
    [Parameter]
    public SwitchParameter PaceToFastLaunch { get; set; }

    /// <summary>No confirmation prompts. Nothing else: it overrides no safety rule (see -OverridePodDisruptionBudget and
    /// -EvictUnreplicatedPods).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>The rollout request, every parameter checked: a bad limit or timeout is an InvalidArgument error before
    /// the first read.</summary>
    private protected ReplacementOptions RolloutOptions() => Guard(() =>
    {
        if (Force)
        {
            ConfirmPreferenceOverride();
        }

        // Timeouts and the shape of the limits were checked when PowerShell bound them (ValidateTimeout, ValidateRolloutLimit).
        return new ReplacementOptions
        {
            MaxSurge = RolloutLimit.Parse(MaxSurge, nameof(MaxSurge)),
            MaxUnavailable = RolloutLimit.Parse(MaxUnavailable, nameof(MaxUnavailable)),
            DrainTimeout = DrainTimeout,
            ReadyTimeout = ReadyTimeout,
            MinReadyTime = MinReadyTime,
            Overrides = (OverridePodDisruptionBudget ? DrainOverrides.DeletePodsBlockedByBudget : DrainOverrides.None)
                | (EvictUnreplicatedPods ? DrainOverrides.EvictUnreplicatedPods : DrainOverrides.None),
            BlockedNodeAction = BlockedNodeAction == "Skip" ? Workflows.Replacement.BlockedNodeAction.Skip : Workflows.Replacement.BlockedNodeAction.Stop,
            WhatIf = WhatIfGiven,
            PaceToFastLaunch = PaceToFastLaunch,
            LimitsGiven = new[] { nameof(MaxSurge), nameof(MaxUnavailable), nameof(DrainTimeout), nameof(ReadyTimeout), nameof(MinReadyTime), nameof(BlockedNodeAction),
                    nameof(PaceToFastLaunch) }
                .Any(MyInvocation.BoundParameters.ContainsKey),
        };
    });
}
