using System.Management.Automation;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Simulator;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Starts the bundled AWS + Kubernetes simulator and points this session's WinEksPatch cmdlets at it.</para>
/// <para type="description">Starts the simulator that ships with the module in its own process (it needs `dotnet` with
/// the ASP.NET Core runtime on PATH) on loopback ports, loaded with a scenario: clusters, node groups, AMIs, instances,
/// nodes and workloads. It speaks the real wire protocols (EC2, Auto Scaling, EKS, SSM, STS, Kubernetes over TLS with
/// EKS tokens), so everything the cmdlets do against it is what they would do against AWS. Until Stop-WinEksSimulator,
/// every WinEksPatch cmdlet of this session that is not given -ProfileName talks to it, and the module's clock is the
/// simulator's virtual clock: with -TimeScale 60 a Windows node's ten-minute boot takes ten seconds.</para>
/// <para type="description">A rehearsal fails closed: the simulator runs in its own process group and ignores the
/// console's Ctrl+C, so stopping a cmdlet never stops it; if it stops anyway (killed from outside), every cmdlet of this
/// session fails with SimulatorGone instead of reaching AWS, until Start-WinEksSimulator starts another or
/// Stop-WinEksSimulator points the session back at AWS. A start that fails leaves the simulator in use, and the session,
/// as they were. While a simulator is in use, -ProfileName and a kubeconfig context of another cluster are refused
/// (SimulatorSessionRealTarget).</para>
/// <para type="description">Other clients can use the returned endpoints too: the AWS CLI or SDKs with
/// AWS_ENDPOINT_URL and the simulator's credentials, kubectl with the KubeConfigPath.</para>
/// <para type="description">The Kubernetes endpoint always serves TLS with a CA the simulator generates (CaCertPath, also in
/// the kubeconfig); the AWS endpoint is plain http on loopback unless -Tls makes it https with a certificate of the same CA.
/// This session then trusts that CA for the simulator's AWS endpoint only; other clients trust it with their own CA setting
/// (AWS_CA_BUNDLE for the AWS CLI, an https agent's ca for the AWS SDK for JavaScript).</para>
/// </summary>
/// <example>
///   <code>Start-WinEksSimulator -Scenario demo; Get-WinEksCluster; Stop-WinEksSimulator</code>
///   <para>Starts the demo scenario, lists its clusters, stops it.</para>
/// </example>
/// <example>
///   <code>$sim = Start-WinEksSimulator -TimeScale 120; kubectl --kubeconfig $sim.KubeConfigPath --context demo get nodes; Stop-WinEksSimulator</code>
///   <para>Time runs 120 times faster; kubectl reads the simulated cluster through the kubeconfig the simulator wrote.</para>
/// </example>
/// <example>
///   <code>$sim = Start-WinEksSimulator -Tls; $sim.Endpoint; Get-WinNodeGroup -ClusterName demo; Stop-WinEksSimulator</code>
///   <para>The AWS endpoint is https (https://127.0.0.1:port) with a certificate of the simulator's CA, which this session
///   trusts for that endpoint; the node groups are read over TLS.</para>
/// </example>
/// <example>
///   <code>$faults = Join-Path ([IO.Path]::GetTempPath()) 'wineks-faults.json'; '[{"service":"autoscaling","operation":"DescribeAutoScalingGroups","throttle":true,"count":2}]' | Set-Content $faults; Start-WinEksSimulator -FaultsPath $faults; Get-WinNodeGroup -ClusterName demo; Stop-WinEksSimulator</code>
///   <para>Starts with Auto Scaling throttling its first two DescribeAutoScalingGroups answers; the AWS SDK retries them and
///   Get-WinNodeGroup still lists the groups (Get-WinEksSimulatorReport counts the throttled calls).</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "WinEksSimulator")]
[OutputType("WinEksPatch.Model.WinEksSimulator")]
public sealed class StartWinEksSimulatorCommand : WinEksPatchCmdlet
{
    /// <summary>A bundled scenario name (demo, managed, large) or the path of a scenario file (with a directory separator or
    /// ending in .json; relative to the current location).</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ScenarioCompleter))]
    public string Scenario { get; set; } = "demo";

