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
    public string? Region { get; set; }

    /// <summary>Profile of the shared AWS config/credentials files (SSO and assume-role profiles included).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ProfileName { get; set; }

    private Connections? _connections;

    /// <summary>The AWS and Kubernetes calls (Service, Operation, Count, Mutating) of the last invocation of a WinEksPatch
    /// cmdlet in this process that talked to AWS: <c>[WinEksPatch.Commands.AwsCmdlet]::LastApiCalls</c> (benchmarks,
    /// troubleshooting). Retries are counted as the attempts they are; a watch counts as one request.</summary>
    public static IReadOnlyList<Diagnostics.ApiCallCount> LastApiCalls { get; private set; } = [];

    /// <summary>The connections of this invocation, made on first use (after parameters are bound) and disposed at the end.</summary>
    private protected Connections Connections => _connections ??= Guard(() => new Connections(new AwsConnectionOptions(Region, ProfileName), KubernetesOptions));

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
    public string? KubeContext { get; set; }

    // A path that names no file-system location is passed on as given: the connector then reports KubeConfigNotFound for it.
    private protected override KubernetesConnectionOptions? KubernetesOptions =>
        new(KubeConfigPath == null ? null : FileSystemPath(KubeConfigPath) ?? KubeConfigPath, KubeContext);
}
