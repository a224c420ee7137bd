using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Tests.Infrastructure;
using WinEksPatch.Workflows;

namespace WinEksPatch.Tests.Workflows;

public class ClusterInventoryTests
{
    private static KubeNode Node(string name, string os, string? nodegroup = null, string? instance = null) => new(
        name,
        new Dictionary<string, string>(nodegroup == null ? [] : [new("eks.amazonaws.com/nodegroup", nodegroup)]) { ["kubernetes.io/os"] = os },
        instance == null ? null : $"aws:///us-west-2a/{instance}", "10.0.20348.2849", "Windows Server 2022 Datacenter", true, false, null);

    private static EksNodegroup Group(string name, string amiType) =>
        new(name, "demo", amiType, null, "1.31", "ACTIVE", "ON_DEMAND", 1, 3, 2, null, null, null, [], []);

    [Fact]
    public async Task Windows_groups_come_from_AMI_type_node_labels_and_ASG_membership()
    {
        var eks = new FakeEks
        {
            Clusters = { ["demo"] = new EksCluster("demo", "arn", "1.31", "ACTIVE", "https://k8s", "LS0t", "eks.1", null) },
            Groups = { Group("win-managed", "WINDOWS_CORE_2022_x86_64"), Group("custom-win", "CUSTOM"), Group("linux", "AL2023_x86_64_STANDARD") },
        };
        var kube = new FakeKube([
            Node("w1", "windows", "win-managed", "i-1"),
            Node("w2", "windows", "custom-win", "i-2"),
            Node("w3", "windows", instance: "i-3"),
            Node("w4", "windows", instance: "i-4"),
            Node("l1", "linux", "linux", "i-9"),
        ]);
        var asg = new FakeAutoScaling { Membership = { ["i-3"] = "win-selfmanaged", ["i-4"] = "win-selfmanaged" } };
        var host = new RecordingHost();

        await new ClusterInventory(eks, asg, _ => kube, "us-west-2").RunAsync(["demo"], host);

        var cluster = Assert.IsType<WinEksCluster>(Assert.Single(host.Outputs));
        Assert.Equal(["custom-win", "win-managed", "win-selfmanaged"], cluster.WindowsNodeGroups);
        Assert.Equal(4, cluster.WindowsNodeCount);
        Assert.Equal("windows", kube.LastSelector!.Split('=')[1]);
        Assert.Equal(["i-3", "i-4"], asg.Asked); // only nodes outside managed groups, in one batched call
    }

    [Fact]
    public async Task An_unknown_cluster_is_ClusterNotFound_and_the_others_still_come()
    {
        var eks = new FakeEks { Clusters = { ["demo"] = new EksCluster("demo", "arn", "1.31", "ACTIVE", "https://k8s", "LS0t", "eks.1", null) } };
        var host = new RecordingHost();

        await new ClusterInventory(eks, new FakeAutoScaling(), _ => new FakeKube([]), "us-west-2").RunAsync(["nope", "demo"], host);

        var error = Assert.Single(host.Errors);
        Assert.Equal(ErrorIds.ClusterNotFound, error.ErrorId);
        Assert.Equal("nope", error.Target);
        Assert.Equal("demo", Assert.IsType<WinEksCluster>(Assert.Single(host.Outputs)).ClusterName);
    }

    [Fact]
    public async Task Without_names_every_cluster_of_the_region_is_listed()
    {
        var eks = new FakeEks
        {
            Clusters =
            {
                ["a"] = new EksCluster("a", null, "1.30", "ACTIVE", "https://a", "LS0t", null, null),
                ["b"] = new EksCluster("b", null, "1.31", "ACTIVE", "https://b", "LS0t", null, null),
            },
        };
        var host = new RecordingHost();

        await new ClusterInventory(eks, new FakeAutoScaling(), _ => new FakeKube([]), "us-west-2").RunAsync([], host);

        Assert.Equal(["a", "b"], host.Outputs.Cast<WinEksCluster>().Select(c => c.ClusterName));
    }

    private sealed class FakeEks : EksApiStub
    {
        public Dictionary<string, EksCluster> Clusters { get; } = [];

        public List<EksNodegroup> Groups { get; } = [];

        public override Task<IReadOnlyList<string>> ListClustersAsync(CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<string>>([.. Clusters.Keys.Order()]);

        public override Task<EksCluster> DescribeClusterAsync(string clusterName, CancellationToken cancellationToken = default) =>
            Clusters.TryGetValue(clusterName, out var c) ? Task.FromResult(c)
                : throw new WinEksPatchException(ErrorIds.AwsResourceNotFound, ErrorKind.ObjectNotFound, "not found", clusterName);

        public override Task<IReadOnlyList<string>> ListNodegroupsAsync(string clusterName, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<string>>([.. Groups.Select(g => g.Name)]);

        public override Task<EksNodegroup> DescribeNodegroupAsync(string clusterName, string nodegroupName, CancellationToken cancellationToken = default) =>
            Task.FromResult(Groups.Single(g => g.Name == nodegroupName));
    }

    private sealed class FakeKube(IReadOnlyList<KubeNode> nodes) : KubernetesApiStub
    {
        public string? LastSelector { get; private set; }

        public override Task<IReadOnlyList<KubeNode>> ListNodesAsync(string? labelSelector = null, CancellationToken cancellationToken = default)
        {
            LastSelector = labelSelector;
            var (key, value) = labelSelector!.Split('=') is [var k, var v] ? (k, v) : throw new ArgumentException(labelSelector);
            return Task.FromResult<IReadOnlyList<KubeNode>>([.. nodes.Where(n => n.Labels.TryGetValue(key, out var x) && x == value)]);
        }
    }

    private sealed class FakeAutoScaling : AutoScalingApiStub
    {
        public Dictionary<string, string> Membership { get; } = [];

        public List<string> Asked { get; } = [];

        public override Task<IReadOnlyList<AutoScalingInstance>> DescribeAutoScalingInstancesAsync(IReadOnlyCollection<string> instanceIds,
            CancellationToken cancellationToken = default)
        {
            Asked.AddRange(instanceIds);
            return Task.FromResult<IReadOnlyList<AutoScalingInstance>>(
                [.. instanceIds.Where(Membership.ContainsKey).Select(id => new AutoScalingInstance(id, Membership[id], "InService", "Healthy"))]);
        }
    }
}

/// <summary>An <see cref="IWorkflowHost"/> that records what a workflow emitted.</summary>
public sealed class RecordingHost : IWorkflowHost
{
    public List<object> Outputs { get; } = [];

    public List<WinEksPatchException> Errors { get; } = [];

    public List<string> Messages { get; } = [];

    public List<ProgressUpdate> Progress { get; } = [];

    public bool AnswerShouldProcess { get; set; } = true;

    public void Output(object item) => Outputs.Add(item);

    public void Error(WinEksPatchException error) => Errors.Add(error);

    public void Verbose(string message) => Messages.Add(message);

    public void Warning(string message) => Messages.Add("WARNING: " + message);

    void IWorkflowHost.Progress(ProgressUpdate update) => Progress.Add(update);

    /// <summary>The plans asked about (the -WhatIf text), in order.</summary>
    public List<string> Plans { get; } = [];

    public Task<bool> ShouldProcessAsync(string target, string action) => Task.FromResult(AnswerShouldProcess);

    public Task<bool> ShouldProcessAsync(string target, string action, string description)
    {
        Plans.Add(description);
        return Task.FromResult(AnswerShouldProcess);
    }
}
