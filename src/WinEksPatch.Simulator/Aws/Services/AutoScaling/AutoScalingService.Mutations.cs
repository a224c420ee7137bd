using System.Globalization;
using System.Xml;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.AutoScaling;

// The Auto Scaling operations that change groups (capacity, launch template, protection, processes, tags) and the
// scaling activities they cause. The world does the launching and terminating (SimWorld.Fleet.cs); this file
// validates and answers as Auto Scaling does (errors are ValidationError, 400, with the service's messages).
public sealed partial class AutoScalingService
{
    private static Task UpdateAutoScalingGroup(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string name = Required(p, "AutoScalingGroupName", "autoScalingGroupName");
        int? min = OptionalInt(p, "MinSize", "minSize");
        int? max = OptionalInt(p, "MaxSize", "maxSize");
        int? desired = OptionalInt(p, "DesiredCapacity", "desiredCapacity");
        int? grace = OptionalInt(p, "HealthCheckGracePeriod", "healthCheckGracePeriod");
        string? healthCheckType = p.Get("HealthCheckType");
        bool? capacityRebalance = OptionalBool(p, "CapacityRebalance", "capacityRebalance");
        bool plainTemplate = p.Names.Any(n => n.StartsWith("LaunchTemplate.", StringComparison.Ordinal));
        bool mixedTemplate = p.Names.Any(n => n.StartsWith("MixedInstancesPolicy.", StringComparison.Ordinal));
        if (plainTemplate && mixedTemplate)
        {
            throw Validation("Incompatible parameters: LaunchTemplate and MixedInstancesPolicy cannot be specified together.");
        }

        if (healthCheckType is not (null or "EC2" or "ELB" or "VPC_LATTICE" or "EBS"))
        {
            throw Validation($"Invalid health check type: {healthCheckType}. Valid types are EC2, ELB, VPC_LATTICE and EBS.");
        }

        lock (call.World.Gate)
        {
            AutoScalingGroup g = FindGroup(call.World, name);
            int newMin = min ?? g.MinSize;
            int newMax = max ?? g.MaxSize;
            if (newMin > newMax)
            {
                throw Validation($"Max bound, {newMax}, must be greater than or equal to min bound, {newMin}");
            }

            // Without a new desired capacity, Auto Scaling moves it into the new bounds.
            int newDesired = desired ?? Math.Clamp(g.DesiredCapacity, newMin, newMax);
            if (newDesired < newMin || newDesired > newMax)
            {
                throw Validation($"Desired capacity:{newDesired} must be between the specified min size:{newMin} and max size:{newMax}");
            }

            LaunchTemplateRef? template = null;
            if (plainTemplate || mixedTemplate)
            {
                if (plainTemplate && g.UseMixedInstancesPolicy)
                {
                    throw Validation("The group uses a MixedInstancesPolicy: update MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification instead of LaunchTemplate.");
                }

                if (mixedTemplate && !g.UseMixedInstancesPolicy)
                {
                    throw Validation("The group has no MixedInstancesPolicy: update LaunchTemplate instead.");
                }

                string prefix = plainTemplate ? "LaunchTemplate" : "MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification";
                // A policy update may name only its overrides: the policy's own template is then left as it is.
                template = p.Names.Any(n => n.StartsWith(prefix + ".", StringComparison.Ordinal)) ? ValidTemplate(call.World, p, prefix, g.LaunchTemplate) : null;
            }

            if (mixedTemplate)
            {
                // Overrides, when given, replace the list: each an instance type, optionally with its own launch template.
                List<int> overrides = p.Indexed("MixedInstancesPolicy.LaunchTemplate.Overrides.member");
                if (overrides.Count > 0)
                {
                    var types = new List<string>();
                    var templates = new Dictionary<string, LaunchTemplateRef>(StringComparer.Ordinal);
                    foreach (int i in overrides)
                    {
                        string member = $"MixedInstancesPolicy.LaunchTemplate.Overrides.member.{i}";
                        string type = p.Get(member + ".InstanceType") ?? throw Validation($"Overrides member {i}: an InstanceType is required.");
                        types.Add(type);
                        if (p.Names.Any(n => n.StartsWith(member + ".LaunchTemplateSpecification.", StringComparison.Ordinal)))
                        {
                            templates[type] = ValidTemplate(call.World, p, member + ".LaunchTemplateSpecification", g.LaunchTemplate);
                        }
                    }

                    g.InstanceTypeOverrides.Clear();
                    g.InstanceTypeOverrides.AddRange(types);
                    g.OverrideTemplates.Clear();
                    foreach ((string type, LaunchTemplateRef own) in templates)
                    {
                        g.OverrideTemplates[type] = own;
                    }
                }
            }

            if (template is not null)
            {
                g.LaunchTemplate = template;
            }

            if (grace is int seconds)
            {
                g.HealthCheckGracePeriod = seconds;
            }

            if (healthCheckType is not null)
            {
                g.HealthCheckType = healthCheckType;
            }

            g.CapacityRebalance = capacityRebalance ?? g.CapacityRebalance;

            int before = g.DesiredCapacity;
            g.MinSize = newMin;
            g.MaxSize = newMax;
            g.DesiredCapacity = newDesired;
            call.World.ReconcileGroup(g, before == newDesired ? null
                : $"At {call.World.Stamp()} a user request update of AutoScalingGroup constraints to min: {newMin}, max: {newMax}, desired: {newDesired} changing the desired capacity from {before} to {newDesired}.");
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "UpdateAutoScalingGroup", null);
    }

