namespace WinEksPatch.Model;

/// <summary>What Set-NodeGroupAmi changed; binds to Invoke-NodeReplacement by ClusterName and NodeGroupName.</summary>
public sealed class NodeGroupAmiChange
{
    public required string ClusterName { get; init; }

    public required string NodeGroupName { get; init; }

    /// <summary>Managed or SelfManaged: a <see cref="NodeGroupKind"/> name, kept as text so ConvertTo-Json writes the name.</summary>
    public required string Kind { get; init; }

    public string? PreviousImageId { get; init; }

    public required string ImageId { get; init; }

    public string? LaunchTemplateId { get; init; }

    public string? PreviousLaunchTemplateVersion { get; init; }

    public string? LaunchTemplateVersion { get; init; }

    /// <summary>The EKS update started for a managed group.</summary>
    public string? UpdateId { get; init; }

    /// <summary>False when the group already launched this AMI (nothing was changed).</summary>
    public bool Changed { get; init; }

    /// <summary>Self-managed groups with a mixed instances policy: the new versions (<c>lt-…:N</c>) given to the launch
    /// templates of its overrides, so their instance types launch the new AMI too.</summary>
    public IReadOnlyList<string> OverrideLaunchTemplates { get; init => field = ItemList.From(value); } = new ItemList<string>();

    public override string ToString() => $"{ClusterName}/{NodeGroupName}: {PreviousImageId} -> {ImageId}";
}
