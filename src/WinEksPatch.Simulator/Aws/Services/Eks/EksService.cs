using System.Globalization;
using System.Text.Json.Nodes;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.Eks;

/// <summary>EKS (rest-json): clusters and managed node groups.</summary>
public sealed partial class EksService(Func<string> caDataBase64) : AwsService
{
    public override string SigningName => "eks";

    public override AwsProtocol Protocol => AwsProtocol.RestJson;

    public override Task HandleAsync(AwsCall call)
    {
        string[] segments = call.RawPath.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        bool get = call.Http.Request.Method == "GET";
        bool post = call.Http.Request.Method == "POST";
        return segments switch
        {
            ["clusters"] when get => ListClusters(call),
            ["clusters", string name] when get => DescribeCluster(call, name),
            ["clusters", string name, "node-groups"] when get => ListNodegroups(call, name),
            ["clusters", string name, "node-groups", string nodegroup] when get => DescribeNodegroup(call, name, nodegroup),
            ["clusters", string name, "node-groups", string nodegroup, "update-version"] when post => UpdateNodegroupVersion(call, name, nodegroup),
            ["clusters", string name, "node-groups", string nodegroup, "update-config"] when post => UpdateNodegroupConfig(call, name, nodegroup),
            ["clusters", string name, "updates"] when get => ListUpdates(call, name),
            ["clusters", string name, "updates", string updateId] when get => DescribeUpdate(call, name, updateId),
            _ => throw new AwsException(404, "UnknownOperationException", $"The simulator does not emulate EKS {call.Http.Request.Method} {call.RawPath}."),
        };
    }

    private static Task ListClusters(AwsCall call)
    {
        (int max, int offset) = PageParameters(call);
        List<string> names;
        lock (call.World.Gate)
        {
            names = [.. call.World.Clusters.Keys.Order(StringComparer.Ordinal)];
        }

        (List<string> page, string? next) = Paging.Page(names, offset, max);
        var result = new JsonObject { ["clusters"] = new JsonArray([.. page.Select(n => (JsonNode)n)]) };
        if (next is not null)
        {
            result["nextToken"] = next;
        }

        return JsonProtocol.WriteAsync(call, result);
    }

    private Task DescribeCluster(AwsCall call, string name)
    {
        JsonObject cluster;
        lock (call.World.Gate)
        {
            EksCluster c = FindCluster(call.World, name);
            cluster = new JsonObject
            {
                ["name"] = c.Name,
                ["arn"] = c.Arn,
                ["createdAt"] = JsonProtocol.Time(c.CreatedAt),
                ["version"] = c.Version,
                ["endpoint"] = c.Endpoint,
                ["roleArn"] = c.RoleArn,
                ["resourcesVpcConfig"] = new JsonObject
                {
                    ["subnetIds"] = new JsonArray([.. c.SubnetIds.Select(s => (JsonNode)s)]),
                    ["securityGroupIds"] = new JsonArray(),
                    ["clusterSecurityGroupId"] = "sg-" + Scenarios.Ids.Hex("cluster-sg/" + c.Name, 17),
                    ["vpcId"] = c.VpcId,
                    ["endpointPublicAccess"] = true,
                    ["endpointPrivateAccess"] = true,
                    ["publicAccessCidrs"] = new JsonArray("0.0.0.0/0"),
                },
                ["kubernetesNetworkConfig"] = new JsonObject { ["serviceIpv4Cidr"] = "172.20.0.0/16", ["ipFamily"] = "ipv4" },
                ["logging"] = new JsonObject { ["clusterLogging"] = new JsonArray(new JsonObject { ["types"] = new JsonArray("api", "audit", "authenticator", "controllerManager", "scheduler"), ["enabled"] = false }) },
                ["identity"] = new JsonObject { ["oidc"] = new JsonObject { ["issuer"] = $"https://oidc.eks.{call.World.Region}.amazonaws.com/id/{c.Id}" } },
                ["status"] = c.Status,
                ["certificateAuthority"] = new JsonObject { ["data"] = caDataBase64() },
                ["platformVersion"] = c.PlatformVersion,
                ["tags"] = Map(c.Tags),
                ["health"] = new JsonObject { ["issues"] = new JsonArray() },
                ["accessConfig"] = new JsonObject { ["authenticationMode"] = "API_AND_CONFIG_MAP" },
                ["upgradePolicy"] = new JsonObject { ["supportType"] = "STANDARD" },
            };
        }

        return JsonProtocol.WriteAsync(call, new JsonObject { ["cluster"] = cluster });
    }

