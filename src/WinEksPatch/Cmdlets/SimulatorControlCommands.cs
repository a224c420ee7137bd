using System.Management.Automation;
using WinEksPatch.Model;
using WinEksPatch.Simulator;

namespace WinEksPatch.Commands;

/// <summary>A cmdlet about the simulator's report or fault rules: those of one of its accounts in one region (-ProfileName,
/// -Region), by default its first account's first region.</summary>
public abstract class SimulatorWorldCmdlet : WinEksPatchCmdlet
{
    /// <summary>The simulator account whose report or rules (one of its profiles, as Start-WinEksSimulator's Accounts
    /// list them); its first account when omitted.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ProfileNameCompleter))]
    public string? ProfileName { get; set; }

    /// <summary>The region of that account; the account's home region when omitted.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.RegionCompleter))]
    public string? Region { get; set; }

    private protected SimulatorControl Control() => Guard(() => SimulatorControl.ForSession(ProfileName, Region));
}

/// <summary>
/// <para type="synopsis">Gets the report of the simulator this session runs: API calls, Kubernetes requests, node and pod events and the invariants.</para>
/// <para type="description">Reads the report of the simulator started by Start-WinEksSimulator: AWS API calls per
/// service and operation (count, errors, throttled), Kubernetes requests per verb and resource (watches apart from
/// lists), a timeline of node and pod events in simulated time (node added, Ready, cordoned, removed; pod started,
/// evicted, deleted), and the invariants a safe rollout keeps: PodDisruptionBudget violations, the lowest count of
/// Ready, schedulable nodes per node group and when it was reached, and pods that were deleted rather than evicted.
/// The report covers the time since the simulator started or since the last -Reset.</para>
/// </summary>
/// <example>
///   <code>Start-WinEksSimulator | Out-Null; Get-WinNodeGroup -ClusterName demo | Out-Null; (Get-WinEksSimulatorReport).ApiCalls; Stop-WinEksSimulator</code>
///   <para>Shows which AWS calls Get-WinNodeGroup made, with errors and throttled calls.</para>
/// </example>
/// <example>
///   <code>Start-WinEksSimulator | Out-Null; $r = Get-WinEksSimulatorReport -Reset; $r.LowestReadyNodes; $r.PdbViolations.Count; Stop-WinEksSimulator</code>
///   <para>Shows each node group's lowest count of Ready schedulable nodes and the number of PDB violations, then starts counting afresh.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "WinEksSimulatorReport")]
[OutputType(typeof(WinEksSimulatorReport))]
public sealed class GetWinEksSimulatorReportCommand : SimulatorWorldCmdlet
{
    /// <summary>After reading the report, empty the simulator's counters and timeline and start its low-water marks afresh.</summary>
    [Parameter]
    public SwitchParameter Reset { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            using var control = Control();
            RunWorkflow(async (host, token) => host.Output(await control.GetReportAsync(Reset.IsPresent, token).ConfigureAwait(false)));
        }
        finally
        {
            base.EndProcessing();
        }
    }
}

