using System.Globalization;
using WinEksPatch.Simulator.Scenarios;

namespace WinEksPatch.Simulator.World;

/// <summary>
/// Instance refreshes as Auto Scaling runs them (rolling strategy): the instances to replace are fixed at the start
/// (all of them, or with SkipMatching those not on the group's launch template version); in each step, once every
/// instance in service is past its warm-up, as many of them are terminated as keeps MinHealthyPercentage of desired
/// capacity healthy (at least one), and the group launches their replacements. A suspended InstanceRefresh process
/// pauses it. All methods expect <see cref="Gate"/> to be held.
/// </summary>
public sealed partial class SimWorld
{
    private static readonly TimeSpan RefreshStep = TimeSpan.FromSeconds(15);

    /// <summary>Every instance refresh, oldest first.</summary>
    public List<InstanceRefresh> InstanceRefreshes { get; } = [];

    public InstanceRefresh StartInstanceRefresh(AutoScalingGroup group, int minHealthyPercentage, int? instanceWarmup, bool skipMatching)
    {
        ArgumentNullException.ThrowIfNull(group);
        string current = ResolvedVersion(group)?.VersionNumber.ToString(CultureInfo.InvariantCulture) ?? "";
        var refresh = new InstanceRefresh
        {
            Id = Ids.Uuid($"refresh/{group.Name}/{InstanceRefreshes.Count}"),
            GroupName = group.Name,
            StartTime = Scheduler.Now,
            MinHealthyPercentage = minHealthyPercentage,
            InstanceWarmup = instanceWarmup ?? group.HealthCheckGracePeriod,
            SkipMatching = skipMatching,
        };
        refresh.ToReplace.UnionWith(ActiveMembers(group).Where(i => !skipMatching || i.LaunchTemplate?.Version != current).Select(i => i.InstanceId));
        refresh.InstancesToUpdate = refresh.ToReplace.Count;
        InstanceRefreshes.Add(refresh);
        Scheduler.After(RefreshStep, () => Locked(() => StepRefresh(refresh)));
        return refresh;
    }

    private void StepRefresh(InstanceRefresh refresh)
    {
        if (!AutoScalingGroups.TryGetValue(refresh.GroupName, out AutoScalingGroup? group))
        {
            End(refresh, "Failed", "The Auto Scaling group was deleted.");
            return;
        }

        if (refresh.Status == "Cancelling")
        {
            End(refresh, "Cancelled", "Cancelled due to user request.");
            return;
        }

        if (refresh.Status is not ("Pending" or "InProgress"))
        {
            return;
        }

        refresh.Status = "InProgress";
        if (!IsSuspended(group, "InstanceRefresh"))
        {
            List<Ec2Instance> active = ActiveMembers(group);
            List<Ec2Instance> left = active.Where(i => refresh.ToReplace.Contains(i.InstanceId)).ToList();
            refresh.PercentageComplete = refresh.InstancesToUpdate == 0 ? 100 : 100 * (refresh.InstancesToUpdate - left.Count) / refresh.InstancesToUpdate;
            bool settled = active.TrueForAll(i => i.LifecycleState == "InService" && Scheduler.Now - i.LaunchTime >= TimeSpan.FromSeconds(refresh.InstanceWarmup))
                && active.Count >= group.DesiredCapacity;
            if (left.Count == 0 && settled)
            {
                End(refresh, "Successful", null);
                return;
            }

            if (settled)
            {
                int minHealthy = (int)Math.Ceiling(group.DesiredCapacity * refresh.MinHealthyPercentage / 100.0);
                foreach (Ec2Instance instance in left.OrderBy(i => i.LaunchTime).Take(Math.Max(1, active.Count - minHealthy)))
                {
                    BeginTermination(group, instance, $"At {Stamp()} an instance was taken out of service in response to an instance refresh.");
                }

                ReconcileGroup(group, null);
            }
        }

        Scheduler.After(RefreshStep, () => Locked(() => StepRefresh(refresh)));
    }

    private void End(InstanceRefresh refresh, string status, string? reason)
    {
        refresh.Status = status;
        refresh.StatusReason = reason;
        refresh.EndTime = Scheduler.Now;
        if (status == "Successful")
        {
            refresh.PercentageComplete = 100;
        }
    }
}
