using System.Globalization;
using System.Text.Json.Nodes;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.Eks;

// EKS node group updates: UpdateNodegroupVersion (a managed rolling replacement, SimWorld.ManagedNodegroupUpdate.cs),
// UpdateNodegroupConfig (scaling, labels, maxUnavailable), DescribeUpdate and ListUpdates.
public sealed partial class EksService
{
    private static Task UpdateNodegroupVersion(AwsCall call, string clusterName, string name)
    {
        JsonObject body = JsonProtocol.ParseBody(call);
        string? version = JsonProtocol.String(body, "version");
        string? releaseVersion = JsonProtocol.String(body, "releaseVersion");
        bool force = JsonProtocol.Bool(body, "force") ?? false;
        JsonObject? launchTemplate = body["launchTemplate"] switch
        {
            null => null,
            JsonObject o => o,
            _ => throw new AwsException(400, "SerializationException", "Expected an object for member launchTemplate."),
        };

        JsonObject update;
        lock (call.World.Gate)
        {
            EksCluster cluster = FindCluster(call.World, clusterName);
            EksNodegroup nodegroup = FindNodegroup(call.World, clusterName, name);
            RequireNoUpdateInProgress(call.World, nodegroup);
            if (version is not null && CompareVersions(version, cluster.Version) > 0)
            {
                throw new AwsException(400, "InvalidParameterException", $"Requested Kubernetes version {version} is newer than the cluster's version {cluster.Version}.");
            }

            if (version is not null && CompareVersions(version, nodegroup.Version) < 0)
            {
                throw new AwsException(400, "InvalidParameterException", $"Requested Kubernetes version {version} is older than the node group's version {nodegroup.Version}; node groups cannot be downgraded.");
            }

            // The user's launch template: the same template, the version to move to.
            LaunchTemplateVersion? userVersion = null;
            LaunchTemplateRef? newUserTemplate = null;
            if (launchTemplate is not null)
            {
                if (nodegroup.LaunchTemplate is not { } current)
                {
                    throw new AwsException(400, "InvalidRequestException", "You cannot specify a launch template for a node group that was not created with a launch template.");
                }

                string? ltId = JsonProtocol.String(launchTemplate, "id");
                string? ltName = JsonProtocol.String(launchTemplate, "name");
                string? ltVersion = JsonProtocol.String(launchTemplate, "version");
                if ((ltId is not null && ltId != current.LaunchTemplateId) || (ltName is not null && ltName != current.LaunchTemplateName))
                {
                    throw new AwsException(400, "InvalidParameterException", $"The launch template must be the node group's own ({current.LaunchTemplateName}, {current.LaunchTemplateId}); only its version can change.");
                }

                LaunchTemplate template = call.World.LaunchTemplates[current.LaunchTemplateId];
                userVersion = template.Resolve(ltVersion ?? template.DefaultVersionNumber.ToString(CultureInfo.InvariantCulture))
                    ?? throw new AwsException(400, "InvalidParameterException", $"Launch template version {ltVersion} of {current.LaunchTemplateName} does not exist.");
                newUserTemplate = current with { Version = userVersion.VersionNumber.ToString(CultureInfo.InvariantCulture) };
            }
            else if (nodegroup.LaunchTemplate is { } current)
            {
                userVersion = call.World.LaunchTemplates[current.LaunchTemplateId].Resolve(current.Version);
            }

            AmiImage image = TargetImage(call.World, nodegroup, userVersion, version ?? nodegroup.Version, releaseVersion);
            if (newUserTemplate is not null)
            {
                nodegroup.LaunchTemplate = newUserTemplate;
            }

            var parameters = new List<(string, string)>();
            parameters.Add(("Version", image.KubernetesVersion));
            parameters.Add(("ReleaseVersion", EksNodegroup.ReleaseVersionOf(image, nodegroup.AmiType)));
            if (newUserTemplate is not null)
            {
                parameters.Add(("LaunchTemplateName", newUserTemplate.LaunchTemplateName));
                parameters.Add(("LaunchTemplateVersion", newUserTemplate.Version));
            }

            EksUpdate started = call.World.StartNodegroupVersionUpdate(nodegroup, image, userVersion?.UserData, force, parameters);
            update = UpdateJson(started);
        }

        return JsonProtocol.WriteAsync(call, new JsonObject { ["update"] = update });
    }

