using System.Text.Json;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.AutoScaling;

// DetachInstances, as Auto Scaling documents it: InService or Standby instances of the group (at most 20) go Detaching,
// then leave the group and keep running on their own; without ShouldDecrementDesiredCapacity the group launches
// replacements. Detaching lasts FleetTimings.DetachSeconds (what deregistering from load balancers takes).
public sealed partial class AutoScalingService
{
    private static Task DetachInstances(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string name = Required(p, "AutoScalingGroupName", "autoScalingGroupName");
        bool decrement = OptionalBool(p, "ShouldDecrementDesiredCapacity", "shouldDecrementDesiredCapacity") ?? throw NullMember("shouldDecrementDesiredCapacity");
        List<string> ids = UpTo20InstanceIds(p);

        var activities = new List<ScalingActivity>();
        lock (call.World.Gate)
        {
            AutoScalingGroup g = FindGroup(call.World, name);
            foreach (string id in ids)
            {
                if (!g.InstanceIds.Contains(id) || call.World.Instances[id].LifecycleState is not ("InService" or "Standby"))
                {
                    throw Validation($"The instance {id} is not part of Auto Scaling group {name} or is not in service.");
                }
            }

            int desired = decrement ? g.DesiredCapacity - ids.Count(id => call.World.Instances[id].LifecycleState == "InService") : g.DesiredCapacity;
            if (desired < g.MinSize)
            {
                throw Validation($"Detaching {ids.Count} instance(s) with ShouldDecrementDesiredCapacity would take the desired capacity to {desired}, below the group's minimum size {g.MinSize}.");
            }

            int before = g.DesiredCapacity;
            g.DesiredCapacity = desired;
            foreach (string id in ids)
            {
                Ec2Instance instance = call.World.Instances[id];
                var activity = new ScalingActivity
                {
                    ActivityId = Scenarios.Ids.Uuid($"activity/{g.Name}/{id}/detach/{call.World.ScalingActivities.Count}"),
                    AutoScalingGroupName = g.Name,
                    AutoScalingGroupArn = g.Arn,
                    Description = $"Detaching EC2 instance: {id}",
                    Cause = $"At {call.World.Stamp()} instance {id} was detached in response to a user request" +
                        (decrement && before != desired ? $", shrinking the capacity from {before} to {desired}." : "."),
                    StartTime = call.World.Scheduler.Now,
                    StatusCode = "InProgress",
                    Progress = 50,
                    Details = JsonSerializer.Serialize(new Dictionary<string, string> { ["Subnet ID"] = instance.SubnetId, ["Availability Zone"] = instance.AvailabilityZone }),
                    InstanceId = id,
                };
                call.World.ScalingActivities.Add(activity);
                activities.Add(activity);
                call.World.Detach(g, instance, activity);
            }

            call.World.ReconcileGroup(g, null);
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "DetachInstances", w => w.List("Activities", "member", activities, WriteActivity));
    }
}
