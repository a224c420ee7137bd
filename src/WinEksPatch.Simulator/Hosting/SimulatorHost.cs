using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WinEksPatch.Simulator.Admin;
using WinEksPatch.Simulator.Auth;
using WinEksPatch.Simulator.Auth.Iam;
using WinEksPatch.Simulator.Aws;
using WinEksPatch.Simulator.Aws.Services.AutoScaling;
using WinEksPatch.Simulator.Aws.Services.Ecr;
using WinEksPatch.Simulator.Aws.Services.ImageBuilder;
using WinEksPatch.Simulator.Aws.Services.Ec2;
using WinEksPatch.Simulator.Aws.Services.Eks;
using WinEksPatch.Simulator.Aws.Services.Iam;
using WinEksPatch.Simulator.Aws.Services.Ssm;
using WinEksPatch.Simulator.Aws.Services.Sts;
using WinEksPatch.Simulator.Clock;
using WinEksPatch.Simulator.Kubernetes;
using WinEksPatch.Simulator.Registry;
using WinEksPatch.Simulator.Scenarios;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Hosting;

/// <summary>
/// A running simulator: one Kestrel server with two loopback listeners, one for AWS (and the /_sim admin path and the
/// registries; plain HTTP, or TLS with <see cref="SimulatorOptions.Tls"/>) and one for Kubernetes (always TLS), over one
/// <see cref="SimWorld"/> loaded from a scenario. Both TLS listeners use certificates of the same generated CA.
/// Used by the executable and, in-process, by tests.
/// </summary>
public sealed class SimulatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CertificateAuthority _ca;
    private readonly string? _ownedStateDirectory;

    private SimulatorHost(WebApplication app, CertificateAuthority ca, SimClock clock, SimWorld world, SimulatorInfo info, string? ownedStateDirectory)
    {
        _app = app;
        _ca = ca;
        Clock = clock;
        World = world;
        Info = info;
        _ownedStateDirectory = ownedStateDirectory;
    }

    public SimulatorInfo Info { get; }

    public SimClock Clock { get; }

    public SimWorld World { get; }

    /// <summary>PEM of the CA that signs the Kubernetes endpoint's certificate (and the AWS endpoint's with TLS).</summary>
    public string CaPem => _ca.CaPem;

    /// <summary>The identity policy of --iam-policy; a file that is missing or is not a policy stops the start.</summary>
    private static IamPolicyDocument ReadIamPolicy(string path)
    {
        try
        {
            return IamPolicyDocument.Parse(File.ReadAllText(path));
        }
        catch (IamPolicyFormatException e)
        {
            throw new ArgumentException($"--iam-policy: {path} is not an IAM policy: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new ArgumentException($"--iam-policy: {path} cannot be read: {e.Message}", e);
        }
    }

    public static async Task<SimulatorHost> StartAsync(SimulatorOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);

        // Read the data first: a bad scenario fails before anything listens.
        ScenarioDefinition scenario = ScenarioLoader.Read(options.Scenario);
        PatchCalendar calendar = ScenarioLoader.LoadCalendar();
        IamPolicyDocument? identityPolicy = options.IamPolicyFile is null ? null : ReadIamPolicy(options.IamPolicyFile);
        var clock = new SimClock(options.StartTime ?? DateTimeOffset.UtcNow, options.TimeScale);
        var world = new SimWorld(clock, scenario.Region, scenario.AccountId);
        var ca = CertificateAuthority.Create(DateTimeOffset.UtcNow);

        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "WinEksPatch.Simulator" });
        builder.WebHost.UseKestrelCore();
        ListenOptions? awsListener = null;
        ListenOptions? kubernetesListener = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, options.AwsPort, listen =>
            {
                awsListener = listen;
                if (options.Tls)
                {
                    listen.UseHttps(ca.ServerCertificate);
                }
            });
            kestrel.Listen(IPAddress.Loopback, options.KubernetesPort, listen =>
            {
                kubernetesListener = listen;
                listen.UseHttps(ca.ServerCertificate);
            });
        });
        // The host must not take over Ctrl+C or print anything: the executable owns signals and stdout.
        builder.Services.AddSingleton<IHostLifetime, QuietLifetime>();
        builder.Logging.ClearProviders();
        if (options.Verbose)
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        }

        WebApplication app = builder.Build();
        ILoggerFactory loggers = app.Services.GetRequiredService<ILoggerFactory>();

        SimulatorInfo? info = null;
        IamAuthorizer? authorizer = identityPolicy is null ? null : new IamAuthorizer(identityPolicy, $"arn:aws:iam::{world.AccountId}:user/{SimCredentials.UserName}");
        var aws = new AwsEndpoint(world,
        [
            new StsService(),
            new EksService(() => ca.CaDataBase64),
            new AutoScalingService(),
            new Ec2Service(),
            new SsmService(),
            new EcrService(),
            new ImageBuilderService(),
            new IamService(),
        ], loggers.CreateLogger("WinEksPatch.Simulator.Aws"), authorizer);
        var kube = new KubeApi(world, new EksTokenValidator(clock), loggers.CreateLogger("WinEksPatch.Simulator.Kubernetes"));
        var admin = new AdminApi(clock, () => info!);
        var fleetAdmin = new FleetAdmin(world);
        var controlAdmin = new ControlAdmin(world);
        var registry = new RegistryApi(world, loggers.CreateLogger("WinEksPatch.Simulator.Registry"), authorizer);

        // The Kubernetes listener's port means Kubernetes (both listeners may be TLS); the other serves AWS, the admin
        // path and the registries. A port of 0 is known once Kestrel has bound it, before anyone can learn it.
        int kubernetesPort = options.KubernetesPort;
        app.Run(http => http.Connection.LocalPort == Volatile.Read(ref kubernetesPort) ? kube.HandleAsync(http)
            : http.Request.Path.StartsWithSegments(FleetAdmin.Prefix) ? fleetAdmin.HandleAsync(http)
            : ControlAdmin.Handles(http) ? controlAdmin.HandleAsync(http)
            : http.Request.Path.StartsWithSegments(AdminApi.Prefix) ? admin.HandleAsync(http)
            : http.Request.Path.StartsWithSegments(RegistryApi.Prefix) ? registry.HandleAsync(http)
            : aws.HandleAsync(http));

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            // Kestrel writes the bound endpoint (the real port for 0) back into each listener's options.
            int awsPort = awsListener!.IPEndPoint!.Port;
            Volatile.Write(ref kubernetesPort, kubernetesListener!.IPEndPoint!.Port);
            string awsUrl = $"{(options.Tls ? "https" : "http")}://127.0.0.1:{awsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
            string kubeUrl = $"https://127.0.0.1:{kubernetesPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

            ScenarioLoader.Load(world, scenario, calendar, name => $"{kubeUrl}{KubeApi.ClusterPathPrefix}{name}", ca.CaDataBase64);
            _ = world.Report; // the report follows node and pod changes from here on
            ControlAdmin.AddStartupRules(world, scenario.Faults ?? [], "the scenario's faults");
            ControlAdmin.AddStartupRules(world, options.FaultsFile is null ? [] : ControlAdmin.ReadFaultsFile(options.FaultsFile), options.FaultsFile ?? "");

            string? owned = null;
            string stateDirectory = options.StateDirectory ?? (owned = Path.Combine(Path.GetTempPath(), "wineks-simulator-" + Guid.NewGuid().ToString("N")[..12]));
            Directory.CreateDirectory(stateDirectory);
            string caPath = Path.Combine(stateDirectory, "ca.crt");
            string kubeConfigPath = Path.Combine(stateDirectory, "kubeconfig");
            List<string> clusters;
            lock (world.Gate)
            {
                clusters = [.. world.Clusters.Keys];
            }

            await File.WriteAllTextAsync(caPath, ca.CaPem, cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(kubeConfigPath,
                KubeConfigWriter.Render(clusters.Select(c => (c, $"{kubeUrl}{KubeApi.ClusterPathPrefix}{c}")).ToList(), ca.CaDataBase64, SimCredentials.KubernetesStaticToken),
                cancellationToken).ConfigureAwait(false);

            info = new SimulatorInfo
            {
                Endpoint = awsUrl,
                KubernetesEndpoint = kubeUrl,
                Region = world.Region,
                AccessKeyId = SimCredentials.AccessKeyId,
                SecretAccessKey = SimCredentials.SecretAccessKey,
                KubeConfigPath = kubeConfigPath,
                CaCertPath = caPath,
                Clusters = clusters,
                TimeScale = clock.TimeScale,
                AdminEndpoint = awsUrl + AdminApi.Prefix,
                Registries = RegistryApi.RegistryUrls(world, awsUrl),
            };
            return new SimulatorHost(app, ca, clock, world, info, owned);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            ca.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            World.StopScheduler();
            await _app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            _ca.Dispose();
            if (_ownedStateDirectory is not null)
            {
                try
                {
                    Directory.Delete(_ownedStateDirectory, recursive: true);
                }
                catch (IOException)
                {
                    // Best effort: a client may still hold the kubeconfig open.
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }
    }

    /// <summary>A host lifetime that neither listens for Ctrl+C nor prints "Application started".</summary>
    private sealed class QuietLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
