using System.Globalization;
using System.Text;
using WinEksPatch.Simulator.Scenarios;

namespace WinEksPatch.Simulator.World;

/// <summary>
/// What a Windows instance's console output holds (EC2 GetConsoleOutput): the lines EC2Launch v2 writes to the serial
/// console on its way to "Windows is Ready to use", each stamped "yyyy/MM/dd HH:mm:ssZ: message" as in the EC2 User
/// Guide's sample (Troubleshoot issues with the EC2Launch v2 agent, EC2Launch v2 console log output). The last line,
/// "Message: Windows is Ready to use", is stamped at the instance's OS-ready time; it is what tools such as kitchen-ec2
/// wait for. Nothing is there before the OS is ready (EC2 posts console output after boot). A boot restored from a Fast
/// Launch pre-provisioned snapshot has no "Windows sysprep configuration complete." line: Sysprep ran on the temporary
/// instance the snapshot was taken from. Linux consoles are not modelled (no output). Versions of the agent and drivers
/// are those of the User Guide's sample, fixed.
/// </summary>
public static class Ec2LaunchConsole
{
    /// <summary>EC2Launch v2's timestamp prefix.</summary>
    public const string TimeFormat = "yyyy/MM/dd HH:mm:ss'Z'";

    /// <summary>The line the console ends with once Windows is ready.</summary>
    public const string ReadyLine = "Message: Windows is Ready to use";

    /// <summary>The console text (CRLF line ends, as Windows writes them) and when it was last updated; null while there
    /// is no output yet (Windows not ready) or for a Linux instance.</summary>
    public static (string Text, DateTimeOffset LastUpdated)? For(SimWorld world, Ec2Instance instance)
    {
        ArgumentNullException.ThrowIfNull(world);
        ArgumentNullException.ThrowIfNull(instance);
        if (instance.Platform != "windows" || instance.Boot.OsReadyAt is not { } ready || ready > world.Scheduler.Now)
        {
            return null;
        }

        AmiImage? image = world.Images.GetValueOrDefault(instance.ImageId);
        string osVersion = image?.OsVersion ?? "10.0.20348.0";
        string build = osVersion.Split('.').ElementAtOrDefault(2) ?? "20348";
        var lines = new List<(int SecondsBeforeReady, string Message)>();
        if (!instance.Boot.FromFastLaunchSnapshot)
        {
            lines.Add((6, "Windows sysprep configuration complete."));
        }

        lines.AddRange(
        [
            (6, "Message: Waiting for access to metadata..."),
            (5, "Message: Meta-data is now available."),
            (5, "AMI Origin Version: " + (image?.CreationDate ?? instance.LaunchTime).UtcDateTime.ToString("yyyy.MM.dd", CultureInfo.InvariantCulture)),
            (5, "AMI Origin Name: " + (image?.Name ?? instance.ImageId)),
            (5, "OS: Microsoft Windows NT " + string.Join('.', osVersion.Split('.').Take(3))),
            (5, "OsVersion: 10.0"),
            (5, $"OsProductName: Windows Server {image?.WindowsServer ?? "2022"} Datacenter"),
            (5, "OsCurrentBuild: " + build),
            (5, "Language: en-US"),
            (5, "TimeZone: UTC"),
            (5, "Offset: UTC +0000"),
            (5, "Launch: EC2 Launch v2.2.63"),
            (5, "AMI-ID: " + instance.ImageId),
            (5, "Instance-ID: " + instance.InstanceId),
            (4, "Instance Type: " + instance.InstanceType),
            (4, "Driver: AWS NVMe Driver v1.6.0.35"),
            (3, "Driver: Amazon Elastic Network Adapter v2.8.0.0"),
            (3, "HOSTNAME: EC2AMAZ-" + Ids.Hex("hostname/" + instance.InstanceId, 7).ToUpperInvariant()),
            (2, "SSM: Amazon SSM Agent v3.3.2746.0"),
            (1, "User data format: " + UserDataFormat(world, instance)),
            (0, "EC2LaunchTelemetry: IsTelemetryEnabled=true"),
            (0, "EC2LaunchTelemetry: AgentOsArch=windows_amd64"),
            (0, "EC2LaunchTelemetry: IsAgentScheduledPerBoot=true"),
            (0, "EC2LaunchTelemetry: AgentCommandErrorCode=0"),
            (0, ReadyLine),
        ]);

        var text = new StringBuilder();
        foreach ((int before, string message) in lines)
        {
            text.Append(Stamp(ready.AddSeconds(-before))).Append(": ").Append(message).Append("\r\n");
        }

        return (text.ToString(), ready);
    }

    /// <summary>A time as EC2Launch v2 stamps its console lines.</summary>
    public static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    /// <summary>How EC2Launch v2 names the user data it found: "xml" for &lt;powershell&gt; scripts (the EKS bootstrap),
    /// "yaml" for its own task document, "no_user_data" when there is none.</summary>
    private static string UserDataFormat(SimWorld world, Ec2Instance instance)
    {
        string? base64 = instance.LaunchTemplate is { } t ? world.LaunchTemplates.GetValueOrDefault(t.LaunchTemplateId)?.Resolve(t.Version)?.UserData : null;
        if (string.IsNullOrEmpty(base64))
        {
            return "no_user_data";
        }

        try
        {
            string decoded = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
            return decoded.TrimStart().StartsWith("version:", StringComparison.OrdinalIgnoreCase) ? "yaml" : "xml";
        }
        catch (FormatException)
        {
            return "xml";
        }
    }
}
