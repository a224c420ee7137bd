using System.Text.Json.Nodes;

namespace WinEksPatch.Simulator.World;

// EC2 Image Builder's resources as the simulator keeps them: the request that created each one (echoed back by
// Get*), plus what the simulation needs (parsed component documents, build schedules, output AMIs).

public enum ImageBuilderKind
{
    Component,
    ImageRecipe,
    InfrastructureConfiguration,
    DistributionConfiguration,
    ImagePipeline,
}

public sealed class ImageBuilderResource
{
    public required ImageBuilderKind Kind { get; init; }
    public required string Arn { get; init; }
    public required string Name { get; init; }
    /// <summary>Semantic version of components and recipes; null for the others.</summary>
    public string? Version { get; init; }
    /// <summary>Account id, or "Amazon" for Amazon-managed components.</summary>
    public required string Owner { get; init; }
    public required DateTimeOffset DateCreated { get; init; }
    public DateTimeOffset? DateUpdated { get; set; }
    /// <summary>The create request's members (without clientToken), which Get* returns.</summary>
    public required JsonObject Definition { get; set; }
    /// <summary>Components: the parsed document (null for Amazon-managed ones, which the simulator knows by name).</summary>
    public ComponentDocument? Document { get; init; }
}

/// <summary>One image build (CreateImage or a pipeline execution) and its schedule on the simulated clock.</summary>
public sealed class ImageBuild
{
    public required string Arn { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required int BuildNumber { get; init; }
    public required ImageBuilderResource Recipe { get; init; }
    public required ImageBuilderResource Infrastructure { get; init; }
    public ImageBuilderResource? Distribution { get; init; }
    public ImageBuilderResource? Pipeline { get; init; }
    public required AmiImage Parent { get; init; }
    public required DateTimeOffset DateCreated { get; init; }
    public JsonObject Tags { get; init; } = [];
    public string BuildType { get; init; } = "USER_INITIATED";
    public bool TestsEnabled { get; init; } = true;
    /// <summary>Status → when that phase ends, in order (PENDING … INTEGRATING).</summary>
    public required IReadOnlyList<(string Status, DateTimeOffset Ends)> Schedule { get; init; }
    /// <summary>Set when the build fails (unknown images, a fault: at the end of BUILDING; EC2 refusing Fast Launch on the
    /// output AMI: at the end of DISTRIBUTING).</summary>
    public string? FailureReason { get; init; }
    /// <summary>The phase at whose end a build with a <see cref="FailureReason"/> fails.</summary>
    public string FailsAfter { get; init; } = "BUILDING";
    /// <summary>EC2 Fast Launch to enable on the output AMI in the build's own region (the distribution's enabled
    /// fastLaunchConfiguration for this account, as it was when the build started), or null.</summary>
    public BuildFastLaunch? FastLaunch { get; init; }
    public DateTimeOffset? CancelledAt { get; set; }
    /// <summary>The images the built AMI caches (parent's plus pulled ones), decided at start.</summary>
    public required IReadOnlyList<CachedContainerImage> CachedImages { get; init; }
    /// <summary>OS version of the output (the newest build when update-windows runs, else the parent's).</summary>
    public required string OutputOsVersion { get; init; }
    public required DateOnly OutputPatchMonth { get; init; }
    public string? OutputAmiId { get; set; }
    /// <summary>Other distribution regions' AMI ids (not in this region's EC2).</summary>
    public Dictionary<string, string> OtherRegionAmis { get; } = new(StringComparer.Ordinal);
    internal ITimer? Timer { get; set; }

    public DateTimeOffset BuildingEnds => Schedule.First(p => p.Status == "BUILDING").Ends;

    /// <summary>When a build with a <see cref="FailureReason"/> fails: the end of <see cref="FailsAfter"/>.</summary>
    public DateTimeOffset FailureAt => Schedule.First(p => p.Status == FailsAfter).Ends;

    /// <summary>Status and reason at <paramref name="now"/>.</summary>
    public (string Status, string? Reason) StateAt(DateTimeOffset now)
    {
        if (CancelledAt is { } cancelled && cancelled <= now)
        {
            return ("CANCELLED", "The image build was cancelled by the user.");
        }

        if (FailureReason is not null && now >= FailureAt)
        {
            return ("FAILED", FailureReason);
        }

        foreach ((string status, DateTimeOffset ends) in Schedule)
        {
            if (now < ends)
            {
                return (status, null);
            }
        }

        return ("AVAILABLE", null);
    }
}

/// <summary>The EC2 Fast Launch settings an image build enables on its output AMI (EnableFastLaunch's, from the
/// distribution's FastLaunchConfiguration with EnableFastLaunch's defaults for what it leaves out).</summary>
public sealed record BuildFastLaunch(int TargetResourceCount, int MaxParallelLaunches, string? LaunchTemplateId, string? LaunchTemplateVersion);
