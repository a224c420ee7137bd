using System.Management.Automation;
using WinEksPatch.Windows;
using WinEksPatch.Workflows;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Replaces the nodes of a Windows node group that do not run its target AMI, safely.</para>
/// <para type="description">Plans first: the old nodes (instances not on the AMI the group's launch template version
/// names) as numbered steps in the order the run takes them, the window (MaxSurge + MaxUnavailable nodes in progress at
/// once, sliding), the capacity floor (desired − MaxUnavailable usable nodes), and a pre-flight of what will shape
/// the rollout: PodDisruptionBudgets that allow no disruption now, single-replica workloads, pods without a controller
/// or with local storage, long grace periods, images the new AMI does not cache, plus an estimated duration from the
/// group's observed boot times. -WhatIf writes that plan and changes nothing; the run executes that same plan,
/// re-validated at every turn: a planned node that left the group before its turn is named in a warning and skipped, and
/// desired capacity lowered under the rollout by someone else stops it (RolloutPlanInvalidated). A group whose every
/// node already runs the AMI it launches has nothing to replace: a warning says so and names the next step
/// (Set-NodeGroupAmi, or Invoke-WinEksPatch for both), under -WhatIf too.</para>
/// <para type="description">Then, node by node within the window: surge (desired capacity up, max if needed), wait until the new nodes are
/// usable (Ready, schedulable, free of startup taints, and offering the extended resources the old nodes offer: on EKS
/// a Windows node takes no Windows pod until the VPC resource controller advertises its pod IPs as
/// vpc.amazonaws.com/PrivateIPv4Address, seconds after it turns Ready; plus -MinReadyTime if given), cordon the old nodes, drain
/// them like kubectl drain (evict, never delete; DaemonSet and mirror pods stay; 429s retried while the blocking pod and
/// PodDisruptionBudget are named in the progress bar and verbose stream; wait until evicted pods are gone), and terminate
/// them through the Auto Scaling group so desired capacity comes back down. AZRebalance, ScheduledActions and
/// AlarmNotification are suspended for the rollout and resumed after (only those it suspended); Capacity Rebalancing,
/// if on, is turned off for the rollout and back on after. Node and pod state come
/// from watches; nothing sleeps a fixed time.</para>
/// <para type="description">Like kubectl drain, a node running a pod that no controller recreates is not drained: the
/// rollout stops naming the pod (DrainRefused) unless -EvictUnreplicatedPods is given. Pods with emptyDir volumes are
/// evicted (scratch data, as EKS and Karpenter treat it) and named in the pre-flight. On -DrainTimeout the node is
/// uncordoned, the rollout stops and the error names the pods and budgets that blocked it; only with
/// -OverridePodDisruptionBudget are the pods still blocked deleted, and the result names them (ReplacedPodsDeleted,
/// PodsDeleted). -BlockedNodeAction Skip leaves a node that will not drain cordoned and labelled
/// winekspatch.io/drain-status=blocked (result DrainBlocked), replaces the others and ends with NodesLeftBlocked. -Force
/// skips the confirmation prompts and nothing else.</para>
/// <para type="description">One run per node group: the rollout takes a coordination.k8s.io/v1 Lease in kube-system
/// (winekspatch-&lt;group&gt;) before its first change and releases it at the end; a second run is refused with
/// NodeGroupBusy naming the holder, and -WhatIf warns that the group is busy. Before any change it also checks the target
/// AMI (AmiNotFound, AmiNotWindows), instances out of service (NodeGroupInstancesOutOfService), an instance refresh in
/// progress (InstanceRefreshInProgress), a warm pool holding instances of another AMI (WarmPoolInstancesOutdated), a
/// mixed instances policy override launching another AMI from a template of its own (LaunchTemplateOverrideNotOnTarget) and the rollout state tag of an interrupted run (RolloutStateInvalid,
/// RolloutStateMissing). The group's lifecycle hooks are named in the pre-flight: with a termination hook each drained
/// old instance waits in Terminating:Wait until the hook is completed or its heartbeat timeout runs out, and the command
/// returns once those instances are gone (waiting up to -ReadyTimeout plus the hook's heartbeat timeout). On a failure or Ctrl+C the node steps in flight are
/// cancelled and awaited, and the error (or a warning) says what state each touched node was left in.</para>
/// <para type="description">Each result's Boot says how its new node came into service, phase by phase: launch to
/// Windows ready to use (EC2Launch's line in GetConsoleOutput), bootstrap to the node registered, Ready, pod IPs
/// advertised, and its first workload pod running (read again when the rollout ends); the phases add up to
/// LaunchToUsable, and SlowestPhase names the longest.</para>
/// <para type="description">If new nodes do not become usable within -ReadyTimeout the rollout stops before draining
/// another node, the error quotes the group's scaling activities, and new instances that had their whole -ReadyTimeout
/// are terminated (so a re-run launches fresh ones). The rollout's state is kept in tags on the Auto Scaling group and its instances: after Ctrl+C, a crash or
/// a lost session, the same command continues where it was, launching nothing twice and terminating nothing that was not
/// drained. Writes one NodeReplacementResult per replaced node as soon as it is done.</para>
/// <para type="description">Managed node groups: EKS replaces the nodes itself, so this plans the update as EKS documents
/// it (surge, then maxUnavailable nodes of the group's update config at a time) with the same pre-flight, then starts
/// the EKS update when none is running (a CUSTOM group moves to its launch template's current version, the one
/// Set-NodeGroupAmi made; a group on an EKS AMI type moves to the latest EKS release), or follows the one in progress,
/// which is also how a stopped run picks up again. It writes a NodeReplacementResult per old node as the node watch
/// sees it leave (EKS pairs no new node with an old one, so NewInstanceId is empty and DrainDuration unknown), and when
/// no node has left for two minutes it warns which pods and PodDisruptionBudgets hold EKS's drain. If EKS gives up
/// (PodEvictionFailure after its fixed 15 minutes) the error names them. -OverridePodDisruptionBudget starts EKS's update
/// with force (EKS deletes the blocked pods after 15 minutes); -MaxSurge, -MaxUnavailable, -DrainTimeout, -ReadyTimeout and -MinReadyTime do not apply.</para>
/// </summary>
/// <example>
///   <code>Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -WhatIf</code>
///   <para>The plan and its pre-flight; nothing changes.</para>
/// </example>
/// <example>
///   <code>Get-WinNodeGroup -ClusterName demo -NodeGroupName demo-win-selfmanaged | Set-NodeGroupAmi -ImageId (Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks).ImageId -Force | Invoke-NodeReplacement -MaxSurge 2 -Confirm:$false</code>
///   <para>Points the group at the latest EKS-optimized AMI and replaces its nodes two at a time, never below its size.</para>
/// </example>
/// <example>
///   <code>Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 2 -DrainTimeout 00:20:00 -BlockedNodeAction Skip -Force | Format-Table OldNodeName, NewNodeName, Result, Blockers</code>
///   <para>Unattended: no prompts, budgets honoured; a node whose drain a budget still blocks after 20 minutes is left
///   cordoned (DrainBlocked) while the others are replaced, and the run ends with an error naming it.</para>
/// </example>
/// <example>
///   <code>$null = Start-WinEksSimulator -Scenario managed -TimeScale 600; Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks | Set-NodeGroupAmi -ClusterName prod -NodeGroupName win-custom -Force | Invoke-NodeReplacement -Force</code>
///   <para>A managed node group of AMI type CUSTOM: Set-NodeGroupAmi starts EKS's update with a new launch template
///   version, and Invoke-NodeReplacement follows it, writing a result as each old node leaves.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "NodeReplacement", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType("WinEksPatch.Model.NodeReplacementResult", "WinEksPatch.Model.NodeReplacementPlan")]
public sealed class InvokeNodeReplacementCommand : RolloutCmdlet
{
    /// <summary>The EKS cluster.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ClusterNameCompleter))]
    public string ClusterName { get; set; } = "";

    /// <summary>The node group: a self-managed one (Auto Scaling group) or an EKS managed node group.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.NodeGroupNameCompleter))]
    public string NodeGroupName { get; set; } = "";

    protected override void ProcessRecord()
    {
        var options = RolloutOptions();
        var replacement = Workflow(w => w.Replacement());
        RunWorkflow((host, token) => replacement.RunAsync(ClusterName, NodeGroupName, options, host, token), perInputObject: true);
    }
}
