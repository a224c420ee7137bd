using System.Text.Json;
using System.Text.Json.Nodes;

namespace WinEksPatch.Workflows;

/// <summary>What the policy is for.</summary>
[Flags]
public enum IamPolicyScope
{
    /// <summary>The assessment cmdlets: Get-Win*, Measure-WinContainerImage.</summary>
    ReadOnly = 1,

    /// <summary>New-WinNodeAmi (EC2 Image Builder).</summary>
    Build = 2,

    /// <summary>Set-NodeGroupAmi, Invoke-NodeReplacement, Invoke-WinEksPatch.</summary>
    Rollout = 4,
}

/// <summary>
/// The least-privilege IAM policy for the chosen uses: exactly the actions the module calls (each listed where the code
/// calls it) and, for each, the narrowest resource AWS lets a policy name: the cluster's EKS ARNs and the Auto Scaling
/// groups and instances tagged kubernetes.io/cluster/&lt;name&gt; when a cluster is named; Image Builder ARNs of the
/// module's own resource names; tag writes limited to the module's own tag keys; iam:PassRole limited to the roles
/// given and to EC2. The simulator enforces it (Start-WinEksSimulator -IamPolicyPath), and the tests run a whole cycle
/// under it.
/// </summary>
public static class IamPolicy
{
    public static readonly string[] ReadOnlyActions =
    [
        "eks:ListClusters", "eks:DescribeCluster", "eks:ListNodegroups", "eks:DescribeNodegroup", "eks:ListUpdates", "eks:DescribeUpdate",
        "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeScalingActivities",
        "autoscaling:DescribeLifecycleHooks", "autoscaling:DescribeInstanceRefreshes", "autoscaling:DescribeWarmPool",
        "ec2:DescribeInstances", "ec2:DescribeImages", "ec2:DescribeLaunchTemplateVersions",
        "ec2:DescribeFastLaunchImages", "ssm:GetParameter", "ssm:GetParametersByPath", "ssm:GetParameters", "iam:GetInstanceProfile",
        "ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability",
        "cloudwatch:DescribeAlarms",
    ];

    /// <summary>Image Builder calls on the module's own resources (their ARNs start with the module's name), the clean-up of a
    /// failed build (Delete*) included.</summary>
    public static readonly string[] BuildResourceActions =
    [
        "imagebuilder:CreateComponent", "imagebuilder:GetComponent", "imagebuilder:DeleteComponent",
        "imagebuilder:CreateImageRecipe", "imagebuilder:GetImageRecipe", "imagebuilder:DeleteImageRecipe",
        "imagebuilder:CreateInfrastructureConfiguration", "imagebuilder:GetInfrastructureConfiguration", "imagebuilder:DeleteInfrastructureConfiguration",
        "imagebuilder:CreateDistributionConfiguration", "imagebuilder:GetDistributionConfiguration", "imagebuilder:DeleteDistributionConfiguration",
        "imagebuilder:CreateImage", "imagebuilder:GetImage", "imagebuilder:CancelImageCreation", "imagebuilder:TagResource",
    ];

    /// <summary>Build calls that take no resource ARN (List*, and the lookups of the build's network).</summary>
    public static readonly string[] BuildListActions =
    [
        "imagebuilder:ListComponents", "imagebuilder:ListComponentBuildVersions", "imagebuilder:ListImageRecipes",
        "imagebuilder:ListInfrastructureConfigurations", "imagebuilder:ListDistributionConfigurations", "imagebuilder:ListImages",
        "imagebuilder:ListImageBuildVersions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
    ];

    /// <summary>EC2 Fast Launch of an AMI (Enable-/Disable-WinNodeAmiFastLaunch, New-WinNodeAmi -FastLaunch).</summary>
    public static readonly string[] FastLaunchActions = ["ec2:EnableFastLaunch", "ec2:DisableFastLaunch"];

    public static string[] BuildActions => [.. BuildResourceActions, .. BuildListActions, .. FastLaunchActions, "iam:PassRole", "iam:CreateServiceLinkedRole"];

