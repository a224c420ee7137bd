using WinEksPatch.Abstractions;
using WinEksPatch.Aws;
using WinEksPatch.Kubernetes;
using WinEksPatch.Registry;

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
        ModuleEnvironment.AttachFromEnvironment();
        ModuleEnvironment.Simulator?.EnsureServing();
        Time = time ?? ModuleEnvironment.Time;
        _awsOptions = aws;
        Aws = new AwsClientFactory(AwsContext.Resolve(aws)); // first: a profile or region it refuses leaves nothing to dispose
        // The simulator's registries are under its AWS endpoint: https with -Tls, trusted through its CA (that endpoint only).
        _http = ModuleEnvironment.Simulator?.Trust?.CreateHttpClient(TimeSpan.FromMinutes(2)) ?? new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        _kubernetes = kubernetes ?? new KubernetesConnectionOptions();

        // A kubeconfig the user named is checked now, so a wrong path or context fails before any work starts.
        _fromKubeConfig = _kubernetes.UsesKubeConfig ? KubernetesConnector.FromKubeConfig(_kubernetes, ModuleEnvironment.Simulator, Aws.Calls.KubernetesHandler()) : null;
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
                    ?? KubernetesConnector.FromEks(cluster, new EksTokenGenerator(Aws.ResolveCredentials(), Aws.Context.Region, Time, ModuleEnvironment.Simulator == null ? null : Aws.Context.EndpointOverride), Time,
                        Aws.Calls.KubernetesHandler());
                entry = (client, new KubernetesApi(client, cluster.Name));
                _kubernetesClients[cluster.Name] = entry;
            }

            return entry.Api;
        }
    }

    private RegistryClient? _registry;
    private ImageAnalyzer? _images;

    /// <summary>The OCI registry client of this invocation: ECR credentials from the AWS identity (for the registry's
    /// region), others from the docker config; the simulator's registries while the session is pointed at one.</summary>
    public RegistryClient Registry => _registry ??= new RegistryClient(
        _http,
        new RegistryCredentials(region => region == Region ? Aws.Ecr() : OtherRegion(region).Ecr()),
        ModuleEnvironment.Simulator?.Info.Registries);

    /// <summary>Image resolution and measurement, cached for this invocation.</summary>
    public ImageAnalyzer Images => _images ??= new ImageAnalyzer(Registry);

    /// <summary>The cluster's EKS description and Kubernetes API, by name.</summary>
    public async Task<(EksCluster Cluster, IKubernetesApi Api)> KubernetesForClusterAsync(string clusterName)
    {
        EksCluster cluster;
        try
        {
            cluster = await Aws.Eks().DescribeClusterAsync(clusterName).ConfigureAwait(false);
        }
        catch (Errors.WinEksPatchException ex) when (ex.ErrorId == Errors.ErrorIds.AwsResourceNotFound)
        {
            throw new Errors.WinEksPatchException(Errors.ErrorIds.ClusterNotFound, Errors.ErrorKind.ObjectNotFound,
                $"No EKS cluster named '{clusterName}' in {Region}.", clusterName, ex);
        }

        return (cluster, KubernetesFor(cluster));
    }

    private AwsClientFactory OtherRegion(string region)
    {
        var factory = new AwsClientFactory(AwsContext.Resolve(_awsOptions with { Region = region }));
        _others.Add(factory);
        return factory;
    }

    private readonly HttpClient _http;
    private readonly AwsConnectionOptions _awsOptions;
    private readonly List<AwsClientFactory> _others = [];

    public void Dispose()
    {
        _http.Dispose();
        foreach (var other in _others)
        {
            other.Dispose();
        }

        foreach (var (client, _) in _kubernetesClients.Values.Where(c => !ReferenceEquals(c.Client, _fromKubeConfig)))
        {
            client.Dispose();
        }

        _fromKubeConfig?.Dispose();

        Aws.Dispose();
    }
}
