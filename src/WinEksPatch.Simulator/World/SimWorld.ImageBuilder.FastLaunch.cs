using System.Text.Json.Nodes;

namespace WinEksPatch.Simulator.World;

/// <summary>
/// Image Builder distributions with fastLaunchConfigurations: when a build distributes its Windows AMI to its own region
/// with an enabled configuration for this account (no accountId, or this account's), Image Builder has EC2 enable Fast
/// Launch on the output AMI with the configuration's settings, through the same state machine as EnableFastLaunch
/// (enabling → enabled, then the pool fills); what the configuration leaves out takes EnableFastLaunch's defaults
/// (five snapshots, six parallel launches). A configuration with "enabled": false is ignored ("Image Builder takes no
/// fast-launch action", Image Builder API Reference, FastLaunchConfiguration); configurations for other accounts are not
/// modelled (their copies are not in this world). What EC2 would refuse (fewer than six parallel launches, a launch
/// template or version that does not exist) fails the build at the end of DISTRIBUTING, checked when it starts; the
/// wording of that reason is the simulator's. All methods expect <see cref="Gate"/> to be held.
/// </summary>
public sealed partial class SimWorld
{
    /// <summary>The Fast Launch a build will enable on its own region's AMI, or why EC2 would refuse it.</summary>
    internal (BuildFastLaunch? Settings, string? Failure) PlanBuildFastLaunch(ImageBuilderResource? distribution)
    {
        JsonObject? config = OwnRegionDistribution(distribution)?["fastLaunchConfigurations"] is JsonArray configurations
            ? configurations.OfType<JsonObject>().FirstOrDefault(c =>
                c["enabled"]?.GetValue<bool>() == true && (c["accountId"]?.GetValue<string>() is not { } account || account == AccountId))
            : null;
        if (config is null)
        {
            return (null, null);
        }

        int target = config["snapshotConfiguration"]?["targetResourceCount"]?.GetValue<int>() ?? FastLaunchDefaultTargetResourceCount;
        int parallel = config["maxParallelLaunches"]?.GetValue<int>() ?? FastLaunchMinParallelLaunches;
        string prefix = $"Distribution to {Region} failed: EC2 Fast Launch could not be enabled on the output AMI: ";
        if (parallel < FastLaunchMinParallelLaunches)
        {
            return (null, prefix + $"Value ({parallel}) for parameter maxParallelLaunches is invalid. The value must be {FastLaunchMinParallelLaunches} or greater.");
        }

        if (config["launchTemplate"] is not JsonObject templateSpec)
        {
            return (new BuildFastLaunch(target, parallel, null, null), null);
        }

        string? id = templateSpec["launchTemplateId"]?.GetValue<string>();
        string? name = templateSpec["launchTemplateName"]?.GetValue<string>();
        // EnableFastLaunch needs a version with a launch template; Image Builder's configuration may leave it out, and the
        // simulator then uses the template's default version (a guess: not documented).
        string version = templateSpec["launchTemplateVersion"]?.GetValue<string>() ?? "$Default";
        LaunchTemplate? template = id is not null ? LaunchTemplates.GetValueOrDefault(id) : LaunchTemplates.Values.FirstOrDefault(t => t.LaunchTemplateName == name);
        if (template is null)
        {
            return (null, prefix + (id is not null
                ? $"The specified launch template, with template ID {id}, does not exist."
                : $"The specified launch template, with template name {name}, does not exist."));
        }

        return template.Resolve(version) is null
            ? (null, prefix + $"Could not find launch template version {version} for launch template {template.LaunchTemplateId}")
            : (new BuildFastLaunch(target, parallel, template.LaunchTemplateId, version), null);
    }

    /// <summary>Enables Fast Launch on a build's new AMI as its distribution asked (a launch template deleted since the
    /// build started leaves the AMI without it).</summary>
    private void EnableBuildFastLaunch(ImageBuild build, AmiImage ami)
    {
        if (build.FastLaunch is not { } settings)
        {
            return;
        }

        LaunchTemplate? template = settings.LaunchTemplateId is { } id ? LaunchTemplates.GetValueOrDefault(id) : null;
        if (settings.LaunchTemplateId is not null && template is null)
        {
            return;
        }

        EnableFastLaunch(ami, settings.TargetResourceCount, settings.MaxParallelLaunches, template, settings.LaunchTemplateVersion);
    }

    /// <summary>The distribution to the build's own region (none given: the region itself), or null.</summary>
    private JsonObject? OwnRegionDistribution(ImageBuilderResource? distribution) =>
        (distribution?.Definition["distributions"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .LastOrDefault(d => (d["region"]?.GetValue<string>() ?? Region) == Region);
}