    /// <summary>
    /// The AMI a version update moves to: the launch template's own AMI for a CUSTOM node group, else the EKS-optimized
    /// AMI of the group's AMI type for the release version (default: the newest for the Kubernetes version).
    /// </summary>
    private static AmiImage TargetImage(SimWorld world, EksNodegroup nodegroup, LaunchTemplateVersion? userVersion, string kubernetesVersion, string? releaseVersion)
    {
        if (userVersion?.ImageId is { } named)
        {
            string customImage = world.ResolveImageAlias(named) ?? named;
            if (nodegroup.AmiType != "CUSTOM")
            {
                throw new AwsException(400, "InvalidParameterException", "You cannot specify an image id within the launch template, since your nodegroup is configured to use an EKS optimized AMI.");
            }

            if (releaseVersion is not null)
            {
                throw new AwsException(400, "InvalidParameterException", "You cannot specify a release version for a node group with a custom AMI.");
            }

            return world.Images.GetValueOrDefault(customImage)
                ?? throw new AwsException(400, "InvalidParameterException", $"The image id '{customImage}' in the launch template does not exist.");
        }

        if (nodegroup.AmiType == "CUSTOM")
        {
            throw new AwsException(400, "InvalidParameterException", "A node group with a custom AMI is updated through a launch template version that names the AMI.");
        }

        (string os, string? server, string? edition) = ParseAmiType(nodegroup.AmiType);
        List<AmiImage> family = world.Images.Values
            .Where(i => i.KubernetesVersion == kubernetesVersion && i.OsFamily == os && i.WindowsServer == server && i.WindowsEdition == edition && i.OwnerAlias == "amazon")
            .OrderByDescending(i => i.CreationDate)
            .ToList();
        if (releaseVersion is null)
        {
            return family.FirstOrDefault()
                ?? throw new AwsException(400, "InvalidParameterException", $"No {nodegroup.AmiType} release exists for Kubernetes version {kubernetesVersion}.");
        }

        return family.Find(i => releaseVersion == EksNodegroup.ReleaseVersionOf(i, nodegroup.AmiType))
            ?? throw new AwsException(400, "InvalidParameterException", $"Requested release version {releaseVersion} is not valid for kubernetes version {kubernetesVersion}.");
    }

    private static (string Os, string? Server, string? Edition) ParseAmiType(string amiType)
    {
        string[] parts = amiType.Split('_');
        return parts[0] == "WINDOWS" && parts.Length >= 3
            ? ("windows", parts[2], parts[1] == "FULL" ? "Full" : "Core")
            : ("linux", null, null);
    }