/// <summary>
/// <para type="synopsis">Adds a fault rule to the simulator this session runs: AWS or Kubernetes errors, throttling, latency, failing launches, EKS token expiry.</para>
/// <para type="description">Adds a rule to the simulator started by Start-WinEksSimulator and returns it with its Id.
/// An API rule matches a service (the SigV4 name: ec2, autoscaling, eks, ssm, sts, ecr, imagebuilder; or kubernetes),
/// an operation (an AWS operation name, or a Kubernetes verb and resource such as 'list pods', 'create pods/eviction',
/// 'patch nodes'; * and ? are wildcards) and optionally a resource name pattern, and answers the service's own error
/// (-Throttle: Throttling, ThrottlingException, RequestLimitExceeded or 429 TooManyRequests, as the service does;
/// -ErrorCode and -StatusCode: any error, in the service's error format) and/or adds latency, with a probability or
/// for a number of requests. -Kind LaunchFailure, NeverRegisters, RegistersNotReady or RegistersWithoutPodIps makes
/// instances of a node group fail to launch (InsufficientInstanceCapacity in its scaling activities), never register as
/// nodes, register NotReady, or turn Ready without the pod IPs (vpc.amazonaws.com/PrivateIPv4Address) a Windows node
/// needs before Windows pods can run on it. -Kind CrashLoop, NodeFails or Alarm with -ImageId makes an AMI bad in a way only
/// watching after a rollout shows: its nodes join and turn Ready, then the workload pods on them crash-loop
/// (CrashLoopBackOff, restarts rising), or the nodes turn NotReady -AfterSeconds later, or the CloudWatch alarm
/// -AlarmName (one of the account and region, as the fleet scenario's &lt;cluster&gt;-windows-5xx) goes into ALARM
/// -AfterSeconds after one of them turned Ready. -ProfileName and -Region put the
/// rule in one of the simulator's accounts and regions (Start-WinEksSimulator -Scenario fleet). -TokenExpiry makes the Kubernetes API refuse EKS tokens as expired (401), so the module's re-signing can
/// be seen at work.</para>
/// </summary>
/// <example>
///   <code>Start-WinEksSimulator | Out-Null; Add-WinEksSimulatorFault -Service autoscaling -Operation DescribeAutoScalingGroups -Throttle -Count 2; Get-WinNodeGroup -ClusterName demo; Stop-WinEksSimulator</code>
///   <para>The next two DescribeAutoScalingGroups calls are throttled; the AWS SDK retries them and Get-WinNodeGroup still succeeds.</para>
/// </example>
/// <example>
///   <code>Start-WinEksSimulator | Out-Null; Add-WinEksSimulatorFault -Kind LaunchFailure -NodeGroupName demo-win-selfmanaged -Count 1; Add-WinEksSimulatorFault -TokenExpiry; Get-WinEksSimulatorFault; Stop-WinEksSimulator</code>
///   <para>The group's next launch fails with InsufficientInstanceCapacity, and the current EKS token is refused once as expired.</para>
/// </example>
[Cmdlet(VerbsCommon.Add, "WinEksSimulatorFault", DefaultParameterSetName = ApiSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(WinEksSimulatorFault))]
public sealed class AddWinEksSimulatorFaultCommand : SimulatorWorldCmdlet
{
    private const string ApiSet = "Api";
    private const string FleetSet = "Fleet";
    private const string TokenSet = "TokenExpiry";

    /// <summary>The service the rule hits: ec2, autoscaling, eks, ssm, sts, ecr, imagebuilder, kubernetes, or registry (the
    /// simulator's container registries; -StatusCode 401 makes a registry refuse the credentials it is given, with its own
    /// challenge); wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ApiSet)]
    [ValidateNotNullOrEmpty]
    public string Service { get; set; } = "";

    /// <summary>The operation: an AWS operation name (DescribeAutoScalingGroups), a Kubernetes verb and resource ('list pods',
    /// 'create pods/eviction'), or for a registry v2, token, manifests, blobs or tags; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ApiSet)]
    [ValidateNotNullOrEmpty]
    public string Operation { get; set; } = "";

    /// <summary>Only requests naming a matching resource: an AWS parameter value or path segment (a group, cluster or instance), a Kubernetes object name or namespace/name,
    /// a registry host or repository; wildcards allowed.
    /// With -TokenExpiry: the cluster whose API refuses the tokens.</summary>
    [Parameter(ParameterSetName = ApiSet)]
    [Parameter(ParameterSetName = TokenSet)]
    [ValidateNotNullOrEmpty]
    public string? Resource { get; set; }

    /// <summary>Answer the service's own throttling error (Throttling, ThrottlingException, RequestLimitExceeded, or 429 TooManyRequests for Kubernetes).</summary>
    [Parameter(ParameterSetName = ApiSet)]
    public SwitchParameter Throttle { get; set; }

