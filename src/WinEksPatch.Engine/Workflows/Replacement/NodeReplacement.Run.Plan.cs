using WinEksPatch.Abstractions;
using WinEksPatch.Errors;

namespace WinEksPatch.Workflows.Replacement;

// The run follows its plan (the one -WhatIf shows): its order, window and floor, re-validated before each step against
// the group as it is now. Where the world moved in a way that is safe to follow, the run adapts and says so; where it is
// not, it stops before its next step with an error that says how the group no longer matches the plan.
public sealed partial class NodeReplacement
{
    private sealed partial class Run
    {
        // Planned instances found gone before their turn, each said once.
        private readonly HashSet<string> _leftThePlan = new(StringComparer.Ordinal);

        /// <summary>
        /// The old instances still to start, in the plan's order; old instances the plan did not know (an old-AMI launch
        /// that came into service during the run) come after them, in <see cref="ReplacementPlanner.RolloutOrder"/>. A
        /// planned instance that is no longer an old instance in service before its turn (terminated by someone else: a
        /// scale-in, a Spot interruption, an operator) is named in a warning and left out: nothing of this run depended
        /// on it, so going on with the next step is safe.
        /// </summary>
        private List<Ec2Instance> Waiting(AutoScalingGroup group, IReadOnlyDictionary<string, Task<NodeStep>> running)
        {
            var candidates = OldInstances(group, instances, target)
                .Where(i => !_skipped.Contains(i.InstanceId) && !running.ContainsKey(i.InstanceId) && !_terminated.Contains(i.InstanceId))
                .ToList();
            var present = candidates.Select(i => i.InstanceId).ToHashSet(StringComparer.Ordinal);
            foreach (var step in plan.Steps.Where(s => !present.Contains(s.InstanceId) && !running.ContainsKey(s.InstanceId)
                && !_terminated.Contains(s.InstanceId) && !_skipped.Contains(s.InstanceId) && _leftThePlan.Add(s.InstanceId)))
            {
                host.Warning($"{groupName}: step {step.Step} of the plan, {step.InstanceId}{(step.NodeName == null ? "" : $" ({step.NodeName})")}, is no longer an old " +
                    "instance in service (terminated or taken out by someone else: a scale-in, a Spot interruption, an operator); the rollout goes on with the next step.");
            }

            var position = plan.Steps.ToDictionary(s => s.InstanceId, s => s.Step, StringComparer.Ordinal);
            return ReplacementPlanner.RolloutOrder(candidates, tracker.Nodes)
                .OrderBy(i => position.GetValueOrDefault(i.InstanceId, int.MaxValue))
                .ToList();
        }

        /// <summary>
        /// At every turn of the run: the group's desired capacity must not be below what this run set it to. Lowered by someone
        /// else (cluster-autoscaler's scale-down, a scaling policy, an operator, infrastructure as code), Auto Scaling
        /// terminates instances of its own choosing, possibly old ones nobody drained or new ones the floor counts on:
        /// the plan no longer holds, so the rollout stops (nothing more cordoned) rather than fight over the size.
        /// </summary>
        private void RequireSizesAsPlanned(AutoScalingGroup group)
        {
            int expected;
            lock (_sync)
            {
                expected = _desired;
            }

            if (group.DesiredCapacity < expected)
            {
                throw new WinEksPatchException(ErrorIds.RolloutPlanInvalidated, ErrorKind.InvalidOperation,
                    $"{groupName}: desired capacity is {group.DesiredCapacity}, below the {expected} this rollout set: someone else lowered it during the rollout " +
                    "(cluster-autoscaler's scale-down, a scaling policy, an operator, infrastructure as code), so Auto Scaling terminates instances of its own " +
                    "choosing, possibly ones nobody drained. The rollout stopped there, before its next step. Pause what changes the group's size, then run the same " +
                    "command again to continue.", groupName);
            }
        }
    }
}
