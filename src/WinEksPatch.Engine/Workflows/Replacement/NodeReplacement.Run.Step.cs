using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;

namespace WinEksPatch.Workflows.Replacement;

// One old node's step of a rollout: cordon, drain, terminate (with or without decrement), and the new node that took its
// place, with how that node came into service.
public sealed partial class NodeReplacement
{
    private sealed partial class Run
    {
        /// <summary>Cordons, drains and (when drained) terminates one old node; the surge shrinks back only for the last ones.</summary>
        private async Task<NodeStep> ReplaceAndTerminateAsync(int batch, Ec2Instance instance, Drainer drainer, CancellationToken cancellationToken)
        {
            var step = await ReplaceAsync(batch, instance, drainer, cancellationToken).ConfigureAwait(false);
            if (step.Outcome is not (ReplacementOutcome.Replaced or ReplacementOutcome.ReplacedPodsDeleted))
            {
                return step;
            }

            await TerminateAsync(instance.InstanceId, drainedOld: true, cancellationToken).ConfigureAwait(false);
            Stage(instance.InstanceId, "terminated (drained first)");
            KubeNode? replacement;
            lock (_sync)
            {
                _terminated.Add(instance.InstanceId);
                _replaced++;
                replacement = PairNew();
            }

            var result = replacement is null ? step.Result : await WithReplacementAsync(step.Result, replacement, cancellationToken).ConfigureAwait(false);

            host.Output(result);
            host.Progress(new ProgressUpdate(step.ChildId, $"{instance.InstanceId} ({step.Result.OldNodeName})", "terminated", 100, ProgressRoot, Completed: true));
            return step;
        }

        /// <summary>
        /// Terminates an instance of the group, with decrement when that gives back a surge slot the rollout no longer
        /// needs: after a drained old instance (<paramref name="drainedOld"/>) the old ones left keep min(MaxSurge, left)
        /// slots; after a new one that never became usable, none. Never below the baseline, so the group does not shrink
        /// under its own size (without decrement Auto Scaling launches a replacement).
        /// </summary>
        private async Task TerminateAsync(string instanceId, bool drainedOld, CancellationToken cancellationToken)
        {
            await _capacityChange.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await TerminateUnderCapacityGateAsync(instanceId, drainedOld, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _capacityChange.Release();
            }
        }