    private static Task SetDesiredCapacity(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string name = Required(p, "AutoScalingGroupName", "autoScalingGroupName");
        int desired = OptionalInt(p, "DesiredCapacity", "desiredCapacity") ?? throw NullMember("desiredCapacity");
        OptionalBool(p, "HonorCooldown", "honorCooldown");
        lock (call.World.Gate)
        {
            AutoScalingGroup g = FindGroup(call.World, name);
            if (desired > g.MaxSize)
            {
                throw Validation($"New SetDesiredCapacity value {desired} is above max value {g.MaxSize} for the AutoScalingGroup.");
            }

            if (desired < g.MinSize)
            {
                throw Validation($"New SetDesiredCapacity value {desired} is below min value {g.MinSize} for the AutoScalingGroup.");
            }

            int before = g.DesiredCapacity;
            g.DesiredCapacity = desired;
            call.World.ReconcileGroup(g, before == desired ? null
                : $"At {call.World.Stamp()} a user request explicitly set group desired capacity changing the desired capacity from {before} to {desired}.");
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "SetDesiredCapacity", null);
    }

    private static Task TerminateInstanceInAutoScalingGroup(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string instanceId = Required(p, "InstanceId", "instanceId");
        bool decrement = OptionalBool(p, "ShouldDecrementDesiredCapacity", "shouldDecrementDesiredCapacity") ?? throw NullMember("shouldDecrementDesiredCapacity");
        string activityXml;
        lock (call.World.Gate)
        {
            Ec2Instance? instance = call.World.Instances.GetValueOrDefault(instanceId);
            AutoScalingGroup? g = instance?.AutoScalingGroupName is { } groupName ? call.World.AutoScalingGroups.GetValueOrDefault(groupName) : null;
            if (instance is null || g is null || !g.InstanceIds.Contains(instanceId) || instance.LifecycleState == "Terminated")
            {
                throw Validation($"Instance Id not found - No managed instance found for instance ID: {instanceId}");
            }

            if (decrement && g.DesiredCapacity <= g.MinSize)
            {
                throw Validation($"Currently, desiredSize equals minSize ({g.MinSize}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.");
            }

            ScalingActivity activity;
            if (instance.LifecycleState is "Terminating" or "Terminating:Wait" or "Terminating:Proceed")
            {
                // Already leaving: Auto Scaling answers with the activity under way.
                activity = call.World.ScalingActivities.Last(a => a.InstanceId == instanceId && a.Description.StartsWith("Terminating", StringComparison.Ordinal));
            }
            else
            {
                int before = call.World.ActiveMembers(g).Count;
                string cause = decrement
                    ? $"At {call.World.Stamp()} instance {instanceId} was taken out of service in response to a user request, shrinking the capacity from {before} to {before - 1}."
                    : $"At {call.World.Stamp()} instance {instanceId} was taken out of service in response to a user request.";
                if (decrement)
                {
                    g.DesiredCapacity--;
                }

                activity = call.World.BeginTermination(g, instance, cause);
                // Without the decrement the group is now below desired capacity and launches a replacement.
                call.World.ReconcileGroup(g, null);
            }

            activityXml = Xml.Fragment(w => WriteActivity(w, activity));
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "TerminateInstanceInAutoScalingGroup", w =>
        {
            w.WriteStartElement("Activity");
            w.WriteRaw(activityXml);
            w.WriteEndElement();
        });
    }

