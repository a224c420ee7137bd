using System.Text.Json;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.AutoScaling;

// EnterStandby / ExitStandby, as Auto Scaling documents them: an InService instance taken out of service stays in the
// group but does not count toward its desired capacity (so without ShouldDecrementDesiredCapacity the group launches a
// replacement); leaving standby puts it back in service and raises desired capacity by one (refused above max size).
public sealed partial class AutoScalingService
{
    /// <summary>InstanceIds.member.N of EnterStandby, ExitStandby and DetachInstances: at most 20.</summary>
    private static List<string> UpTo20InstanceIds(QueryParams p)
    {
        List<string> ids = p.List("InstanceIds.member");
        return ids.Count <= 20 ? ids
            : throw Validation("1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 20");
    }

    private static Task EnterOrExitStandby(AwsCall call, bool enter)
    {
        QueryParams p = call.FormOrQuery;
        string operation = enter ? "EnterStandby" : "ExitStandby";
        string name = Required(p, "AutoScalingGroupName", "autoScalingGroupName");
        bool decrement = enter && (OptionalBool(p, "ShouldDecrementDesiredCapacity", "shouldDecrementDesiredCapacity") ?? throw NullMember("shouldDecrementDesiredCapacity"));
        List<string> ids = UpTo20InstanceIds(p);

        var activities = new List<ScalingActivity>();
        lock (call.World.Gate)
        {
            AutoScalingGroup g = FindGroup(call.World, name);
            string from = enter ? "InService" : "Standby";
            foreach (string id in ids)
            {
                if (!g.InstanceIds.Contains(id))
                {
                    throw Validation($"The instance {id} is not part of Auto Scaling group {name}.");
                }

                if (call.World.Instances[id].LifecycleState != from)
                {
                    throw Validation($"The instance {id} is not in {from}.");
                }
            }

            int desired = g.DesiredCapacity + (enter ? (decrement ? -ids.Count : 0) : ids.Count);
            if (desired < g.MinSize)
            {
                throw Validation($"Cannot move instances into standby: the desired capacity would be {desired}, below the group's minimum size {g.MinSize}.");
            }

            if (desired > g.MaxSize)
            {
                throw Validation($"Cannot move instances out of standby: the desired capacity would be {desired}, above the group's maximum size {g.MaxSize}.");
            }

            int before = g.DesiredCapacity;
            g.DesiredCapacity = desired;
            foreach (string id in ids)
            {
                Ec2Instance instance = call.World.Instances[id];
                instance.LifecycleState = enter ? "Standby" : "InService";
                var activity = new ScalingActivity
                {
                    ActivityId = Scenarios.Ids.Uuid($"activity/{g.Name}/{id}/{operation}/{call.World.ScalingActivities.Count}"),
                    AutoScalingGroupName = g.Name,
                    AutoScalingGroupArn = g.Arn,
                    Description = enter ? $"Moving EC2 instance to Standby: {id}" : $"Moving EC2 instance out of Standby: {id}",
                    Cause = enter
                        ? $"At {call.World.Stamp()} User request set to standby instance {id}" + (decrement ? $", changing the desired capacity from {before} to {desired}." : ".")
                        : $"At {call.World.Stamp()} User request removed instance {id} from standby, changing the desired capacity from {before} to {desired}.",
                    StartTime = call.World.Scheduler.Now,
                    EndTime = call.World.Scheduler.Now,
                    StatusCode = "Successful",
                    Progress = 100,
                    Details = JsonSerializer.Serialize(new Dictionary<string, string> { ["Subnet ID"] = instance.SubnetId, ["Availability Zone"] = instance.AvailabilityZone }),
                    InstanceId = id,
                };
                call.World.ScalingActivities.Add(activity);
                activities.Add(activity);
            }

            // A standby instance does not count toward desired capacity: without the decrement the group launches one.
            call.World.ReconcileGroup(g, null);
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, operation, w => w.List("Activities", "member", activities, WriteActivity));
    }
}