    private static Task UpdateNodegroupConfig(AwsCall call, string clusterName, string name)
    {
        JsonObject body = JsonProtocol.ParseBody(call);
        JsonObject? labels = Object(body, "labels");
        JsonObject? scaling = Object(body, "scalingConfig");
        JsonObject? updateConfig = Object(body, "updateConfig");
        if (labels is null && scaling is null && updateConfig is null && Object(body, "taints") is null)
        {
            throw new AwsException(400, "InvalidParameterException", "No changes needed: the request must update labels, taints, scalingConfig or updateConfig.");
        }

        if (body["taints"] is not null)
        {
            throw new AwsException(400, "InvalidParameterException", "The simulator does not model node group taints.");
        }

        JsonObject update;
        lock (call.World.Gate)
        {
            FindCluster(call.World, clusterName);
            EksNodegroup nodegroup = FindNodegroup(call.World, clusterName, name);
            RequireNoUpdateInProgress(call.World, nodegroup);
            var parameters = new List<(string, string)>();

            int min = nodegroup.MinSize, max = nodegroup.MaxSize, desired = nodegroup.DesiredSize;
            if (scaling is not null)
            {
                min = JsonProtocol.Int(scaling, "minSize") ?? min;
                max = JsonProtocol.Int(scaling, "maxSize") ?? max;
                desired = JsonProtocol.Int(scaling, "desiredSize") ?? desired;
                if (min < 0 || max < 1 || desired < 0)
                {
                    throw new AwsException(400, "InvalidParameterException", "minSize and desiredSize must be at least 0 and maxSize at least 1.");
                }

                if (min > max)
                {
                    throw new AwsException(400, "InvalidParameterException", $"Minimum capacity {min} can't be greater than maximum capacity {max}");
                }

                if (desired > max)
                {
                    throw new AwsException(400, "InvalidParameterException", $"Desired capacity {desired} can't be greater than max size {max}");
                }

                if (desired < min)
                {
                    throw new AwsException(400, "InvalidParameterException", $"Minimum capacity {min} can't be greater than desired size {desired}");
                }
            }

            int? maxUnavailable = null;
            if (updateConfig is not null)
            {
                int? count = JsonProtocol.Int(updateConfig, "maxUnavailable");
                int? percentage = JsonProtocol.Int(updateConfig, "maxUnavailablePercentage");
                if (count is not null && percentage is not null)
                {
                    throw new AwsException(400, "InvalidParameterException", "Only one of maxUnavailable and maxUnavailablePercentage can be specified.");
                }

                if (count is < 1 or > 100 || percentage is < 1 or > 100)
                {
                    throw new AwsException(400, "InvalidParameterException", "maxUnavailable must be between 1 and 100, maxUnavailablePercentage between 1 and 100.");
                }

                maxUnavailable = count ?? Math.Max(1, desired * percentage!.Value / 100);
                parameters.Add((count is null ? "MaxUnavailablePercentage" : "MaxUnavailable", (count ?? percentage!.Value).ToString(CultureInfo.InvariantCulture)));
            }

            if (scaling is not null)
            {
                nodegroup.MinSize = min;
                nodegroup.MaxSize = max;
                nodegroup.DesiredSize = desired;
                parameters.Add(("MinSize", min.ToString(CultureInfo.InvariantCulture)));
                parameters.Add(("MaxSize", max.ToString(CultureInfo.InvariantCulture)));
                parameters.Add(("DesiredSize", desired.ToString(CultureInfo.InvariantCulture)));
                AutoScalingGroup group = call.World.AutoScalingGroups[nodegroup.AutoScalingGroupName];
                int before = group.DesiredCapacity;
                group.MinSize = min;
                group.MaxSize = max;
                group.DesiredCapacity = desired;
                call.World.ReconcileGroup(group, before == desired ? null
                    : $"At {call.World.Stamp()} a user request update of AutoScalingGroup constraints to min: {min}, max: {max}, desired: {desired} changing the desired capacity from {before} to {desired}.");
            }

            if (maxUnavailable is int mu)
            {
                nodegroup.MaxUnavailable = mu;
            }

            if (labels is not null)
            {
                ApplyLabels(call.World, nodegroup, labels, parameters);
            }

            update = UpdateJson(call.World.StartNodegroupConfigUpdate(nodegroup, parameters));
        }

        return JsonProtocol.WriteAsync(call, new JsonObject { ["update"] = update });
    }

    private static void ApplyLabels(SimWorld world, EksNodegroup nodegroup, JsonObject labels, List<(string, string)> parameters)
    {
        var add = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Object(labels, "addOrUpdateLabels") is { } adds)
        {
            foreach ((string key, JsonNode? value) in adds)
            {
                add[key] = value is JsonValue v && v.TryGetValue(out string? s) ? s
                    : throw new AwsException(400, "SerializationException", $"Expected a string value for label {key}.");
            }
        }

        List<string> remove = JsonProtocol.StringList(labels, "removeLabels") ?? [];
        string? both = remove.Find(add.ContainsKey);
        if (both is not null)
        {
            throw new AwsException(400, "InvalidParameterException", $"The label {both} cannot be both added and removed.");
        }

        foreach ((string key, string value) in add)
        {
            nodegroup.Labels[key] = value;
        }

        foreach (string key in remove)
        {
            nodegroup.Labels.Remove(key);
        }

        // EKS applies the group's labels to its nodes too.
        foreach (KubeNode node in world.Nodes.Values.Where(n => n.ClusterName == nodegroup.ClusterName && n.Labels.GetValueOrDefault("eks.amazonaws.com/nodegroup") == nodegroup.Name).ToList())
        {
            foreach ((string key, string value) in add)
            {
                node.Labels[key] = value;
            }

            foreach (string key in remove)
            {
                node.Labels.Remove(key);
            }

            node.ResourceVersion = world.NextResourceVersion();
            world.NodeChanged(node);
        }