    public static readonly string[] RolloutActions =
    [
        "ec2:CreateLaunchTemplateVersion", "ec2:RunInstances", "ec2:CreateTags", "ec2:DeleteTags",
        "autoscaling:UpdateAutoScalingGroup", "autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup",
        "autoscaling:SuspendProcesses", "autoscaling:ResumeProcesses", "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags",
        "eks:UpdateNodegroupVersion", "iam:PassRole", "ec2:GetConsoleOutput",
    ];

    /// <summary>The role of Image Builder's documented instance profile for container builds (New-WinNodeAmi's default).</summary>
    public const string DefaultImageBuilderRoleName = "EC2InstanceProfileForImageBuilderECRContainerBuilds";

    /// <summary>The tag keys the module writes: the rollout state on an Auto Scaling group, the drain mark on an instance.</summary>
    private const string GroupStateTag = "WinEksPatch:Rollout";
    private const string InstanceDrainTag = "WinEksPatch:Drain";

    /// <param name="scope">The uses to allow.</param>
    /// <param name="targets">What the statements name (any, where a member is null).</param>
    public static string Create(IamPolicyScope scope, IamPolicyTargets targets)
    {
        var (clusterName, accountId, region, nodeRoleNames, imageBuilderRoleName, launchTemplateIds) =
            (targets.ClusterName, targets.AccountId, targets.Region, targets.NodeRoles, targets.ImageBuilderRoleName, targets.LaunchTemplateIds);
        var p = targets.PartitionName;
        var statements = new JsonArray();
        var partitionRegion = region ?? "*";
        var account = accountId ?? "*";
        void Add(string sid, IEnumerable<string> actions, JsonNode resource, JsonObject? condition = null)
        {
            var statement = new JsonObject
            {
                ["Sid"] = sid,
                ["Effect"] = "Allow",
                ["Action"] = new JsonArray([.. actions.Order(StringComparer.Ordinal).Select(a => (JsonNode)a!)]),
                ["Resource"] = resource,
            };
            if (condition is { Count: > 0 })
            {
                statement["Condition"] = condition;
            }

            statements.Add(statement);
        }

        JsonNode Any() => "*";
        JsonArray Arns(params string[] arns) => new([.. arns.Select(a => (JsonNode)a!)]);
        JsonObject Conditions(params (string Operator, string Key, JsonNode Value)[] conditions)
        {
            var all = new JsonObject();
            foreach (var (op, key, value) in conditions)
            {
                if (all[op] is not JsonObject keys)
                {
                    all[op] = keys = [];
                }

                keys[key] = value;
            }

            return all;
        }

        // The Auto Scaling groups and instances of the cluster carry kubernetes.io/cluster/<name> = owned (the instances
        // get it from their group at launch).
        (string, string, JsonNode)[] ClusterOwned() => clusterName == null ? [] : [("StringEquals", $"aws:ResourceTag/kubernetes.io/cluster/{clusterName}", "owned")];
        (string, string, JsonNode)[] OnlyTagKey(string key) => [("ForAllValues:StringEquals", "aws:TagKeys", Arns(key)), ("Null", "aws:TagKeys", "false")];
        JsonObject PassedToEc2() => Conditions(("StringEquals", "iam:PassedToService", "ec2.amazonaws.com"));

        if (scope.HasFlag(IamPolicyScope.ReadOnly) || scope.HasFlag(IamPolicyScope.Rollout) || scope.HasFlag(IamPolicyScope.Build))
        {
            // Describe/List calls do not support resource-level permissions beyond these; EKS ones do.
            var eks = ReadOnlyActions.Where(a => a.StartsWith("eks:", StringComparison.Ordinal) && a != "eks:ListClusters").ToList();
            Add("WinEksPatchReadEks", eks, clusterName == null ? Any()
                : Arns($"arn:{p}:eks:{partitionRegion}:{account}:cluster/{clusterName}", $"arn:{p}:eks:{partitionRegion}:{account}:nodegroup/{clusterName}/*/*"));
            Add("WinEksPatchRead", ReadOnlyActions.Where(a => !eks.Contains(a) && !a.StartsWith("ssm:", StringComparison.Ordinal)), Any());
            Add("WinEksPatchReadEksOptimizedAmis", ReadOnlyActions.Where(a => a.StartsWith("ssm:", StringComparison.Ordinal)),
                Arns($"arn:{p}:ssm:{partitionRegion}::parameter/aws/service/ami-windows-latest/*", $"arn:{p}:ssm:{partitionRegion}::parameter/aws/service/ami-windows-latest"));
        }

        if (scope.HasFlag(IamPolicyScope.Build))
        {
            // The module names every resource it creates WinEksPatch-<cluster>-...; Image Builder lower-cases ARNs.
            Add("WinEksPatchBuildAmis", BuildResourceActions, Arns([.. new[] { "component", "image-recipe", "infrastructure-configuration", "distribution-configuration", "image" }
                .Select(type => $"arn:{p}:imagebuilder:{partitionRegion}:{account}:{type}/winekspatch-*")]));
            Add("WinEksPatchBuildLookups", BuildListActions, Any());

            // A recipe needs imagebuilder:GetComponent on each component it names (a dependent action): Amazon's
            // update-windows too, which lives under the account "aws" (the only Amazon component the module uses).
            Add("WinEksPatchBuildAmazonComponents", ["imagebuilder:GetComponent"], Arns($"arn:{p}:imagebuilder:{partitionRegion}:aws:component/update-windows/*"));
            // EC2 Fast Launch is authorized on the image (AMI ARNs carry no account) and on the launch template of the
            // temporary instances when one is named; the first time an account enables it, EC2 creates its service-linked
            // role, on the caller's iam:CreateServiceLinkedRole.
            Add("WinEksPatchFastLaunch", FastLaunchActions, Arns($"arn:{p}:ec2:{partitionRegion}::image/*", $"arn:{p}:ec2:{partitionRegion}:{account}:launch-template/*"));
            Add("WinEksPatchFastLaunchServiceRole", ["iam:CreateServiceLinkedRole"],
                Arns($"arn:{p}:iam::{account}:role/aws-service-role/ec2fastlaunch.amazonaws.com/AWSServiceRoleForEC2FastLaunch"),
                Conditions(("StringEquals", "iam:AWSServiceName", "ec2fastlaunch.amazonaws.com")));
            Add("WinEksPatchPassBuildRole", ["iam:PassRole"], Arns($"arn:{p}:iam::{account}:role/{imageBuilderRoleName}"), PassedToEc2());
        }

        if (scope.HasFlag(IamPolicyScope.Rollout))
        {
            Add("WinEksPatchRolloutGroups", RolloutActions.Where(a => a.StartsWith("autoscaling:", StringComparison.Ordinal) && !a.EndsWith("Tags", StringComparison.Ordinal)),
                Any(), Conditions(ClusterOwned()));
            Add("WinEksPatchRolloutGroupState", ["autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"], Any(), Conditions([.. ClusterOwned(), .. OnlyTagKey(GroupStateTag)]));
            string[] TemplateArns(IReadOnlyList<string>? ids) => [.. (ids ?? ["*"]).Select(id => $"arn:{p}:ec2:{partitionRegion}:{account}:launch-template/{id}")];
            string[] templates = TemplateArns(launchTemplateIds);
            if (templates.Length > 0)
            {
                Add("WinEksPatchRolloutTemplates", ["ec2:CreateLaunchTemplateVersion"], Arns(templates));
            }

            // Auto Scaling checks ec2:RunInstances when a self-managed group is set to a launch template: only through the
            // templates those groups launch from (a managed group's instances are launched by EKS).
            string[] launched = TemplateArns(targets.LaunchedTemplateIds ?? launchTemplateIds);
            if (launched.Length > 0)
            {
                Add("WinEksPatchLaunchFromTemplates", ["ec2:RunInstances"], Any(), Conditions(
                    ("ArnLike", "ec2:LaunchTemplate", Arns(launched)), ("Bool", "ec2:IsLaunchTemplateResource", "true")));
            }

            // A template that names its AMI as resolve:ssm:<parameter> is resolved with the caller's ssm:GetParameters
            // (when read with ResolveAlias, and when Auto Scaling is set to it).
            if (targets.ImageParameters.Count > 0)
            {
                Add("WinEksPatchResolveTemplateAliases", ["ssm:GetParameters"], Arns([.. targets.ImageParameters.Select(name =>
                    $"arn:{p}:ssm:{partitionRegion}:{(name.StartsWith("/aws/service/", StringComparison.Ordinal) ? "" : account)}:parameter/{name.TrimStart('/')}")]));
            }

            // The new nodes' Windows boot time (EC2Launch's "Windows is Ready to use" in the console output), on the cluster's instances.
            Add("WinEksPatchReadBootConsole", ["ec2:GetConsoleOutput"], Arns($"arn:{p}:ec2:{partitionRegion}:{account}:instance/*"), Conditions(ClusterOwned()));
            Add("WinEksPatchRolloutDrainMarks", ["ec2:CreateTags", "ec2:DeleteTags"], Arns($"arn:{p}:ec2:{partitionRegion}:{account}:instance/*"),
                Conditions([.. ClusterOwned(), .. OnlyTagKey(InstanceDrainTag)]));
            Add("WinEksPatchRolloutManagedGroups", ["eks:UpdateNodegroupVersion"], clusterName == null ? Any()
                : Arns($"arn:{p}:eks:{partitionRegion}:{account}:nodegroup/{clusterName}/*/*"));

            // Auto Scaling checks iam:PassRole on the launch template's instance profile role when a group is set to it.
            string[] roles = [.. (nodeRoleNames ?? ["*"]).Select(r => r.StartsWith("arn:", StringComparison.Ordinal) ? r : $"arn:{p}:iam::{account}:role/{r}")];
            if (roles.Length > 0)
            {
                Add("WinEksPatchPassNodeRole", ["iam:PassRole"], Arns(roles), PassedToEc2());
            }
        }

        var policy = new JsonObject { ["Version"] = "2012-10-17", ["Statement"] = statements };
        return policy.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}

/// <summary>What the policy's statements name; a null member is any (*).</summary>
public sealed record IamPolicyTargets
{
    /// <summary>Scopes the EKS ARNs and the tag conditions to this cluster.</summary>
    public string? ClusterName { get; init; }

