using System.Management.Automation;
using WinEksPatch.Aws;
using WinEksPatch.Kubernetes;

namespace WinEksPatch.Commands;

/// <summary>A cmdlet that talks to AWS: -Region and -ProfileName, else the AWS SDK's default chains decide.</summary>
public abstract class AwsCmdlet : WinEksPatchCmdlet
{
    /// <summary>AWS region, for example us-west-2. Default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.RegionCompleter))]
    public string? Region { get; set; }

    /// <summary>Profile of the shared AWS config/credentials files (SSO and assume-role profiles included).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ProfileNameCompleter))]
    public string? ProfileName { get; set; }

    /// <summary>The shared credentials file (ini format) -ProfileName is read from, instead of the default config and
    /// credentials files (as AWS.Tools' -ProfileLocation).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ProfileLocation { get; set; }

    /// <summary>AWS credentials to call AWS with: an Amazon.Runtime.AWSCredentials object, as AWS.Tools takes it (from
    /// Get-AWSCredential, New-AWSCredential or the SDK; AWS.Tools' own objects work too). It comes before -ProfileName.</summary>
    [Parameter]
    [ValidateNotNull]
    public object? Credential { get; set; }

    /// <summary>One endpoint every AWS service is called at (an http or https URL), as AWS.Tools' -EndpointUrl. The
    /// AWS_ENDPOINT_URL variables and the config file's endpoint_url are honoured without it.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? EndpointUrl { get; set; }

    private Connections? _connections;

    /// <summary>What the command line says about AWS, with AWS.Tools' session defaults ($StoredAWSRegion of
    /// Set-DefaultAWSRegion, $StoredAWSCredentials of Set-AWSCredential) when AWS.Tools set them: after the explicit
    /// parameters, before the profile and environment, in the order AWS.Tools itself resolves them.</summary>
    private protected AwsConnectionOptions AwsOptions() => new(Region, ProfileName)
    {
        ProfileLocation = ProfileLocation == null ? null : FileSystemPath(ProfileLocation) ?? ProfileLocation,
        Credential = Credential is PSObject wrapped ? wrapped.BaseObject : Credential,
        EndpointUrl = EndpointUrl,
        SessionRegion = SessionState.PSVariable.GetValue("StoredAWSRegion") is { } region ? Unwrap(region)?.ToString() : null,
        SessionCredential = SessionState.PSVariable.GetValue("StoredAWSCredentials") is { } stored ? Unwrap(stored) : null,
    };

    private static object? Unwrap(object value) => value is PSObject wrapped ? wrapped.BaseObject : value;

    /// <summary>The AWS and Kubernetes calls (Service, Operation, Count, Mutating) of the last invocation of a WinEksPatch
    /// cmdlet in this process that talked to AWS: <c>[WinEksPatch.Commands.AwsCmdlet]::LastApiCalls</c> (benchmarks,
    /// troubleshooting). Retries are counted as the attempts they are; a watch counts as one request.</summary>
    public static IReadOnlyList<Diagnostics.ApiCallCount> LastApiCalls { get; private set; } = [];

    /// <summary>The connections of this invocation, made on first use (after parameters are bound) and disposed at the end.</summary>
    private protected Connections Connections => _connections ??= Traced(Guard(() => new Connections(AwsOptions(), KubernetesOptions)));

    private Action<Diagnostics.ApiCallTrace>? _trace;

    /// <summary>-Verbose names each AWS and Kubernetes call as it ends (operation, target, outcome, duration); -Debug adds its
    /// request id. Only while a workflow runs: its host is where they go.</summary>
    private protected override void WorkflowHostChanged(Abstractions.IWorkflowHost? host)
    {
        var verbose = host != null && Wants("Verbose", "VerbosePreference");
        var debug = host != null && Wants("Debug", "DebugPreference");
        _trace = !verbose && !debug ? null : call =>
        {
            if (verbose)
            {
                host!.Verbose(call.ToString());
            }

            if (debug && call.RequestId != null)
            {
                host!.Debug($"{call.Api} {call.Operation}: request id {call.RequestId}");
            }
        };
        if (_connections != null)
        {
            Traced(_connections);
        }
    }

    private Connections Traced(Connections connections)
    {
        connections.Aws.Calls.Trace = _trace;
        return connections;
    }

    /// <summary>How to reach Kubernetes; null for cmdlets that never do.</summary>
    private protected virtual KubernetesConnectionOptions? KubernetesOptions => null;

    protected override void EndProcessing()
    {
        if (_connections != null)
        {
            LastApiCalls = _connections.Aws.Calls.Snapshot();
        }

        _connections?.Dispose();
        _connections = null;
        base.EndProcessing();
    }
}

/// <summary>A cmdlet that also talks to the clusters' Kubernetes APIs.</summary>
public abstract class KubernetesCmdlet : AwsCmdlet
{
    /// <summary>Kubeconfig to use instead of an EKS token built from the AWS identity.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KubeConfigPath { get; set; }

    /// <summary>Context of the kubeconfig (default: its current-context).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.KubeContextCompleter))]
    public string? KubeContext { get; set; }

    // A path that names no file-system location is passed on as given: the connector then reports KubeConfigNotFound for it.
    private protected override KubernetesConnectionOptions? KubernetesOptions =>
        new(KubeConfigPath == null ? null : FileSystemPath(KubeConfigPath) ?? KubeConfigPath, KubeContext);
}
