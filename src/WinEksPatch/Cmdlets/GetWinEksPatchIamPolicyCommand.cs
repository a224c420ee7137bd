using System.Management.Automation;
using WinEksPatch.Workflows;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Prints the least-privilege IAM policy WinEksPatch needs for the chosen uses.</para>
/// <para type="description">ReadOnly covers the assessment cmdlets (Get-Win*, Measure-WinContainerImage); Build covers
/// New-WinNodeAmi (EC2 Image Builder, passing the build instance's role to EC2); Rollout covers Set-NodeGroupAmi,
/// Invoke-NodeReplacement and Invoke-WinEksPatch (launch template versions, the Auto Scaling group's sizes, processes,
/// tags and instance terminations, EKS managed node group updates). With -ClusterName the EKS statements name that
/// cluster's ARNs and the Auto Scaling writes are limited to groups tagged kubernetes.io/cluster/&lt;name&gt; = owned.
/// The Kubernetes side is RBAC, not IAM: the identity needs get/list/watch on nodes, pods and poddisruptionbudgets,
/// patch on nodes, create on pods/eviction, and delete on pods only for -Force.</para>
/// </summary>
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

    protected override void EndProcessing()
    {
        var scope = Scope.Aggregate((IamPolicyScope)0, (all, s) => all | Enum.Parse<IamPolicyScope>(s));
        WriteObject(IamPolicy.Create(scope, ClusterName, AccountId, Region));
    }
}