        if (add.Count > 0)
        {
            parameters.Add(("LabelsToAdd", new JsonObject(add.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))).ToJsonString()));
        }

        if (remove.Count > 0)
        {
            parameters.Add(("LabelsToRemove", new JsonArray([.. remove.Select(r => (JsonNode)r)]).ToJsonString()));
        }
    }

    private static Task DescribeUpdate(AwsCall call, string clusterName, string updateId)
    {
        string? nodegroupName = call.Query.Get("nodegroupName");
        JsonObject update;
        lock (call.World.Gate)
        {
            FindCluster(call.World, clusterName);
            if (nodegroupName is not null)
            {
                FindNodegroup(call.World, clusterName, nodegroupName);
            }

            EksUpdate found = call.World.EksUpdates.Find(u => u.Id == updateId && u.ClusterName == clusterName && u.NodegroupName == nodegroupName)
                ?? throw AwsException.NotFound("ResourceNotFoundException", $"No update found for ID: {updateId}.");
            update = UpdateJson(found);
        }

        return JsonProtocol.WriteAsync(call, new JsonObject { ["update"] = update });
    }

    private static Task ListUpdates(AwsCall call, string clusterName)
    {
        (int max, int offset) = PageParameters(call);
        string? nodegroupName = call.Query.Get("nodegroupName");
        List<string> ids;
        lock (call.World.Gate)
        {
            FindCluster(call.World, clusterName);
            if (nodegroupName is not null)
            {
                FindNodegroup(call.World, clusterName, nodegroupName);
            }

            ids = call.World.EksUpdates.Where(u => u.ClusterName == clusterName && u.NodegroupName == nodegroupName).Select(u => u.Id).ToList();
        }

        (List<string> page, string? next) = Paging.Page(ids, offset, max);
        var result = new JsonObject { ["updateIds"] = new JsonArray([.. page.Select(i => (JsonNode)i)]) };
        if (next is not null)
        {
            result["nextToken"] = next;
        }

        return JsonProtocol.WriteAsync(call, result);
    }

    private static JsonObject UpdateJson(EksUpdate u) => new()
    {
        ["id"] = u.Id,
        ["status"] = u.Status,
        ["type"] = u.Type,
        ["params"] = new JsonArray([.. u.Params.Select(p => (JsonNode)new JsonObject { ["type"] = p.Type, ["value"] = p.Value })]),
        ["createdAt"] = JsonProtocol.Time(u.CreatedAt),
        ["errors"] = new JsonArray([.. u.Errors.Select(e => (JsonNode)new JsonObject
        {
            ["errorCode"] = e.Code,
            ["errorMessage"] = e.Message,
            ["resourceIds"] = new JsonArray([.. e.ResourceIds.Select(r => (JsonNode)r)]),
        })]),
    };

    private static EksNodegroup FindNodegroup(SimWorld world, string clusterName, string name) =>
        world.Nodegroups.GetValueOrDefault((clusterName, name))
            ?? throw AwsException.NotFound("ResourceNotFoundException", $"No node group found for name: {name}.");

    private static void RequireNoUpdateInProgress(SimWorld world, EksNodegroup nodegroup)
    {
        if (world.HasUpdateInProgress(nodegroup))
        {
            throw new AwsException(409, "ResourceInUseException", $"Nodegroup {nodegroup.Name} is currently being updated; wait for the update in progress to finish.");
        }
    }

    private static JsonObject? Object(JsonObject body, string name) => body[name] switch
    {
        null => null,
        JsonObject o => o,
        _ => throw new AwsException(400, "SerializationException", $"Expected an object for member {name}."),
    };

    /// <summary>Compares Kubernetes versions like 1.31 and 1.9 numerically.</summary>
    private static int CompareVersions(string a, string b)
    {
        static Version Parse(string s) => Version.TryParse(s, out Version? v) ? v
            : throw new AwsException(400, "InvalidParameterException", $"'{s}' is not a valid Kubernetes version.");

        return Parse(a).CompareTo(Parse(b));
    }
}
