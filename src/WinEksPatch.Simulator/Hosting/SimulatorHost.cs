using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WinEksPatch.Simulator.Accounts;
using WinEksPatch.Simulator.Admin;
using WinEksPatch.Simulator.Auth;
using WinEksPatch.Simulator.Auth.Iam;
using WinEksPatch.Simulator.Automation;
using WinEksPatch.Simulator.Aws;
using WinEksPatch.Simulator.Aws.Services.AutoScaling;
using WinEksPatch.Simulator.Aws.Services.CloudWatch;
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
/// <see cref="SimOrganization"/> loaded from a scenario: a world per account and region. Both TLS listeners use certificates of the same generated CA.
/// Used by the executable and, in-process, by tests.
/// </summary>
public sealed class SimulatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CertificateAuthority _ca;
    private readonly string? _ownedStateDirectory;

    private SimulatorHost(WebApplication app, CertificateAuthority ca, SimClock clock, SimOrganization organization, SimulatorInfo info, string? ownedStateDirectory)
    {
        _app = app;
        _ca = ca;
        Clock = clock;
        Organization = organization;
        Info = info;
        _ownedStateDirectory = ownedStateDirectory;
    }

    public SimulatorInfo Info { get; }

    public SimClock Clock { get; }

    /// <summary>The primary world: the first account's first region (the only one of a scenario without accounts).</summary>
    public SimWorld World => Organization.Primary;

    /// <summary>Every account of the scenario and the world of each account in each region.</summary>
    public SimOrganization Organization { get; }

    /// <summary>SSM Automation of every account and Region.</summary>
    public AutomationEngine Automation { get; private init; } = null!;

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
        var organizationDefinition = scenario.Organization();
        PatchCalendar calendar = ScenarioLoader.LoadCalendar();
        IamPolicyDocument? identityPolicy = options.IamPolicyFile is null ? null : ReadIamPolicy(options.IamPolicyFile);
        var clock = new SimClock(options.StartTime ?? DateTimeOffset.UtcNow, options.TimeScale);
        var ca = CertificateAuthority.Create(DateTimeOffset.UtcNow);
        List<SimAccount> accounts = [.. organizationDefinition.Select((a, i) => new SimAccount(i, a.Account.Id, a.Account.Profile!, a.Regions[0].Region, a.Account.OrganizationalUnit))];
        List<(SimWorld World, ScenarioDefinition Scenario)> worlds = [.. organizationDefinition.SelectMany(a => a.Regions)
            .Select(r => (new SimWorld(clock, r.Region, r.AccountId), r))];

        // A region the scenario does not name gets what every region has, once Kestrel has bound the Kubernetes port
        // (the loader needs cluster endpoints; such a region has no cluster, but the loader is one path for all).
        string kubeUrl = "";
        SimOrganization? organizationRef = null;
        WorldRouter? routerRef = null;
        AutomationEngine? automationRef = null;
        var organization = organizationRef = new SimOrganization(accounts, worlds.Select(w => w.World), (account, region) =>
        {
            var world = new SimWorld(clock, region, account.Id);
            _ = routerRef!.For(world); // its watch history follows the world from the first object loaded
            ScenarioLoader.Load(world, scenario.ForEmptyRegion(account.Id, region), calendar,
                name => kubeUrl + WorldRouter.ClusterPath(organizationRef!, world, name), ca.CaDataBase64);
            _ = world.Report;
            automationRef?.WorldMade(world);
            return world;
        });
        SimWorld primary = organization.Primary;
        var automation = automationRef = new AutomationEngine(organization) { PowerShell = options.PowerShell };

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
        // The identity policy is the simulator's user's in every account (each account's user is its own principal).
        Func<SimAccount, IamAuthorizer?>? authorizers = identityPolicy is null ? null : account => new IamAuthorizer(identityPolicy, account.UserArn);
        var aws = new AwsEndpoint(organization,
        [
            new StsService(),
            new EksService(() => ca.CaDataBase64),
            new AutoScalingService(),
            new Ec2Service(),
            new SsmService(automation),
            new EcrService(),
            new ImageBuilderService(),
            new IamService(),
            new CloudWatchService(),
        ], loggers.CreateLogger("WinEksPatch.Simulator.Aws"), authorizers);
        ILogger kubeLogger = loggers.CreateLogger("WinEksPatch.Simulator.Kubernetes");
        var router = routerRef = new WorldRouter(organization, world => new WorldHandlers(
            new KubeApi(world, new EksTokenValidator(clock, organization, world.AccountId), kubeLogger),
            new FleetAdmin(world),
            new ControlAdmin(world)));
        // Each world's handlers exist before it is loaded: the Kubernetes API's watch history starts with what the scenario loads.
        foreach ((SimWorld world, _) in worlds)
        {
            _ = router.For(world);
        }

        var admin = new AdminApi(clock, () => info!);
        // Registries are served for the primary world (its ECR and the public registries of the scenario).
        var registry = new RegistryApi(primary, loggers.CreateLogger("WinEksPatch.Simulator.Registry"), authorizers?.Invoke(organization.PrimaryAccount));

        // The Kubernetes listener's port means Kubernetes (both listeners may be TLS); the other serves AWS, the admin
        // path and the registries. A port of 0 is known once Kestrel has bound it, before anyone can learn it.
        int kubernetesPort = options.KubernetesPort;
        app.Run(async http =>
        {
            if (http.Connection.LocalPort == Volatile.Read(ref kubernetesPort))
            {
                await router.HandleKubernetesAsync(http).ConfigureAwait(false);
            }
            else if (http.Request.Path.StartsWithSegments(FleetAdmin.Prefix) || ControlAdmin.Handles(http))
            {
                if (await router.AdminWorldAsync(http).ConfigureAwait(false) is { } world)
                {
                    WorldHandlers handlers = router.For(world);
                    await (ControlAdmin.Handles(http) ? handlers.Control.HandleAsync(http) : handlers.Fleet.HandleAsync(http)).ConfigureAwait(false);
                }
            }
            else if (http.Request.Path.StartsWithSegments(AdminApi.Prefix))
            {
                await admin.HandleAsync(http).ConfigureAwait(false);
            }
            else if (http.Request.Path.StartsWithSegments(RegistryApi.Prefix))
            {
                await registry.HandleAsync(http).ConfigureAwait(false);
            }
            else
            {
                await aws.HandleAsync(http).ConfigureAwait(false);
            }
        });

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            // Kestrel writes the bound endpoint (the real port for 0) back into each listener's options.
            int awsPort = awsListener!.IPEndPoint!.Port;
            Volatile.Write(ref kubernetesPort, kubernetesListener!.IPEndPoint!.Port);
            string awsUrl = $"{(options.Tls ? "https" : "http")}://127.0.0.1:{awsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
            kubeUrl = $"https://127.0.0.1:{kubernetesPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

            foreach ((SimWorld world, ScenarioDefinition worldScenario) in worlds)
            {
                ScenarioLoader.Load(world, worldScenario, calendar, name => kubeUrl + WorldRouter.ClusterPath(organization, world, name), ca.CaDataBase64);
                _ = world.Report; // the report follows node and pod changes from here on
                ControlAdmin.AddStartupRules(world, worldScenario.Faults ?? [], "the scenario's faults");
            }

            ControlAdmin.AddStartupRules(primary, options.FaultsFile is null ? [] : ControlAdmin.ReadFaultsFile(options.FaultsFile), options.FaultsFile ?? "");

            string? owned = null;
            string stateDirectory = options.StateDirectory ?? (owned = Path.Combine(Path.GetTempPath(), "wineks-simulator-" + Guid.NewGuid().ToString("N")[..12]));
            Directory.CreateDirectory(stateDirectory);
            string caPath = Path.Combine(stateDirectory, "ca.crt");
            string kubeConfigPath = Path.Combine(stateDirectory, "kubeconfig");
            string configPath = Path.Combine(stateDirectory, "aws-config");
            List<SimulatorAccountInfo> accountInfos = [.. accounts.Select(account => new SimulatorAccountInfo
            {
                AccountId = account.Id,
                Profile = account.Profile,
                Region = account.HomeRegion,
                AccessKeyId = account.AccessKeyId,
                SecretAccessKey = account.SecretAccessKey,
                Regions = [.. worlds.Where(w => w.World.AccountId == account.Id).Select(w => new SimulatorRegionInfo
                {
                    Region = w.World.Region,
                    Clusters = ClusterNames(w.World).ToDictionary(c => c, c => kubeUrl + WorldRouter.ClusterPath(organization, w.World, c), StringComparer.Ordinal),
                })],
            })];

            // The kubeconfig names the primary world's clusters by name, the others by ARN (as aws eks update-kubeconfig does).
            List<(string Name, string Server)> contexts = [.. accountInfos.SelectMany(a => a.Regions.SelectMany(r => r.Clusters.Select(c =>
                (a.AccountId == primary.AccountId && r.Region == primary.Region ? c.Key : $"arn:aws:eks:{r.Region}:{a.AccountId}:cluster/{c.Key}", c.Value))))];
            await File.WriteAllTextAsync(caPath, ca.CaPem, cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(kubeConfigPath, KubeConfigWriter.Render(contexts, ca.CaDataBase64, SimCredentials.KubernetesStaticToken),
                cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(configPath, SharedConfigWriter.Render(accounts, awsUrl, options.Tls ? caPath : null), cancellationToken).ConfigureAwait(false);
            automation.Endpoint = awsUrl;
            automation.CaCertPath = options.Tls ? caPath : null;
            foreach ((string name, string path) in options.Documents)
            {
                automation.Register(name, path);
            }

            info = new SimulatorInfo
            {
                Endpoint = awsUrl,
                KubernetesEndpoint = kubeUrl,
                Region = primary.Region,
                AccessKeyId = organization.PrimaryAccount.AccessKeyId,
                SecretAccessKey = organization.PrimaryAccount.SecretAccessKey,
                KubeConfigPath = kubeConfigPath,
                CaCertPath = caPath,
                Clusters = ClusterNames(primary),
                TimeScale = clock.TimeScale,
                AdminEndpoint = awsUrl + AdminApi.Prefix,
                Registries = RegistryApi.RegistryUrls(primary, awsUrl),
                Accounts = accountInfos,
                ConfigFile = configPath,
            };
            return new SimulatorHost(app, ca, clock, organization, info, owned) { Automation = automation };
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
            await Automation.StopAllAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            Organization.StopSchedulers();
            // A stop is prompt: requests still open after a few seconds (a watch a client never closed) are cut, rather
            // than holding the stop for the host's default 30 s.
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(deadline.Token).ConfigureAwait(false);
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

    private static List<string> ClusterNames(SimWorld world)
    {
        lock (world.Gate)
        {
            return [.. world.Clusters.Keys];
        }
    }

    /// <summary>A host lifetime that neither listens for Ctrl+C nor prints "Application started".</summary>
    private sealed class QuietLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
