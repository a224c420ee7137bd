using System.Xml;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.AutoScaling;

// Instance refreshes, as Auto Scaling documents them: StartInstanceRefresh (Rolling strategy; Preferences.MinHealthyPercentage
// 0–100, default 90; InstanceWarmup; SkipMatching), refused with InstanceRefreshInProgress while one is active;
// DescribeInstanceRefreshes, newest first and paged; CancelInstanceRefresh, ActiveInstanceRefreshNotFound when none is
// active. The replacing itself is SimWorld's (SimWorld.InstanceRefresh.cs).
public sealed partial class AutoScalingService
{
    private static Task StartInstanceRefresh(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string groupName = Required(p, "AutoScalingGroupName", "autoScalingGroupName");
        string? strategy = p.Get("Strategy");
        if (strategy is not (null or "Rolling"))
        {
            throw Validation($"1 validation error detected: Value '{strategy}' at 'strategy' failed to satisfy constraint: Member must satisfy enum value set: [Rolling]");
        }

        int minHealthy = OptionalInt(p, "Preferences.MinHealthyPercentage", "preferences.minHealthyPercentage") ?? 90;
        if (minHealthy > 100)
        {
            throw Validation($"1 validation error detected: Value '{minHealthy}' at 'preferences.minHealthyPercentage' failed to satisfy constraint: Member must have value less than or equal to 100");
        }

        int? warmup = OptionalInt(p, "Preferences.InstanceWarmup", "preferences.instanceWarmup");
        bool skipMatching = OptionalBool(p, "Preferences.SkipMatching", "preferences.skipMatching") ?? false;
        string id;
        lock (call.World.Gate)
        {
            AutoScalingGroup g = FindGroup(call.World, groupName);
            if (call.World.InstanceRefreshes.Exists(r => r.GroupName == g.Name && r.IsActive))
            {
                throw new AwsException(400, "InstanceRefreshInProgress", "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.");
            }

            id = call.World.StartInstanceRefresh(g, minHealthy, warmup, skipMatching).Id;
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "StartInstanceRefresh", w => w.WriteElementString("InstanceRefreshId", id));
    }

    private static Task DescribeInstanceRefreshes(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        (int max, int offset) = PageParameters(p);
        string groupName = Required(p, "AutoScalingGroupName", "autoScalingGroupName");
        List<string> ids = p.List("InstanceRefreshIds.member");
        List<Action<XmlWriter>> writers;
        string? next;
        lock (call.World.Gate)
        {
            FindGroup(call.World, groupName);
            List<InstanceRefresh> refreshes = call.World.InstanceRefreshes
                .Where(r => r.GroupName == groupName && (ids.Count == 0 || ids.Contains(r.Id)))
                .Reverse()
                .ToList();
            (List<InstanceRefresh> page, next) = Paging.Page(refreshes, offset, max);
            writers = page.Select(r => WriteRefresh(r, call.World)).ToList();
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "DescribeInstanceRefreshes", w =>
        {
            w.List("InstanceRefreshes", "member", writers, (w, write) => write(w));
            w.Element("NextToken", next);
        });
    }

    /// <summary>Renders a refresh now (under the world lock) for writing later.</summary>
    private static Action<XmlWriter> WriteRefresh(InstanceRefresh r, SimWorld world)
    {
        int left = r.ToReplace.Count(id => world.Instances.TryGetValue(id, out Ec2Instance? i) && i.LifecycleState is "Pending" or "Pending:Wait" or "InService");
        string inner = Xml.Fragment(w =>
        {
            w.WriteElementString("InstanceRefreshId", r.Id);
            w.WriteElementString("AutoScalingGroupName", r.GroupName);
            w.WriteElementString("Status", r.Status);
            w.Element("StatusReason", r.StatusReason);
            w.WriteElementString("StartTime", Xml.Time(r.StartTime));
            if (r.EndTime is { } end)
            {
                w.WriteElementString("EndTime", Xml.Time(end));
            }

            w.WriteElementString("PercentageComplete", Xml.Int(r.PercentageComplete));
            w.WriteElementString("InstancesToUpdate", Xml.Int(r.IsActive ? left : 0));
            w.WriteStartElement("Preferences");
            w.WriteElementString("MinHealthyPercentage", Xml.Int(r.MinHealthyPercentage));
            w.WriteElementString("InstanceWarmup", Xml.Int(r.InstanceWarmup));
            w.WriteElementString("SkipMatching", Xml.Bool(r.SkipMatching));
            w.WriteEndElement();
        });
        return w => w.WriteRaw(inner);
    }

    private static Task CancelInstanceRefresh(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string groupName = Required(p, "AutoScalingGroupName", "autoScalingGroupName");
        string id;
        lock (call.World.Gate)
        {
            FindGroup(call.World, groupName);
            InstanceRefresh refresh = call.World.InstanceRefreshes.Find(r => r.GroupName == groupName && r.Status is "Pending" or "InProgress")
                ?? throw new AwsException(400, "ActiveInstanceRefreshNotFound", $"No in progress or pending Instance Refresh found for Auto Scaling group {groupName}");
            refresh.Status = "Cancelling";
            id = refresh.Id;
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "CancelInstanceRefresh", w => w.WriteElementString("InstanceRefreshId", id));
    }
}