    /// <summary>Simulated seconds per wall-clock second (1 = real time).</summary>
    [Parameter]
    [ValidateRange(0.01, 100000)]
    public double TimeScale { get; set; } = 1;

    /// <summary>Serves the AWS endpoint (and the simulator's admin path and registries) over https too, with a certificate
    /// of the simulator's generated CA (CaCertPath), for clients and policies that insist on https endpoints. This
    /// session trusts that CA for the simulator's AWS endpoint only; certificate validation stays on everywhere.</summary>
    [Parameter]
    public SwitchParameter Tls { get; set; }

    /// <summary>A JSON file of fault rules in force from the simulator's first request: an array of rules, or an object with a
    /// "faults" array, in the simulator's rule format: API rules {service, operation, resource, throttle, errorCode, statusCode,
    /// latencySeconds, probability, count}; fleet rules {kind: launch-failure|never-register|not-ready|no-pod-ips, group,
    /// count, probability, errorCode} (the simulator's README has every field). A rule the
    /// simulator rejects stops the start with SimulatorFailed naming it. Rules added later with Add-WinEksSimulatorFault
    /// come on top.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? FaultsPath { get; set; }

    /// <summary>An IAM identity policy (a JSON file, as Get-WinEksPatchIamPolicy writes one) that the simulator's credentials
    /// carry: every AWS request is then authorized the way IAM does it (an explicit Deny over an Allow over the implicit
    /// deny; Action and NotAction, Resource ARNs, and conditions such as aws:ResourceTag, aws:RequestTag, aws:TagKeys and
    /// iam:PassedToService) and refused in the service's own AccessDenied shape, so a cmdlet fails with AwsAccessDenied
    /// naming the action. iam:PassRole is checked where AWS checks it: an Image Builder infrastructure configuration's
    /// instance profile, and an Auto Scaling group set to a launch template with one (with ec2:RunInstances on the
    /// template). Without it everything is allowed. A file that is not a policy stops the start with SimulatorFailed.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? IamPolicyPath { get; set; }

    /// <summary>The folder `build.ps1 package` writes (WinEksPatch-Runbook.yaml, WinEksPatch-Fleet.yaml and the
    /// WinEksPatch.zip they attach): its runbooks exist in every account and Region of the simulator from the start, as
    /// after the README's deployment steps (SSM documents WinEksPatch and WinEksPatch-Fleet), and its SSM Automation runs
    /// them, their PowerShell steps with this session's PowerShell. The fleet scenario starts with this module's own
    /// runbooks without it (packaged once per build in the temp folder).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RunbookPackage { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            var moduleDirectory = Path.GetDirectoryName(typeof(StartWinEksSimulatorCommand).Assembly.Location)!;
            var dll = Path.Combine(moduleDirectory, "simulator", "WinEksPatch.Simulator.dll");
            // A path (it has a directory separator or ends in .json) is relative to the PowerShell location, not the process's
            // directory; anything else names a bundled scenario, even when a file of that name happens to be here.
            var looksLikePath = Scenario.IndexOfAny(['/', '\\']) >= 0 || Scenario.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
            var scenario = looksLikePath && FileSystemPath(Scenario) is { } scenarioPath && File.Exists(scenarioPath) ? scenarioPath : Scenario;
            var faults = FaultsPath == null ? null : Guard(() => FileSystemPath(FaultsPath) is { } path && File.Exists(path) ? path
                : throw new WinEksPatchException(ErrorIds.SimulatorFaultsFileNotFound, ErrorKind.ObjectNotFound,
                    $"-FaultsPath: no file '{FaultsPath}' in the file system.", FaultsPath));
            var iamPolicy = IamPolicyPath == null ? null : Guard(() => FileSystemPath(IamPolicyPath) is { } path && File.Exists(path) ? path
                : throw new WinEksPatchException(ErrorIds.SimulatorIamPolicyFileNotFound, ErrorKind.ObjectNotFound,
                    $"-IamPolicyPath: no file '{IamPolicyPath}' in the file system.", IamPolicyPath));

