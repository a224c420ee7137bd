using System.Globalization;
using System.Text;

namespace WinEksPatch.Model;

/// <summary>What New-WinNodeAmi does with one Image Builder resource.</summary>
public enum AmiBuildResourceAction
{
    /// <summary>Nothing of the resource's name exists: the first one (version 1.0.0 for a versioned resource).</summary>
    Create,

    /// <summary>A new version of a versioned resource (component, recipe) whose content changed.</summary>
    CreateVersion,

    /// <summary>The resource exists exactly as the module would create it: used as it is.</summary>
    Reuse,
}

/// <summary>The Image Builder resources New-WinNodeAmi ensures.</summary>
public enum AmiBuildResourceKind
{
    Component,
    ImageRecipe,
    InfrastructureConfiguration,
    DistributionConfiguration,
}

/// <summary>One Image Builder resource of a build plan: reused (<see cref="Arn"/> set) or created with <see cref="Version"/>.</summary>
public sealed class WinNodeAmiBuildResource
{
    /// <summary>An <see cref="AmiBuildResourceKind"/> name, kept as text so ConvertTo-Json writes the name.</summary>
    public string Kind => ResourceKind.ToString();

    public required string Name { get; init; }

    /// <summary>Create, CreateVersion or Reuse: an <see cref="AmiBuildResourceAction"/> name, kept as text so ConvertTo-Json writes the name.</summary>
    public string Action => ResourceAction.ToString();

    /// <summary>The version created, or reused; null for the configurations, which have none.</summary>
    public string? Version { get; init; }

    /// <summary>The resource reused; null when it is created.</summary>
    public string? Arn { get; init; }

    /// <summary>Why a new version is made (what changed since the latest one).</summary>
    public string? Change { get; init; }

    /// <summary>The engine's typed view of <see cref="Kind"/>.</summary>
    internal AmiBuildResourceKind ResourceKind { get; init; }

    /// <summary>The engine's typed view of <see cref="Action"/>.</summary>
    internal AmiBuildResourceAction ResourceAction { get; init; }

    /// <summary>How the plan's text and the messages name the kind: "image recipe".</summary>
    internal string KindText => ResourceKind switch
    {
        AmiBuildResourceKind.Component => "component",
        AmiBuildResourceKind.ImageRecipe => "image recipe",
        AmiBuildResourceKind.InfrastructureConfiguration => "infrastructure configuration",
        _ => "distribution configuration",
    };

    /// <summary>The plan's line for it: "name: reuse arn" or "name: create version 1.0.1 (why)".</summary>
    public override string ToString() => Arn != null ? $"{Name}: reuse {Arn}"
        : $"{Name}: create{(Version is { Length: > 0 } v ? " version " + v : "")}{(Change != null ? " (" + Change + ")" : "")}";
}

/// <summary>An image to cache as its registry answered under planning: the digest the build verifies, and its size on disk.</summary>
public sealed record WinNodeAmiCacheImage(string Image, string Digest, string? OsVersion, long SizeOnDisk)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Image} = {Digest[..Math.Min(19, Digest.Length)]}…, {SizeOnDisk / 1e6:N0} MB on disk ({OsVersion ?? "build unknown"})");
}

/// <summary>EC2 Fast Launch as the build's distribution turns it on for the AMI in this region, checked against the region's
/// quota and the launch template under planning.</summary>
public sealed class WinNodeAmiFastLaunchPlan
{
    public int TargetSnapshotCount { get; init; }

    public int MaxParallelLaunches { get; init; }

    public string? LaunchTemplateId { get; init; }

    public string? LaunchTemplateVersion { get; init; }

    /// <summary>The launch template as EC2 described it ("lt-… (name) version n"), or that EC2's defaults are used.</summary>
    public required string LaunchTemplate { get; init; }

    /// <summary>At most TargetSnapshotCount × the root volume of EBS snapshot storage.</summary>
    public int StorageGiB { get; init; }

    public int ParallelLaunchQuota { get; init; }

    /// <summary>The snapshots, parallel launches and the region's quota in use, as the plan's text shows them.</summary>
    public IReadOnlyList<string> QuotaLines { get; init => field = ItemList.From(value); } = new ItemList<string>();

