namespace WinEksPatch.Simulator.Scenarios;

// The container image catalogue of a scenario (field "containerImages" of a scenario file, or the shipped
// Scenarios/data/container-images.json when a scenario names none). Sizes are bytes; the simulator's README says
// how they relate to what docker, ECR and the EKS best-practices guide print (MB = 10^6 bytes, GB = 10^9 bytes).

public sealed class ContainerImageCatalogDefinition
{
    /// <summary>Shipped catalogue files (Scenarios/data/&lt;name&gt;.json) merged before this one's own entries.</summary>
    public List<string> Include { get; set; } = [];
    public List<RegistryDefinition> Registries { get; set; } = [];
    public List<BaseImageFamilyDefinition> BaseImages { get; set; } = [];
    public List<ContainerImageDefinition> Images { get; set; } = [];
    /// <summary>What an EKS-optimized Windows AMI caches: these base families at the AMI's patch month, plus these images.</summary>
    public EksAmiCacheDefinition EksAmiCache { get; set; } = new();
}

public sealed class RegistryDefinition
{
    /// <summary>Registry host as it appears in image references: mcr.microsoft.com, 111122223333.dkr.ecr.us-west-2.amazonaws.com.</summary>
    public string Host { get; set; } = "";
    /// <summary>"anonymous" (no auth, like MCR), "bearer" (anonymous token from /token, like public.ecr.aws) or "ecr" (Basic AWS:&lt;GetAuthorizationToken password&gt;).</summary>
    public string Auth { get; set; } = "anonymous";
}

/// <summary>
/// A Windows base image published monthly (servercore, nanoserver): one image per monthly build of its Windows
/// Server release in the patch calendar, tagged by full OS version and the newest also by <see cref="Tag"/>.
/// </summary>
public sealed class BaseImageFamilyDefinition
{
    public string Repository { get; set; } = "";
    public string WindowsServer { get; set; } = "2022";
    /// <summary>Moving tag of the newest build, e.g. ltsc2022.</summary>
    public string Tag { get; set; } = "";
    /// <summary>"docker" (manifest list v2) or "oci" (image index).</summary>
    public string ManifestFormat { get; set; } = "docker";
    /// <summary>The month (yyyy-MM) at which the layers have exactly their stated sizes; other months grow or shrink by the monthly growth.</summary>
    public string AnchorMonth { get; set; } = "2026-09";
    public List<LayerDefinition> Layers { get; set; } = [];
}

public sealed class LayerDefinition
{
    /// <summary>Names the layer in generated digests; layers with the same name and month are the same blob.</summary>
    public string Name { get; set; } = "";
    /// <summary>Compressed size (what a pull downloads).</summary>
    public long Size { get; set; }
    /// <summary>Uncompressed size (what a pull extracts to disk).</summary>
    public long UncompressedSize { get; set; }
    /// <summary>Windows base layers are "foreign" (non-distributable): registries of derived images do not store them.</summary>
    public bool Foreign { get; set; }
    /// <summary>Base families: a new blob every month (the cumulative update layer) rather than one for the whole release.</summary>
    public bool PerMonth { get; set; }
    public long MonthlySizeGrowth { get; set; }
    public long MonthlyUncompressedGrowth { get; set; }
}

public sealed class ContainerImageDefinition
{
    /// <summary>host/path, e.g. 111122223333.dkr.ecr.us-west-2.amazonaws.com/fluentd-windows.</summary>
    public string Repository { get; set; } = "";
    public List<string> Tags { get; set; } = [];
    public string ManifestFormat { get; set; } = "oci";
    public DateTimeOffset? PushedAt { get; set; }
    public List<PlatformImageDefinition> Platforms { get; set; } = [];
}

public sealed class PlatformImageDefinition
{
    public string Os { get; set; } = "windows";
    public string Architecture { get; set; } = "amd64";
    /// <summary>Base family repository (a <see cref="BaseImageFamilyDefinition"/>), for Windows images.</summary>
    public string? Base { get; set; }
    public string? WindowsServer { get; set; }
    /// <summary>The base's build month (yyyy-MM); null means the newest.</summary>
    public string? BaseMonth { get; set; }
    /// <summary>Alternative to <see cref="BaseMonth"/>: this many monthly builds behind the newest.</summary>
    public int BaseMonthsBehind { get; set; }
    /// <summary>The image's own layers, on top of the base's.</summary>
    public List<LayerDefinition> Layers { get; set; } = [];
}

public sealed class EksAmiCacheDefinition
{
    public List<string> BaseImages { get; set; } = [];
    public List<string> Images { get; set; } = [];
}
