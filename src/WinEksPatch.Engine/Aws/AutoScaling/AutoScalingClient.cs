using System.Globalization;
using System.Xml.Linq;
using WinEksPatch.Abstractions;
using WinEksPatch.Aws.Thin;

namespace WinEksPatch.Aws.AutoScaling;

/// <summary>Auto Scaling over awsQuery (service model autoscaling-2011-01-01): only the operations the module uses.</summary>
public sealed class AutoScalingClient(ThinServiceClient client) : IAutoScalingApi
{
    /// <summary>DescribeAutoScalingInstances takes at most 50 ids per call.</summary>
    internal const int InstanceBatchSize = 50;

    /// <summary>DescribeScalingActivities returns at most 100 activities per page.</summary>
    private const int ActivityPageSize = 100;

    public async Task<IReadOnlyList<AutoScalingGroup>> DescribeAutoScalingGroupsAsync(
        IReadOnlyCollection<string>? names = null,
        IReadOnlyDictionary<string, IReadOnlyCollection<string>>? filters = null,
        CancellationToken cancellationToken = default)
    {
        var groups = new List<AutoScalingGroup>();
        await foreach (var result in PagesAsync("DescribeAutoScalingGroups", names is { Count: 1 } ? names.First() : null, request =>
        {
            AddMembers(request, "AutoScalingGroupNames", names ?? []);
            var i = 1;
            foreach (var (name, values) in filters ?? new Dictionary<string, IReadOnlyCollection<string>>())
            {
                request.Parameters[$"Filters.member.{i}.Name"] = name;
                AddMembers(request, $"Filters.member.{i}.Values", values);
                i++;
            }

            request.Parameters["MaxRecords"] = "100";
        }, cancellationToken).ConfigureAwait(false))
        {
            groups.AddRange(Members(result.Element(result.Name.Namespace + "AutoScalingGroups")).Select(ReadGroup));
        }

        return groups;
    }

    public async Task<IReadOnlyList<AutoScalingInstance>> DescribeAutoScalingInstancesAsync(
        IReadOnlyCollection<string> instanceIds, CancellationToken cancellationToken = default)
    {
        var instances = new List<AutoScalingInstance>();
        foreach (var batch in instanceIds.Distinct(StringComparer.Ordinal).Chunk(InstanceBatchSize))
        {
            await foreach (var result in PagesAsync("DescribeAutoScalingInstances", null, request =>
            {
                AddMembers(request, "InstanceIds", batch);
                request.Parameters["MaxRecords"] = InstanceBatchSize.ToString(CultureInfo.InvariantCulture);
            }, cancellationToken).ConfigureAwait(false))
            {
                var ns = result.Name.Namespace;
                instances.AddRange(Members(result.Element(ns + "AutoScalingInstances")).Select(e => new AutoScalingInstance(
                    Text(e, "InstanceId") ?? "", Text(e, "AutoScalingGroupName") ?? "", Text(e, "LifecycleState"), Text(e, "HealthStatus"))));
            }
        }

        return instances;
    }

    public Task UpdateAutoScalingGroupAsync(string name, int? minSize = null, int? maxSize = null, int? desiredCapacity = null,
        LaunchTemplateReference? launchTemplate = null, bool mixedInstancesPolicy = false, bool? capacityRebalance = null,
        IReadOnlyList<LaunchTemplateOverride>? overrides = null, CancellationToken cancellationToken = default) =>
        SendAsync("UpdateAutoScalingGroup", name, request =>
        {
            var n = 1;
            foreach (var o in overrides ?? [])
            {
                var member = $"MixedInstancesPolicy.LaunchTemplate.Overrides.member.{n++}.";
                request.Parameters[member + "InstanceType"] = o.InstanceType;
                if (o.LaunchTemplate != null)
                {
                    SetTemplate(request, member + "LaunchTemplateSpecification.", o.LaunchTemplate);
                }
            }

            request.Parameters["AutoScalingGroupName"] = name;
            Set(request, "MinSize", minSize);
            Set(request, "MaxSize", maxSize);
            Set(request, "DesiredCapacity", desiredCapacity);
            if (capacityRebalance is { } rebalance)
            {
                request.Parameters["CapacityRebalance"] = rebalance ? "true" : "false";
            }

            if (launchTemplate != null)
            {
                SetTemplate(request, mixedInstancesPolicy ? "MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification." : "LaunchTemplate.", launchTemplate);
            }
        }, cancellationToken);