    /// <summary>The error code to answer (AccessDenied, InternalFailure, ServiceUnavailable; a Status reason for Kubernetes).
    /// With -Kind LaunchFailure: the EC2 error in the scaling activity (default InsufficientInstanceCapacity).</summary>
    [Parameter(ParameterSetName = ApiSet)]
    [Parameter(ParameterSetName = FleetSet)]
    [ValidateNotNullOrEmpty]
    public string? ErrorCode { get; set; }

    /// <summary>The HTTP status of the error (default: the one the service answers with that code).</summary>
    [Parameter(ParameterSetName = ApiSet)]
    [ValidateRange(400, 599)]
    public int? StatusCode { get; set; }

    /// <summary>The error message (default: one like the service's).</summary>
    [Parameter(ParameterSetName = ApiSet)]
    [ValidateNotNullOrEmpty]
    public string? Message { get; set; }

    /// <summary>Seconds added before the answer (simulated time unless -WallClockLatency).</summary>
    [Parameter(ParameterSetName = ApiSet)]
    [ValidateRange(0.0, 3600.0)]
    public double? LatencySeconds { get; set; }

    /// <summary>Count -LatencySeconds on the wall clock instead of the simulated clock.</summary>
    [Parameter(ParameterSetName = ApiSet)]
    public SwitchParameter WallClockLatency { get; set; }

    /// <summary>Seed of the rule's random draws for -Probability (default: derived from the rule's id).</summary>
    [Parameter(ParameterSetName = ApiSet)]
    public int? Seed { get; set; }

    /// <summary>A fleet fault: LaunchFailure, NeverRegisters, RegistersNotReady or RegistersWithoutPodIps; or a bad AMI
    /// (-ImageId): CrashLoop (workload pods on its nodes crash-loop), NodeFails (its nodes turn NotReady -AfterSeconds
    /// after they became Ready) or Alarm (the alarm -AlarmName goes into ALARM -AfterSeconds after one became Ready).</summary>
    [Parameter(Mandatory = true, ParameterSetName = FleetSet)]
    [ValidateSet("LaunchFailure", "NeverRegisters", "RegistersNotReady", "RegistersWithoutPodIps", "CrashLoop", "NodeFails", "Alarm")]
    public string Kind { get; set; } = "";

    /// <summary>With -Kind CrashLoop, NodeFails or Alarm: the bad AMI (every node launched from it, in the groups -NodeGroupName matches).</summary>
    [Parameter(ParameterSetName = FleetSet)]
    [ValidatePattern("^ami-[0-9a-f]{8,17}$")]
    public string? ImageId { get; set; }

    /// <summary>With -Kind NodeFails: simulated seconds from a node's Ready to its NotReady; with -Kind Alarm: to the alarm's
    /// ALARM (default 300).</summary>
    [Parameter(ParameterSetName = FleetSet)]
    [ValidateRange(0.0, 86400.0)]
    public double? AfterSeconds { get; set; }

    /// <summary>With -Kind Alarm: the CloudWatch alarm (of the account and region the rule is in) that the AMI's nodes trip.</summary>
    [Parameter(ParameterSetName = FleetSet)]
    [ValidateNotNullOrEmpty]
    public string? AlarmName { get; set; }

    /// <summary>The Auto Scaling group or EKS node group whose launches the fleet fault hits (wildcards allowed). (-NodeGroup
    /// is its former name, kept as an alias.)</summary>
    [Parameter(Mandatory = true, ParameterSetName = FleetSet, ValueFromPipelineByPropertyName = true)]
    [Alias("NodeGroup")]
    [ValidateNotNullOrEmpty]
    public string NodeGroupName { get; set; } = "";

