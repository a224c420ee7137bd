using System.Globalization;
using System.Text;
using Amazon.EC2;
using Amazon.EC2.Model;
using WinEksPatch.Simulator.Hosting;
using WinEksPatch.Simulator.Tests.Infrastructure;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Tests.Aws;

/// <summary>
/// EC2 GetConsoleOutput through the AWS SDK for .NET: nothing before Windows is ready, then EC2Launch v2's lines in its
/// "yyyy/MM/dd HH:mm:ssZ: message" format ending with "Windows is Ready to use" at the OS-ready time; the documented
/// errors; ec2:GetConsoleOutput authorized on the instance's ARN.
/// </summary>
public sealed class ConsoleOutputTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 10, 1, 8, 0, 0, TimeSpan.Zero);
    private SimulatorHost _sim = null!;

    public async Task InitializeAsync() => _sim = await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "demo", StartTime = Start });

    public async Task DisposeAsync()
    {
        Assert.Empty(_sim.World.Scheduler.Errors);
        await _sim.DisposeAsync();
    }

    private static AmazonEC2Client Ec2(SimulatorHost sim) => new(new Amazon.Runtime.BasicAWSCredentials(sim.Info.AccessKeyId, sim.Info.SecretAccessKey),
        new AmazonEC2Config { ServiceURL = sim.Info.Endpoint, AuthenticationRegion = "us-west-2", MaxErrorRetry = 0 });

    private static string Decode(string? output) => Encoding.UTF8.GetString(Convert.FromBase64String(output!));

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy/MM/dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_new_Windows_instance_has_no_output_until_it_is_ready_then_EC2Launch_v2_lines_ending_with_Windows_is_Ready_to_use()
    {
        using AmazonEC2Client ec2 = Ec2(_sim);
        Ec2Instance instance = await WindowsBootTests.ScaleOutByOne(_sim);
        _sim.Clock.Advance(TimeSpan.FromMinutes(2)); // running, Sysprep specialize and OOBE still going

        GetConsoleOutputResponse before = await ec2.GetConsoleOutputAsync(new GetConsoleOutputRequest { InstanceId = instance.InstanceId });
        Assert.Equal(instance.InstanceId, before.InstanceId);
        Assert.True(string.IsNullOrEmpty(before.Output));

        _sim.Clock.Advance(TimeSpan.FromMinutes(5));
        DateTimeOffset ready = instance.Boot.OsReadyAt!.Value;
        GetConsoleOutputResponse after = await ec2.GetConsoleOutputAsync(new GetConsoleOutputRequest { InstanceId = instance.InstanceId, Latest = true });
        Assert.Equal(instance.InstanceId, after.InstanceId);
        Assert.Equal(ready.UtcDateTime, after.Timestamp!.Value.ToUniversalTime(), TimeSpan.FromMilliseconds(1));
        string[] lines = Decode(after.Output).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"{Stamp(ready)}: Message: Windows is Ready to use", lines[^1]);
        Assert.StartsWith($"{Stamp(ready.AddSeconds(-6))}: Windows sysprep configuration complete.", lines[0], StringComparison.Ordinal);
        Assert.Contains($"{Stamp(ready.AddSeconds(-5))}: Instance-ID: {instance.InstanceId}", lines);
        Assert.Contains(lines, l => l.EndsWith(": User data format: xml", StringComparison.Ordinal)); // the <powershell> bootstrap
        Assert.All(lines, l => Assert.Matches(@"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}Z: \S", l));
    }

    [Fact]
    public async Task Scenario_nodes_say_they_are_ready_from_before_the_start_and_Linux_consoles_are_empty()
    {
        using AmazonEC2Client ec2 = Ec2(_sim);
        (string windows, string linux) = (_sim.World.Instances.Values.First(i => i.Platform == "windows").InstanceId,
            _sim.World.Instances.Values.First(i => i.Platform is null).InstanceId);
        GetConsoleOutputResponse w = await ec2.GetConsoleOutputAsync(new GetConsoleOutputRequest { InstanceId = windows });
        Assert.EndsWith("Message: Windows is Ready to use\r\n", Decode(w.Output), StringComparison.Ordinal);
        Assert.True(w.Timestamp < Start.UtcDateTime);
        GetConsoleOutputResponse l = await ec2.GetConsoleOutputAsync(new GetConsoleOutputRequest { InstanceId = linux });
        Assert.True(string.IsNullOrEmpty(l.Output));
    }

    [Fact]
    public async Task Unknown_and_malformed_instance_ids_are_EC2s_errors()
    {
        using AmazonEC2Client ec2 = Ec2(_sim);
        AmazonEC2Exception missing = await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.GetConsoleOutputAsync(new GetConsoleOutputRequest { InstanceId = "i-0123456789abcdef0" }));
        Assert.Equal("InvalidInstanceID.NotFound", missing.ErrorCode);
        Assert.Equal("The instance ID 'i-0123456789abcdef0' does not exist", missing.Message);
        AmazonEC2Exception malformed = await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.GetConsoleOutputAsync(new GetConsoleOutputRequest { InstanceId = "i-nope" }));
        Assert.Equal("InvalidInstanceID.Malformed", malformed.ErrorCode);
        SignedHttp.Response none = await SignedHttp.QueryAsync(_sim.Info.Endpoint, "ec2", "2016-11-15", "GetConsoleOutput");
        Assert.Equal(400, none.Status);
        Assert.Contains("<Code>MissingParameter</Code>", none.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetConsoleOutput_is_authorized_as_ec2_GetConsoleOutput_on_the_instance_ARN()
    {
        string allowed, other;
        lock (_sim.World.Gate)
        {
            List<string> ids = [.. _sim.World.Instances.Values.Where(i => i.Platform == "windows").Select(i => i.InstanceId).Order(StringComparer.Ordinal)];
            (allowed, other) = (ids[0], ids[1]);
        }

        string dir = Directory.CreateTempSubdirectory("console-iam-").FullName;
        string policy = Path.Combine(dir, "policy.json");
        await File.WriteAllTextAsync(policy, $$"""
            {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:GetConsoleOutput","Resource":"arn:aws:ec2:us-west-2:111122223333:instance/{{allowed}}"}]}
            """);
        try
        {
            await using SimulatorHost sim = await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "demo", StartTime = Start, IamPolicyFile = policy });
            using AmazonEC2Client ec2 = Ec2(sim);
            GetConsoleOutputResponse ok = await ec2.GetConsoleOutputAsync(new GetConsoleOutputRequest { InstanceId = allowed });
            Assert.Equal(allowed, ok.InstanceId);
            AmazonEC2Exception denied = await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.GetConsoleOutputAsync(new GetConsoleOutputRequest { InstanceId = other }));
            Assert.Equal("UnauthorizedOperation", denied.ErrorCode);
            Assert.Contains($"ec2:GetConsoleOutput on resource: arn:aws:ec2:us-west-2:111122223333:instance/{other}", denied.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
