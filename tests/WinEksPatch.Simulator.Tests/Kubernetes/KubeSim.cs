using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using k8s;
using WinEksPatch.Simulator.Hosting;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Tests.Kubernetes;

/// <summary>
/// A private simulator for tests that change the world (cordon, evict, delete), so they never disturb the shared
/// fixture's read-only tests. A high time scale makes simulated grace periods and pod starts take milliseconds.
/// </summary>
internal sealed class KubeSim : IAsyncDisposable
{
    private KubeSim(SimulatorHost host) => Host = host;

    public SimulatorHost Host { get; }

    public SimWorld World => Host.World;

    public static async Task<KubeSim> StartAsync(double timeScale = 300) =>
        new(await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "demo", TimeScale = timeScale }));

    public k8s.Kubernetes Client(string cluster = "demo") =>
        new(KubernetesClientConfiguration.BuildConfigFromConfigFile(Host.Info.KubeConfigPath, currentContext: cluster));

    /// <summary>An HttpClient with the kubeconfig's static token that trusts exactly the simulator's CA.</summary>
    public HttpClient Http()
    {
        X509Certificate2 ca = X509Certificate2.CreateFromPem(Host.CaPem);
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
            {
                if (cert is null)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(cert);
            },
        };
        var client = new HttpClient(handler);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wineks-simulator-static-token-0000000000000000");
        return client;
    }

    public T Read<T>(Func<SimWorld, T> read)
    {
        lock (World.Gate)
        {
            return read(World);
        }
    }

    /// <summary>Waits (bounded, 10 s of wall time) for a simulated outcome: timers on the simulated clock drive it.</summary>
    public async Task UntilAsync(Func<SimWorld, bool> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!Read(condition))
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException("timed out waiting until " + what);
            }

            await Task.Delay(10);
        }
    }

    public KubePod Pod(string app) => Read(w => w.Pods.Values.First(p => p.ClusterName == "demo" && p.Labels.GetValueOrDefault("app") == app && p.DeletionTimestamp is null));

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}
