using WinEksPatch.Model;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows.AmiBuild;

/// <summary>
/// One build as <see cref="AmiBuilder.PlanAsync"/> planned it and <see cref="AmiBuilder.ExecuteAsync"/> runs it: the typed
/// plan New-WinNodeAmi -WhatIf writes (<see cref="Summary"/>), and what its resources are made of. The run reads the
/// resources to create or reuse, and their versions, from <see cref="Summary"/> itself, so what -WhatIf shows is what runs.
/// </summary>
public sealed class AmiBuildPlan
{
    internal AmiBuildPlan(AmiBuildOptions options, AmiBuildTarget target, WindowsBuild? osBuild, AmiBuildSpecs specs, WinNodeAmiBuildPlan summary)
    {
        Options = options;
        Target = target;
        OsBuild = osBuild;
        Specs = specs;
        Summary = summary;
    }

    public WinNodeAmiBuildPlan Summary { get; }

    internal AmiBuildOptions Options { get; }

    internal AmiBuildTarget Target { get; }

    /// <summary>The OS build update-windows brings (the summary's OsBuild, typed).</summary>
    internal WindowsBuild? OsBuild { get; }

    internal AmiBuildSpecs Specs { get; }

    /// <summary>What the confirmation names: the cluster and the kind of node the AMI is for.</summary>
    internal string ShouldProcessTarget => $"{Options.ClusterName} Windows Server {Target.WindowsVersion} {Target.Edition}";
}
