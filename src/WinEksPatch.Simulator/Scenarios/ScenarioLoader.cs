using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Scenarios;

/// <summary>
/// Turns a scenario data file into a populated <see cref="SimWorld"/>: the AMI catalog from the
/// Windows build calendar, then per cluster its node groups (launch templates, ASGs, instances,
/// nodes) and workloads (pods). Everything derived (ids, IPs, names) is deterministic for a given
/// scenario and seed, so tests and docs can name them.
/// </summary>
public sealed partial class ScenarioLoader
{
    /// <summary>Amazon's account that owns the EKS-optimized Windows AMIs.</summary>
    public const string WindowsAmiOwner = "801119661308";

    /// <summary>Amazon EKS's account that owns the EKS-optimized Amazon Linux AMIs.</summary>
    public const string LinuxAmiOwner = "602401143452";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    private readonly SimWorld _world;
    private readonly ScenarioDefinition _scenario;
    private readonly PatchCalendar _calendar;
    private readonly Func<string, string> _clusterEndpoint;
    private readonly string _caDataBase64;
    private readonly Random _random;
    private int _ipCounter;

    private ScenarioLoader(SimWorld world, ScenarioDefinition scenario, PatchCalendar calendar, Func<string, string> clusterEndpoint, string caDataBase64)
    {
        _world = world;
        _scenario = scenario;
        _calendar = calendar;
        _clusterEndpoint = clusterEndpoint;
        _caDataBase64 = caDataBase64;
        _random = new Random(scenario.Seed);
    }

    /// <summary>Folder with the shipped scenarios and the build calendar (next to the assembly).</summary>
    public static string ScenarioDirectory =>
        Path.Combine(Path.GetDirectoryName(typeof(ScenarioLoader).Assembly.Location) ?? AppContext.BaseDirectory, "Scenarios");

    /// <summary>Reads a scenario by name (a shipped one, e.g. "demo") or by path to a JSON file.</summary>
    public static ScenarioDefinition Read(string nameOrPath)
    {
        string path = File.Exists(nameOrPath) ? nameOrPath : Path.Combine(ScenarioDirectory, nameOrPath + ".json");
        if (!File.Exists(path))
        {
            string known = string.Join(", ", Directory.EnumerateFiles(ScenarioDirectory, "*.json").Select(Path.GetFileNameWithoutExtension));
            throw new FileNotFoundException($"No scenario '{nameOrPath}'. Shipped scenarios: {known}.", path);
        }

        return JsonSerializer.Deserialize<ScenarioDefinition>(File.ReadAllText(path), JsonOptions)
            ?? throw new InvalidDataException($"The scenario file '{path}' is empty.");
    }

    public static PatchCalendar LoadCalendar() => PatchCalendar.Load(Path.Combine(ScenarioDirectory, "data", "windows-server-builds.csv"));

    /// <summary>
    /// Fills an empty world from a scenario. clusterEndpoint maps a cluster name to its Kubernetes API
    /// URL; caDataBase64 is base64 of the PEM CA certificate (EKS certificateAuthority.data).
    /// </summary>
    public static void Load(SimWorld world, ScenarioDefinition scenario, PatchCalendar calendar, Func<string, string> clusterEndpoint, string caDataBase64)
    {
        var loader = new ScenarioLoader(world, scenario, calendar, clusterEndpoint, caDataBase64);
        lock (world.Gate)
        {
            loader.LoadAmiCatalog();
            ContainerImageCatalogBuilder.Load(world, scenario, calendar);
            foreach (ClusterDefinition cluster in scenario.Clusters)
            {
                loader.LoadCluster(cluster);
            }

            loader.LoadAlarms();
            world.KubernetesScenarioLoaded(scenario);
        }
    }

