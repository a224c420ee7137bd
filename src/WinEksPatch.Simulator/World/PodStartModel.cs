namespace WinEksPatch.Simulator.World;

/// <summary>
/// How long a pod takes from being bound to a node until it runs: image pull (download) plus extraction, minus the
/// layers already on the node (cached in its AMI or pulled before). The scheduler and controllers call this; the
/// container image catalogue (layers, sizes, registry) implements it.
/// </summary>
public static class PodStartModel
{
    /// <summary>Delay between binding <paramref name="pod"/> to <paramref name="node"/> and the pod turning Running/Ready.
    /// Called with <see cref="SimWorld.Gate"/> held.</summary>
    public static TimeSpan StartDelay(SimWorld world, KubeNode node, KubePod pod)
    {
        _ = world;
        _ = node;
        _ = pod;
        return TimeSpan.FromSeconds(20);
    }
}
