using System.Diagnostics;
using k8s;
using k8s.Models;
using WinEksPatch.Simulator.Hosting;

namespace WinEksPatch.Simulator.Tests.Control;

/// <summary>The large scenario (issue 3 and the benchmarks of issue 8): 1,000 Windows nodes and 30,000 pods load in
/// seconds, every pod keeps a name of its own, and KubernetesClient pages through full node and pod lists.</summary>
public sealed class LargeScenarioTests
{
    [Fact]
    public async Task Loads_in_seconds_with_unique_pod_names_and_serves_full_paginated_lists()
    {
        var started = Stopwatch.StartNew();
        await using SimulatorHost sim = await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "large" });
        TimeSpan load = started.Elapsed;
        Assert.True(load < TimeSpan.FromSeconds(10), $"the large scenario took {load.TotalSeconds:0.0} s to load");

        lock (sim.World.Gate)
        {
            Assert.Equal(1000, sim.World.Nodes.Values.Count(n => n.Labels["kubernetes.io/os"] == "windows"));
            Assert.Equal(30_000, sim.World.Pods.Count);
            Assert.Equal(30_000, sim.World.Pods.Values.Select(p => p.Uid).Distinct().Count());
            Assert.Equal(6, sim.World.Nodes.Values.Where(n => n.Labels["kubernetes.io/os"] == "windows")
                .Select(n => n.Labels.GetValueOrDefault("eks.amazonaws.com/nodegroup") ?? sim.World.Instances[n.InstanceId].AutoScalingGroupName).Distinct().Count());
        }

        using var client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(sim.Info.KubeConfigPath, currentContext: "fleet"));
        var serving = Stopwatch.StartNew();
        var nodes = new List<V1Node>();
        string? next = null;
        do
        {
            V1NodeList page = await client.CoreV1.ListNodeAsync(limit: 500, continueParameter: next);
            nodes.AddRange(page.Items);
            next = page.Metadata.ContinueProperty;
        }
        while (!string.IsNullOrEmpty(next));

        var pods = new List<V1Pod>();
        do
        {
            V1PodList page = await client.CoreV1.ListPodForAllNamespacesAsync(limit: 5000, continueParameter: next);
            pods.AddRange(page.Items);
            next = page.Metadata.ContinueProperty;
        }
        while (!string.IsNullOrEmpty(next));

        Assert.Equal(1003, nodes.Count);
        Assert.Equal(30_000, pods.Count);
        Assert.Equal(30_000, pods.Select(p => $"{p.Metadata.NamespaceProperty}/{p.Metadata.Name}").Distinct().Count());
        Assert.Equal(1000, nodes.Count(n => n.Status.NodeInfo.OperatingSystem == "windows" && n.Status.Conditions.Any(c => c.Type == "Ready" && c.Status == "True")));
        Assert.True(serving.Elapsed < TimeSpan.FromSeconds(20), $"listing took {serving.Elapsed.TotalSeconds:0.0} s");

        // One unpaginated list of every pod too (what kubectl get pods -A asks for).
        V1PodList all = await client.CoreV1.ListPodForAllNamespacesAsync();
        Assert.Equal(30_000, all.Items.Count);
    }
}