        private async Task TerminateUnderCapacityGateAsync(string instanceId, bool drainedOld, CancellationToken cancellationToken)
        {
            bool decrement;
            lock (_sync)
            {
                if (drainedOld)
                {
                    _pendingOld.Remove(instanceId);
                }

                decrement = _desired > Baseline + (drainedOld ? Math.Min(plan.MaxSurge, _pendingOld.Count) : 0);
                // Without decrement Auto Scaling launches a replacement at once: paced, only with a snapshot for it; the loop
                // raises desired capacity again when the next one is due. Never below the baseline: a replacement that brings
                // the group back to its own size launches at once (with -MaxUnavailable above 0 some do; the plan says so).
                if (!decrement && drainedOld && _pacing != null && _pacing.Take(owner.Time.GetUtcNow(), 1) == 0)
                {
                    decrement = _desired > Baseline;
                }

                if (decrement)
                {
                    _desired--;
                }
            }

            await owner.AutoScaling.TerminateInstanceInAutoScalingGroupAsync(instanceId, decrement, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>The new node that took an old one's place: a node of the group on the target AMI not yet paired (nodes of
        /// other groups on the same AMI are learned too, to tell them apart), the one usable longest
        /// (first come, first paired: the capacity the drain waited for), else the newest (under _sync).</summary>
        private KubeNode? PairNew()
        {
            var unpaired = tracker.Nodes
                .Where(n => n.InstanceId != null && instances.TryGetValue(n.InstanceId, out var i) && i.ImageId == target
                    && i.Tags.GetValueOrDefault(GroupNameTag) == groupName && !_pairedNewInstances.Contains(n.InstanceId))
                .ToList();
            // Launched by this run first (a re-run's replacements may come from the run it continues: then the newest).
            var launchedNow = unpaired.Where(n => instances[n.InstanceId!].LaunchTime >= _started).ToList();
            var candidate = launchedNow.Select(n => (Node: n, Since: tracker.UsableSince(n, requiredResources))).Where(c => c.Since != null)
                    .OrderBy(c => c.Since).Select(c => c.Node).FirstOrDefault()
                ?? unpaired.OrderByDescending(n => instances[n.InstanceId!].LaunchTime).FirstOrDefault();
            if (candidate?.InstanceId != null)
            {
                _pairedNewInstances.Add(candidate.InstanceId);
            }

            return candidate?.InstanceId == null ? null : candidate;
        }

        /// <summary>The result with the new node named, and how it came into service. The step's result is not written
        /// before it is paired, so it is completed in place.</summary>
        private async Task<NodeReplacementResult> WithReplacementAsync(NodeReplacementResult result, KubeNode candidate, CancellationToken cancellationToken)
        {
            result.NewNodeName = candidate.Name;
            result.NewInstanceId = candidate.InstanceId;
            result.NewImageId = target;
            return await _boots.ReadAsync(result, candidate, instances.GetValueOrDefault(candidate.InstanceId!), cancellationToken).ConfigureAwait(false);
        }

        private sealed record NodeStep(NodeReplacementResult Result, ReplacementOutcome Outcome, int ChildId, WinEksPatchException? Error);

        private async Task<NodeStep> ReplaceAsync(int batch, Ec2Instance instance, Drainer drainer, CancellationToken cancellationToken)
        {
            var child = Interlocked.Increment(ref _child);
            var node = tracker.Nodes.FirstOrDefault(n => n.InstanceId == instance.InstanceId);
            var title = $"{instance.InstanceId} ({node?.Name ?? "no node"})";
            NodeReplacementResult Result(ReplacementOutcome outcome, DrainOutcome? drain) => new()
            {
                ClusterName = clusterName,
                NodeGroupName = nodeGroupName,
                Batch = batch,
                OldNodeName = node?.Name,
                OldInstanceId = instance.InstanceId,
                OldImageId = instance.ImageId,
                Outcome = outcome,
                PodsEvicted = drain?.Evicted ?? 0,
                PodsDeleted = drain?.Deleted ?? [],
                DrainDuration = drain?.Duration ?? TimeSpan.Zero,
                Blockers = drain?.Blockers ?? [],
            };

            if (!await host.ShouldProcessAsync(title, $"Cordon, drain and terminate (replaced by {target})").ConfigureAwait(false))
            {
                lock (_sync)
                {
                    _skipped.Add(instance.InstanceId);
                    _pendingOld.Remove(instance.InstanceId); // it stays: no surge slot is kept for it
                }

                return new NodeStep(Result(ReplacementOutcome.Skipped, null), ReplacementOutcome.Skipped, child, null);
            }

            if (node == null)
            {
                // An instance that never registered holds no pods: nothing to drain.
                await owner.Ec2.CreateTagsAsync([instance.InstanceId], new Dictionary<string, string> { [RolloutState.InstanceTag] = RolloutState.Drained }, cancellationToken).ConfigureAwait(false);
                return new NodeStep(Result(ReplacementOutcome.Replaced, null), ReplacementOutcome.Replaced, child, null);
            }

            host.Progress(new ProgressUpdate(child, title, "cordoning", 10, ProgressRoot));
            var drainTimeout = options.DrainTimeout;
            if (!instance.Tags.TryGetValue(RolloutState.InstanceTag, out var drainTag))
            {
                await owner.Ec2.CreateTagsAsync([instance.InstanceId], new Dictionary<string, string> { [RolloutState.InstanceTag] = RolloutState.DrainingSince(owner.Time.GetUtcNow()) },
                    cancellationToken).ConfigureAwait(false);
            }
            else if (RolloutState.DrainStartedAt(drainTag) is { } began && owner.Time.GetUtcNow() - began is var spent && spent < 2 * options.DrainTimeout)
            {
                // The drain began in an earlier run that was cut short (the runbook's previous round, Ctrl+C): it keeps the
                // deadline it had then. A drain abandoned longer ago than that (a re-run days later) starts afresh, and a
                // start time in the future (a clock or a tag that is wrong) counts as now.
                spent = spent < TimeSpan.Zero ? TimeSpan.Zero : spent;
                drainTimeout = spent >= options.DrainTimeout ? TimeSpan.Zero : options.DrainTimeout - spent;
                host.Verbose($"{node.Name}: its drain began at {began:u} in an earlier run; {drainTimeout:hh\\:mm\\:ss} of the drain timeout ({options.DrainTimeout}) is left.");
            }

            await kubernetes.SetUnschedulableAsync(node.Name, true, cancellationToken).ConfigureAwait(false);
            Stage(instance.InstanceId, $"({node.Name}) cordoned, not fully drained (its drain tag makes a re-run finish it first)");
            host.Progress(new ProgressUpdate(child, title, "draining", 30, ProgressRoot));
            DrainOutcome drain;
            try
            {
                drain = await drainer.DrainAsync(node.Name, drainTimeout, options.Overrides, message =>
                {
                    host.Verbose($"{node.Name}: {message}");
                    host.Progress(new ProgressUpdate(child, title, "draining", 50, ProgressRoot, CurrentOperation: message));
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (WinEksPatchException ex) when (options.BlockedNodeAction == BlockedNodeAction.Skip
                && ex.ErrorId is ErrorIds.DrainRefused or ErrorIds.MultiplePodDisruptionBudgets)
            {
                return await LeaveBlockedAsync(instance, node, ex.Message, Result(ReplacementOutcome.DrainBlocked, null), child, title, cancellationToken).ConfigureAwait(false);
            }
            catch (WinEksPatchException ex)
            {
                await kubernetes.SetUnschedulableAsync(node.Name, false, cancellationToken).ConfigureAwait(false);
                Stage(instance.InstanceId, $"({node.Name}) uncordoned and kept (its drain failed)");
                host.Progress(new ProgressUpdate(child, title, "failed", 100, ProgressRoot, Completed: true));
                return new NodeStep(Result(ReplacementOutcome.Failed, null), ReplacementOutcome.Failed, child, ex);
            }

            if (!drain.Completed && options.BlockedNodeAction == BlockedNodeAction.Skip)
            {
                return await LeaveBlockedAsync(instance, node, $"its drain did not finish within {options.DrainTimeout}: blocked by {string.Join("; ", drain.Blockers)}",
                    Result(ReplacementOutcome.DrainBlocked, drain), child, title, cancellationToken).ConfigureAwait(false);
            }

            if (!drain.Completed)
            {
                // Not forced: give the node back to the scheduler and stop with the blockers named.
                await kubernetes.SetUnschedulableAsync(node.Name, false, cancellationToken).ConfigureAwait(false);
                await owner.Ec2.DeleteTagsAsync([instance.InstanceId], [RolloutState.InstanceTag], cancellationToken).ConfigureAwait(false);
                Stage(instance.InstanceId, $"({node.Name}) uncordoned and kept (its drain timed out)");
                host.Progress(new ProgressUpdate(child, title, "drain timed out", 100, ProgressRoot, Completed: true));
                var error = new WinEksPatchException(ErrorIds.DrainTimeout, ErrorKind.OperationTimeout,
                    $"Draining {node.Name} ({instance.InstanceId}) did not finish within {options.DrainTimeout}: blocked by {string.Join("; ", drain.Blockers)}. " +
                    "The node was uncordoned and kept; the rollout stopped here. Re-run when the budgets allow it, give more time with -DrainTimeout, " +
                    "go on with the other nodes with -BlockedNodeAction Skip, or pass -OverridePodDisruptionBudget to delete what is still blocked.",
                    instance.InstanceId);
                return new NodeStep(Result(ReplacementOutcome.DrainTimedOut, drain), ReplacementOutcome.DrainTimedOut, child, error);
            }

            await owner.Ec2.CreateTagsAsync([instance.InstanceId], new Dictionary<string, string> { [RolloutState.InstanceTag] = RolloutState.Drained }, cancellationToken).ConfigureAwait(false);
            Stage(instance.InstanceId, $"({node.Name}) drained, not terminated (a re-run terminates it)");
            host.Progress(new ProgressUpdate(child, title, "terminating", 90, ProgressRoot));
            var outcome = drain.Deleted.Count > 0 ? ReplacementOutcome.ReplacedPodsDeleted : ReplacementOutcome.Replaced;
            return new NodeStep(Result(outcome, drain), outcome, child, null);
        }

        /// <summary>
        /// -BlockedNodeAction Skip: the node stays cordoned (its pods keep running; nothing new lands there) and is labelled,
        /// its drain tag stays (so a re-run drains it first), and it keeps its surge slot, so the replacement already
        /// launched for it stays and the floor holds while the other nodes go on. The result says what blocked it.
        /// </summary>
        private async Task<NodeStep> LeaveBlockedAsync(Ec2Instance instance, KubeNode node, string reason, NodeReplacementResult result, int child, string title,
            CancellationToken cancellationToken)
        {
            await kubernetes.SetNodeLabelAsync(node.Name, DrainStatusLabel, "blocked", cancellationToken).ConfigureAwait(false);
            // This drain ended (blocked), it was not interrupted: the drain tag loses its start time, so the run that
            // comes back for the node once the budget allows it drains with a whole -DrainTimeout of its own.
            await owner.Ec2.CreateTagsAsync([instance.InstanceId], new Dictionary<string, string> { [RolloutState.InstanceTag] = RolloutState.Draining }, cancellationToken)
                .ConfigureAwait(false);
            lock (_sync)
            {
                _skipped.Add(instance.InstanceId); // not taken again by this run
                _pendingOld.Remove(instance.InstanceId);
                _blocked[instance.InstanceId] = $"{node.Name} ({instance.InstanceId}): {reason}"; // and it keeps its replacement (Baseline)
            }

            Stage(instance.InstanceId, $"({node.Name}) left cordoned and labelled {DrainStatusLabel}=blocked (-BlockedNodeAction Skip)");
            host.Warning($"{node.Name} ({instance.InstanceId}) is left cordoned and labelled {DrainStatusLabel}=blocked, and the rollout goes on with the other nodes: {reason}");
            host.Progress(new ProgressUpdate(child, title, "blocked: left cordoned", 100, ProgressRoot, Completed: true));
            host.Output(result);
            return new NodeStep(result, ReplacementOutcome.DrainBlocked, child, null);
        }
    }
}
