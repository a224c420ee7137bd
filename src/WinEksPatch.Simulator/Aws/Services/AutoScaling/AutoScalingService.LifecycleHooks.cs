using System.Xml;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.AutoScaling;

// Lifecycle hooks, as Auto Scaling documents them: PutLifecycleHook (create or update; at most 50 per group; heartbeat
// timeout 30–7200 s, default 3600; default result ABANDON), DescribeLifecycleHooks, DeleteLifecycleHook (outstanding
// actions are completed first: ABANDON for launching instances, CONTINUE for terminating ones), CompleteLifecycleAction and RecordLifecycleActionHeartbeat
// (by token or by instance id). The waiting itself is SimWorld's (SimWorld.LifecycleHooks.cs).
public sealed partial class AutoScalingService
{
    private static readonly string[] Transitions = [LifecycleHook.Launching, LifecycleHook.Terminating];

    private static Task PutLifecycleHook(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string name = Required(p, "LifecycleHookName", "lifecycleHookName");
        string groupName = Required(p, "AutoScalingGroupName", "autoScalingGroupName");
        string? transition = p.Get("LifecycleTransition");
        if (transition is not null && !Transitions.Contains(transition))
        {
            throw Validation($"Invalid Lifecycle Transition {transition}. Valid values are: {string.Join(", ", Transitions)}.");
        }

        int? heartbeat = OptionalInt(p, "HeartbeatTimeout", "heartbeatTimeout");
        if (heartbeat is < 30 or > 7200)
        {
            throw Validation($"1 validation error detected: Value '{heartbeat}' at 'heartbeatTimeout' failed to satisfy constraint: Member must have value " +
                (heartbeat < 30 ? "greater than or equal to 30" : "less than or equal to 7200"));
        }

        string? result = p.Get("DefaultResult");
        if (result is not null and not ("CONTINUE" or "ABANDON"))
        {
            throw Validation($"Valid values for DefaultResult are CONTINUE and ABANDON; '{result}' is not one of them.");
        }

        lock (call.World.Gate)
        {
            AutoScalingGroup g = FindGroup(call.World, groupName);
            LifecycleHook? hook = g.LifecycleHooks.Find(h => h.Name == name);
            if (hook is null)
            {
                if (transition is null)
                {
                    throw NullMember("lifecycleTransition");
                }

                if (g.LifecycleHooks.Count >= 50)
                {
                    throw new AwsException(400, "LimitExceeded", $"Cannot exceed limit of 50 lifecycle hooks for Auto Scaling group {groupName}.");
                }

                hook = new LifecycleHook { Name = name, GroupName = g.Name, Transition = transition };
                g.LifecycleHooks.Add(hook);
            }

            hook.Transition = transition ?? hook.Transition;
            hook.HeartbeatTimeout = heartbeat ?? hook.HeartbeatTimeout;
            hook.DefaultResult = result ?? hook.DefaultResult;
            hook.NotificationTargetArn = p.Get("NotificationTargetARN") ?? hook.NotificationTargetArn;
            hook.RoleArn = p.Get("RoleARN") ?? hook.RoleArn;
            hook.NotificationMetadata = p.Get("NotificationMetadata") ?? hook.NotificationMetadata;
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "PutLifecycleHook", _ => { });
    }

    private static Task DescribeLifecycleHooks(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string groupName = Required(p, "AutoScalingGroupName", "autoScalingGroupName");
        List<string> names = p.List("LifecycleHookNames.member");
        if (names.Count > 50)
        {
            throw Validation("1 validation error detected: Value at 'lifecycleHookNames' failed to satisfy constraint: Member must have length less than or equal to 50");
        }

        List<LifecycleHook> hooks;
        lock (call.World.Gate)
        {
            hooks = FindGroup(call.World, groupName).LifecycleHooks.Where(h => names.Count == 0 || names.Contains(h.Name))
                .Select(h => new LifecycleHook
                {
                    Name = h.Name, GroupName = h.GroupName, Transition = h.Transition, HeartbeatTimeout = h.HeartbeatTimeout, DefaultResult = h.DefaultResult,
                    NotificationTargetArn = h.NotificationTargetArn, RoleArn = h.RoleArn, NotificationMetadata = h.NotificationMetadata,
                })
                .ToList();
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "DescribeLifecycleHooks", w => w.List("LifecycleHooks", "member", hooks, WriteHook));
    }