    private void LoadAlarms()
    {
        foreach (AlarmDefinition a in _scenario.Alarms ?? [])
        {
            if (string.IsNullOrEmpty(a.Name) || a.Name.Length > 255 || !MetricAlarm.States.Contains(a.State) || _world.Alarms.ContainsKey(a.Name))
            {
                throw new InvalidDataException($"The scenario's alarm '{a.Name}' needs a unique name of 1 to 255 characters and a state of {string.Join(", ", MetricAlarm.States)}.");
            }

            DateTimeOffset created = _world.Clock.GetUtcNow().AddDays(-30);
            _world.Alarms[a.Name] = new MetricAlarm
            {
                AlarmName = a.Name,
                AlarmDescription = a.Description,
                Namespace = a.Namespace,
                MetricName = a.MetricName,
                Statistic = a.Statistic,
                Dimensions = [.. a.Dimensions.Select(d => (d.Key, d.Value))],
                Period = a.Period,
                EvaluationPeriods = a.EvaluationPeriods,
                Threshold = a.Threshold,
                ComparisonOperator = a.ComparisonOperator,
                StateValue = a.State,
                StateReason = a.State == "OK"
                    ? $"Threshold Crossed: no datapoints were received for {a.EvaluationPeriods} period and {a.EvaluationPeriods} missing datapoint was treated as [NonBreaching]."
                    : "Set by the scenario.",
                StateUpdatedTimestamp = created,
                StateTransitionedTimestamp = created,
                AlarmConfigurationUpdatedTimestamp = created,
            };
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    private AmiImage PickImage(string k8sVersion, string os, string? server, string? edition, int monthsBehind)
    {
        List<AmiImage> family = _world.Images.Values
            .Where(i => i.KubernetesVersion == k8sVersion && i.OsFamily == os && i.WindowsServer == server && i.WindowsEdition == edition)
            .OrderByDescending(i => i.CreationDate)
            .ToList();
        if (family.Count == 0)
        {
            throw new InvalidDataException($"The scenario's AMI catalog has no {os} {server} {edition} AMI for Kubernetes {k8sVersion}.");
        }

        return family[Math.Min(monthsBehind, family.Count - 1)];
    }

    private static (string Os, string? Server, string? Edition) ParseAmiType(string? amiType)
    {
        // WINDOWS_CORE_2022_x86_64, WINDOWS_FULL_2019_x86_64, AL2023_x86_64_STANDARD, ...
        string[] parts = (amiType ?? "AL2023_x86_64_STANDARD").Split('_');
        if (parts[0] == "WINDOWS" && parts.Length >= 3)
        {
            string edition = parts[1] == "FULL" ? "Full" : "Core";
            return ("windows", parts[2], edition);
        }

        return ("linux", null, null);
    }

    /// <summary>The instance profile of a cluster's self-managed nodes, holding its node role (managed groups' templates
    /// must not name one: EKS adds the node group's role).</summary>
    private string NodeInstanceProfile(EksCluster cluster)
    {
        string name = $"{cluster.Name}-node-instance-profile";
        _world.InstanceProfiles.Add(name);
        _world.InstanceProfileRoles[name] = $"arn:aws:iam::{_world.AccountId}:role/{cluster.Name}-node-role";
        return $"arn:aws:iam::{_world.AccountId}:instance-profile/{name}";
    }

    private LaunchTemplate AddLaunchTemplate(string name, string? imageId, string instanceType, string? userData, DateTimeOffset created, string? instanceProfileArn = null)
    {
        var template = new LaunchTemplate
        {
            LaunchTemplateId = "lt-" + Ids.Hex("lt/" + name, 17),
            LaunchTemplateName = name,
            CreateTime = created,
        };
        template.Versions.Add(new LaunchTemplateVersion
        {
            VersionNumber = 1,
            ImageId = imageId,
            InstanceType = instanceType,
            UserData = userData is null ? null : Convert.ToBase64String(Encoding.UTF8.GetBytes(userData)),
            CreateTime = created,
            IamInstanceProfileArn = instanceProfileArn,
        });
        _world.LaunchTemplates[template.LaunchTemplateId] = template;
        return template;
    }

    /// <summary>The user data of a self-managed Windows node: the EKS-optimized AMI's bootstrap script.</summary>
    private string BootstrapUserData(EksCluster cluster, NodeGroupDefinition def, string os)
    {
        string labels = string.Join(',', def.Labels.Select(l => $"{l.Key}={l.Value}"));
        if (os != "windows")
        {
            return $"#!/bin/bash\n/etc/eks/bootstrap.sh {cluster.Name} --kubelet-extra-args '--node-labels={labels}'\n";
        }

        return string.Join("\r\n",
            "<powershell>",
            "[string]$EKSBinDir = \"$env:ProgramFiles\\Amazon\\EKS\"",
            "[string]$EKSBootstrapScriptName = 'Start-EKSBootstrap.ps1'",
            "[string]$EKSBootstrapScriptFile = \"$EKSBinDir\\$EKSBootstrapScriptName\"",
            $"& $EKSBootstrapScriptFile -EKSClusterName \"{cluster.Name}\" -APIServerEndpoint \"{cluster.Endpoint}\" -Base64ClusterCA \"{_caDataBase64}\" -DNSClusterIP \"172.20.0.10\" -KubeletExtraArgs \"--node-labels={labels}\" 3>&1 4>&1 5>&1 6>&1",
            "</powershell>",
            "");
    }

    // Kubernetes' name suffix alphabet (no vowels, no confusable digits).
    private const string NameAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    private string RandomName(int length)
    {
        var sb = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            sb.Append(NameAlphabet[_random.Next(NameAlphabet.Length)]);
        }

        return sb.ToString();
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateOnly ParseMonth(string yyyyMm) => DateOnly.ParseExact(yyyyMm + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <summary>Deterministic AWS-style ids derived from a name, so a scenario always yields the same ids.</summary>
public static class Ids
{
    public static string Hex(string seed, int length)
    {
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(seed));
        return Convert.ToHexString(hash).ToLowerInvariant()[..length];
    }

    public static string Ami(string name) => "ami-0" + Hex("ami/" + name, 16);

    public static string Instance(string seed) => "i-0" + Hex("instance/" + seed, 16);

    public static string Uuid(string seed)
    {
        string h = Hex("uuid/" + seed, 32);
        return $"{h[..8]}-{h[8..12]}-{h[12..16]}-{h[16..20]}-{h[20..32]}";
    }
}
