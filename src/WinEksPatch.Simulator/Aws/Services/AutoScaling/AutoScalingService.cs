using System.Globalization;
using System.Xml;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.AutoScaling;

/// <summary>Auto Scaling (awsQuery): groups and their instances.</summary>
public sealed partial class AutoScalingService : AwsService
{
    public override string SigningName => "autoscaling";

    public override AwsProtocol Protocol => AwsProtocol.Query;

    public override string XmlNamespace => "http://autoscaling.amazonaws.com/doc/2011-01-01/";

    public override Task HandleAsync(AwsCall call)
    {
        string action = RequireAction(call);
        return action switch
        {
            "DescribeAutoScalingGroups" => DescribeAutoScalingGroups(call),
            "DescribeAutoScalingInstances" => DescribeAutoScalingInstances(call),
            "UpdateAutoScalingGroup" => UpdateAutoScalingGroup(call),
            "SetDesiredCapacity" => SetDesiredCapacity(call),
            "TerminateInstanceInAutoScalingGroup" => TerminateInstanceInAutoScalingGroup(call),
            "SetInstanceProtection" => SetInstanceProtection(call),
            "EnterStandby" => EnterOrExitStandby(call, enter: true),
            "ExitStandby" => EnterOrExitStandby(call, enter: false),
            "DetachInstances" => DetachInstances(call),
            "SuspendProcesses" => SuspendOrResumeProcesses(call, suspend: true),
            "ResumeProcesses" => SuspendOrResumeProcesses(call, suspend: false),
            "DescribeScalingActivities" => DescribeScalingActivities(call),
            "CreateOrUpdateTags" => CreateOrUpdateTags(call),
            "DeleteTags" => DeleteTags(call),
            "DescribeTags" => DescribeTags(call),
            "PutLifecycleHook" => PutLifecycleHook(call),
            "DescribeLifecycleHooks" => DescribeLifecycleHooks(call),
            "DeleteLifecycleHook" => DeleteLifecycleHook(call),
            "CompleteLifecycleAction" => CompleteLifecycleAction(call),
            "RecordLifecycleActionHeartbeat" => RecordLifecycleActionHeartbeat(call),
            "StartInstanceRefresh" => StartInstanceRefresh(call),
            "DescribeInstanceRefreshes" => DescribeInstanceRefreshes(call),
            "CancelInstanceRefresh" => CancelInstanceRefresh(call),
            "PutWarmPool" => PutWarmPool(call),
            "DescribeWarmPool" => DescribeWarmPool(call),
            "DeleteWarmPool" => DeleteWarmPool(call),
            _ => throw InvalidAction(action),
        };
    }

    private Task DescribeAutoScalingGroups(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        (int max, int offset) = PageParameters(p);
        List<string> names = p.List("AutoScalingGroupNames.member");
        List<(string Name, List<string> Values)> filters = p.Filters("Filters.member", "Values.member");
        foreach ((string name, _) in filters)
        {
            if (name is not ("tag-key" or "tag-value" or "auto-scaling-group") && !name.StartsWith("tag:", StringComparison.Ordinal))
            {
                throw new AwsException(400, "ValidationError", $"Filter name '{name}' is invalid. Valid filter names are: auto-scaling-group, tag-key, tag-value, tag:<key>.");
            }
        }

        List<Action<XmlWriter>> writers;
        string? next;
        lock (call.World.Gate)
        {
            List<AutoScalingGroup> groups = call.World.AutoScalingGroups.Values
                .Where(g => names.Count == 0 || names.Contains(g.Name))
                .Where(g => filters.TrueForAll(f => Matches(g, f.Name, f.Values)))
                .OrderBy(g => g.Name, StringComparer.Ordinal)
                .ToList();
            (List<AutoScalingGroup> page, next) = Paging.Page(groups, offset, max);
            // Render inside the lock: the entities may change as soon as it is released.
            writers = page.Select(g => Snapshot(call.World, g)).ToList();
        }

        return AwsQueryProtocol.WriteResultAsync(call, XmlNamespace, "DescribeAutoScalingGroups", w =>
        {
            w.List("AutoScalingGroups", "member", writers, (w, write) => write(w));
            w.Element("NextToken", next);
        });
    }