    public Task SetDesiredCapacityAsync(string name, int desiredCapacity, CancellationToken cancellationToken = default) =>
        SendAsync("SetDesiredCapacity", name, request =>
        {
            request.Parameters["AutoScalingGroupName"] = name;
            Set(request, "DesiredCapacity", desiredCapacity);
            request.Parameters["HonorCooldown"] = "false";
        }, cancellationToken);

    public Task TerminateInstanceInAutoScalingGroupAsync(string instanceId, bool decrementDesiredCapacity, CancellationToken cancellationToken = default) =>
        SendAsync("TerminateInstanceInAutoScalingGroup", instanceId, request =>
        {
            request.Parameters["InstanceId"] = instanceId;
            request.Parameters["ShouldDecrementDesiredCapacity"] = decrementDesiredCapacity ? "true" : "false";
        }, cancellationToken);

    public Task SuspendProcessesAsync(string name, IReadOnlyCollection<string> processes, CancellationToken cancellationToken = default) =>
        SendAsync("SuspendProcesses", name, request =>
        {
            request.Parameters["AutoScalingGroupName"] = name;
            AddMembers(request, "ScalingProcesses", processes);
        }, cancellationToken);

    public Task ResumeProcessesAsync(string name, IReadOnlyCollection<string> processes, CancellationToken cancellationToken = default) =>
        SendAsync("ResumeProcesses", name, request =>
        {
            request.Parameters["AutoScalingGroupName"] = name;
            AddMembers(request, "ScalingProcesses", processes);
        }, cancellationToken);

    public Task CreateOrUpdateTagsAsync(string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default) =>
        SendAsync("CreateOrUpdateTags", name, request =>
        {
            var i = 1;
            foreach (var (key, value) in tags)
            {
                request.Parameters[$"Tags.member.{i}.ResourceId"] = name;
                request.Parameters[$"Tags.member.{i}.ResourceType"] = "auto-scaling-group";
                request.Parameters[$"Tags.member.{i}.Key"] = key;
                request.Parameters[$"Tags.member.{i}.Value"] = value;
                request.Parameters[$"Tags.member.{i}.PropagateAtLaunch"] = "false";
                i++;
            }
        }, cancellationToken);

    public Task DeleteTagsAsync(string name, IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default) =>
        SendAsync("DeleteTags", name, request =>
        {
            var i = 1;
            foreach (var key in keys)
            {
                request.Parameters[$"Tags.member.{i}.ResourceId"] = name;
                request.Parameters[$"Tags.member.{i}.ResourceType"] = "auto-scaling-group";
                request.Parameters[$"Tags.member.{i}.Key"] = key;
                i++;
            }
        }, cancellationToken);

    public async Task<IReadOnlyList<LifecycleHookInfo>> DescribeLifecycleHooksAsync(string name, CancellationToken cancellationToken = default)
    {
        var hooks = new List<LifecycleHookInfo>();
        await foreach (var result in PagesAsync("DescribeLifecycleHooks", name, request => request.Parameters["AutoScalingGroupName"] = name, cancellationToken)
            .ConfigureAwait(false))
        {
            hooks.AddRange(Members(result.Element(result.Name.Namespace + "LifecycleHooks")).Select(h => new LifecycleHookInfo(
                Text(h, "LifecycleHookName") ?? "", Text(h, "LifecycleTransition") ?? "", Int(h, "HeartbeatTimeout"), Text(h, "DefaultResult"))));
        }

        return hooks;
    }

