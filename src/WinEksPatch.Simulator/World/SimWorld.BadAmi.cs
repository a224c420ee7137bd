namespace WinEksPatch.Simulator.World;

/// <summary>
/// An AMI that is bad in a way only watching the nodes after a rollout shows (fleet fault kinds crash-loop and
/// node-fails): its nodes boot, register and turn Ready like any other, and then the workloads on them crash-loop, or the
/// nodes themselves turn NotReady some minutes later (their kubelet stops posting status).
/// </summary>
public sealed partial class SimWorld
{
    /// <summary>The kubelet's restart back-off: 10 s, doubling, at most five minutes.</summary>
    private static readonly TimeSpan FirstBackOff = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxBackOff = TimeSpan.FromMinutes(5);

    /// <summary>The bad-AMI rule of <paramref name="kind"/> that hits the node's instance, or null. Called with Gate held.</summary>
    private FleetFaultRule? BadAmiRule(string kind, KubeNode node)
    {
        if (!Instances.TryGetValue(node.InstanceId, out Ec2Instance? instance))
        {
            return null;
        }

        string? nodegroup = node.Labels.GetValueOrDefault("eks.amazonaws.com/nodegroup");
        return FleetFaults.FirstOrDefault(r => r.Kind == kind && r.ImageId == instance.ImageId
            && r.Matches(instance.AutoScalingGroupName ?? "", nodegroup));
    }

    /// <summary>A pod whose containers just started on a node of a crash-loop AMI: it runs, exits, and restarts with back-off,
    /// never Ready. True when it does (the caller leaves it so).</summary>
    private bool StartsCrashLooping(KubePod pod)
    {
        if (pod.NodeName is null || !Nodes.TryGetValue((pod.ClusterName, pod.NodeName), out KubeNode? node) || BadAmiRule("crash-loop", node) is not { } rule)
        {
            return false;
        }

        rule.Hits++;
        pod.Ready = false;
        pod.CrashLooping = true;
        PodChanged(pod, deleted: false);
        RestartAfter(pod, FirstBackOff);
        return true;
    }

    private void RestartAfter(KubePod pod, TimeSpan backOff)
    {
        (string, string, string) key = (pod.ClusterName, pod.Namespace, pod.Name);
        string uid = pod.Uid;
        AfterSimulated(backOff, () =>
        {
            if (!Pods.TryGetValue(key, out KubePod? p) || p.Uid != uid || p.DeletionTimestamp is not null || !p.CrashLooping)
            {
                return;
            }

            p.RestartCount++;
            RecordKubeEvent(p.ClusterName, p.Namespace, "Pod", p.Name, p.Uid, "Warning", "BackOff", "Back-off restarting failed container", "kubelet", p.NodeName);
            PodChanged(p, deleted: false);
            RestartAfter(p, backOff * 2 < MaxBackOff ? backOff * 2 : MaxBackOff);
        });
    }

    /// <summary>A node of a node-fails AMI that just turned Ready: its kubelet stops the rule's seconds later.</summary>
    private void FailLaterIfBadAmi(KubeNode node, Ec2Instance instance)
    {
        if (BadAmiRule("node-fails", node) is not { } rule)
        {
            return;
        }

        rule.Hits++;
        Scheduler.After(TimeSpan.FromSeconds(rule.AfterSeconds), () => Locked(() =>
        {
            if (Nodes.GetValueOrDefault((node.ClusterName, node.Name)) == node && instance.State == "running")
            {
                SetKubelet(node, running: false);
            }
        }));
    }
}
