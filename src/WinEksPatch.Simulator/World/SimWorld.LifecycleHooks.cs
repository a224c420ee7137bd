using WinEksPatch.Simulator.Scenarios;

namespace WinEksPatch.Simulator.World;

/// <summary>
/// Lifecycle hooks as Auto Scaling runs them: a launching instance waits in Pending:Wait and a terminating one in
/// Terminating:Wait, one action per hook, until each is completed (CompleteLifecycleAction) or its heartbeat timeout
/// (moved by RecordLifecycleActionHeartbeat, at most the hook's global timeout) applies the hook's default result.
/// For a launch, ABANDON terminates the instance (and the group launches another); for a termination, either result
/// lets it go. All methods expect <see cref="Gate"/> to be held.
/// </summary>
public sealed partial class SimWorld
{
    private long _lifecycleSequence;

    // What moves each waiting instance on once its wait ends, called with the outcome (CONTINUE or ABANDON).
    private readonly Dictionary<string, Action<string>> _lifecycleContinuations = new(StringComparer.Ordinal);

    /// <summary>Instances waiting on a hook, and the results of those that stopped waiting (kept for tests).</summary>
    public List<LifecycleAction> LifecycleActions { get; } = [];

    /// <summary>The actions an instance is waiting on now.</summary>
    public IEnumerable<LifecycleAction> PendingLifecycleActions(string instanceId) =>
        LifecycleActions.Where(a => a.InstanceId == instanceId && a.Result is null);

    /// <summary>Starts the group's hooks for <paramref name="transition"/> on an instance: it enters the wait state and
    /// <paramref name="then"/> runs when the wait ends. False when the group has no such hook (go on at once).</summary>
    private bool HoldForHooks(AutoScalingGroup group, Ec2Instance instance, string transition, ScalingActivity activity, Action<string> then)
    {
        List<LifecycleHook> hooks = group.LifecycleHooks.Where(h => h.Transition == transition).ToList();
        if (hooks.Count == 0)
        {
            return false;
        }

        instance.LifecycleState = transition == LifecycleHook.Launching ? "Pending:Wait" : "Terminating:Wait";
        activity.StatusCode = "MidLifecycleAction";
        activity.Progress = 50;
        _lifecycleContinuations[instance.InstanceId] = then;
        DateTimeOffset now = Scheduler.Now;
        foreach (LifecycleHook hook in hooks)
        {
            var action = new LifecycleAction
            {
                Hook = hook,
                InstanceId = instance.InstanceId,
                Token = Ids.Uuid($"lifecycle/{group.Name}/{instance.InstanceId}/{hook.Name}/{++_lifecycleSequence}"),
                Started = now,
                Deadline = now + TimeSpan.FromSeconds(hook.HeartbeatTimeout),
            };
            LifecycleActions.Add(action);
            ScheduleTimeout(action);
            if (hook.CompleteAfterSeconds is { } after)
            {
                Scheduler.After(TimeSpan.FromSeconds(after), () => Locked(() => CompleteLifecycleAction(action, "CONTINUE")));
            }
        }

        return true;
    }

    private void ScheduleTimeout(LifecycleAction action) =>
        Scheduler.After(action.Deadline - Scheduler.Now, () => Locked(() =>
        {
            if (action.Result is not null)
            {
                return;
            }

            if (Scheduler.Now < action.Deadline)
            {
                ScheduleTimeout(action); // a heartbeat moved it
                return;
            }

            CompleteLifecycleAction(action, action.Hook.DefaultResult);
        }));

    /// <summary>RecordLifecycleActionHeartbeat: the action's heartbeat timeout starts again, up to the hook's global timeout.</summary>
    public void RecordHeartbeat(LifecycleAction action)
    {
        ArgumentNullException.ThrowIfNull(action);
        DateTimeOffset limit = action.Started + TimeSpan.FromSeconds(action.Hook.GlobalTimeout);
        DateTimeOffset next = Scheduler.Now + TimeSpan.FromSeconds(action.Hook.HeartbeatTimeout);
        action.Deadline = next < limit ? next : limit;
    }

    /// <summary>Ends whatever an instance waits on without running its continuation (it is being terminated).</summary>
    private void EndLifecycleWait(string instanceId)
    {
        foreach (LifecycleAction action in PendingLifecycleActions(instanceId).ToList())
        {
            action.Result = "ABANDON";
        }

        _lifecycleContinuations.Remove(instanceId);
    }

    /// <summary>CompleteLifecycleAction, or a timeout's default result: the instance leaves its wait state once it waits on
    /// no other hook, or at once with ABANDON.</summary>
    public void CompleteLifecycleAction(LifecycleAction action, string result)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (action.Result is not null)
        {
            return;
        }

        action.Result = result;
        List<LifecycleAction> others = PendingLifecycleActions(action.InstanceId).ToList();
        if (result != "ABANDON" && others.Count > 0)
        {
            return;
        }

        foreach (LifecycleAction other in others)
        {
            other.Result = "ABANDON";
        }

        if (_lifecycleContinuations.Remove(action.InstanceId, out Action<string>? then))
        {
            then(result);
        }
    }
}