    /// <summary>Make the Kubernetes API refuse EKS tokens as expired (401): -Count tokens (default 1) for good, or every token older than -MaxTokenAgeSeconds.</summary>
    [Parameter(Mandatory = true, ParameterSetName = TokenSet)]
    public SwitchParameter TokenExpiry { get; set; }

    /// <summary>With -TokenExpiry: refuse EKS tokens older than this many simulated seconds while the rule exists.</summary>
    [Parameter(ParameterSetName = TokenSet)]
    [ValidateRange(1.0, 86400.0)]
    public double? MaxTokenAgeSeconds { get; set; }

    /// <summary>Chance (0 to 1) that a matching request or launch is hit (default 1).</summary>
    [Parameter]
    [ValidateRange(0.000001, 1.0)]
    public double? Probability { get; set; }

    /// <summary>How many requests, launches or tokens the rule hits; without it, every one until the rule is removed.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Count { get; set; }

    private SimulatorControl? _control;

    protected override void ProcessRecord()
    {
        if (ParameterSetName == FleetSet && Kind is "CrashLoop" or "NodeFails" or "Alarm" && ImageId is null)
        {
            ThrowTerminatingError(ToErrorRecord(new Errors.WinEksPatchException(Errors.ErrorIds.SimulatorFailed, Errors.ErrorKind.InvalidArgument,
                $"-Kind {Kind} makes an AMI bad: name it with -ImageId.", Kind)));
        }

        if (ParameterSetName == FleetSet && (Kind == "Alarm") != (AlarmName is not null))
        {
            ThrowTerminatingError(ToErrorRecord(new Errors.WinEksPatchException(Errors.ErrorIds.SimulatorFailed, Errors.ErrorKind.InvalidArgument,
                Kind == "Alarm" ? "-Kind Alarm trips an alarm: name it with -AlarmName." : "-AlarmName goes with -Kind Alarm.", Kind)));
        }

        if (ParameterSetName == ApiSet && !Throttle && ErrorCode is null && StatusCode is null && LatencySeconds is null)
        {
            ThrowTerminatingError(ToErrorRecord(new Errors.WinEksPatchException(Errors.ErrorIds.SimulatorFailed, Errors.ErrorKind.InvalidArgument,
                "Say what the rule does: -Throttle, -ErrorCode, -StatusCode and/or -LatencySeconds.", Operation)));
        }

        var spec = ParameterSetName switch
        {
            FleetSet => new SimulatorFaultSpec { Kind = Kind, NodeGroup = NodeGroupName, ErrorCode = ErrorCode, Probability = Probability, Count = Count,
                ImageId = ImageId, AfterSeconds = AfterSeconds, AlarmName = AlarmName },
            TokenSet => new SimulatorFaultSpec { Kind = "TokenExpiry", Resource = Resource, MaxTokenAgeSeconds = MaxTokenAgeSeconds, Probability = Probability, Count = Count },
            _ => new SimulatorFaultSpec
            {
                Service = Service,
                Operation = Operation,
                Resource = Resource,
                Throttle = Throttle.IsPresent,
                ErrorCode = ErrorCode,
                StatusCode = StatusCode,
                Message = Message,
                LatencySeconds = LatencySeconds,
                WallClockLatency = WallClockLatency.IsPresent,
                Seed = Seed,
                Probability = Probability,
                Count = Count,
            },
        };
        string target = ParameterSetName switch
        {
            FleetSet => $"{Kind} of node group {NodeGroupName}",
            TokenSet => "EKS tokens" + (Resource is null ? "" : $" of cluster {Resource}"),
            _ => $"{Service} {Operation}",
        };
        if (!ShouldProcess(target, "Add simulator fault rule"))
        {
            return;
        }

        _control ??= Control();
        var control = _control;
        RunWorkflow(async (host, token) => host.Output(await control.AddFaultAsync(spec, token).ConfigureAwait(false)));
    }

    protected override void EndProcessing()
    {
        _control?.Dispose();
        base.EndProcessing();
    }
}

