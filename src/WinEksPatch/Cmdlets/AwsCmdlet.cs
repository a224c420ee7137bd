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

    /// <summary>Resolves the AWS side (and the Kubernetes options of cmdlets that have them) once per invocation.</summary>
    private protected Connections Connect(KubernetesConnectionOptions? kubernetes = null) =>
        Guard(() => new Connections(new AwsConnectionOptions(Region, ProfileName), kubernetes));
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

    private protected Connections ConnectWithKubernetes() =>
        Connect(new KubernetesConnectionOptions(KubeConfigPath, KubeContext));
}
