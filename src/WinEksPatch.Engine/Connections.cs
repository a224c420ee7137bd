using WinEksPatch.Abstractions;
using WinEksPatch.Aws;
using WinEksPatch.Kubernetes;

namespace WinEksPatch;

/// <summary>
/// Everything one cmdlet invocation connects to: AWS clients for the resolved region and identity, and Kubernetes
/// clients per cluster (the user's kubeconfig when given, else EKS endpoint + CA + an EKS token).
/// </summary>
public sealed class Connections : IDisposable
{
    private readonly KubernetesConnectionOptions _kubernetes;
    private readonly k8s.IKubernetes? _fromKubeConfig;
    private readonly Dictionary<string, (IDisposable Client, IKubernetesApi Api)> _kubernetesClients = new(StringComparer.Ordinal);

    public Connections(AwsConnectionOptions aws, KubernetesConnectionOptions? kubernetes = null, TimeProvider? time = null)
    {
        Time = time ?? ModuleEnvironment.Time;
        Aws = new AwsClientFactory(AwsContext.Resolve(aws));
        _kubernetes = kubernetes ?? new KubernetesConnectionOptions();

        // A kubeconfig the user named is checked now, so a wrong path or context fails before any work starts.
        _fromKubeConfig = _kubernetes.UsesKubeConfig ? KubernetesConnector.FromKubeConfig(_kubernetes) : null;
    }

    public TimeProvider Time { get; }

    public AwsClientFactory Aws { get; }

    public string Region => Aws.Context.Region.SystemName;

    /// <summary>The Kubernetes API of <paramref name="cluster"/> (one client per cluster for the whole invocation).</summary>
    public IKubernetesApi KubernetesFor(EksCluster cluster)
    {
        lock (_kubernetesClients)
        {
            if (!_kubernetesClients.TryGetValue(cluster.Name, out var entry))
            {
                var client = _fromKubeConfig
                    ?? KubernetesConnector.FromEks(cluster, new EksTokenGenerator(Aws.ResolveCredentials(), Aws.Context.Region, Time, Aws.Context.EndpointOverride), Time);
                entry = (client, new KubernetesApi(client, cluster.Name));
                _kubernetesClients[cluster.Name] = entry;
            }

            return entry.Api;
        }
    }

    public void Dispose()
    {
        foreach (var (client, _) in _kubernetesClients.Values.Where(c => !ReferenceEquals(c.Client, _fromKubeConfig)))
        {
            client.Dispose();
        }

        _fromKubeConfig?.Dispose();

        Aws.Dispose();
    }
}