/// <summary>
/// <para type="synopsis">Gets the fault rules of the simulator this session runs, with how often each has hit.</para>
/// <para type="description">Lists the API, token-expiry and fleet fault rules of the simulator started by
/// Start-WinEksSimulator, whether added with Add-WinEksSimulatorFault, through the simulator's /_sim/faults admin path,
/// or at its start (--faults file, scenario). Hits says how many requests, tokens or launches each rule has hit.</para>
/// </summary>
/// <example>
///   <code>Start-WinEksSimulator | Out-Null; Add-WinEksSimulatorFault -Service ec2 -Operation 'Describe*' -LatencySeconds 2 | Out-Null; Get-WinEksSimulatorFault; Stop-WinEksSimulator</code>
///   <para>Lists the rules: here one that adds two simulated seconds to every EC2 Describe call.</para>
/// </example>
/// <example>
///   <code>Start-WinEksSimulator | Out-Null; $rule = Add-WinEksSimulatorFault -Service eks -Operation DescribeCluster -ErrorCode AccessDeniedException; Get-WinEksSimulatorFault -Id $rule.Id | Select-Object Id, Hits; Stop-WinEksSimulator</code>
///   <para>Reads one rule by its Id and shows how often it has hit.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "WinEksSimulatorFault")]
[OutputType(typeof(WinEksSimulatorFault))]
public sealed class GetWinEksSimulatorFaultCommand : SimulatorWorldCmdlet
{
    /// <summary>Only the rules with these ids (wildcards allowed).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            using var control = Control();
            var patterns = Id?.Select(i => WildcardPattern.Get(i, WildcardOptions.IgnoreCase)).ToList();
            RunWorkflow(async (host, token) =>
            {
                foreach (var rule in await control.GetFaultsAsync(token).ConfigureAwait(false))
                {
                    if (patterns is null || patterns.Any(p => p.IsMatch(rule.Id)))
                    {
                        host.Output(rule);
                    }
                }
            });
        }
        finally
        {
            base.EndProcessing();
        }
    }
}

/// <summary>
/// <para type="synopsis">Removes fault rules from the simulator this session runs.</para>
/// <para type="description">Removes the rules with the given ids (from Add-WinEksSimulatorFault or
/// Get-WinEksSimulatorFault, also through the pipeline) from the simulator started by Start-WinEksSimulator. An id the
/// simulator does not know is a SimulatorFaultNotFound error; the other ids are still removed.</para>
/// </summary>
/// <example>
///   <code>Start-WinEksSimulator | Out-Null; $rule = Add-WinEksSimulatorFault -Service autoscaling -Operation '*' -Throttle; Remove-WinEksSimulatorFault -Id $rule.Id; Stop-WinEksSimulator</code>
///   <para>Adds a rule that throttles every Auto Scaling call, then removes it.</para>
/// </example>
/// <example>
///   <code>Start-WinEksSimulator | Out-Null; Add-WinEksSimulatorFault -TokenExpiry | Out-Null; Get-WinEksSimulatorFault | Remove-WinEksSimulatorFault; Stop-WinEksSimulator</code>
///   <para>Removes every rule of the simulator.</para>
/// </example>
[Cmdlet(VerbsCommon.Remove, "WinEksSimulatorFault", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(void))]
public sealed class RemoveWinEksSimulatorFaultCommand : SimulatorWorldCmdlet
{
    /// <summary>Ids of the rules to remove.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Id { get; set; } = [];

    private SimulatorControl? _control;

    protected override void ProcessRecord()
    {
        _control ??= Control();
        var control = _control;
        foreach (var id in Id)
        {
            if (ShouldProcess(id, "Remove simulator fault rule"))
            {
                RunWorkflow(async (_, token) => await control.RemoveFaultAsync(id, token).ConfigureAwait(false), perInputObject: true);
            }
        }
    }

    protected override void EndProcessing()
    {
        _control?.Dispose();
        base.EndProcessing();
    }
}
