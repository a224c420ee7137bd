using WinEksPatch.Abstractions;
using WinEksPatch.Errors;

namespace WinEksPatch.Workflows.Replacement;

// The capacity side of a rollout's run: waiting for usable nodes, and what to do with new instances that never become
// usable.
public sealed partial class NodeReplacement
{
    private sealed partial class Run
    {
        /// <summary>Waits until the group has <paramref name="needed"/> usable nodes (Ready, schedulable, settled) besides the
        /// <paramref name="excluded"/> instances, learning new instances as their nodes appear. On timeout, says why from
        /// the group's scaling activities.</summary>
        private async Task WaitForCapacityAsync(AutoScalingGroup group, int needed, IReadOnlySet<string> excluded, CancellationToken cancellationToken)
        {
            var members = group.Instances.Select(i => i.InstanceId).ToHashSet(StringComparer.Ordinal);
            var deadline = owner.Time.GetUtcNow() + options.ReadyTimeout;
            var lastChance = deadline + options.ReadyTimeout; // a new instance launched late in the wait gets its own -ReadyTimeout, once
            while (true)
            {
                bool Usable(KubeNode n) => n.InstanceId != null && members.Contains(n.InstanceId) && !excluded.Contains(n.InstanceId)
                    && tracker.IsUsable(n, options.MinReadyTime, requiredResources);
                // A node of an instance not (yet) among the members: never seen, or seen as this group's before it joined
                // (a warm pool instance the surge took, learned while it waited in the pool).
                bool Unknown(KubeNode n) => n.InstanceId != null && !members.Contains(n.InstanceId)
                    && (!instances.TryGetValue(n.InstanceId, out var known) || known.Tags.GetValueOrDefault(GroupNameTag) == groupName);

                var left = deadline - owner.Time.GetUtcNow();
                var ok = left > TimeSpan.Zero && await tracker.WaitUntilAsync(
                    nodes => nodes.Count(Usable) >= needed || nodes.Any(Unknown), left, Recheck, cancellationToken, options.MinReadyTime).ConfigureAwait(false);
                var nodes = tracker.Nodes;
                if (ok && nodes.Count(Usable) >= needed)
                {
                    return;
                }

                if (ok && nodes.Any(Unknown))
                {
                    // A node we have not seen: learn which group its instance belongs to (one batched call for all of them).
                    var unknown = nodes.Where(Unknown).Select(n => n.InstanceId!).ToList();
                    await owner.LearnInstancesAsync(instances, unknown, cancellationToken).ConfigureAwait(false);
                    foreach (var id in unknown.Where(id => instances.TryGetValue(id, out var i) && i.Tags.GetValueOrDefault(GroupNameTag) == groupName))
                    {
                        members.Add(id);
                    }

                    foreach (var id in unknown.Where(id => !instances.ContainsKey(id)))
                    {
                        instances[id] = new Ec2Instance(id, null, null, null, null, null, null, new Dictionary<string, string>()); // gone already
                    }

                    continue;
                }

                var activities = await owner.AutoScaling.DescribeScalingActivitiesAsync(groupName, 5, cancellationToken).ConfigureAwait(false);
                var failures = activities.Where(a => a.StatusCode is "Failed" or "Cancelled").Select(a => a.StatusMessage ?? a.Description).OfType<string>()
                    .Distinct(StringComparer.Ordinal).ToList();
                var lacking = nodes.Where(n => n.Ready && n.InstanceId != null && members.Contains(n.InstanceId) && !excluded.Contains(n.InstanceId))
                    .SelectMany(n => requiredResources.Except(n.ExtendedResources, StringComparer.Ordinal).Select(r => (Node: n.Name, Resource: r)))
                    .ToList();
                var why = failures.Count > 0 ? "scaling activities: " + string.Join("; ", failures)
                    : lacking.Count > 0 ? $"Ready nodes without {string.Join(", ", lacking.Select(l => l.Resource).Distinct())}, which the old nodes offer: {Summary(lacking.Select(l => l.Node).Distinct())}" +
                        (lacking.Any(l => l.Resource == PodIpsResource)
                            ? "; EKS advertises a Windows node's pod IPs only with enable-windows-ipam in the kube-system/amazon-vpc-cni ConfigMap and the AmazonEKSVPCResourceController policy on the cluster role"
                            : "")
                    : "new instances did not become Ready nodes";
                // Each new instance gets -ReadyTimeout from its own launch: one launched late is waited for (once) before
                // the instances that had their whole time are terminated.
                var unusable = await UnusableNewInstancesAsync(nodes, Usable, cancellationToken).ConfigureAwait(false);
                var due = unusable.Select(u => u.Launched + options.ReadyTimeout).Where(d => d > owner.Time.GetUtcNow()).DefaultIfEmpty().Max();
                if (due != default && due <= lastChance && unusable.All(u => u.Launched + options.ReadyTimeout > owner.Time.GetUtcNow()))
                {
                    deadline = due;
                    continue;
                }

                var stuck = await TerminateStuckAsync(unusable, cancellationToken).ConfigureAwait(false);
                throw new WinEksPatchException(ErrorIds.ReplacementNotReady, ErrorKind.OperationTimeout,
                    $"{groupName}: only {nodes.Count(Usable)} of the {needed} usable nodes needed after {options.ReadyTimeout} ({why}). " +
                    (stuck.Count > 0
                        ? $"New instances that did not become usable nodes within -ReadyTimeout of their launch were terminated, so none holds a surge slot and a re-run launches fresh ones: {string.Join("; ", stuck)}. "
                        : "") +
                    "The rollout did not cordon another node; re-run to continue once the cause is fixed.", groupName);
            }
        }

