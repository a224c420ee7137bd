using System.Xml;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.AutoScaling;

// Warm pools, as Auto Scaling documents them: PutWarmPool (create or update; MinSize ≥ 0, MaxGroupPreparedCapacity ≥
// -1 (-1: the group's max size), PoolState Stopped | Running | Hibernated, InstanceReusePolicy.ReuseOnScaleIn),
// DescribeWarmPool (its configuration and instances, paged) and DeleteWarmPool. The pool itself is SimWorld's.
public sealed partial class AutoScalingService
{
    private static readonly string[] PoolStates = ["Stopped", "Running", "Hibernated"];

    private static Task PutWarmPool(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string groupName = Required(p, "AutoScalingGroupName", "autoScalingGroupName");
        string? state = p.Get("PoolState");
        if (state is not null && !PoolStates.Contains(state))
        {
            throw Validation($"1 validation error detected: Value '{state}' at 'poolState' failed to satisfy constraint: Member must satisfy enum value set: [{string.Join(", ", PoolStates)}]");
        }

        string? preparedText = p.Get("MaxGroupPreparedCapacity");
        int? prepared = preparedText is null ? null
            : int.TryParse(preparedText, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int n) && n >= -1 ? n
            : throw Validation($"1 validation error detected: Value '{preparedText}' at 'maxGroupPreparedCapacity' failed to satisfy constraint: Member must have value greater than or equal to -1");
        int? minSize = OptionalInt(p, "MinSize", "minSize");
        bool? reuse = OptionalBool(p, "InstanceReusePolicy.ReuseOnScaleIn", "instanceReusePolicy.reuseOnScaleIn");
        lock (call.World.Gate)
        {
            AutoScalingGroup g = FindGroup(call.World, groupName);
            if (prepared is > 0 && prepared < (minSize ?? g.WarmPool?.MinSize ?? 0))
            {
                throw Validation("MaxGroupPreparedCapacity cannot be less than the warm pool's MinSize.");
            }

            WarmPool pool = g.WarmPool ??= new WarmPool();
            pool.MinSize = minSize ?? pool.MinSize;
            pool.MaxGroupPreparedCapacity = prepared is null ? pool.MaxGroupPreparedCapacity : prepared == -1 ? null : prepared;
            pool.PoolState = state ?? pool.PoolState;
            pool.ReuseOnScaleIn = reuse ?? pool.ReuseOnScaleIn;
            call.World.ReconcileWarmPool(g);
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "PutWarmPool", _ => { });
    }

    private static Task DescribeWarmPool(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        (int max, int offset) = PageParameters(p);
        string groupName = Required(p, "AutoScalingGroupName", "autoScalingGroupName");
        string inner;
        lock (call.World.Gate)
        {
            AutoScalingGroup g = FindGroup(call.World, groupName);
            List<Ec2Instance> instances = g.WarmPool?.InstanceIds.Select(id => call.World.Instances[id]).ToList() ?? [];
            (List<Ec2Instance> page, string? next) = Paging.Page(instances, offset, max);
            inner = Xml.Fragment(w =>
            {
                if (g.WarmPool is { } pool)
                {
                    WriteWarmPoolConfiguration(w, pool);
                }

                w.List("Instances", "member", page, WriteMember);
                w.Element("NextToken", next);
            });
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "DescribeWarmPool", w => w.WriteRaw(inner));
    }

    private static Task DeleteWarmPool(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string groupName = Required(p, "AutoScalingGroupName", "autoScalingGroupName");
        OptionalBool(p, "ForceDelete", "forceDelete");
        lock (call.World.Gate)
        {
            AutoScalingGroup g = FindGroup(call.World, groupName);
            if (g.WarmPool is null)
            {
                throw Validation($"No warm pool found for Auto Scaling group {groupName}.");
            }

            call.World.DeleteWarmPool(g);
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "DeleteWarmPool", _ => { });
    }

    /// <summary>DescribeAutoScalingGroups' WarmPoolConfiguration and WarmPoolSize, for a group with a pool.</summary>
    private static void WriteWarmPoolSummary(XmlWriter w, AutoScalingGroup g)
    {
        if (g.WarmPool is not { } pool)
        {
            return;
        }

        WriteWarmPoolConfiguration(w, pool);
        w.WriteElementString("WarmPoolSize", SimWorld.WarmPoolSize(g));
    }

    private static void WriteWarmPoolConfiguration(XmlWriter w, WarmPool pool)
    {
        w.WriteStartElement("WarmPoolConfiguration");
        w.WriteElementString("MaxGroupPreparedCapacity", Xml.Int(pool.MaxGroupPreparedCapacity ?? -1));
        w.WriteElementString("MinSize", Xml.Int(pool.MinSize));
        w.WriteElementString("PoolState", pool.PoolState);
        w.WriteStartElement("InstanceReusePolicy");
        w.WriteElementString("ReuseOnScaleIn", Xml.Bool(pool.ReuseOnScaleIn));
        w.WriteEndElement();
        w.WriteEndElement();
    }
}
