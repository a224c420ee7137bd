namespace WinEksPatch.Simulator.Hosting;

/// <summary>How to start a simulator (the command line's options, for in-process hosts too).</summary>
public sealed class SimulatorOptions
{
    /// <summary>A shipped scenario's name (e.g. "demo") or the path of a scenario JSON file.</summary>
    public string Scenario { get; set; } = "demo";

    /// <summary>Simulated seconds per wall second.</summary>
    public double TimeScale { get; set; } = 1.0;

    /// <summary>Port of the AWS endpoint (and /_sim admin); 0 picks a free one.</summary>
    public int AwsPort { get; set; }

    /// <summary>Port of the Kubernetes endpoint (TLS); 0 picks a free one.</summary>
    public int KubernetesPort { get; set; }

    /// <summary>Simulated time at start; default: the wall clock's now.</summary>
    public DateTimeOffset? StartTime { get; set; }

    /// <summary>Where to write kubeconfig and ca.crt; default: a new folder under the temp directory (deleted on stop).</summary>
    public string? StateDirectory { get; set; }

    /// <summary>Serve the AWS endpoint (with /_sim and the registries) over HTTPS too, with a certificate of the same
    /// generated CA as the Kubernetes endpoint's (<c>caCertPath</c>), for clients and policies that insist on https.</summary>
    public bool Tls { get; set; }

    /// <summary>Log requests to stderr.</summary>
    public bool Verbose { get; set; }

    /// <summary>A JSON file of fault rules applied at start ([rule, ...] or {"faults": [...]}; README "Faults").</summary>
    public string? FaultsFile { get; set; }

    /// <summary>An IAM identity policy (JSON) the simulator's credentials carry: every AWS call is authorized against it
    /// as IAM would, and refused in the service's AccessDenied shape. Null: everything is allowed.</summary>
    public string? IamPolicyFile { get; set; }

    /// <summary>pwsh, or the pwsh.dll of a PowerShell to run with dotnet, for Automation's aws:executeScript steps; null:
    /// such steps fail saying the simulator cannot run them.</summary>
    public string? PowerShell { get; set; }

    /// <summary>SSM Automation documents that exist in every account and Region from the start (name, YAML or JSON file;
    /// the files beside it that its <c>files</c> section names are its attachments).</summary>
    public List<(string Name, string Path)> Documents { get; } = [];
}