            // The fleet scenario starts as after the README's deployment steps: the module's own runbooks in every account
            // and Region (packaged from this module, once per build).
            var documents = RunbookPackage != null ? Guard(() => RunbookDocuments(RunbookPackage))
                : Scenario == "fleet" && Guard(() => Simulator.RunbookPackage.Ensure(moduleDirectory)) is { } built
                    ? RunbookDocuments(built) : [];
            // Its Automation runs aws:executeScript steps with the PowerShell this session runs in: its pwsh.dll, run with
            // dotnet (which the simulator itself needs on PATH), else its pwsh executable.
            var pshome = SessionState.PSVariable.GetValue("PSHOME") as string;
            var powershell = new[] { "pwsh.dll", "pwsh", "pwsh.exe" }.Select(f => pshome == null ? null : Path.Combine(pshome, f)).FirstOrDefault(File.Exists);

            RunWorkflow(async (host, token) =>
            {
                // The new simulator starts before the one in use is let go: a start that fails (an unknown scenario, a
                // rejected fault rule) leaves the session pointed where it was, never at nothing (then AWS).
                var session = await SimulatorSession.StartAsync(dll, scenario, TimeScale, Tls.IsPresent, faults, iamPolicy, token, powershell, documents).ConfigureAwait(false);
                if (ModuleEnvironment.Simulator is { } previous)
                {
                    host.Verbose(previous.OwnsProcess
                        ? $"Stopping the simulator started before (process {previous.ProcessId})."
                        : $"Letting go of the simulator attached before ({previous.Info.Endpoint}).");
                    previous.Dispose();
                }

                ModuleEnvironment.Simulator = session;
                host.Verbose($"Simulator running (process {session.ProcessId}); this session's cmdlets now talk to {session.Info.Endpoint}.");
                host.Output(WinEksSimulator.From(session.Info, Scenario, session.Info.TimeScale, session.ProcessId));
            });
        }
        finally
        {
            base.EndProcessing();
        }
    }

    /// <summary>The runbooks of a package folder, each with its SSM document name; SimulatorFailed when the folder does not
    /// hold a built package (the runbooks and the zip they attach).</summary>
    private List<(string Name, string Path)> RunbookDocuments(string folder)
    {
        var path = FileSystemPath(folder);
        var runbooks = new[] { ("WinEksPatch", "WinEksPatch-Runbook.yaml"), ("WinEksPatch-Fleet", "WinEksPatch-Fleet.yaml") };
        var missing = runbooks.Select(r => r.Item2).Append("WinEksPatch.zip").Where(f => path == null || !File.Exists(Path.Combine(path, f))).ToList();
        if (missing.Count > 0)
        {
            throw new WinEksPatchException(ErrorIds.SimulatorFailed, ErrorKind.ObjectNotFound,
                $"-RunbookPackage: '{folder}' has no {string.Join(", ", missing)}; build the package with `dotnet pwsh ./build.ps1 package` (it writes out/package).", folder);
        }

        return [.. runbooks.Select(r => (r.Item1, Path.Combine(path!, r.Item2)))];
    }
}

