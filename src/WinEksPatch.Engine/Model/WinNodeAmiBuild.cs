namespace WinEksPatch.Model;

/// <summary>An EC2 Image Builder build New-WinNodeAmi -NoWait started (the AMI does not exist yet). Follow it with
/// <c>aws imagebuilder get-image --image-build-version-arn &lt;ImageBuildVersionArn&gt;</c>, or Get-WinNodeAmi -Source
/// ImageBuilder once it is AVAILABLE.</summary>
public sealed class WinNodeAmiBuild
{
    public required string ImageBuildVersionArn { get; init; }

    public required string ClusterName { get; init; }

    public required string Region { get; init; }

    /// <summary>Image Builder status when the command returned (PENDING right after the start).</summary>
    public required string Status { get; init; }

    public required string ParentImageId { get; init; }

    public string? KubernetesVersion { get; init; }

    public string? WindowsVersion { get; init; }

    public string? Edition { get; init; }

    /// <summary>The OS build the AMI will have: the newest monthly Windows release by now (update-windows installs it).</summary>
    public string? OsBuild { get; init; }

    public IReadOnlyList<string> CachedImages { get; init => field = ItemList.From(value); } = new ItemList<string>();

    public string? ImageRecipeArn { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public override string ToString() => ImageBuildVersionArn;
}
