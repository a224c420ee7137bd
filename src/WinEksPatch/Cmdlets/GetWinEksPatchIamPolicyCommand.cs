using System.Management.Automation;
using WinEksPatch.Workflows;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Prints the least-privilege IAM policy WinEksPatch needs for the chosen uses.</para>
/// <para type="description">ReadOnly covers the assessment cmdlets (Get-Win*, Measure-WinContainerImage); Build covers
/// New-WinNodeAmi (EC2 Image Builder, passing the build instance's role to EC2); Rollout covers Set-NodeGroupAmi,
/// Invoke-NodeReplacement and Invoke-WinEksPatch (launch template versions, the Auto Scaling group's sizes, processes,
/// tags and instance terminations, EKS managed node group updates). With -ClusterName the EKS statements name that
/// cluster's ARNs and the Auto Scaling and instance writes are limited to resources tagged kubernetes.io/cluster/&lt;name&gt;
/// = owned. Tag writes are limited to the module's own keys (WinEksPatch:Rollout on a group, WinEksPatch:Drain on an
/// instance); Image Builder calls to the module's resource names (winekspatch-*), with the Delete calls that clean up a
/// failed build; iam:PassRole to the roles given (-NodeRoleName, -ImageBuilderRoleName), passed to EC2 only; and
/// ec2:RunInstances, which Auto Scaling checks when a group is set to a launch template, to launches from a template.</para>
/// <para type="description">With -FromCluster it reads the cluster (with this session's AWS and Kubernetes access) and
/// names exactly what its Windows groups use: the partition, account and region of the cluster's ARN; iam:PassRole on the
/// roles in the instance profiles of the self-managed groups' launch templates (read with iam:GetInstanceProfile; none
/// when no template names one, as for managed groups); ec2:CreateLaunchTemplateVersion on the groups' launch templates,
/// and the launches Auto Scaling checks on the self-managed groups' ones only (mixed instances overrides' templates
/// included); ssm:GetParameters on the parameters the templates name their AMI by (resolve:ssm:). It warns about
/// self-managed groups that launch $Latest: a new template version changes what they launch with no iam:PassRole check.
/// A cluster without Windows groups is NoWindowsNodeGroups. Without -FromCluster nothing is read, and -Region (the ARNs'
/// region and partition), -AccountId and -NodeRoleName say what to name.</para>
/// <para type="description">Start-WinEksSimulator -IamPolicyPath runs the simulator under the policy, so a rehearsal shows
/// what the policy allows before it is attached to a role.
/// The Kubernetes side is RBAC, not IAM: the identity needs get/list/watch on nodes, pods and poddisruptionbudgets,
/// patch on nodes, create on pods/eviction, and delete on pods only for -Force.</para>
/// </summary>
/// <example>
///   <code>Get-WinEksPatchIamPolicy -ClusterName demo -FromCluster | Set-Content (Join-Path ([IO.Path]::GetTempPath()) 'winekspatch-demo-policy.json')</code>
///   <para>The policy for cluster demo as it is: its account and region, the node roles its self-managed groups pass and the
///   launch templates they launch from, read from the cluster.</para>
/// </example>
/// <example>
///   <code>Get-WinEksPatchIamPolicy -ClusterName demo -AccountId 111122223333 -Region us-west-2 -NodeRoleName demo-node-role | Set-Content (Join-Path ([IO.Path]::GetTempPath()) 'winekspatch-policy.json'); Start-WinEksSimulator -IamPolicyPath (Join-Path ([IO.Path]::GetTempPath()) 'winekspatch-policy.json'); Get-WinPatchStatus -ClusterName demo; Stop-WinEksSimulator</code>
///   <para>The whole module's policy for one cluster, rehearsed: the simulator authorizes every call against it as IAM would.</para>
/// </example>
/// <example>
///   <code>Get-WinEksPatchIamPolicy -Scope ReadOnly, Rollout -StackSetTemplate | Set-Content (Join-Path ([IO.Path]::GetTempPath()) 'winekspatch-fleet-roles.json')</code>
///   <para>The fleet runbook's roles as a CloudFormation template, for aws cloudformation create-stack-set with
///   CentralAccountId and a deployment to every account of the fleet.</para>
/// </example>
/// <example>
///   <code>Get-WinEksPatchIamPolicy -Scope ReadOnly</code>
///   <para>The policy for assessment only.</para>
/// </example>
/// <example>
///   <code>Get-WinEksPatchIamPolicy -Scope ReadOnly, Rollout -ClusterName demo -AccountId 111122223333 -Region us-west-2 | Set-Content (Join-Path ([IO.Path]::GetTempPath()) 'winekspatch-policy.json')</code>
///   <para>A rollout policy scoped to one cluster, written to a file for aws iam create-policy.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "WinEksPatchIamPolicy", DefaultParameterSetName = Given)]
[OutputType(typeof(string))]
public sealed class GetWinEksPatchIamPolicyCommand : FleetCmdlet
{
    private const string Given = "Given";
    private const string FromClusterSet = "FromCluster";

