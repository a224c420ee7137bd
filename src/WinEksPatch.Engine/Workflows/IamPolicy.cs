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
/// calls it), scoped to one cluster's resources when a cluster is named (EKS ARNs, and the Auto Scaling groups and EC2
/// instances tagged kubernetes.io/cluster/&lt;name&gt;).
/// </summary>
public static class IamPolicy
{
    public static readonly string[] ReadOnlyActions =
    [
        "eks:ListClusters", "eks:DescribeCluster", "eks:ListNodegroups", "eks:DescribeNodegroup", "eks:ListUpdates", "eks:DescribeUpdate",
        "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeScalingActivities",
        "autoscaling:DescribeLifecycleHooks", "autoscaling:DescribeInstanceRefreshes", "autoscaling:DescribeWarmPool",
        "ec2:DescribeInstances", "ec2:DescribeImages", "ec2:DescribeLaunchTemplateVersions",
        "ssm:GetParameter", "ssm:GetParametersByPath",
        "ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability",
    ];

    public static readonly string[] BuildActions =
    [
        "imagebuilder:CreateComponent", "imagebuilder:GetComponent", "imagebuilder:ListComponents", "imagebuilder:ListComponentBuildVersions",
        "imagebuilder:CreateImageRecipe", "imagebuilder:GetImageRecipe", "imagebuilder:ListImageRecipes",
        "imagebuilder:CreateInfrastructureConfiguration", "imagebuilder:GetInfrastructureConfiguration", "imagebuilder:ListInfrastructureConfigurations",
        "imagebuilder:CreateDistributionConfiguration", "imagebuilder:GetDistributionConfiguration", "imagebuilder:ListDistributionConfigurations",
        "imagebuilder:CreateImage", "imagebuilder:GetImage", "imagebuilder:ListImages", "imagebuilder:ListImageBuildVersions",
        "imagebuilder:CancelImageCreation", "imagebuilder:TagResource",
        "iam:GetInstanceProfile", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
    ];

    public static readonly string[] RolloutActions =
    [
        "ec2:CreateLaunchTemplateVersion", "ec2:CreateTags", "ec2:DeleteTags",
        "autoscaling:UpdateAutoScalingGroup", "autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup",
        "autoscaling:SuspendProcesses", "autoscaling:ResumeProcesses", "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags",
        "eks:UpdateNodegroupVersion",
    ];

    public static string Create(IamPolicyScope scope, string? clusterName = null, string? accountId = null, string? region = null)
    {
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
            if (condition != null)
            {
                statement["Condition"] = condition;
            }

            statements.Add(statement);
        }

        JsonNode Any() => "*";
        JsonObject? ClusterTag() => clusterName == null ? null : new JsonObject
        {
            ["StringEquals"] = new JsonObject { [$"aws:ResourceTag/kubernetes.io/cluster/{clusterName}"] = "owned" },
        };

        if (scope.HasFlag(IamPolicyScope.ReadOnly) || scope.HasFlag(IamPolicyScope.Rollout) || scope.HasFlag(IamPolicyScope.Build))
        {
            // Describe/List calls do not support resource-level permissions beyond these; EKS ones do.
            var eks = ReadOnlyActions.Where(a => a.StartsWith("eks:", StringComparison.Ordinal) && a != "eks:ListClusters").ToList();
            Add("WinEksPatchReadEks", eks, clusterName == null ? Any()
                : new JsonArray($"arn:aws:eks:{partitionRegion}:{account}:cluster/{clusterName}", $"arn:aws:eks:{partitionRegion}:{account}:nodegroup/{clusterName}/*/*"));
            Add("WinEksPatchRead", ReadOnlyActions.Where(a => !eks.Contains(a) && !a.StartsWith("ssm:", StringComparison.Ordinal)), Any());
            Add("WinEksPatchReadEksOptimizedAmis", ReadOnlyActions.Where(a => a.StartsWith("ssm:", StringComparison.Ordinal)),
                new JsonArray($"arn:aws:ssm:{partitionRegion}::parameter/aws/service/ami-windows-latest/*", $"arn:aws:ssm:{partitionRegion}::parameter/aws/service/ami-windows-latest"));
        }

        if (scope.HasFlag(IamPolicyScope.Build))
        {
            Add("WinEksPatchBuildAmis", BuildActions, Any());
            Add("WinEksPatchPassBuildRole", ["iam:PassRole"], new JsonArray($"arn:aws:iam::{account}:role/*"),
                new JsonObject { ["StringEquals"] = new JsonObject { ["iam:PassedToService"] = "ec2.amazonaws.com" } });
        }

        if (scope.HasFlag(IamPolicyScope.Rollout))
        {
            Add("WinEksPatchRolloutGroups", RolloutActions.Where(a => a.StartsWith("autoscaling:", StringComparison.Ordinal)), Any(), ClusterTag());
            Add("WinEksPatchRolloutTemplatesAndTags", RolloutActions.Where(a => a.StartsWith("ec2:", StringComparison.Ordinal)), Any());
            Add("WinEksPatchRolloutManagedGroups", ["eks:UpdateNodegroupVersion"], clusterName == null ? Any()
                : new JsonArray($"arn:aws:eks:{partitionRegion}:{account}:nodegroup/{clusterName}/*/*"));

            // Auto Scaling launches with the launch template's instance profile, which needs PassRole to EC2.
            Add("WinEksPatchPassNodeRole", ["iam:PassRole"], new JsonArray($"arn:aws:iam::{account}:role/*"),
                new JsonObject { ["StringEquals"] = new JsonObject { ["iam:PassedToService"] = "ec2.amazonaws.com" } });
        }

        var policy = new JsonObject { ["Version"] = "2012-10-17", ["Statement"] = statements };
        return policy.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
