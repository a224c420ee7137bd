using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using k8s.Exceptions;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;

namespace WinEksPatch.Kubernetes;

/// <summary>What the user said about Kubernetes: a kubeconfig and/or context, or nothing (then the EKS API decides).</summary>
public sealed record KubernetesConnectionOptions(string? KubeConfigPath = null, string? KubeContext = null)
{
    public bool UsesKubeConfig => !string.IsNullOrWhiteSpace(KubeConfigPath) || !string.IsNullOrWhiteSpace(KubeContext);
}

/// <summary>Builds a KubernetesClient for a cluster, from a kubeconfig or from EKS DescribeCluster plus an EKS token.</summary>
public static class KubernetesConnector
{
    /// <summary>From a kubeconfig: <paramref name="options"/>' path (else KUBECONFIG, else ~/.kube/config) and context
    /// (else current-context). Errors name the parameter that is wrong.</summary>
    /// <remarks>While the session is pointed at <paramref name="simulator"/>, only a context of that simulator's cluster is
    /// used: any other server may be a real cluster.</remarks>
    public static IKubernetes FromKubeConfig(KubernetesConnectionOptions options, Simulator.SimulatorSession? simulator, params DelegatingHandler[] handlers)
    {
        var path = KubeConfigFile(options.KubeConfigPath);
        if (!File.Exists(path))
        {
            throw new WinEksPatchException(ErrorIds.KubeConfigNotFound, ErrorKind.ObjectNotFound,
                $"-KubeConfigPath: the kubeconfig file '{path}' does not exist.", path);
        }

        k8s.KubeConfigModels.K8SConfiguration model;
        try
        {
            model = KubernetesClientConfiguration.LoadKubeConfig(path);
        }
        catch (Exception ex) when (ex is KubeConfigException or YamlDotNet.Core.YamlException or IOException)
        {
            throw new WinEksPatchException(ErrorIds.KubeConfigInvalid, ErrorKind.InvalidData,
                $"-KubeConfigPath: '{path}' is not a valid kubeconfig: {ex.Message}", path, ex);
        }

        var context = string.IsNullOrWhiteSpace(options.KubeContext) ? model.CurrentContext : options.KubeContext;
        if (string.IsNullOrEmpty(context) || model.Contexts?.Any(c => c.Name == context) != true)
        {
            var known = string.Join(", ", model.Contexts?.Select(c => c.Name) ?? []);
            throw new WinEksPatchException(ErrorIds.KubeContextNotFound, ErrorKind.ObjectNotFound,
                $"-KubeContext: the kubeconfig '{path}' has no context named '{context}' (contexts: {(known.Length == 0 ? "none" : known)}).",
                context);
        }

        try
        {
            var config = KubernetesClientConfiguration.BuildConfigFromConfigObject(model, context);
            if (simulator != null && !simulator.ServesKubernetesAt(config.Host))
            {
                throw new WinEksPatchException(ErrorIds.SimulatorSessionRealTarget, ErrorKind.InvalidOperation,
                    $"-KubeContext: the context '{context}' of '{path}' points at {config.Host}, not at the simulator this session is pointed at " +
                    $"({simulator.Info.KubernetesEndpoint}). Use the simulator's kubeconfig, or run Stop-WinEksSimulator first.", context);
            }

            return new k8s.Kubernetes(config, handlers);
        }
        catch (KubeConfigException ex)
        {
            throw new WinEksPatchException(ErrorIds.KubeConfigInvalid, ErrorKind.InvalidData,
                $"-KubeContext: the context '{context}' in '{path}' cannot be used: {ex.Message}", context, ex);
        }
    }

    /// <summary>The context names of a kubeconfig (<paramref name="path"/>, else KUBECONFIG or ~/.kube/config): what
    /// -KubeContext completes to. Empty when there is none or it cannot be read.</summary>
    public static IReadOnlyList<string> ContextNames(string? path)
    {
        try
        {
            var file = KubeConfigFile(path);
            return File.Exists(file)
                ? [.. (KubernetesClientConfiguration.LoadKubeConfig(file).Contexts ?? []).Select(c => c.Name).Order(StringComparer.Ordinal)]
                : [];
        }
        catch (Exception ex) when (ex is KubeConfigException or YamlDotNet.Core.YamlException or IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>The kubeconfig a -KubeConfigPath names, else KUBECONFIG's, else ~/.kube/config.</summary>
    private static string KubeConfigFile(string? path) =>
        string.IsNullOrWhiteSpace(path) ? KubernetesClientConfiguration.KubeConfigDefaultLocation : Path.GetFullPath(path);

    /// <summary>From the cluster's EKS description: its endpoint and CA, authenticated with refreshed EKS tokens.</summary>
    public static IKubernetes FromEks(EksCluster cluster, EksTokenGenerator tokens, TimeProvider time, params DelegatingHandler[] handlers)
    {
        if (string.IsNullOrEmpty(cluster.Endpoint) || string.IsNullOrEmpty(cluster.CertificateAuthorityData))
        {
            throw new WinEksPatchException(ErrorIds.KubernetesUnreachable, ErrorKind.ConnectionError,
                $"The cluster '{cluster.Name}' has no API endpoint or CA yet (status {cluster.Status}).", cluster.Name);
        }

        var provider = new EksTokenProvider(tokens, cluster.Name, time);
        var caPem = Encoding.UTF8.GetString(Convert.FromBase64String(cluster.CertificateAuthorityData));
        var config = new KubernetesClientConfiguration
        {
            Host = cluster.Endpoint,
            SslCaCerts = [X509Certificate2.CreateFromPem(caPem)],
            TokenProvider = provider,
        };
        return new k8s.Kubernetes(config, [new ReauthenticateOnUnauthorizedHandler(provider), .. handlers]);
    }
}