    public async Task<IReadOnlyList<InstanceRefreshInfo>> DescribeInstanceRefreshesAsync(string name, CancellationToken cancellationToken = default)
    {
        // Newest first: the first page holds a refresh still running (there is at most one), so one page is enough.
        await foreach (var result in PagesAsync("DescribeInstanceRefreshes", name, request =>
        {
            request.Parameters["AutoScalingGroupName"] = name;
            request.Parameters["MaxRecords"] = "10";
        }, cancellationToken).ConfigureAwait(false))
        {
            return Members(result.Element(result.Name.Namespace + "InstanceRefreshes")).Select(r => new InstanceRefreshInfo(
                Text(r, "InstanceRefreshId") ?? "", Text(r, "Status") ?? "", Text(r, "StatusReason"), Date(Text(r, "StartTime")),
                int.TryParse(Text(r, "PercentageComplete"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) ? p : null)).ToList();
        }

        return [];
    }

    public async Task<IReadOnlyList<AutoScalingGroupInstance>> DescribeWarmPoolInstancesAsync(string name, CancellationToken cancellationToken = default)
    {
        var instances = new List<AutoScalingGroupInstance>();
        await foreach (var result in PagesAsync("DescribeWarmPool", name, request =>
        {
            request.Parameters["AutoScalingGroupName"] = name;
            request.Parameters["MaxRecords"] = "100";
        }, cancellationToken).ConfigureAwait(false))
        {
            instances.AddRange(Members(result.Element(result.Name.Namespace + "Instances")).Select(ReadInstance));
        }

        return instances;
    }

    public async Task<IReadOnlyList<ScalingActivity>> DescribeScalingActivitiesAsync(string name, int maxRecords = 20, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRecords);
        var activities = new List<ScalingActivity>();
        // Newest first, at most 100 per page: follows NextToken only until maxRecords are read, never through a group's whole history.
        await foreach (var result in PagesAsync("DescribeScalingActivities", name, request =>
        {
            request.Parameters["AutoScalingGroupName"] = name;
            request.Parameters["MaxRecords"] = Math.Min(maxRecords - activities.Count, ActivityPageSize).ToString(CultureInfo.InvariantCulture);
        }, cancellationToken).ConfigureAwait(false))
        {
            activities.AddRange(Members(result.Element(result.Name.Namespace + "Activities")).Select(a => new ScalingActivity(
                Text(a, "ActivityId") ?? "", Text(a, "Description"), Text(a, "Cause"), Text(a, "StatusCode"), Text(a, "StatusMessage"),
                Date(Text(a, "StartTime")), Date(Text(a, "EndTime")))));
            if (activities.Count >= maxRecords)
            {
                break;
            }
        }

        return activities.Take(maxRecords).ToList();
    }

