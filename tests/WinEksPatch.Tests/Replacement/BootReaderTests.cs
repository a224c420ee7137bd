using WinEksPatch.Abstractions;
using WinEksPatch.Model;
using WinEksPatch.Tests.Infrastructure;
using WinEksPatch.Tests.Workflows;
using WinEksPatch.Workflows.Replacement;
using Xunit;

namespace WinEksPatch.Tests.Replacement;

public sealed class BootReaderTests
{
    // EC2Launch v2's console log, as the EC2 User Guide shows it (Troubleshoot EC2Launch v2, console log output).
    private const string Console = "2026/12/07 21:03:05Z: Windows sysprep configuration complete.\r\n"
        + "2026/12/07 21:03:06Z: Message: Waiting for access to metadata...\r\n"
        + "2026/12/07 21:03:11Z: Message: Meta-data is now available.\r\n"
        + "2026/12/07 21:03:12Z: EC2LaunchTelemetry: AgentCommandErrorCode=0\r\n"
        + "2026/12/07 21:03:12Z: Message: Windows is Ready to use\r\n";

    [Fact]
    public void The_OS_ready_time_is_the_stamp_of_EC2Launchs_Windows_is_Ready_to_use_line() =>
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 21, 3, 12, TimeSpan.Zero), BootReader.ParseOsReady(Console));

    [Fact]
    public void After_a_reboot_the_last_ready_line_counts() =>
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 21, 9, 40, TimeSpan.Zero),
            BootReader.ParseOsReady(Console + "2026/12/07 21:09:40Z: Message: Windows is Ready to use\r\n"));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("2026/12/07 21:03:06Z: Message: Waiting for access to metadata...\r\n")]
    public void No_ready_line_is_no_OS_ready_time(string? console) => Assert.Null(BootReader.ParseOsReady(console));

    [Fact]
    public void The_phases_follow_each_other_and_add_up_to_launch_to_usable_and_the_slowest_is_named()
    {
        var t0 = new DateTimeOffset(2026, 12, 7, 21, 0, 0, TimeSpan.Zero);
        var boot = new NodeBoot
        {
            LaunchedAt = t0, OsReadyAt = t0.AddSeconds(250), RegisteredAt = t0.AddSeconds(310), ReadyAt = t0.AddSeconds(350), UsableAt = t0.AddSeconds(362),
        };
        Assert.Equal(boot.LaunchToUsable, boot.OsBoot + boot.Bootstrap + boot.NodeReady + boot.PodIps);
        Assert.Equal(nameof(NodeBoot.OsBoot), boot.SlowestPhase);
        Assert.Null(boot.FirstPod);

        var withoutConsole = boot with { OsReadyAt = null };
        Assert.Null(withoutConsole.OsBoot);
        Assert.Null(withoutConsole.Bootstrap);
        Assert.Equal(nameof(NodeBoot.NodeReady), withoutConsole.SlowestPhase);

        var summary = NodeBootSummary.Of([boot, boot with { OsReadyAt = t0.AddSeconds(50) }])!;
        Assert.Equal(TimeSpan.FromSeconds(150), summary.OsBoot);          // (250 + 50) / 2
        Assert.Equal(TimeSpan.FromSeconds(160), summary.Bootstrap);       // (60 + 260) / 2
        Assert.Equal(nameof(NodeBoot.Bootstrap), summary.SlowestPhase);
    }

    [Fact]
    public async Task The_first_workload_pods_of_every_new_node_come_from_one_pod_list_at_the_end_of_the_rollout()
    {
        var t0 = new DateTimeOffset(2026, 12, 7, 21, 0, 0, TimeSpan.Zero);
        var pods = new PodList(
            Pod("web-1", "ip-10-0-1-1", "ReplicaSet", t0.AddSeconds(400)),
            Pod("web-2", "ip-10-0-1-1", "ReplicaSet", t0.AddSeconds(380)),   // the first on that node
            Pod("aws-node-x", "ip-10-0-1-1", "DaemonSet", t0.AddSeconds(300)), // a DaemonSet's pod is not a workload
            Pod("api-1", "ip-10-0-2-2", "StatefulSet", t0.AddSeconds(500)));
        await using var tracker = new NodeTracker(pods, TimeProvider.System);
        var reader = new BootReader(new NoConsole(), pods, tracker, [], new RecordingHost());
        var results = new[] { Result("ip-10-0-1-1"), Result("ip-10-0-2-2"), Result("ip-10-0-3-3") };
        foreach (var result in results)
        {
            await reader.ReadAsync(result, Node(result.NewNodeName!), null, default);
        }

        Assert.Equal(0, pods.Lists); // nothing listed while the rollout runs
        await reader.CompleteAsync(default);

        Assert.Equal(1, pods.Lists);
        Assert.Equal(t0.AddSeconds(380), results[0].Boot!.FirstPodRunningAt);
        Assert.Equal(t0.AddSeconds(500), results[1].Boot!.FirstPodRunningAt);
        Assert.Null(results[2].Boot!.FirstPodRunningAt); // no workload pod there
    }

    private static NodeReplacementResult Result(string node) => new()
    {
        ClusterName = "demo", NodeGroupName = "win", OldInstanceId = "i-0000000000000000" + node[^1], NewNodeName = node, Outcome = ReplacementOutcome.Replaced,
    };

    private static KubeNode Node(string name) => new(name, new Dictionary<string, string>(), null, null, null, true, false, null);

    private static KubePod Pod(string name, string node, string owner, DateTimeOffset started) =>
        new("default", name, null, node, "Running", owner, name, [], new Dictionary<string, string>(), false, false, 30, null) { RunningSince = started };

    private sealed class PodList(params KubePod[] pods) : KubernetesApiStub
    {
        public int Lists { get; private set; }

        public override Task<IReadOnlyList<KubePod>> ListPodsAsync(string? @namespace = null, string? fieldSelector = null, string? labelSelector = null,
            CancellationToken cancellationToken = default)
        {
            Lists++;
            Assert.Equal("status.phase=Running", fieldSelector);
            return Task.FromResult<IReadOnlyList<KubePod>>(pods);
        }
    }

    private sealed class NoConsole : Ec2ApiStub
    {
        public override Task<string?> GetConsoleOutputAsync(string instanceId, CancellationToken cancellationToken = default) => Task.FromResult<string?>(null);
    }
}
