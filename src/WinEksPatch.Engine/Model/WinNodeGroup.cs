namespace WinEksPatch.Model;

/// <summary>Whether EKS or the user's own Auto Scaling group manages the nodes.</summary>
public enum NodeGroupKind
{
    Managed,
    SelfManaged,
}

/// <summary>A Windows node group of a cluster: output of <c>Get-WinNodeGroup</c>; binds to <c>Set-NodeGroupAmi</c> and
/// <c>Invoke-NodeReplacement</c> by <see cref="ClusterName"/> and <see cref="NodeGroupName"/>.</summary>
public sealed class WinNodeGroup
{
    public required string ClusterName { get; init; }

    /// <summary>EKS node group name (managed) or Auto Scaling group name (self-managed).</summary>
    public required string NodeGroupName { get; init; }

    /// <summary>Managed or SelfManaged: a <see cref="NodeGroupKind"/> name, kept as text so ConvertTo-Json writes the name.</summary>
    public required string Kind { get; init; }

    public required string Region { get; init; }

    public string? AutoScalingGroupName { get; init; }

    public string? LaunchTemplateId { get; init; }

    public string? LaunchTemplateName { get; init; }

    /// <summary>The version the group uses, as it names it (a number, or <c>$Latest</c>/<c>$Default</c>).</summary>
    public string? LaunchTemplateVersion { get; init; }

    /// <summary>The AMI new nodes of the group launch from.</summary>
    public string? ImageId { get; init; }

    public string? AmiName { get; init; }

    /// <summary>EKS AMI type of a managed group (WINDOWS_CORE_2022_x86_64, CUSTOM, ...).</summary>
    public string? AmiType { get; init; }

    /// <summary>2019, 2022 or 2025.</summary>
    public string? WindowsVersion { get; init; }

    /// <summary>Core or Full, when known.</summary>
    public string? Edition { get; init; }

    /// <summary>OS build of the AMI the group launches (ImageId): what its nodes on that AMI report in kernelVersion, else
    /// the AMI's tags or date. Not what every node runs: Get-WinPatchStatus's OsBuild and Get-WinNode's are that. (OsBuild,
    /// its former name, remains as an alias property.)</summary>
    public string? ImageOsBuild { get; init; }

    public string? KubernetesVersion { get; init; }

    public int DesiredSize { get; init; }

    public int MinSize { get; init; }

    public int MaxSize { get; init; }

    /// <summary>Windows nodes of the group registered in Kubernetes.</summary>
    public int NodeCount { get; init; }

    /// <summary>Auto Scaling processes suspended on the group (a rollout suspends AZRebalance and the like while it runs).</summary>
    public IReadOnlyList<string> SuspendedProcesses { get; init => field = ItemList.From(value); } = new ItemList<string>();

    /// <summary>True while a WinEksPatch rollout of the group is in progress or was interrupted (re-run it to continue).</summary>
    public bool RolloutInProgress { get; init; }

    public override string ToString() => $"{ClusterName}/{NodeGroupName}";
}
