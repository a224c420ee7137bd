using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Amazon.Runtime;
using k8s;
using WinEksPatch.Simulator.Hosting;

namespace WinEksPatch.Simulator.Tests.Infrastructure;

/// <summary>One in-process simulator (demo scenario, ports 0) shared by the tests of a collection.</summary>
public sealed class SimulatorFixture : IAsyncLifetime
{
    public SimulatorHost Host { get; private set; } = null!;

    public SimulatorInfo Info => Host.Info;

    public BasicAWSCredentials Credentials => new(Info.AccessKeyId, Info.SecretAccessKey);

    public async Task InitializeAsync() => Host = await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "demo" });

    public async Task DisposeAsync() => await Host.DisposeAsync();

    /// <summary>An HttpClient that trusts exactly the simulator's CA (as a kubeconfig client would).</summary>
    public HttpClient KubernetesHttpClient(string? bearer = null)
    {
        X509Certificate2 ca = X509Certificate2.CreateFromPem(Host.CaPem);
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, errors) =>
            {
                if (cert is null)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None && chain.Build(cert);
            },
        };
        var client = new HttpClient(handler);
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return client;
    }

    /// <summary>A KubernetesClient for one cluster from the simulator's kubeconfig (static token).</summary>
    public k8s.Kubernetes KubernetesFromKubeConfig(string cluster)
    {
        KubernetesClientConfiguration config = KubernetesClientConfiguration.BuildConfigFromConfigFile(Info.KubeConfigPath, currentContext: cluster);
        return new k8s.Kubernetes(config);
    }
}

[CollectionDefinition(Name)]
public sealed class SimulatorCollection : ICollectionFixture<SimulatorFixture>
{
    public const string Name = "simulator";
}