    private async Task SendAsync(string operation, object? target, Action<ThinRequest> fill, CancellationToken cancellationToken)
    {
        var request = new ThinRequest(operation);
        fill(request);
        await AwsErrorTranslator.CallAsync(operation, target, () => client.SendAsync(request, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>A launch template specification under <paramref name="prefix"/>: its id (else its name) and version.</summary>
    private static void SetTemplate(ThinRequest request, string prefix, LaunchTemplateReference template)
    {
        if (template.Id != null)
        {
            request.Parameters[prefix + "LaunchTemplateId"] = template.Id;
        }
        else if (template.Name != null)
        {
            request.Parameters[prefix + "LaunchTemplateName"] = template.Name;
        }

        if (template.Version != null)
        {
            request.Parameters[prefix + "Version"] = template.Version;
        }
    }

    private static void Set(ThinRequest request, string name, int? value)
    {
        if (value is { } v)
        {
            request.Parameters[name] = v.ToString(CultureInfo.InvariantCulture);
        }
    }

    private static DateTimeOffset? Date(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d) ? d : null;

    /// <summary>Sends one operation page by page (NextToken) and yields each page's &lt;{Operation}Result&gt; element.</summary>
    private async IAsyncEnumerable<XElement> PagesAsync(string operation, object? target, Action<ThinRequest> fill,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? next = null;
        do
        {
            var request = new ThinRequest(operation);
            fill(request);
            if (next != null)
            {
                request.Parameters["NextToken"] = next;
            }

            var response = await AwsErrorTranslator.CallAsync(operation, target,
                () => client.SendAsync(request, cancellationToken)).ConfigureAwait(false);
            var root = XDocument.Parse(response.Body).Root
                ?? throw new InvalidDataException($"{operation} returned an empty document.");
            var result = root.Element(root.Name.Namespace + operation + "Result")
                ?? throw new InvalidDataException($"{operation} returned no {operation}Result element.");
            yield return result;
            next = Text(result, "NextToken");
            next = string.IsNullOrEmpty(next) ? null : next;
        }
        while (next != null);
    }

    private static AutoScalingGroup ReadGroup(XElement g)
    {
        var mixed = g.Element(g.Name.Namespace + "MixedInstancesPolicy");
        var template = ReadTemplate(g.Element(g.Name.Namespace + "LaunchTemplate"))
            ?? ReadTemplate(mixed?.Element(g.Name.Namespace + "LaunchTemplate")?.Element(g.Name.Namespace + "LaunchTemplateSpecification"));
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in Members(g.Element(g.Name.Namespace + "Tags")))
        {
            tags[Text(tag, "Key") ?? ""] = Text(tag, "Value") ?? "";
        }

        return new AutoScalingGroup(
            Text(g, "AutoScalingGroupName") ?? "",
            Int(g, "MinSize"),
            Int(g, "MaxSize"),
            Int(g, "DesiredCapacity"),
            template,
            mixed != null,
            Members(g.Element(g.Name.Namespace + "Instances")).Select(ReadInstance).ToList(),
            tags,
            Members(g.Element(g.Name.Namespace + "SuspendedProcesses")).Select(p => Text(p, "ProcessName")).OfType<string>().ToList(),
            string.Equals(Text(g, "CapacityRebalance"), "true", StringComparison.OrdinalIgnoreCase),
            Members(mixed?.Element(g.Name.Namespace + "LaunchTemplate")?.Element(g.Name.Namespace + "Overrides"))
                .Select(o => new LaunchTemplateOverride(Text(o, "InstanceType") ?? "", ReadTemplate(o.Element(o.Name.Namespace + "LaunchTemplateSpecification"))))
                .ToList());
    }

    private static AutoScalingGroupInstance ReadInstance(XElement i) => new(
        Text(i, "InstanceId") ?? "",
        Text(i, "LifecycleState"),
        Text(i, "HealthStatus"),
        Text(i, "AvailabilityZone"),
        string.Equals(Text(i, "ProtectedFromScaleIn"), "true", StringComparison.OrdinalIgnoreCase),
        ReadTemplate(i.Element(i.Name.Namespace + "LaunchTemplate")));

    private static LaunchTemplateReference? ReadTemplate(XElement? e) =>
        e == null ? null : new LaunchTemplateReference(Text(e, "LaunchTemplateId"), Text(e, "LaunchTemplateName"), Text(e, "Version"));

    private static void AddMembers(ThinRequest request, string prefix, IEnumerable<string> values)
    {
        var i = 1;
        foreach (var value in values)
        {
            request.Parameters[$"{prefix}.member.{i++}"] = value;
        }
    }

    private static IEnumerable<XElement> Members(XElement? list) =>
        list?.Elements(list.Name.Namespace + "member") ?? [];

    private static string? Text(XElement e, string name) => e.Element(e.Name.Namespace + name)?.Value;

    private static int Int(XElement e, string name) =>
        int.TryParse(Text(e, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;
}