    /// <summary>ReadOnly, Build, Rollout (any combination).</summary>
    [Parameter(Position = 0)]
    [ValidateSet("ReadOnly", "Build", "Rollout")]
    public string[] Scope { get; set; } = ["ReadOnly", "Build", "Rollout"];

    /// <summary>Scope the statements to this cluster's resources.</summary>
    [Parameter(ParameterSetName = Given)]
    [Parameter(ParameterSetName = FromClusterSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ClusterNameCompleter))]
    public string? ClusterName { get; set; }

    /// <summary>Read the cluster for its account, region, node roles and launch templates (see the description).</summary>
    [Parameter(ParameterSetName = FromClusterSet, Mandatory = true)]
    public SwitchParameter FromCluster { get; set; }

    /// <summary>Account id for the ARNs (default *).</summary>
    [Parameter(ParameterSetName = Given)]
    [ValidatePattern(@"^\d{12}$")]
    public string? AccountId { get; set; }

    /// <summary>The roles of the node groups a rollout sets (the role in each launch template's instance profile; for a
    /// managed group its node role). Auto Scaling checks iam:PassRole on it when a group is set to a new template version.
    /// Without it, iam:PassRole covers every role of the account (passed to EC2 only), with a warning; -FromCluster reads
    /// them instead.</summary>
    [Parameter(ParameterSetName = Given)]
    [ValidateNotNullOrEmpty]
    public string[]? NodeRoleName { get; set; }

    /// <summary>The role of the instance profile New-WinNodeAmi's build instance uses (-InstanceProfileName there).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ImageBuilderRoleName { get; set; } = IamPolicy.DefaultImageBuilderRoleName;

    /// <summary>Print, instead of the policy, a CloudFormation template (JSON) for a StackSet deployed to every account of the
    /// fleet: the SSM Automation execution role the WinEksPatch-Fleet runbook runs with in each account (with this policy,
    /// of -Scope, -ClusterName, -NodeRoleName as given, and AmazonSSMAutomationRole), and in the central account (the
    /// template's CentralAccountId parameter) the administration role SSM starts the child executions with.</summary>
    [Parameter(ParameterSetName = Given)]
    public SwitchParameter StackSetTemplate { get; set; }

    protected override void EndProcessing()
    {
        var scope = Scope.Aggregate((IamPolicyScope)0, (all, s) => all | Enum.Parse<IamPolicyScope>(s));
        if (FromCluster)
        {
            var discovery = Workflow(w => w.IamPolicyDiscovery());
            RunWorkflow(async (host, token) =>
            {
                var facts = await discovery.DiscoverAsync(ClusterName!, ImageBuilderRoleName, token).ConfigureAwait(false);
                var t = facts.Targets;
                host.Verbose($"{ClusterName}: partition {t.PartitionName}, account {t.AccountId}, region {t.Region}, Windows groups {string.Join(", ", facts.NodeGroupNames)}; " +
                    $"node roles passed: {(t.NodeRoles!.Count == 0 ? "none" : string.Join(", ", t.NodeRoles))}; launch templates: {string.Join(", ", t.LaunchTemplateIds!)}.");
                if (facts.FloatingVersionGroups.Count > 0)
                {
                    host.Warning($"{string.Join(", ", facts.FloatingVersionGroups)} launch $Latest (or $Default) of their launch template: with " +
                        "ec2:CreateLaunchTemplateVersion on it, a new version changes what they launch without any Auto Scaling call, so iam:PassRole " +
                        "does not limit the instance profile it names. Set-NodeGroupAmi moves a group to a numbered version; keep it there.");
                }

                host.Output(IamPolicy.Create(scope, t));
            });
        }
        else
        {
            if (scope.HasFlag(IamPolicyScope.Rollout) && NodeRoleName == null)
            {
                WriteWarning("iam:PassRole is granted on every role of the account (passed to EC2 only): name the node groups' roles with -NodeRoleName, " +
                    "or read them with -FromCluster, to limit it.");
            }

            if (StackSetTemplate && (AccountId ?? Region ?? ClusterName) is not null)
            {
                ThrowTerminatingError(ToErrorRecord(new Errors.WinEksPatchException(Errors.ErrorIds.ParametersConflict, Errors.ErrorKind.InvalidArgument,
                    "-StackSetTemplate makes one template for every account, Region and cluster of the fleet: -AccountId, -Region and -ClusterName would pin its " +
                    "policy to one of them. Leave them out (-NodeRoleName and -Scope still apply).", "StackSetTemplate")));
            }

            var policy = IamPolicy.Create(scope, new IamPolicyTargets
            {
                ClusterName = ClusterName,
                AccountId = AccountId,
                Region = Region,
                NodeRoles = NodeRoleName,
                ImageBuilderRoleName = ImageBuilderRoleName,
            });
            WriteObject(StackSetTemplate ? FleetRolesTemplate.Create(policy) : policy);
        }

        base.EndProcessing();
    }
}
