using WinEksPatch.Model;
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
}
