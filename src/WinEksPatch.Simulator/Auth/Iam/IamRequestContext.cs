using System.Globalization;
using System.Text.Json.Nodes;
using WinEksPatch.Simulator.Aws;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.Faults;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Auth.Iam;

/// <summary>
/// What IAM authorizes for one AWS call, as the Service Authorization Reference lists it per operation: the action, each
/// resource ARN the operation acts on ("*" where the action has no resource types, as for every Describe and List), and
/// the condition keys (aws:ResourceTag/… from the resource's tags, aws:RequestTag/… and aws:TagKeys from the request,
/// the global keys). Calls that pass a role add an iam:PassRole request with iam:PassedToService, where AWS checks it:
/// an Image Builder infrastructure configuration's instance profile, and an Auto Scaling group set to a launch template
/// with one. Built under the world's lock: tags are read from the live resources.
/// </summary>
public static class IamRequestContext
{
    /// <summary>The global condition keys of every request: the principal, the region asked for, the transport, the
    /// simulated time.</summary>
    public static Dictionary<string, IReadOnlyList<string>> GlobalKeys(string principalArn, string region, bool secureTransport, DateTimeOffset now) =>
        new(StringComparer.OrdinalIgnoreCase)
        {
            ["aws:PrincipalArn"] = [principalArn],
            ["aws:PrincipalAccount"] = [principalArn.Split(':')[4]],
            ["aws:PrincipalType"] = ["User"],
            ["aws:RequestedRegion"] = [region],
            ["aws:SecureTransport"] = [secureTransport ? "true" : "false"],
            ["aws:CurrentTime"] = [now.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)],
            ["aws:EpochTime"] = [now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)],
        };

    public static IReadOnlyList<IamRequest> For(AwsService service, string operation, AwsCall call, string principalArn)
    {
        SimWorld world = call.World;
        var requests = new List<IamRequest>();
        Dictionary<string, IReadOnlyList<string>> global = GlobalKeys(principalArn, call.Region, call.Http.Request.IsHttps, world.Scheduler.Now);

        string action = $"{service.IamPrefix}:{operation}";
        void Add(string resource, IEnumerable<Tag>? resourceTags = null, Dictionary<string, IReadOnlyList<string>>? extra = null, string? actionName = null)
        {
            var context = new Dictionary<string, IReadOnlyList<string>>(global, StringComparer.OrdinalIgnoreCase);
            foreach (Tag tag in resourceTags ?? [])
            {
                context[$"aws:ResourceTag/{tag.Key}"] = [tag.Value];
                if (service.SigningName == "autoscaling")
                {
                    context[$"autoscaling:ResourceTag/{tag.Key}"] = [tag.Value];
                }
            }

            foreach (KeyValuePair<string, IReadOnlyList<string>> pair in extra ?? [])
            {
                context[pair.Key] = pair.Value;
            }

            requests.Add(new IamRequest(actionName ?? action, resource, context));
        }

        lock (world.Gate)
        {
            switch (service.SigningName)
            {
                case "sts":
                    // GetCallerIdentity needs no permission: "No permissions are required to perform this operation."
                    break;
                case "ec2":
                    Ec2(operation, call, Add);
                    break;
                case "autoscaling":
                    AutoScaling(operation, call, Add);
                    break;
                case "eks":
                    Eks(operation, call, Add);
                    break;
                case "ssm":
                    Ssm(call, Add);
                    break;
                case "ecr":
                    Ecr(operation, call, Add);
                    break;
                case "imagebuilder":
                    ImageBuilder(operation, call, Add);
                    break;
                case "iam":
                    Iam(operation, call, Add);
                    break;
                default:
                    Add("*");
                    break;
            }
        }

        return requests;
    }

    private delegate void AddRequest(string resource, IEnumerable<Tag>? resourceTags = null, Dictionary<string, IReadOnlyList<string>>? extra = null, string? actionName = null);

    private static void Ec2(string operation, AwsCall call, AddRequest add)
    {
        SimWorld world = call.World;
        QueryParams form = call.FormOrQuery;
        switch (operation)
        {
            case "CreateLaunchTemplateVersion" or "ModifyLaunchTemplate":
                LaunchTemplate? template = FindTemplate(world, form.Get("LaunchTemplateId"), form.Get("LaunchTemplateName"));
                add(template is null ? "*" : Ec2Arn(world, "launch-template", template.LaunchTemplateId), template?.Tags);
                break;
            case "CreateTags" or "DeleteTags":
                Dictionary<string, IReadOnlyList<string>> requestTags = RequestTags(form.Indexed("Tag").Select(i => (form.Get($"Tag.{i}.Key") ?? "", form.Get($"Tag.{i}.Value"))));
                foreach (string id in form.List("ResourceId"))
                {
                    (string arn, List<Tag>? tags) = Ec2Resource(world, id);
                    add(arn, tags, requestTags);
                }

                break;
            case "GetConsoleOutput":
                // Resource type instance (Service Authorization Reference, ec2:GetConsoleOutput).
                if (form.Get("InstanceId") is { } consoleOf)
                {
                    (string arn, List<Tag>? tags) = Ec2Resource(world, consoleOf);
                    add(arn, tags);
                }
                else
                {
                    add("*");
                }

                break;
            case "TerminateInstances":
                foreach (string id in form.List("InstanceId"))
                {
                    (string arn, List<Tag>? tags) = Ec2Resource(world, id);
                    add(arn, tags);
                }

                break;
            case "EnableFastLaunch" or "DisableFastLaunch":
                // Resource type image (arn:aws:ec2:<region>::image/<id>). DescribeFastLaunchImages falls to "*" below.
                add($"arn:aws:ec2:{call.Region}::image/{form.Get("ImageId")}", world.Images.GetValueOrDefault(form.Get("ImageId") ?? "")?.Tags);
                if (operation == "EnableFastLaunch")
                {
                    // The launch template the temporary instances use is a resource of the call too (launch-template).
                    if (FindTemplate(world, form.Get("LaunchTemplate.LaunchTemplateId"), form.Get("LaunchTemplate.LaunchTemplateName")) is { } used)
                    {
                        add(Ec2Arn(world, "launch-template", used.LaunchTemplateId), used.Tags);
                    }

                    // "When you start using EC2 Fast Launch for your AMI, Amazon EC2 creates the service-linked role for you,
                    // if it doesn't already exist" (EC2 User Guide): on the caller's iam:CreateServiceLinkedRole, as for
                    // every service-linked role a service creates on first use (IAM User Guide, service-linked role permissions).
                    if (!world.FastLaunchServiceRoleExists)
                    {
                        add(world.FastLaunchServiceRoleArn, extra: new(StringComparer.OrdinalIgnoreCase) { ["iam:AWSServiceName"] = [SimWorld.FastLaunchServiceName] },
                            actionName: "iam:CreateServiceLinkedRole");
                    }
                }

                break;
            case "DescribeLaunchTemplateVersions" when form.Get("ResolveAlias") == "true":
                add("*");

                // Resolving an alias is the caller's ssm:GetParameters on the parameter each version names.
                if (FindTemplate(world, form.Get("LaunchTemplateId"), form.Get("LaunchTemplateName")) is { } described)
                {
                    List<string> wanted = form.List("LaunchTemplateVersion");
                    foreach (LaunchTemplateVersion version in wanted.Count == 0 ? described.Versions : wanted.Select(described.Resolve).OfType<LaunchTemplateVersion>())
                    {
                        AddAliasParameter(world, call.Region, version, add);
                    }
                }

                break;
            default:
                // Describe*: "Actions that do not support resource-level permissions ... you must use the * wildcard".
                add("*");
                break;
        }
    }

    /// <summary>ssm:GetParameters on the parameter a version names its AMI by (resolve:ssm:name[:version|:label]), if any.</summary>
    private static void AddAliasParameter(SimWorld world, string region, LaunchTemplateVersion? version, AddRequest add)
    {
        if (version?.ImageId is { } imageId && SimWorld.AliasParameter(imageId) is { } alias)
        {
            add(SsmParameterArn(world, region, alias.Name), actionName: "ssm:GetParameters");
        }
    }

    /// <summary>Public parameters (/aws/service/...) have no account in their ARN; a name that starts with '/' keeps it.</summary>
    private static string SsmParameterArn(SimWorld world, string region, string name) =>
        $"arn:aws:ssm:{region}:{(name.StartsWith("/aws/service/", StringComparison.Ordinal) ? "" : world.AccountId)}:parameter{(name.StartsWith('/') ? "" : "/")}{name}";

    private static void AutoScaling(string operation, AwsCall call, AddRequest add)
    {
        SimWorld world = call.World;
        QueryParams form = call.FormOrQuery;
        if (operation.StartsWith("Describe", StringComparison.Ordinal))
        {
            add("*");
            return;
        }

        if (operation is "CreateOrUpdateTags" or "DeleteTags")
        {
            List<int> indexes = form.Indexed("Tags.member");
            Dictionary<string, IReadOnlyList<string>> requestTags = RequestTags(indexes.Select(i => (form.Get($"Tags.member.{i}.Key") ?? "", form.Get($"Tags.member.{i}.Value"))));
            foreach (string name in indexes.Select(i => form.Get($"Tags.member.{i}.ResourceId") ?? "").Distinct(StringComparer.Ordinal))
            {
                AutoScalingGroup? tagged = world.AutoScalingGroups.GetValueOrDefault(name);
                add(tagged?.Arn ?? "*", tagged?.Tags, requestTags);
            }

            return;
        }

        // Every other operation acts on one group: by name, or (TerminateInstanceInAutoScalingGroup) by its instance.
        string? groupName = form.Get("AutoScalingGroupName")
            ?? (form.Get("InstanceId") is { } instanceId ? world.Instances.GetValueOrDefault(instanceId)?.AutoScalingGroupName : null);
        AutoScalingGroup? group = groupName is null ? null : world.AutoScalingGroups.GetValueOrDefault(groupName);
        add(group?.Arn ?? "*", group?.Tags);

        // "If the launch template specifies an instance profile, the caller needs iam:PassRole" (Auto Scaling user guide,
        // launch template permissions); Auto Scaling also checks ec2:RunInstances on the template it is given: the group's,
        // and each mixed instances override's.
        if (operation != "UpdateAutoScalingGroup")
        {
            return;
        }

        void CheckTemplate(string prefix)
        {
            if (FindTemplate(world, form.Get(prefix + "LaunchTemplateId"), form.Get(prefix + "LaunchTemplateName")) is not { } template)
            {
                return;
            }

            string templateArn = Ec2Arn(world, "launch-template", template.LaunchTemplateId);
            add(templateArn, template.Tags, actionName: "ec2:RunInstances", extra: new(StringComparer.OrdinalIgnoreCase)
            {
                ["ec2:LaunchTemplate"] = [templateArn],
                ["ec2:IsLaunchTemplateResource"] = ["true"],
            });
            LaunchTemplateVersion? version = template.Resolve(form.Get(prefix + "Version"));
            if (version?.IamInstanceProfileArn is { } profile && world.RoleOfInstanceProfile(profile) is { } roleArn)
            {
                add(roleArn, extra: PassedTo("ec2.amazonaws.com"), actionName: "iam:PassRole");
            }

            AddAliasParameter(world, call.Region, version, add);
        }

        CheckTemplate("LaunchTemplate.");
        CheckTemplate("MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.");
        for (int n = 1; form.Names.Any(p => p.StartsWith($"MixedInstancesPolicy.LaunchTemplate.Overrides.member.{n}.", StringComparison.Ordinal)); n++)
        {
            CheckTemplate($"MixedInstancesPolicy.LaunchTemplate.Overrides.member.{n}.LaunchTemplateSpecification.");
        }
    }

    private static void Eks(string operation, AwsCall call, AddRequest add)
    {
        SimWorld world = call.World;
        string[] path = AwsRequestInfo.Segments(call.RawPath);
        EksCluster? cluster = path.Length > 1 ? world.Clusters.GetValueOrDefault(path[1]) : null;
        if (path is [_, _, "node-groups", string nodegroupName, ..])
        {
            EksNodegroup? nodegroup = world.Nodegroups.GetValueOrDefault((path[1], nodegroupName));
            add(nodegroup?.Arn ?? "*", nodegroup is null ? null : AsTags(nodegroup.Tags));
        }
        else if (operation == "ListClusters" || cluster is null)
        {
            add("*");
        }
        else
        {
            add(cluster.Arn, AsTags(cluster.Tags));
        }
    }

    private static void Ssm(AwsCall call, AddRequest add)
    {
        JsonObject body = JsonProtocol.ParseBody(call);
        IEnumerable<string> names = JsonProtocol.StringList(body, "Names") is { } many ? many
            : [JsonProtocol.String(body, "Name") ?? JsonProtocol.String(body, "Path") ?? ""];
        foreach (string name in names)
        {
            add(SsmParameterArn(call.World, call.Region, name));
        }
    }

    private static void Ecr(string operation, AwsCall call, AddRequest add)
    {
        JsonObject body = JsonProtocol.ParseBody(call);
        if (operation == "GetAuthorizationToken" || JsonProtocol.String(body, "repositoryName") is not { } repository)
        {
            add("*");
            return;
        }

        string account = JsonProtocol.String(body, "registryId") ?? call.World.AccountId;
        add($"arn:aws:ecr:{call.Region}:{account}:repository/{repository}");
    }

    private static void ImageBuilder(string operation, AwsCall call, AddRequest add)
    {
        SimWorld world = call.World;
        JsonObject body = call.Http.Request.Method is "PUT" or "POST" ? JsonProtocol.ParseBody(call) : [];
        string Arn(string type, string suffix) => $"arn:aws:imagebuilder:{call.Region}:{world.AccountId}:{type}/{suffix}";
        string Named(string? type) => type is null ? "*" : Arn(type, (JsonProtocol.String(body, "name") ?? "").ToLowerInvariant().Replace(' ', '-'));
        Dictionary<string, IReadOnlyList<string>>? requestTags = body["tags"] is JsonObject tags
            ? RequestTags(tags.Select(t => (t.Key, t.Value?.GetValue<string>())))
            : null;

        if (operation.StartsWith("List", StringComparison.Ordinal))
        {
            add("*");
        }
        else if (operation.StartsWith("Get", StringComparison.Ordinal) || operation.StartsWith("Delete", StringComparison.Ordinal))
        {
            // The resource's ARN is the one query parameter (componentBuildVersionArn, imageRecipeArn, ...).
            add(call.Query.Names.Select(n => call.Query.Get(n)).FirstOrDefault(v => v?.StartsWith("arn:", StringComparison.Ordinal) == true) ?? "*");
        }
        else if (operation == "CreateComponent")
        {
            add(Named("component") + $"/{JsonProtocol.String(body, "semanticVersion")}/1", extra: requestTags);
        }
        else if (operation == "CreateImageRecipe")
        {
            add(Named("image-recipe") + $"/{JsonProtocol.String(body, "semanticVersion")}", extra: requestTags);

            // Dependent actions (Service Authorization Reference): the caller must be able to read each component the
            // recipe names (Amazon's included) and a parent image given as an Image Builder image.
            foreach (JsonNode? component in body["components"] as JsonArray ?? [])
            {
                if (component?["componentArn"]?.GetValue<string>() is { } componentArn)
                {
                    add(componentArn, actionName: "imagebuilder:GetComponent");
                }
            }

            if (JsonProtocol.String(body, "parentImage") is { } parent && parent.StartsWith("arn:", StringComparison.Ordinal))
            {
                add(parent, actionName: "imagebuilder:GetImage");
            }
        }
        else if (operation is "CreateInfrastructureConfiguration" or "CreateDistributionConfiguration" or "CreateImagePipeline")
        {
            add(Named(operation switch
            {
                "CreateInfrastructureConfiguration" => "infrastructure-configuration",
                "CreateDistributionConfiguration" => "distribution-configuration",
                _ => "image-pipeline",
            }), extra: requestTags);

            // Image Builder passes the instance profile's role to EC2 for the build instance.
            if (JsonProtocol.String(body, "instanceProfileName") is { } profile && world.RoleOfInstanceProfile(profile) is { } roleArn)
            {
                add(roleArn, extra: PassedTo("ec2.amazonaws.com"), actionName: "iam:PassRole");
            }
        }
        else if (operation == "CreateImage")
        {
            string? recipe = JsonProtocol.String(body, "imageRecipeArn");
            add(recipe is null ? "*" : Arn("image", string.Join('/', recipe.Split('/').Skip(1))), extra: requestTags);
        }
        else
        {
            // CancelImageCreation, StartImagePipelineExecution, UpdateDistributionConfiguration: the image build version,
            // pipeline or distribution configuration named in the body.
            add(JsonProtocol.String(body, "imageBuildVersionArn") ?? JsonProtocol.String(body, "imagePipelineArn")
                ?? JsonProtocol.String(body, "distributionConfigurationArn") ?? "*");
        }
    }

    private static void Iam(string operation, AwsCall call, AddRequest add)
    {
        // GetInstanceProfile acts on the profile named, whether it exists or not; IAM ARNs have no region.
        string? profile = operation == "GetInstanceProfile" ? call.FormOrQuery.Get("InstanceProfileName") : null;
        add(string.IsNullOrEmpty(profile) ? "*" : $"arn:aws:iam::{call.World.AccountId}:instance-profile/{profile}");
    }

    private static Dictionary<string, IReadOnlyList<string>> RequestTags(IEnumerable<(string Key, string? Value)> tags)
    {
        var keys = new List<string>();
        var context = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        foreach ((string key, string? value) in tags)
        {
            keys.Add(key);
            context[$"aws:RequestTag/{key}"] = [value ?? ""];
        }

        if (keys.Count > 0)
        {
            context["aws:TagKeys"] = keys; // a request without tags has no aws:TagKeys (the Null operator tells them apart)
        }

        return context;
    }

    private static Dictionary<string, IReadOnlyList<string>> PassedTo(string service) =>
        new(StringComparer.OrdinalIgnoreCase) { ["iam:PassedToService"] = [service] };

    private static IEnumerable<Tag> AsTags(Dictionary<string, string> tags) => tags.Select(t => new Tag { Key = t.Key, Value = t.Value });

    private static LaunchTemplate? FindTemplate(SimWorld world, string? id, string? name) =>
        id is not null ? world.LaunchTemplates.GetValueOrDefault(id)
        : name is not null ? world.LaunchTemplates.Values.FirstOrDefault(t => t.LaunchTemplateName == name)
        : null;

    private static string Ec2Arn(SimWorld world, string type, string id) => $"arn:aws:ec2:{world.Region}:{world.AccountId}:{type}/{id}";

    /// <summary>An EC2 resource id's ARN by its prefix (images have no account in theirs) and its tags where the world
    /// has the resource.</summary>
    private static (string Arn, List<Tag>? Tags) Ec2Resource(SimWorld world, string id) => id switch
    {
        _ when id.StartsWith("i-", StringComparison.Ordinal) => (Ec2Arn(world, "instance", id), world.Instances.GetValueOrDefault(id)?.Tags),
        _ when id.StartsWith("ami-", StringComparison.Ordinal) => ($"arn:aws:ec2:{world.Region}::image/{id}", world.Images.GetValueOrDefault(id)?.Tags),
        _ when id.StartsWith("lt-", StringComparison.Ordinal) => (Ec2Arn(world, "launch-template", id), world.LaunchTemplates.GetValueOrDefault(id)?.Tags),
        _ when id.StartsWith("sg-", StringComparison.Ordinal) => (Ec2Arn(world, "security-group", id), null),
        _ when id.StartsWith("subnet-", StringComparison.Ordinal) => (Ec2Arn(world, "subnet", id), null),
        _ when id.StartsWith("vol-", StringComparison.Ordinal) => (Ec2Arn(world, "volume", id), null),
        _ when id.StartsWith("snap-", StringComparison.Ordinal) => ($"arn:aws:ec2:{world.Region}::snapshot/{id}", null),
        _ => (Ec2Arn(world, "resource", id), null),
    };
}