    /// <summary>aws, aws-cn or aws-us-gov; null: the region's (cn-*: aws-cn, us-gov-*: aws-us-gov), else aws.</summary>
    public string? Partition { get; init; }

    public string? AccountId { get; init; }

    public string? Region { get; init; }

    /// <summary>The node roles of the groups a rollout sets (Auto Scaling checks iam:PassRole on the launch template's
    /// instance profile role), by name or ARN; null: any role, passed to EC2 only; empty: none (no group's template names
    /// an instance profile), so no iam:PassRole for rollouts.</summary>
    public IReadOnlyList<string>? NodeRoles { get; init; }

    /// <summary>The role of the build instance's instance profile.</summary>
    public string ImageBuilderRoleName { get; init; } = IamPolicy.DefaultImageBuilderRoleName;

    /// <summary>The launch templates of the cluster's Windows groups: the only ones that get new versions; null: any.</summary>
    public IReadOnlyList<string>? LaunchTemplateIds { get; init; }

    /// <summary>The launch templates self-managed groups launch from (Auto Scaling checks ec2:RunInstances on them); null:
    /// <see cref="LaunchTemplateIds"/>.</summary>
    public IReadOnlyList<string>? LaunchedTemplateIds { get; init; }

    /// <summary>The SSM parameters the groups' templates name their AMI by (resolve:ssm:…).</summary>
    public IReadOnlyList<string> ImageParameters { get; init; } = [];

    public string PartitionName => Partition ?? Aws.AwsPartition.Of(Region);
}
