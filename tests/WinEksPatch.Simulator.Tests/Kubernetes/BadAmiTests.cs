using k8s;
using k8s.Models;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Tests.Kubernetes;

public sealed class BadAmiTests
{
    private static bool IsApp(WinEksPatch.Simulator.World.KubePod p, string app) => p.Labels.TryGetValue("app", out string? a) && a == app;

    [Fact]
    public async Task Pods_that_start_on_nodes_of_a_crash_loop_AMI_run_never_Ready_and_restart_with_back_off()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        using k8s.Kubernetes client = sim.Client();
        // Every Windows AMI of the cluster is bad: wherever the replacement pod lands, it crash-loops.
        List<string> amis = sim.Read(w => w.Nodes.Values.Where(n => n.ClusterName == "demo" && n.OperatingSystem == "windows")
            .Select(n => w.Instances[n.InstanceId].ImageId).Distinct().ToList());
        sim.Read(w => amis.Select(ami => w.AddFleetFault(new FleetFaultRule { Kind = "crash-loop", ImageId = ami })).ToList());
        Assert.All(sim.Read(w => w.Pods.Values.Where(p => IsApp(p, "web-iis")).ToList()), p => Assert.True(p.Ready, "pods that started before stay as they are"));

        KubePod web = sim.Pod("web-iis");
        await client.CoreV1.DeleteNamespacedPodAsync(web.Name, "shop", gracePeriodSeconds: 0);
        await sim.UntilAsync(w => w.Pods.Values.Any(p => IsApp(p, "web-iis") && p.CrashLooping && p.RestartCount >= 3), "the new web-iis pod restarts");

        string name = sim.Read(w => w.Pods.Values.First(p => IsApp(p, "web-iis") && p.CrashLooping).Name);
        V1Pod pod = await client.CoreV1.ReadNamespacedPodAsync(name, "shop");
        Assert.Equal("Running", pod.Status.Phase);
        Assert.Contains(pod.Status.Conditions, c => c.Type == "Ready" && c.Status == "False");
        V1ContainerStatus container = Assert.Single(pod.Status.ContainerStatuses);
        Assert.Equal("CrashLoopBackOff", container.State.Waiting.Reason);
        Assert.True(container.RestartCount >= 3);
        Assert.Equal(1, container.LastState.Terminated.ExitCode);
        Corev1EventList events = await client.CoreV1.ListNamespacedEventAsync("shop");
        Assert.Contains(events.Items, e => e.Reason == "BackOff" && e.InvolvedObject.Name == name);
    }

    [Fact]
    public async Task Nodes_of_a_node_fails_AMI_turn_NotReady_the_rule_s_seconds_after_they_became_Ready()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        string group = "demo-win-selfmanaged";
        string ami = sim.Read(w => w.AutoScalingGroups[group].InstanceIds.Select(id => w.Instances[id].ImageId).First());
        sim.Read(w => w.AddFleetFault(new FleetFaultRule { Kind = "node-fails", ImageId = ami, Group = group, AfterSeconds = 600 }));
        int before = sim.Read(w => w.AutoScalingGroups[group].InstanceIds.Count);
        sim.Read(w =>
        {
            AutoScalingGroup asg = w.AutoScalingGroups[group];
            asg.DesiredCapacity = before + 1; // a scale-out launches one more node of the bad AMI
            w.ReconcileGroup(asg, "a test scales out");
            return 0;
        });
        await sim.UntilAsync(w => w.Nodes.Values.Any(n => n.Ready && w.Instances[n.InstanceId].Boot.ReadyAt is not null
            && !w.AutoScalingGroups[group].InstanceIds.Take(before).Contains(n.InstanceId)), "the new node is Ready");
        await sim.UntilAsync(w => w.Nodes.Values.Any(n => !n.Ready && !n.KubeletRunning), "the new node turns NotReady");
        Assert.True(sim.Read(w => w.Nodes.Values.Count(n => n.ClusterName == "demo" && w.Instances[n.InstanceId].AutoScalingGroupName == group && n.Ready)) >= before,
            "the nodes that were there before are not hit: they became Ready before the rule existed");
    }

    [Fact]
    public async Task An_alarm_AMI_trips_its_alarm_the_rule_s_seconds_after_one_of_its_nodes_became_Ready()
    {
        await using KubeSim sim = await KubeSim.StartAsync();
        string group = "demo-win-selfmanaged";
        string ami = sim.Read(w => w.AutoScalingGroups[group].InstanceIds.Select(id => w.Instances[id].ImageId).First());
        var alarm = new MetricAlarm { AlarmName = "demo-windows-5xx", StateValue = "OK", Threshold = 50, EvaluationPeriods = 3 };
        string? problem = sim.Read(w =>
        {
            w.Alarms[alarm.AlarmName] = alarm;
            return w.FleetFaultProblem(new FleetFaultRule { Kind = "alarm", ImageId = ami, AlarmName = "no-such-alarm" });
        });
        Assert.Equal("there is no CloudWatch alarm named no-such-alarm in account 111122223333, us-west-2", problem);
        sim.Read(w => w.AddFleetFault(new FleetFaultRule { Kind = "alarm", ImageId = ami, Group = group, AlarmName = alarm.AlarmName, AfterSeconds = 600 }));
        int before = sim.Read(w => w.AutoScalingGroups[group].InstanceIds.Count);
        sim.Read(w =>
        {
            AutoScalingGroup asg = w.AutoScalingGroups[group];
            asg.DesiredCapacity = before + 1;
            w.ReconcileGroup(asg, "a test scales out");
            return 0;
        });
        await sim.UntilAsync(w => alarm.StateValue == "ALARM", "the alarm trips");
        DateTimeOffset readyAt = sim.Read(w => w.AutoScalingGroups[group].InstanceIds.Skip(before).Select(id => w.Instances[id].Boot.ReadyAt).Single())!.Value;
        Assert.True(alarm.StateTransitionedTimestamp >= readyAt.AddSeconds(600), $"tripped at {alarm.StateTransitionedTimestamp}, the node was Ready at {readyAt}");
        Assert.StartsWith("Threshold Crossed: 1 out of the last 3 datapoints was greater than the threshold (50.0)", alarm.StateReason);
    }
}