    public override string ToString() => $"{TargetSnapshotCount} snapshots, {MaxParallelLaunches} parallel launches";
}

/// <summary>
/// The plan of an AMI build: what <c>New-WinNodeAmi -WhatIf</c> writes, and what a run without -WhatIf executes, as it is:
/// the resources it lists are the ones created (with the versions it lists) or reused (by the ARNs it lists), and nothing is
/// planned again between the confirmation and the creations.
/// </summary>
public sealed class WinNodeAmiBuildPlan
{
    public required string ClusterName { get; init; }

    public string? NodeGroupName { get; init; }

    public required string Region { get; init; }

    public required string KubernetesVersion { get; init; }

    public required string WindowsVersion { get; init; }

    public required string Edition { get; init; }

    /// <summary>The OS build the AMI will have: the newest monthly Windows release by now (update-windows installs it).</summary>
    public string? OsBuild { get; init; }

    public required string ParentImageId { get; init; }

    public string? ParentImageName { get; init; }

    public string? ParentOsBuild { get; init; }

    public int RootVolumeGiB { get; init; }

    /// <summary>Every image the AMI will have cached: the parent's, the base images of the release, and -CacheImage.</summary>
    public IReadOnlyList<string> CachedImages { get; init => field = ItemList.From(value); } = new ItemList<string>();

    /// <summary>The -CacheImage images the registry answered for, with the digest the build verifies.</summary>
    public IReadOnlyList<WinNodeAmiCacheImage> CacheImages { get; init => field = ItemList.From(value); } = new ItemList<WinNodeAmiCacheImage>();

    /// <summary>Component, image recipe, infrastructure and distribution configuration, in that order.</summary>
    public IReadOnlyList<WinNodeAmiBuildResource> Resources { get; init => field = ItemList.From(value); } = new ItemList<WinNodeAmiBuildResource>();

    /// <summary>The regions the distribution copies the AMI to, this one first.</summary>
    public IReadOnlyList<string> DistributionRegions { get; init => field = ItemList.From(value); } = new ItemList<string>();

    /// <summary>With -FastLaunch; null otherwise.</summary>
    public WinNodeAmiFastLaunchPlan? FastLaunch { get; init; }

    internal WinNodeAmiBuildResource Resource(AmiBuildResourceKind kind) => Resources.Single(r => r.ResourceKind == kind);

    /// <summary>The What if: text (and the -Confirm question).</summary>
    public override string ToString()
    {
        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"Build a Windows AMI for cluster '{ClusterName}' (Kubernetes {KubernetesVersion}, Windows Server {WindowsVersion} {Edition}, OS build {OsBuild ?? "unknown"}) with EC2 Image Builder in {Region}:")
            .AppendLine(CultureInfo.InvariantCulture, $"  parent AMI                    {ParentImageId} {ParentImageName} ({ParentOsBuild ?? "build unknown"})")
            .AppendLine(CultureInfo.InvariantCulture, $"  component                     {Resource(AmiBuildResourceKind.Component)}")
            .AppendLine(CultureInfo.InvariantCulture, $"  image recipe                  {Resource(AmiBuildResourceKind.ImageRecipe)} (root volume {RootVolumeGiB} GiB)")
            .AppendLine(CultureInfo.InvariantCulture, $"  infrastructure configuration  {Resource(AmiBuildResourceKind.InfrastructureConfiguration)}")
            .AppendLine(CultureInfo.InvariantCulture, $"  distribution configuration    {Resource(AmiBuildResourceKind.DistributionConfiguration)} ({string.Join(", ", DistributionRegions)})")
            .AppendLine(CultureInfo.InvariantCulture, $"  cached images                 {string.Join(", ", CachedImages)}");
        foreach (var image in CacheImages)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  cache {image}");
        }

        if (FastLaunch is { } fastLaunch)
        {
            text.AppendLine("  EC2 Fast Launch (Image Builder enables it on the AMI it distributes):");
            foreach (var line in fastLaunch.QuotaLines)
            {
                text.AppendLine(line);
            }

            text.AppendLine(CultureInfo.InvariantCulture, $"    launch template               {fastLaunch.LaunchTemplate}");
        }

        return text.Append("  image build                   start (CreateImage)").ToString();
    }
}