    private static void WriteHook(XmlWriter w, LifecycleHook h)
    {
        w.WriteElementString("LifecycleHookName", h.Name);
        w.WriteElementString("AutoScalingGroupName", h.GroupName);
        w.WriteElementString("LifecycleTransition", h.Transition);
        w.Element("NotificationTargetARN", h.NotificationTargetArn);
        w.Element("RoleARN", h.RoleArn);
        w.Element("NotificationMetadata", h.NotificationMetadata);
        w.WriteElementString("HeartbeatTimeout", Xml.Int(h.HeartbeatTimeout));
        w.WriteElementString("GlobalTimeout", Xml.Int(h.GlobalTimeout));
        w.WriteElementString("DefaultResult", h.DefaultResult);
    }

    private static Task DeleteLifecycleHook(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string name = Required(p, "LifecycleHookName", "lifecycleHookName");
        string groupName = Required(p, "AutoScalingGroupName", "autoScalingGroupName");
        lock (call.World.Gate)
        {
            AutoScalingGroup g = FindGroup(call.World, groupName);
            LifecycleHook hook = g.LifecycleHooks.Find(h => h.Name == name)
                ?? throw Validation($"No Lifecycle Hook found with name: {name} for group: {groupName}");
            g.LifecycleHooks.Remove(hook);
            foreach (LifecycleAction waiting in call.World.LifecycleActions.Where(a => a.Hook == hook && a.Result is null).ToList())
            {
                call.World.CompleteLifecycleAction(waiting, hook.Transition == LifecycleHook.Launching ? "ABANDON" : "CONTINUE");
            }
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "DeleteLifecycleHook", _ => { });
    }

    private static Task CompleteLifecycleAction(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string result = Required(p, "LifecycleActionResult", "lifecycleActionResult");
        if (result is not ("CONTINUE" or "ABANDON"))
        {
            throw Validation($"Valid values for LifecycleActionResult are CONTINUE and ABANDON; '{result}' is not one of them.");
        }

        lock (call.World.Gate)
        {
            call.World.CompleteLifecycleAction(FindAction(call.World, p), result);
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "CompleteLifecycleAction", _ => { });
    }

    private static Task RecordLifecycleActionHeartbeat(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        lock (call.World.Gate)
        {
            call.World.RecordHeartbeat(FindAction(call.World, p));
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "RecordLifecycleActionHeartbeat", _ => { });
    }

    /// <summary>The waiting action a CompleteLifecycleAction or a heartbeat names: by LifecycleActionToken, or by InstanceId.</summary>
    private static LifecycleAction FindAction(SimWorld world, QueryParams p)
    {
        string hookName = Required(p, "LifecycleHookName", "lifecycleHookName");
        string groupName = Required(p, "AutoScalingGroupName", "autoScalingGroupName");
        string? token = p.Get("LifecycleActionToken");
        string? instanceId = p.Get("InstanceId");
        if (token is null && instanceId is null)
        {
            throw Validation("Either the LifecycleActionToken or the InstanceId must be specified.");
        }

        FindGroup(world, groupName);
        return world.LifecycleActions.Find(a => a.Result is null && a.Hook.GroupName == groupName && a.Hook.Name == hookName
                && (token is null || a.Token == token) && (instanceId is null || a.InstanceId == instanceId))
            ?? throw Validation(token is not null ? $"No active Lifecycle Action found with token {token}" : $"No active Lifecycle Action found with instance ID {instanceId}");
    }
}
