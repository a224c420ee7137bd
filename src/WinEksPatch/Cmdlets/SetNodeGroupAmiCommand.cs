using System.Management.Automation;
using WinEksPatch.Windows;
using WinEksPatch.Workflows;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Points a Windows node group at a new AMI through a new launch template version.</para>
/// <para type="description">Validates the AMI against the group first: it exists in the region, is Windows, has the
/// group's architecture, its Windows build matches the group's (process-isolated containers need it) and it is built
/// for the cluster's Kubernetes version. Then it creates a new numbered version of the group's launch template from the
/// current one with only the AMI changed (EC2 copies everything else, the EKS bootstrap user data byte for byte) and
/// applies it: a self-managed group's Auto Scaling group (or its mixed instances policy) moves to that version number,
/// never $Latest; a managed group (amiType CUSTOM) gets UpdateNodegroupVersion with that version, which starts EKS's
/// own rolling update. Nodes already running are not touched (Invoke-NodeReplacement replaces them).</para>
/// <para type="description">A mixed instances policy whose overrides launch from launch templates of their own: each of
/// those templates gets a new version with the AMI too, and the policy's overrides move to them (OverrideLaunchTemplates
/// in the output), or those instance types would keep launching the old AMI. An override whose AMI is not Windows on the
/// same architecture (Graviton types, say) is refused before any change (LaunchTemplateOverrideDiffers).</para>
/// <para type="description">A template whose version names its AMI by a Systems Manager parameter (resolve:ssm:name) is
/// read with the alias resolved (the AMI a launch gets now). The new version names the AMI itself and so no longer
/// follows the parameter; the question says so. An alias that resolves to nothing is LaunchTemplateAliasUnresolved.</para>
/// <para type="description">It asks before it changes anything (ConfirmImpact High: on a managed group it starts EKS's
/// update, which replaces every node; on a self-managed group every instance launched from then on runs the new AMI); the
/// question says which AMI, which template and how many nodes. -Force or -Confirm:$false answer it for scripts.</para>
/// <para type="description">The previous version is never deleted: going back is the same command with the previous
/// AMI. Running it again with the AMI the group already launches changes nothing (Changed is false).</para>
/// </summary>
/// <example>
///   <code>$ami = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks; Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageId $ami.ImageId -Confirm:$false</code>
///   <para>Moves the self-managed group to the latest EKS-optimized AMI.</para>
/// </example>
/// <example>
///   <code>Get-WinNodeGroup -ClusterName demo -NodeGroupName demo-win-selfmanaged | Set-NodeGroupAmi -ImageId ami-03ae33a4ed49091ae -WhatIf</code>
///   <para>Shows what would change, changes nothing.</para>
/// </example>
[Cmdlet(VerbsCommon.Set, "NodeGroupAmi", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType("WinEksPatch.Model.NodeGroupAmiChange")]
public sealed class SetNodeGroupAmiCommand : FleetCmdlet
{
    /// <summary>The EKS cluster.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ClusterNameCompleter))]
    public string ClusterName { get; set; } = "";

    /// <summary>The node group (EKS managed node group or self-managed Auto Scaling group).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.NodeGroupNameCompleter))]
    public string NodeGroupName { get; set; } = "";

    /// <summary>The AMI new nodes of the group launch from.</summary>
    [Parameter(Mandatory = true, Position = 2, ValueFromPipelineByPropertyName = true)]
    [ValidatePattern("^ami-[0-9a-f]{8,17}$")]
    [ArgumentCompleter(typeof(Completion.ImageIdCompleter))]
    public string ImageId { get; set; } = "";

    /// <summary>Change the group without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Accounts (12-digit ids) besides this one and Amazon whose AMIs may be set. Without it, an AMI another account
    /// owns is refused with AmiOwnerNotTrusted before anything changes: nodes run whatever its owner put in it.</summary>
    [Parameter]
    [ValidatePattern(@"^\d{12}$")]
    public string[]? AllowAmiOwner { get; set; }

    protected override void ProcessRecord()
    {
        if (Force && !MyInvocation.BoundParameters.ContainsKey("Confirm"))
        {
            ConfirmPreferenceOverride();
        }

        var update = Workflow(w => w.AmiUpdate());
        RunWorkflow((host, token) => update.RunAsync(ClusterName, NodeGroupName, ImageId, host, token, AllowAmiOwner), perInputObject: true);
    }
}