    private static Task ListNodegroups(AwsCall call, string clusterName)
    {
        (int max, int offset) = PageParameters(call);
        List<string> names;
        lock (call.World.Gate)
        {
            FindCluster(call.World, clusterName);
            names = [.. call.World.Nodegroups.Values.Where(n => n.ClusterName == clusterName).Select(n => n.Name).Order(StringComparer.Ordinal)];
        }

        (List<string> page, string? next) = Paging.Page(names, offset, max);
        var result = new JsonObject { ["nodegroups"] = new JsonArray([.. page.Select(n => (JsonNode)n)]) };
        if (next is not null)
        {
            result["nextToken"] = next;
        }

        return JsonProtocol.WriteAsync(call, result);
    }

    private static Task DescribeNodegroup(AwsCall call, string clusterName, string name)
    {
        JsonObject nodegroup;
        lock (call.World.Gate)
        {
            FindCluster(call.World, clusterName);
            EksNodegroup n = call.World.Nodegroups.GetValueOrDefault((clusterName, name))
                ?? throw AwsException.NotFound("ResourceNotFoundException", $"No node group found for name: {name}.");
            nodegroup = new JsonObject
            {
                ["nodegroupName"] = n.Name,
                ["nodegroupArn"] = n.Arn,
                ["clusterName"] = n.ClusterName,
                ["version"] = n.Version,
                ["releaseVersion"] = n.ReleaseVersion,
                ["createdAt"] = JsonProtocol.Time(n.CreatedAt),
                ["modifiedAt"] = JsonProtocol.Time(n.ModifiedAt),
                ["status"] = n.Status,
                ["capacityType"] = n.CapacityType,
                ["scalingConfig"] = new JsonObject { ["minSize"] = n.MinSize, ["maxSize"] = n.MaxSize, ["desiredSize"] = n.DesiredSize },
                ["instanceTypes"] = new JsonArray([.. n.InstanceTypes.Select(s => (JsonNode)s)]),
                ["subnets"] = new JsonArray([.. n.Subnets.Select(s => (JsonNode)s)]),
                ["amiType"] = n.AmiType,
                ["nodeRole"] = n.NodeRole,
                ["labels"] = Map(n.Labels),
                ["resources"] = new JsonObject
                {
                    ["autoScalingGroups"] = new JsonArray(new JsonObject { ["name"] = n.AutoScalingGroupName }),
                },
                ["health"] = new JsonObject { ["issues"] = new JsonArray() },
                ["updateConfig"] = new JsonObject { ["maxUnavailable"] = n.MaxUnavailable },
                ["tags"] = Map(n.Tags),
            };
            if (n.DiskSize is int disk)
            {
                nodegroup["diskSize"] = disk;
            }

            if (n.LaunchTemplate is { } lt)
            {
                nodegroup["launchTemplate"] = new JsonObject { ["name"] = lt.LaunchTemplateName, ["version"] = lt.Version, ["id"] = lt.LaunchTemplateId };
            }
        }

        return JsonProtocol.WriteAsync(call, new JsonObject { ["nodegroup"] = nodegroup });
    }

    private static EksCluster FindCluster(SimWorld world, string name) =>
        world.Clusters.GetValueOrDefault(name) ?? throw AwsException.NotFound("ResourceNotFoundException", $"No cluster found for name: {name}.");

    private static (int Max, int Offset) PageParameters(AwsCall call)
    {
        int max = 100;
        string? maxText = call.Query.Get("maxResults");
        if (maxText is not null && (!int.TryParse(maxText, NumberStyles.Integer, CultureInfo.InvariantCulture, out max) || max is < 1 or > 100))
        {
            throw new AwsException(400, "InvalidParameterException", "maxResults must be between 1 and 100.");
        }

        if (!Paging.TryDecode(call.Query.Get("nextToken"), out int offset))
        {
            throw new AwsException(400, "InvalidParameterException", "The nextToken is not valid.");
        }

        return (max, offset);
    }

    private static JsonObject Map(Dictionary<string, string> values)
    {
        var o = new JsonObject();
        foreach (KeyValuePair<string, string> kv in values.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            o[kv.Key] = kv.Value;
        }

        return o;
    }
}
