using System.Text;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.Ec2;

// EC2 GetConsoleOutput (EC2 API Reference): InstanceId required, Latest optional; the response holds requestId,
// instanceId, timestamp ("the time at which the output was last updated") and output (base64). What a Windows
// instance's console says is World/Fleet/Ec2LaunchConsole.cs (EC2Launch v2's lines up to "Windows is Ready to use").
public sealed partial class Ec2Service
{
    private static Task GetConsoleOutput(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string instanceId = p.Get("InstanceId") ?? throw new AwsException(400, "MissingParameter", "The request must contain the parameter InstanceId");
        if (!InstanceIdPattern().IsMatch(instanceId))
        {
            throw new AwsException(400, "InvalidInstanceID.Malformed", $"Invalid id: \"{instanceId}\"");
        }

        // Latest "retrieves the latest console output" (Nitro instances; EC2 otherwise posts a buffer shortly after boot).
        // The simulator's output is complete as soon as it exists, so both answer the same.
        if (p.Get("Latest") is { } latest && latest is not ("true" or "false"))
        {
            throw new AwsException(400, "InvalidParameterValue", $"Invalid value '{latest}' for latest. Expecting a boolean.");
        }

        string body;
        lock (call.World.Gate)
        {
            Ec2Instance instance = call.World.Instances.GetValueOrDefault(instanceId)
                ?? throw new AwsException(400, "InvalidInstanceID.NotFound", $"The instance ID '{instanceId}' does not exist");
            (string Text, DateTimeOffset LastUpdated)? console = Ec2LaunchConsole.For(call.World, instance);
            body = Xml.Fragment(w =>
            {
                w.WriteElementString("instanceId", instance.InstanceId);
                if (console is { } c)
                {
                    w.WriteElementString("timestamp", Xml.Time(c.LastUpdated));
                    w.WriteElementString("output", Convert.ToBase64String(Encoding.UTF8.GetBytes(c.Text)));
                }
            });
        }

        return Ec2Protocol.WriteResultAsync(call, "GetConsoleOutput", w => w.WriteRaw(body));
    }
}
