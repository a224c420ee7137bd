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
/// <para type="description">Start-WinEksSimulator -IamPolicyPath runs the simulator under the policy, so a rehearsal shows
/// what the policy allows before it is attached to a role.
/// The Kubernetes side is RBAC, not IAM: the identity needs get/list/watch on nodes, pods and poddisruptionbudgets,
/// patch on nodes, create on pods/eviction, and delete on pods only for -Force.</para>
/// </summary>
/// <example>
///   <code>Get-WinEksPatchIamPolicy -ClusterName demo -AccountId 111122223333 -Region us-west-2 -NodeRoleName demo-node-role | Set-Content (Join-Path ([IO.Path]::GetTempPath()) 'winekspatch-policy.json'); Start-WinEksSimulator -IamPolicyPath (Join-Path ([IO.Path]::GetTempPath()) 'winekspatch-policy.json'); Get-WinPatchStatus -ClusterName demo; Stop-WinEksSimulator</code>
///   <para>The whole module's policy for one cluster, rehearsed: the simulator authorizes every call against it as IAM would.</para>
/// </example>
/// <example>
///   <code>Get-WinEksPatchIamPolicy -Scope ReadOnly</code>
///   <para>The policy for assessment only.</para>
/// </example>
/// <example>
///   <code>Get-WinEksPatchIamPolicy -Scope ReadOnly, Rollout -ClusterName demo -AccountId 111122223333 -Region us-west-2 | Set-Content (Join-Path ([IO.Path]::GetTempPath()) 'winekspatch-policy.json')</code>
///   <para>A rollout policy scoped to one cluster, written to a file for aws iam create-policy.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "WinEksPatchIamPolicy")]
[OutputType(typeof(string))]
public sealed class GetWinEksPatchIamPolicyCommand : PSCmdlet
{
    /// <summary>ReadOnly, Build, Rollout (any combination).</summary>
    [Parameter(Position = 0)]
    [ValidateSet("ReadOnly", "Build", "Rollout")]
    public string[] Scope { get; set; } = ["ReadOnly", "Build", "Rollout"];

    /// <summary>Scope the statements to this cluster's resources.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ClusterNameCompleter))]
    public string? ClusterName { get; set; }

    /// <summary>Account id for the ARNs (default *).</summary>
    [Parameter]
    [ValidatePattern(@"^\d{12}$")]
    public string? AccountId { get; set; }

    /// <summary>Region for the ARNs (default *).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.RegionCompleter))]
    public string? Region { get; set; }

    /// <summary>The roles of the node groups a rollout sets (the role in each launch template's instance profile; for a
    /// managed group its node role). Auto Scaling checks iam:PassRole on it when a group is set to a new template version.
    /// Without it, iam:PassRole covers every role of the account (passed to EC2 only), with a warning.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? NodeRoleName { get; set; }

    /// <summary>The role of the instance profile New-WinNodeAmi's build instance uses (-InstanceProfileName there).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ImageBuilderRoleName { get; set; } = IamPolicy.DefaultImageBuilderRoleName;

    protected override void EndProcessing()
    {
        var scope = Scope.Aggregate((IamPolicyScope)0, (all, s) => all | Enum.Parse<IamPolicyScope>(s));
        if (scope.HasFlag(IamPolicyScope.Rollout) && NodeRoleName == null)
        {
            WriteWarning("iam:PassRole is granted on every role of the account (passed to EC2 only): name the node groups' roles with -NodeRoleName to limit it.");
        }

        WriteObject(IamPolicy.Create(scope, ClusterName, AccountId, Region, NodeRoleName, ImageBuilderRoleName));
    }
}