        /// <summary>The tag EC2 Auto Scaling puts on each instance of a group (and of its warm pool).</summary>
        private const string GroupNameTag = "aws:autoscaling:groupName";

        private sealed record UnusableInstance(Ec2Instance Instance, KubeNode? Node, DateTimeOffset Launched);

        /// <summary>New instances of the group (on the target AMI, launched by the rollout or by Auto Scaling for it) that
        /// are not usable nodes.</summary>
        private async Task<IReadOnlyList<UnusableInstance>> UnusableNewInstancesAsync(IReadOnlyList<KubeNode> nodes, Func<KubeNode, bool> usable,
            CancellationToken cancellationToken)
        {
            var current = await GroupLookup.ReadAsync(owner.AutoScaling, groupName, cancellationToken).ConfigureAwait(false);
            await owner.LearnInstancesAsync(instances, current.Instances.Select(i => i.InstanceId), cancellationToken).ConfigureAwait(false);
            return current.Instances.Where(i => i.LifecycleState is "Pending" or "Pending:Wait" or "Pending:Proceed" or "InService")
                .Select(m => instances.GetValueOrDefault(m.InstanceId))
                .Where(i => i != null && i.ImageId == target && i.LaunchTime != null) // old instances are drained, never dropped
                .Select(i => new UnusableInstance(i!, nodes.FirstOrDefault(n => n.InstanceId == i!.InstanceId), i!.LaunchTime!.Value))
                .Where(u => u.Node == null || !usable(u.Node))
                .ToList();
        }

        /// <summary>
        /// Terminates the new instances that have not become usable nodes within -ReadyTimeout of their launch, as
        /// Karpenter deletes a NodeClaim that did not register within its TTL: they run no workload (a Windows node
        /// without its pod IPs takes no Windows pod), and kept they would hold their surge slot for good, so a re-run after
        /// the cause is fixed would wait for them again (see TerminateAsync for when the slot is given back). Returns each one with what it was.
        /// </summary>
        private async Task<IReadOnlyList<string>> TerminateStuckAsync(IReadOnlyList<UnusableInstance> unusable, CancellationToken cancellationToken)
        {
            var stuck = new List<string>();
            foreach (var (instance, node, launched) in unusable.Where(u => owner.Time.GetUtcNow() - u.Launched >= options.ReadyTimeout))
            {
                await TerminateAsync(instance.InstanceId, drainedOld: false, cancellationToken).ConfigureAwait(false);
                var what = node == null ? "never registered as a node"
                    : !node.Ready ? $"registered as {node.Name} but never Ready"
                    : requiredResources.Except(node.ExtendedResources, StringComparer.Ordinal).ToList() is { Count: > 0 } missing
                        ? $"registered as {node.Name}, Ready but without {string.Join(", ", missing)}"
                        : $"registered as {node.Name}, Ready but not schedulable (cordoned or a startup taint)";
                stuck.Add($"{instance.InstanceId} (launched {launched:u}, {what})");
            }

            return stuck;
        }
    }
}
