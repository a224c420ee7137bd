using WinEksPatch.Windows;
using WinEksPatch.Workflows;

namespace WinEksPatch.Commands;

/// <summary>A cmdlet that reads a cluster's Windows fleet (node groups, nodes, AMIs).</summary>
public abstract class FleetCmdlet : KubernetesCmdlet
{
    private protected FleetInventory CreateFleetInventory() => Guard(() =>
    {
        var aws = Connections.Aws;
        var reader = new ClusterSnapshotReader(aws.Eks(), aws.AutoScaling(), aws.Ec2(), Connections.KubernetesFor, Connections.Region);
        return new FleetInventory(reader, PatchCalendar.Default, Connections.Time);
    });
}