    private static bool Matches(AutoScalingGroup g, string filter, List<string> values) => filter switch
    {
        "auto-scaling-group" => values.Contains(g.Name),
        "tag-key" => g.Tags.Exists(t => values.Contains(t.Key)),
        "tag-value" => g.Tags.Exists(t => values.Contains(t.Value)),
        _ => g.Tags.Exists(t => t.Key == filter["tag:".Length..] && values.Contains(t.Value)),
    };

    /// <summary>Copies a group into an XML writer callback (called under the world lock).</summary>
    private static Action<XmlWriter> Snapshot(SimWorld world, AutoScalingGroup g)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var w = XmlWriter.Create(text, new XmlWriterSettings { ConformanceLevel = ConformanceLevel.Fragment }))
        {
            w.WriteElementString("AutoScalingGroupName", g.Name);
            w.WriteElementString("AutoScalingGroupARN", g.Arn);
            if (g.UseMixedInstancesPolicy)
            {
                w.WriteStartElement("MixedInstancesPolicy");
                w.WriteStartElement("LaunchTemplate");
                WriteTemplate(w, "LaunchTemplateSpecification", g.LaunchTemplate);
                w.List("Overrides", "member", g.InstanceTypeOverrides, (w, t) =>
                {
                    w.WriteElementString("InstanceType", t);
                    if (g.OverrideTemplates.TryGetValue(t, out LaunchTemplateRef? own))
                    {
                        WriteTemplate(w, "LaunchTemplateSpecification", own);
                    }
                });
                w.WriteEndElement();
                w.WriteStartElement("InstancesDistribution");
                w.WriteElementString("OnDemandAllocationStrategy", "prioritized");
                w.WriteElementString("OnDemandBaseCapacity", "0");
                w.WriteElementString("OnDemandPercentageAboveBaseCapacity", "100");
                w.WriteElementString("SpotAllocationStrategy", "lowest-price");
                w.WriteEndElement();
                w.WriteEndElement();
            }
            else
            {
                WriteTemplate(w, "LaunchTemplate", g.LaunchTemplate);
            }

            w.WriteElementString("MinSize", Xml.Int(g.MinSize));
            w.WriteElementString("MaxSize", Xml.Int(g.MaxSize));
            w.WriteElementString("DesiredCapacity", Xml.Int(g.DesiredCapacity));
            w.WriteElementString("DefaultCooldown", "300");
            w.StringList("AvailabilityZones", "member", g.AvailabilityZones);
            w.StringList("LoadBalancerNames", "member", []);
            w.StringList("TargetGroupARNs", "member", []);
            w.WriteElementString("HealthCheckType", g.HealthCheckType);
            w.WriteElementString("HealthCheckGracePeriod", Xml.Int(g.HealthCheckGracePeriod));
            List<Ec2Instance> instances = g.InstanceIds.Select(id => world.Instances[id]).Where(i => i.State != "terminated").ToList();
            w.List("Instances", "member", instances, WriteMember);
            w.WriteElementString("CreatedTime", Xml.Time(g.CreatedTime));
            w.List("SuspendedProcesses", "member", g.SuspendedProcesses, (w, s) =>
            {
                w.WriteElementString("ProcessName", s);
                DateTimeOffset at = world.ProcessSuspendedAt.GetValueOrDefault((g.Name, s), g.CreatedTime);
                w.WriteElementString("SuspensionReason", "User suspended at " + at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            });
            w.WriteElementString("VPCZoneIdentifier", string.Join(',', g.SubnetIds));
            w.StringList("EnabledMetrics", "member", []);
            w.List("Tags", "member", g.Tags, (w, t) =>
            {
                w.WriteElementString("ResourceId", g.Name);
                w.WriteElementString("ResourceType", "auto-scaling-group");
                w.WriteElementString("Key", t.Key);
                w.WriteElementString("Value", t.Value);
                w.WriteElementString("PropagateAtLaunch", Xml.Bool(t.PropagateAtLaunch));
            });
            w.StringList("TerminationPolicies", "member", ["AllocationStrategy", "OldestLaunchTemplate", "OldestInstance"]);
            w.WriteElementString("NewInstancesProtectedFromScaleIn", "false");
            w.Element("ServiceLinkedRoleARN", g.ServiceLinkedRoleArn);
            w.WriteElementString("CapacityRebalance", Xml.Bool(g.CapacityRebalance));
            WriteWarmPoolSummary(w, g);
        }

        string inner = text.ToString();
        return w => w.WriteRaw(inner);
    }

    /// <summary>An instance as a group (or its warm pool) lists it.</summary>
    internal static void WriteMember(XmlWriter w, Ec2Instance i)
    {
        w.WriteElementString("InstanceId", i.InstanceId);
        w.WriteElementString("InstanceType", i.InstanceType);
        w.WriteElementString("AvailabilityZone", i.AvailabilityZone);
        w.WriteElementString("LifecycleState", i.LifecycleState);
        w.WriteElementString("HealthStatus", i.HealthStatus);
        if (i.LaunchTemplate is not null)
        {
            WriteTemplate(w, "LaunchTemplate", i.LaunchTemplate);
        }

        w.WriteElementString("ProtectedFromScaleIn", Xml.Bool(i.ProtectedFromScaleIn));
    }

    internal static void WriteTemplate(XmlWriter w, string element, LaunchTemplateRef t)
    {
        w.WriteStartElement(element);
        w.WriteElementString("LaunchTemplateId", t.LaunchTemplateId);
        w.WriteElementString("LaunchTemplateName", t.LaunchTemplateName);
        w.WriteElementString("Version", t.Version);
        w.WriteEndElement();
    }

    private Task DescribeAutoScalingInstances(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        (int max, int offset) = PageParameters(p);
        List<string> ids = p.List("InstanceIds.member");
        if (ids.Count > 50)
        {
            throw new AwsException(400, "ValidationError", "The number of instance ids that may be passed in is limited to 50");
        }

        List<(string InstanceId, string InstanceType, string? AutoScalingGroupName, string AvailabilityZone, string LifecycleState, string HealthStatus, LaunchTemplateRef? LaunchTemplate, bool ProtectedFromScaleIn)> rows;
        string? next;
        lock (call.World.Gate)
        {
            // Unknown ids are left out silently, as Auto Scaling does.
            List<Ec2Instance> instances = call.World.Instances.Values
                .Where(i => i.AutoScalingGroupName is not null && i.State != "terminated")
                .Where(i => ids.Count == 0 || ids.Contains(i.InstanceId))
                .OrderBy(i => i.InstanceId, StringComparer.Ordinal)
                .ToList();
            (List<Ec2Instance> page, next) = Paging.Page(instances, offset, max);
            rows = page.Select(i => (i.InstanceId, i.InstanceType, i.AutoScalingGroupName, i.AvailabilityZone, i.LifecycleState, i.HealthStatus, i.LaunchTemplate, i.ProtectedFromScaleIn)).ToList();
        }

        return AwsQueryProtocol.WriteResultAsync(call, XmlNamespace, "DescribeAutoScalingInstances", w =>
        {
            w.List("AutoScalingInstances", "member", rows, (w, i) =>
            {
                w.WriteElementString("InstanceId", i.InstanceId);
                w.WriteElementString("InstanceType", i.InstanceType);
                w.Element("AutoScalingGroupName", i.AutoScalingGroupName);
                w.WriteElementString("AvailabilityZone", i.AvailabilityZone);
                w.WriteElementString("LifecycleState", i.LifecycleState);
                w.WriteElementString("HealthStatus", i.HealthStatus.ToUpperInvariant());
                if (i.LaunchTemplate is not null)
                {
                    WriteTemplate(w, "LaunchTemplate", i.LaunchTemplate);
                }

                w.WriteElementString("ProtectedFromScaleIn", Xml.Bool(i.ProtectedFromScaleIn));
            });
            w.Element("NextToken", next);
        });
    }

    internal static (int Max, int Offset) PageParameters(QueryParams p)
    {
        int max = 50;
        string? maxText = p.Get("MaxRecords");
        if (maxText is not null && (!int.TryParse(maxText, NumberStyles.Integer, CultureInfo.InvariantCulture, out max) || max is < 1 or > 100))
        {
            throw new AwsException(400, "ValidationError", $"1 validation error detected: Value '{maxText}' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100");
        }

        if (!Paging.TryDecode(p.Get("NextToken"), out int offset))
        {
            throw new AwsException(400, "InvalidNextToken", "The token is invalid.");
        }

        return (max, offset);
    }
}