/// <summary>
/// <para type="synopsis">Points this session's WinEksPatch cmdlets at a simulator another process started.</para>
/// <para type="description">For a simulator started by another session's Start-WinEksSimulator or by the standalone
/// executable (`dotnet WinEksPatch.Simulator.dll --scenario demo`): reads its endpoints, credentials and virtual clock
/// from its admin path, so that this session's cmdlets and clock agree with it (a second window watching a rollout, a
/// runbook rehearsal). Stop-WinEksSimulator then only disconnects; the simulator keeps running.</para>
/// <para type="description">A simulator started with -Tls (or --tls) has an https endpoint whose certificate its own
/// generated CA signs: name that CA's certificate with -CaCertPath, and this session trusts it for that endpoint only.
/// Sessions that attach by themselves through WINEKSPATCH_SIMULATOR_ENDPOINT read it from WINEKSPATCH_SIMULATOR_CA_CERT.</para>
/// </summary>
/// <example>
///   <code>$sim = Start-WinEksSimulator; Connect-WinEksSimulator -Endpoint $sim.Endpoint; Get-WinEksCluster -Name demo</code>
///   <para>Connects to a simulator by its AWS endpoint (here the one just started).</para>
/// </example>
/// <example>
///   <code>$sim = Start-WinEksSimulator; Connect-WinEksSimulator -Endpoint $sim.Endpoint | Select-Object Endpoint, Clusters, TimeScale</code>
///   <para>What the connected simulator serves.</para>
/// </example>
/// <example>
///   <code>$sim = Start-WinEksSimulator -Tls; $sim | Connect-WinEksSimulator | Select-Object Endpoint, CaCertPath</code>
///   <para>Connects to a simulator whose AWS endpoint is https: Endpoint and CaCertPath come from the piped object.</para>
/// </example>
[Cmdlet(VerbsCommunications.Connect, "WinEksSimulator")]
[OutputType("WinEksPatch.Model.WinEksSimulator")]
public sealed class ConnectWinEksSimulatorCommand : WinEksPatchCmdlet
{
    /// <summary>The simulator's AWS endpoint, as its JSON line or Start-WinEksSimulator gives it (http://127.0.0.1:port, or
    /// https://127.0.0.1:port for a simulator started with -Tls).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Endpoint { get; set; } = "";

    /// <summary>The simulator's CA certificate (PEM; the caCertPath of its JSON line, the CaCertPath of
    /// Start-WinEksSimulator), trusted for an https -Endpoint only. Not needed for an http endpoint.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? CaCertPath { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            var caCertPath = CaCertPath == null ? null : FileSystemPath(CaCertPath) ?? CaCertPath;
            RunWorkflow(async (host, token) =>
            {
                var session = await SimulatorSession.AttachAsync(Endpoint, caCertPath, token).ConfigureAwait(false);
                if (ModuleEnvironment.Simulator is { } current && current.Info.Endpoint == session.Info.Endpoint)
                {
                    session.Dispose(); // already pointed at it (and perhaps its owner): keep that session
                    session = current;
                }
                else
                {
                    ModuleEnvironment.Simulator?.Dispose();
                    ModuleEnvironment.Simulator = session;
                }

                host.Output(WinEksSimulator.From(session.Info, "(attached)", session.Clock.TimeScale, 0));
            });
        }
        finally
        {
            base.EndProcessing();
        }
    }
}

/// <summary>
/// <para type="synopsis">Stops the simulator started by Start-WinEksSimulator and points the session back at AWS.</para>
/// <para type="description">Stops the simulator process and its kubeconfig and state go with it; afterwards the
/// session's cmdlets use the AWS SDK's default chain (or -Region/-ProfileName) again. A simulator this session only
/// connected to (Connect-WinEksSimulator) keeps running; the session just lets go of it. Does nothing when no simulator
/// is in use.</para>
/// </summary>
/// <example>
///   <code>Start-WinEksSimulator | Out-Null; Stop-WinEksSimulator</code>
///   <para>Starts and stops the demo simulator.</para>
/// </example>
/// <example>
///   <code>Stop-WinEksSimulator -Verbose</code>
///   <para>Says which simulator process was stopped.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Stop, "WinEksSimulator")]
[OutputType(typeof(void))]
public sealed class StopWinEksSimulatorCommand : WinEksPatchCmdlet
{
    protected override void EndProcessing()
    {
        if (ModuleEnvironment.Simulator is { } session)
        {
            ModuleEnvironment.Simulator = null;
            WriteVerbose($"Stopping the simulator (process {session.ProcessId}).");
            session.Dispose();
        }

        base.EndProcessing();
    }
}
