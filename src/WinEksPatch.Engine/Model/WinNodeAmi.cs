namespace WinEksPatch.Model;

/// <summary>Where a candidate AMI comes from.</summary>
public enum AmiSource
{
    /// <summary>The EKS-optimized Windows AMI AWS publishes (SSM public parameter).</summary>
    Eks,

    /// <summary>An AMI built by EC2 Image Builder (by New-WinNodeAmi).</summary>
    ImageBuilder,
}

/// <summary>A Windows AMI for EKS nodes: output of <c>Get-WinNodeAmi</c> and <c>New-WinNodeAmi</c>; binds to
/// <c>Set-NodeGroupAmi -ImageId</c>.</summary>
public sealed class WinNodeAmi
{
    public required string ImageId { get; init; }

    public string? Name { get; init; }

    public required string Region { get; init; }

    /// <summary>Eks or ImageBuilder: an <see cref="AmiSource"/> name (text, so ConvertTo-Json writes the name).</summary>
    public required string Source { get; init; }

    public string? KubernetesVersion { get; init; }

    public string? WindowsVersion { get; init; }

    public string? Edition { get; init; }

    public string? OsBuild { get; init; }

    public DateTimeOffset? CreationDate { get; init; }

    /// <summary>Container images cached in the AMI's containerd (k8s.io namespace).</summary>
    public IReadOnlyList<string> CachedImages { get; init => field = ItemList.From(value); } = new ItemList<string>();

    /// <summary>The SSM parameter that named it (EKS AMIs).</summary>
    public string? ParameterName { get; init; }

    /// <summary>The Image Builder image version that produced it (Image Builder AMIs).</summary>
    public string? ImageBuildVersionArn { get; init; }

    public TimeSpan? BuildDuration { get; init; }

    /// <summary>EC2 Fast Launch of the AMI when New-WinNodeAmi -FastLaunch built it (enabled: its instances boot from
    /// pre-provisioned snapshots); null otherwise.</summary>
    public string? FastLaunchState { get; init; }

    public override string ToString() => ImageId;
}