    private static Task SetInstanceProtection(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string name = Required(p, "AutoScalingGroupName", "autoScalingGroupName");
        List<string> ids = p.List("InstanceIds.member");
        if (!p.Has("InstanceIds") && ids.Count == 0)
        {
            throw NullMember("instanceIds");
        }

        bool protect = OptionalBool(p, "ProtectedFromScaleIn", "protectedFromScaleIn") ?? throw NullMember("protectedFromScaleIn");
        if (ids.Count > 50)
        {
            throw Validation("1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 50");
        }

        lock (call.World.Gate)
        {
            AutoScalingGroup g = FindGroup(call.World, name);
            string? stranger = ids.Find(id => !g.InstanceIds.Contains(id));
            if (stranger is not null)
            {
                throw Validation($"The instance {stranger} is not part of Auto Scaling group {name}.");
            }

            foreach (string id in ids)
            {
                call.World.Instances[id].ProtectedFromScaleIn = protect;
            }
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "SetInstanceProtection", _ => { });
    }

    private static Task SuspendOrResumeProcesses(AwsCall call, bool suspend)
    {
        QueryParams p = call.FormOrQuery;
        string name = Required(p, "AutoScalingGroupName", "autoScalingGroupName");
        List<string> processes = p.List("ScalingProcesses.member");
        string? unknown = processes.Find(s => !SimWorld.ScalingProcesses.Contains(s));
        if (unknown is not null)
        {
            throw Validation($"Scaling process '{unknown}' is not recognized. Valid processes are: {string.Join(", ", SimWorld.ScalingProcesses)}.");
        }

        lock (call.World.Gate)
        {
            AutoScalingGroup g = FindGroup(call.World, name);
            // No list means every process.
            IEnumerable<string> targets = processes.Count == 0 ? SimWorld.ScalingProcesses : processes.Distinct(StringComparer.Ordinal);
            foreach (string process in targets)
            {
                if (suspend && !g.SuspendedProcesses.Contains(process))
                {
                    g.SuspendedProcesses.Add(process);
                    call.World.ProcessSuspendedAt[(g.Name, process)] = call.World.Scheduler.Now;
                }
                else if (!suspend)
                {
                    g.SuspendedProcesses.Remove(process);
                    call.World.ProcessSuspendedAt.Remove((g.Name, process));
                }
            }

            if (!suspend)
            {
                // Resuming Launch or Terminate lets the group catch up with its desired capacity.
                call.World.ReconcileGroup(g, null);
            }
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, suspend ? "SuspendProcesses" : "ResumeProcesses", null);
    }

    private static Task DescribeScalingActivities(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        (int max, int offset) = PageParameters(p);
        string? name = p.Get("AutoScalingGroupName");
        List<string> ids = p.List("ActivityIds.member");
        if (ids.Count > 50)
        {
            throw Validation("The number of activity ids that may be passed in is limited to 50");
        }

        string body;
        lock (call.World.Gate)
        {
            // Newest first, as Auto Scaling lists them.
            List<ScalingActivity> activities = Enumerable.Reverse(call.World.ScalingActivities)
                .Where(a => name is null || a.AutoScalingGroupName == name)
                .Where(a => ids.Count == 0 || ids.Contains(a.ActivityId))
                .ToList();
            (List<ScalingActivity> page, string? next) = Paging.Page(activities, offset, max);
            body = Xml.Fragment(w =>
            {
                w.List("Activities", "member", page, WriteActivity);
                w.Element("NextToken", next);
            });
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "DescribeScalingActivities", w => w.WriteRaw(body));
    }

    private static void WriteActivity(XmlWriter w, ScalingActivity a)
    {
        w.WriteElementString("ActivityId", a.ActivityId);
        w.WriteElementString("AutoScalingGroupName", a.AutoScalingGroupName);
        w.WriteElementString("Description", a.Description);
        w.WriteElementString("Cause", a.Cause);
        w.WriteElementString("StartTime", Xml.Time(a.StartTime));
        if (a.EndTime is { } end)
        {
            w.WriteElementString("EndTime", Xml.Time(end));
        }

        w.WriteElementString("StatusCode", a.StatusCode);
        w.Element("StatusMessage", a.StatusMessage);
        w.WriteElementString("Progress", Xml.Int(a.Progress));
        w.WriteElementString("Details", a.Details);
        w.WriteElementString("AutoScalingGroupARN", a.AutoScalingGroupArn);
    }

    // ---- tags ------------------------------------------------------------------------------------

    private static List<(string GroupName, string Key, string? Value, bool? Propagate)> TagParameters(QueryParams p, bool requireValue)
    {
        List<int> indexes = p.Indexed("Tags.member");
        if (indexes.Count == 0)
        {
            throw NullMember("tags");
        }

        var tags = new List<(string, string, string?, bool?)>();
        foreach (int i in indexes)
        {
            string prefix = $"Tags.member.{i}.";
            string resourceId = p.Get(prefix + "ResourceId") ?? throw Validation("1 validation error detected: Value null at 'tags.member.resourceId' failed to satisfy constraint: Member must not be null");
            string resourceType = p.Get(prefix + "ResourceType") ?? "auto-scaling-group";
            if (resourceType != "auto-scaling-group")
            {
                throw Validation($"Invalid resource type: {resourceType}. The only valid resource type is auto-scaling-group.");
            }

            string key = p.Get(prefix + "Key") ?? throw Validation("1 validation error detected: Value null at 'tags.member.key' failed to satisfy constraint: Member must not be null");
            if (key.Length is 0 or > 128 || key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
            {
                throw Validation($"Tag key '{key}' is invalid: keys are 1 to 128 characters and may not start with 'aws:'.");
            }

            string? value = p.Get(prefix + "Value");
            if (requireValue)
            {
                value ??= "";
            }

            tags.Add((resourceId, key, value, OptionalBool(p, prefix + "PropagateAtLaunch", "tags.member.propagateAtLaunch")));
        }

        return tags;
    }

    private static Task CreateOrUpdateTags(AwsCall call)
    {
        List<(string GroupName, string Key, string? Value, bool? Propagate)> tags = TagParameters(call.FormOrQuery, requireValue: true);
        lock (call.World.Gate)
        {
            foreach (string name in tags.Select(t => t.GroupName).Distinct(StringComparer.Ordinal))
            {
                FindGroup(call.World, name);
            }

            foreach ((string groupName, string key, string? value, bool? propagate) in tags)
            {
                AutoScalingGroup g = call.World.AutoScalingGroups[groupName];
                Tag? tag = g.Tags.Find(t => t.Key == key);
                if (tag is null)
                {
                    g.Tags.Add(new Tag { Key = key, Value = value ?? "", PropagateAtLaunch = propagate ?? false });
                }
                else
                {
                    tag.Value = value ?? "";
                    tag.PropagateAtLaunch = propagate ?? tag.PropagateAtLaunch;
                }
            }
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "CreateOrUpdateTags", null);
    }

    private static Task DeleteTags(AwsCall call)
    {
        List<(string GroupName, string Key, string? Value, bool? Propagate)> tags = TagParameters(call.FormOrQuery, requireValue: false);
        lock (call.World.Gate)
        {
            foreach (string name in tags.Select(t => t.GroupName).Distinct(StringComparer.Ordinal))
            {
                FindGroup(call.World, name);
            }

            foreach ((string groupName, string key, string? value, _) in tags)
            {
                // A value, when given, must match for the tag to go (as DeleteTags documents).
                call.World.AutoScalingGroups[groupName].Tags.RemoveAll(t => t.Key == key && (value is null || t.Value == value));
            }
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "DeleteTags", null);
    }

    private static Task DescribeTags(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        (int max, int offset) = PageParameters(p);
        List<(string Name, List<string> Values)> filters = p.Filters("Filters.member", "Values.member");
        foreach ((string filter, _) in filters)
        {
            if (filter is not ("auto-scaling-group" or "key" or "value" or "propagate-at-launch"))
            {
                throw Validation($"Filter type {filter} is not correct. Allowed Filter types are: auto-scaling-group key value propagate-at-launch");
            }
        }

        string body;
        lock (call.World.Gate)
        {
            var rows = call.World.AutoScalingGroups.Values
                .OrderBy(g => g.Name, StringComparer.Ordinal)
                .SelectMany(g => g.Tags.Select(t => (Group: g.Name, Tag: t)))
                .Where(r => filters.TrueForAll(f => f.Name switch
                {
                    "auto-scaling-group" => f.Values.Contains(r.Group),
                    "key" => f.Values.Contains(r.Tag.Key),
                    "value" => f.Values.Contains(r.Tag.Value),
                    _ => f.Values.Contains(Xml.Bool(r.Tag.PropagateAtLaunch)),
                }))
                .ToList();
            (var page, string? next) = Paging.Page(rows, offset, max);
            body = Xml.Fragment(w =>
            {
                w.List("Tags", "member", page, (w, r) =>
                {
                    w.WriteElementString("ResourceId", r.Group);
                    w.WriteElementString("ResourceType", "auto-scaling-group");
                    w.WriteElementString("Key", r.Tag.Key);
                    w.WriteElementString("Value", r.Tag.Value);
                    w.WriteElementString("PropagateAtLaunch", Xml.Bool(r.Tag.PropagateAtLaunch));
                });
                w.Element("NextToken", next);
            });
        }

        return AwsQueryProtocol.WriteResultAsync(call, NamespaceOf, "DescribeTags", w => w.WriteRaw(body));
    }

    // ---- validation --------------------------------------------------------------------------

    private const string NamespaceOf = "http://autoscaling.amazonaws.com/doc/2011-01-01/";

    private static AutoScalingGroup FindGroup(SimWorld world, string name) =>
        world.AutoScalingGroups.GetValueOrDefault(name)
            ?? throw Validation($"AutoScalingGroup name not found - AutoScalingGroup '{name}' not found");

    /// <summary>A launch template specification (Id or Name, Version) that names an existing template and version.</summary>
    private static LaunchTemplateRef ValidTemplate(SimWorld world, QueryParams p, string prefix, LaunchTemplateRef current)
    {
        string? id = p.Get(prefix + ".LaunchTemplateId");
        string? name = p.Get(prefix + ".LaunchTemplateName");
        string? version = p.Get(prefix + ".Version");
        if (id is not null && name is not null)
        {
            throw Validation("Valid requests must contain either launchTemplateId or LaunchTemplateName, but not both.");
        }

        LaunchTemplate? template = id is not null ? world.LaunchTemplates.GetValueOrDefault(id)
            : name is not null ? world.LaunchTemplates.Values.FirstOrDefault(t => t.LaunchTemplateName == name)
            : world.LaunchTemplates.GetValueOrDefault(current.LaunchTemplateId);
        if (template is null)
        {
            throw Validation(id is not null
                ? $"You must use a valid fully-formed launch template. The specified launch template, with template ID {id}, does not exist."
                : $"You must use a valid fully-formed launch template. The specified launch template, with template name {name}, does not exist.");
        }

        version ??= "$Default";
        if (template.Resolve(version) is null)
        {
            throw Validation($"You must use a valid fully-formed launch template. The specified launch template version {version} for launch template {template.LaunchTemplateId} does not exist.");
        }

        // Auto Scaling checks the template's instance profile (and iam:PassRole on its role) when a group is set to it: one
        // that does not exist is refused here, never let through unchecked.
        if (template.Resolve(version)!.IamInstanceProfileArn is { } profile && world.RoleOfInstanceProfile(profile) is null)
        {
            throw Validation($"You must use a valid fully-formed launch template. Value ({profile}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN");
        }

        return new LaunchTemplateRef(template.LaunchTemplateId, template.LaunchTemplateName, version);
    }

    private static string Required(QueryParams p, string parameter, string member) =>
        p.Get(parameter) is { Length: > 0 } value ? value : throw NullMember(member);

    private static int? OptionalInt(QueryParams p, string parameter, string member)
    {
        string? text = p.Get(parameter);
        if (text is null)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) && n >= 0
            ? n
            : throw Validation($"1 validation error detected: Value '{text}' at '{member}' failed to satisfy constraint: Member must have value greater than or equal to 0");
    }

    private static bool? OptionalBool(QueryParams p, string parameter, string member) => p.Get(parameter) switch
    {
        null => null,
        "true" => true,
        "false" => false,
        string other => throw Validation($"1 validation error detected: Value '{other}' at '{member}' failed to satisfy constraint: Member must be a boolean (true or false)"),
    };

    private static AwsException NullMember(string member) =>
        Validation($"1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null");

    private static AwsException Validation(string message) => new(400, "ValidationError", message);
}
