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
public sealed class ScenarioLoader
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

            world.KubernetesScenarioLoaded(scenario);
        }
    }

    // ---- AMI catalog -------------------------------------------------------------------------

    private void LoadAmiCatalog()
    {
        AmiCatalogDefinition catalog = _scenario.AmiCatalog;
        DateOnly first = ParseMonth(catalog.FirstMonth);
        DateOnly start = DateOnly.FromDateTime(_world.Clock.GetUtcNow().UtcDateTime);
        DateOnly last = catalog.LastMonth is null
            ? _calendar.Builds.Where(b => b.ReleaseDate.AddDays(catalog.ReleaseLagDays) <= start).Select(b => b.PatchMonth).DefaultIfEmpty(first).Max()
            : ParseMonth(catalog.LastMonth);

        foreach (string k8s in catalog.KubernetesVersions)
        {
            foreach (string server in catalog.WindowsServers)
            {
                foreach (WindowsBuild build in _calendar.For(server).Where(b => b.PatchMonth >= first && b.PatchMonth <= last))
                {
                    DateOnly released = build.ReleaseDate.AddDays(catalog.ReleaseLagDays);
                    foreach (string edition in catalog.Editions)
                    {
                        string name = $"Windows_Server-{server}-English-{edition}-EKS_Optimized-{k8s}-{released:yyyy.MM.dd}";
                        AddImage(new AmiImage
                        {
                            ImageId = Ids.Ami(name),
                            Name = name,
                            Description = $"Microsoft Windows Server {server} {edition} optimized for EKS and provided by Amazon",
                            OwnerId = WindowsAmiOwner,
                            OwnerAlias = "amazon",
                            Platform = "windows",
                            PlatformDetails = "Windows",
                            CreationDate = released.ToDateTime(new TimeOnly(18, 42), DateTimeKind.Utc),
                            OsVersion = build.OsVersion,
                            KubernetesVersion = k8s,
                            OsFamily = "windows",
                            WindowsServer = server,
                            WindowsEdition = edition,
                            PatchMonth = build.PatchMonth,
                        });
                    }
                }
            }

            if (catalog.Linux)
            {
                for (DateOnly month = first; month <= last; month = month.AddMonths(1))
                {
                    DateOnly released = month.AddDays(14);
                    string name = $"amazon-eks-node-al2023-x86_64-standard-{k8s}-v{released:yyyyMMdd}";
                    AddImage(new AmiImage
                    {
                        ImageId = Ids.Ami(name),
                        Name = name,
                        Description = $"EKS-optimized Kubernetes node based on Amazon Linux 2023, (k8s: {k8s}, containerd)",
                        OwnerId = LinuxAmiOwner,
                        OwnerAlias = "amazon",
                        CreationDate = released.ToDateTime(new TimeOnly(6, 10), DateTimeKind.Utc),
                        OsVersion = "6.1.115-126.197.amzn2023.x86_64",
                        KubernetesVersion = k8s,
                        OsFamily = "linux",
                        PatchMonth = month,
                    });
                }
            }
        }

        // The public SSM parameters that point at the newest AMI of each kind.
        foreach (IGrouping<string, AmiImage> family in _world.Images.Values.GroupBy(FamilyParameterName))
        {
            AmiImage newest = family.MaxBy(i => i.CreationDate)!;
            _world.SsmParameters[family.Key] = new SsmParameter
            {
                Name = family.Key,
                Value = newest.ImageId,
                Version = family.Count(),
                LastModifiedDate = newest.CreationDate,
                DataType = "aws:ec2:image",
            };
        }

        // Copies other accounts share with this one: in DescribeImages by id, never in an SSM parameter or an Amazon listing.
        foreach (string owner in catalog.SharedCopiesFrom)
        {
            foreach (AmiImage newest in _world.Images.Values.Where(i => i.OsFamily == "windows" && i.OwnerAlias == "amazon").GroupBy(FamilyParameterName)
                .Select(f => f.MaxBy(i => i.CreationDate)!).ToList())
            {
                string name = $"{newest.Name}-shared";
                AddImage(new AmiImage
                {
                    ImageId = Ids.Ami($"{owner}/{name}"),
                    Name = name,
                    Description = newest.Description,
                    OwnerId = owner,
                    Public = false,
                    Platform = newest.Platform,
                    PlatformDetails = newest.PlatformDetails,
                    CreationDate = newest.CreationDate.AddDays(1),
                    OsVersion = newest.OsVersion,
                    KubernetesVersion = newest.KubernetesVersion,
                    OsFamily = newest.OsFamily,
                    WindowsServer = newest.WindowsServer,
                    WindowsEdition = newest.WindowsEdition,
                    PatchMonth = newest.PatchMonth,
                });
            }
        }
    }

    /// <summary>The public SSM parameter that names the newest AMI of the image's family.</summary>
    public static string FamilyParameterName(AmiImage image) => image.OsFamily == "windows"
        ? $"/aws/service/ami-windows-latest/Windows_Server-{image.WindowsServer}-English-{image.WindowsEdition}-EKS_Optimized-{image.KubernetesVersion}/image_id"
        : $"/aws/service/eks/optimized-ami/{image.KubernetesVersion}/amazon-linux-2023/x86_64/standard/recommended/image_id";

    private void AddImage(AmiImage image) => _world.Images[image.ImageId] = image;

    // ---- clusters ----------------------------------------------------------------------------

    private void LoadCluster(ClusterDefinition def)
    {
        int clusterIndex = _world.Clusters.Count;
        var cluster = new EksCluster
        {
            Name = def.Name,
            Arn = $"arn:aws:eks:{_world.Region}:{_world.AccountId}:cluster/{def.Name}",
            Version = def.Version,
            PlatformVersion = def.PlatformVersion,
            CreatedAt = def.CreatedAt,
            VpcId = "vpc-" + Ids.Hex("vpc/" + def.Name, 17),
            RoleArn = $"arn:aws:iam::{_world.AccountId}:role/{def.Name}-cluster-role",
            Endpoint = _clusterEndpoint(def.Name),
            Id = Ids.Hex("cluster-id/" + def.Name, 32).ToUpperInvariant(),
        };
        foreach (string az in Zones)
        {
            cluster.SubnetIds.Add("subnet-" + Ids.Hex($"subnet/{def.Name}/{az}", 17));
        }

        foreach (KeyValuePair<string, string> tag in def.Tags)
        {
            cluster.Tags[tag.Key] = tag.Value;
        }

        _world.Clusters[cluster.Name] = cluster;
        _ipCounter = 0;

        foreach (NodeGroupDefinition group in def.NodeGroups)
        {
            LoadNodeGroup(cluster, clusterIndex, group);
        }

        foreach (WorkloadDefinition workload in def.Workloads)
        {
            LoadWorkload(cluster, workload);
        }
    }

    private static readonly string[] Zones = ["a", "b", "c"];

    private void LoadNodeGroup(EksCluster cluster, int clusterIndex, NodeGroupDefinition def)
    {
        bool managed = string.Equals(def.Type, "managed", StringComparison.OrdinalIgnoreCase);
        // A managed group of AMI type CUSTOM runs the AMI its launch template names, like a self-managed group.
        bool custom = managed && def.AmiType == "CUSTOM";
        (string os, string? server, string? edition) = managed && !custom ? ParseAmiType(def.AmiType) : (def.Os ?? "windows", def.WindowsServer ?? "2022", def.Edition ?? "Core");
        if (os == "linux")
        {
            server = null;
            edition = null;
        }

        AmiImage image = PickImage(cluster.Version, os, server, edition, def.MonthsBehind);
        DateTimeOffset created = cluster.CreatedAt.AddDays(1);
        string ownerTag = $"kubernetes.io/cluster/{cluster.Name}";

        // Launch templates: a self-managed group has the user's template with the AMI and the bootstrap
        // user data; a managed group runs on an EKS-owned copy ("eks-<uuid>") that carries the AMI, and
        // optionally refers to the user's own template (without an AMI: EKS picks it from the release; with one and
        // the bootstrap user data for AMI type CUSTOM).
        LaunchTemplate? userTemplate = null;
        if (!managed || custom || def.LaunchTemplate)
        {
            userTemplate = AddLaunchTemplate(
                $"{cluster.Name}-{def.Name}",
                managed && !custom ? null : image.ImageId,
                def.InstanceType,
                managed && !custom ? null : BootstrapUserData(cluster, def, os),
                created,
                managed ? null : NodeInstanceProfile(cluster));
        }

        LaunchTemplate asgTemplate = userTemplate!;
        string asgName = $"{cluster.Name}-{def.Name}";
        EksNodegroup? nodegroup = null;
        if (managed)
        {
            string uuid = Ids.Uuid($"nodegroup/{cluster.Name}/{def.Name}");
            asgTemplate = AddLaunchTemplate($"eks-{uuid}", image.ImageId, def.InstanceType, null, created);
            asgName = $"eks-{def.Name}-{uuid}";
            nodegroup = new EksNodegroup
            {
                ClusterName = cluster.Name,
                Name = def.Name,
                Arn = $"arn:aws:eks:{_world.Region}:{_world.AccountId}:nodegroup/{cluster.Name}/{def.Name}/{uuid}",
                Version = cluster.Version,
                ReleaseVersion = EksNodegroup.ReleaseVersionOf(image, def.AmiType ?? "AL2023_x86_64_STANDARD"),
                AmiType = def.AmiType ?? "AL2023_x86_64_STANDARD",
                CreatedAt = created,
                ModifiedAt = created,
                MinSize = def.MinSize,
                MaxSize = def.MaxSize,
                DesiredSize = def.DesiredSize,
                NodeRole = $"arn:aws:iam::{_world.AccountId}:role/{cluster.Name}-node-role",
                LaunchTemplate = userTemplate is null ? null : new LaunchTemplateRef(userTemplate.LaunchTemplateId, userTemplate.LaunchTemplateName, "1"),
                DiskSize = userTemplate is null ? 20 : null,
                AutoScalingGroupName = asgName,
            };
            nodegroup.InstanceTypes.Add(def.InstanceType);
            nodegroup.Subnets.AddRange(cluster.SubnetIds);
            foreach (KeyValuePair<string, string> label in def.Labels)
            {
                nodegroup.Labels[label.Key] = label.Value;
            }

            foreach (KeyValuePair<string, string> tag in def.Tags)
            {
                nodegroup.Tags[tag.Key] = tag.Value;
            }

            _world.Nodegroups[(cluster.Name, def.Name)] = nodegroup;
        }

        var asgRef = new LaunchTemplateRef(asgTemplate.LaunchTemplateId, asgTemplate.LaunchTemplateName, managed ? "1" : "$Latest");
        var asg = new AutoScalingGroup
        {
            Name = asgName,
            Arn = $"arn:aws:autoscaling:{_world.Region}:{_world.AccountId}:autoScalingGroup:{Ids.Uuid("asg/" + asgName)}:autoScalingGroupName/{asgName}",
            LaunchTemplate = asgRef,
            UseMixedInstancesPolicy = managed || def.MixedInstancesPolicy,
            CapacityRebalance = def.CapacityRebalance,
            MinSize = def.MinSize,
            MaxSize = def.MaxSize,
            DesiredCapacity = def.DesiredSize,
            HealthCheckType = "EC2",
            CreatedTime = created,
            ServiceLinkedRoleArn = $"arn:aws:iam::{_world.AccountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
        };
        if (managed)
        {
            asg.InstanceTypeOverrides.Add(def.InstanceType);
        }

        foreach (string az in Zones)
        {
            asg.AvailabilityZones.Add(_world.Region + az);
        }

        asg.SubnetIds.AddRange(cluster.SubnetIds);
        foreach (LifecycleHookDefinition hook in def.LifecycleHooks)
        {
            if (hook.Transition is not (LifecycleHook.Launching or LifecycleHook.Terminating) || hook.HeartbeatTimeout is < 30 or > 7200
                || hook.DefaultResult is not ("CONTINUE" or "ABANDON") || string.IsNullOrEmpty(hook.Name))
            {
                throw new InvalidDataException($"Node group '{def.Name}': lifecycle hook '{hook.Name}' needs a name, a transition ({LifecycleHook.Launching} or " +
                    $"{LifecycleHook.Terminating}), a heartbeat timeout of 30-7200 s and a default result of CONTINUE or ABANDON.");
            }

            asg.LifecycleHooks.Add(new LifecycleHook
            {
                Name = hook.Name, GroupName = asgName, Transition = hook.Transition, HeartbeatTimeout = hook.HeartbeatTimeout,
                DefaultResult = hook.DefaultResult, CompleteAfterSeconds = hook.CompleteAfterSeconds,
            });
        }

        if (managed)
        {
            asg.Tags.Add(new Tag { Key = "eks:cluster-name", Value = cluster.Name });
            asg.Tags.Add(new Tag { Key = "eks:nodegroup-name", Value = def.Name });
            asg.Tags.Add(new Tag { Key = "k8s.io/cluster-autoscaler/enabled", Value = "true" });
            asg.Tags.Add(new Tag { Key = $"k8s.io/cluster-autoscaler/{cluster.Name}", Value = "owned" });
        }
        else
        {
            asg.Tags.Add(new Tag { Key = "Name", Value = $"{cluster.Name}-{def.Name}-Node" });
        }

        asg.Tags.Add(new Tag { Key = ownerTag, Value = "owned" });
        foreach (KeyValuePair<string, string> tag in def.Tags)
        {
            asg.Tags.Add(new Tag { Key = tag.Key, Value = tag.Value });
        }

        _world.AutoScalingGroups[asg.Name] = asg;

        for (int i = 0; i < def.DesiredSize; i++)
        {
            // Nodes were (re)launched a couple of days after their AMI came out, a few minutes apart.
            DateTimeOffset launched = Max(created, image.CreationDate).AddDays(2).AddMinutes(7 * i);
            AddInstanceAndNode(cluster, clusterIndex, def, nodegroup, asg, image, os, i, launched);
        }
    }

    private void AddInstanceAndNode(EksCluster cluster, int clusterIndex, NodeGroupDefinition def, EksNodegroup? nodegroup, AutoScalingGroup asg, AmiImage image, string os, int index, DateTimeOffset launched)
    {
        int azIndex = index % Zones.Length;
        string az = _world.Region + Zones[azIndex];
        int n = _ipCounter++;
        string ip = $"10.{clusterIndex}.{(azIndex * 32) + (n / 200)}.{20 + (n % 200)}";
        string dns = $"ip-{ip.Replace('.', '-')}.{_world.Region}.compute.internal";
        string instanceId = Ids.Instance($"{cluster.Name}/{def.Name}/{index}");

        var instance = new Ec2Instance
        {
            InstanceId = instanceId,
            ImageId = image.ImageId,
            InstanceType = def.InstanceType,
            AvailabilityZone = az,
            SubnetId = cluster.SubnetIds[azIndex],
            VpcId = cluster.VpcId,
            PrivateIpAddress = ip,
            PrivateDnsName = dns,
            LaunchTime = launched,
            Platform = os == "windows" ? "windows" : null,
            AutoScalingGroupName = asg.Name,
            LaunchTemplate = asg.LaunchTemplate with { Version = asg.LaunchTemplate.Version == "$Latest" ? "1" : asg.LaunchTemplate.Version },
        };
        foreach (Tag tag in asg.Tags.Where(t => t.PropagateAtLaunch))
        {
            instance.Tags.Add(new Tag { Key = tag.Key, Value = tag.Value });
        }

        instance.Tags.Add(new Tag { Key = "aws:autoscaling:groupName", Value = asg.Name });
        instance.Tags.Add(new Tag { Key = "aws:ec2launchtemplate:id", Value = asg.LaunchTemplate.LaunchTemplateId });
        instance.Tags.Add(new Tag { Key = "aws:ec2launchtemplate:version", Value = instance.LaunchTemplate.Version });
        if (nodegroup is not null)
        {
            instance.Tags.Add(new Tag { Key = "Name", Value = $"{cluster.Name}-{def.Name}-Node" });
        }

        _world.Instances[instanceId] = instance;
        asg.InstanceIds.Add(instanceId);

        bool windows = os == "windows";
        var node = new KubeNode
        {
            ClusterName = cluster.Name,
            Name = dns,
            Uid = Ids.Uuid($"node/{cluster.Name}/{dns}"),
            CreationTimestamp = launched.AddMinutes(windows ? 9 : 2),
            ProviderId = $"aws:///{az}/{instanceId}",
            InstanceId = instanceId,
            InternalIp = ip,
            KernelVersion = windows ? image.OsVersion : image.OsVersion,
            OsImage = windows ? $"Windows Server {image.WindowsServer} Datacenter" : "Amazon Linux 2023.6.20241111",
            OperatingSystem = windows ? "windows" : "linux",
            KubeletVersion = $"v{cluster.Version}.4-eks-{Ids.Hex("kubelet/" + cluster.Version, 7)}",
            ContainerRuntimeVersion = windows ? "containerd://1.7.20" : "containerd://1.7.23",
            CpuCapacity = def.InstanceType.Contains("2xlarge", StringComparison.Ordinal) ? "8" : "4",
            MemoryCapacity = def.InstanceType.Contains("2xlarge", StringComparison.Ordinal) ? "32408668Ki" : "16093756Ki",
            PodCapacity = windows ? "110" : "58",
            ResourceVersion = _world.NextResourceVersion(),
        };
        node.ReadySince = node.CreationTimestamp.AddMinutes(1);
        node.Labels["kubernetes.io/os"] = os;
        node.Labels["beta.kubernetes.io/os"] = os;
        node.Labels["kubernetes.io/arch"] = "amd64";
        node.Labels["beta.kubernetes.io/arch"] = "amd64";
        node.Labels["kubernetes.io/hostname"] = dns;
        node.Labels["node.kubernetes.io/instance-type"] = def.InstanceType;
        node.Labels["beta.kubernetes.io/instance-type"] = def.InstanceType;
        node.Labels["topology.kubernetes.io/region"] = _world.Region;
        node.Labels["topology.kubernetes.io/zone"] = az;
        node.Labels["failure-domain.beta.kubernetes.io/region"] = _world.Region;
        node.Labels["failure-domain.beta.kubernetes.io/zone"] = az;
        if (windows)
        {
            // Major.minor.build, without the patch level: what nodeSelectors for process isolation use.
            node.Labels["node.kubernetes.io/windows-build"] = string.Join('.', image.OsVersion.Split('.').Take(3));
            node.ExtendedResources[WindowsPodIps.ResourceName] = WindowsPodIps.For(def.InstanceType); // running for a while: advertised long ago
        }

        if (nodegroup is not null)
        {
            node.Labels["eks.amazonaws.com/nodegroup"] = nodegroup.Name;
            node.Labels["eks.amazonaws.com/nodegroup-image"] = image.ImageId;
            node.Labels["eks.amazonaws.com/capacityType"] = nodegroup.CapacityType;
            node.Labels["eks.amazonaws.com/sourceLaunchTemplateId"] = asg.LaunchTemplate.LaunchTemplateId;
            node.Labels["eks.amazonaws.com/sourceLaunchTemplateVersion"] = "1";
        }

        foreach (KeyValuePair<string, string> label in def.Labels)
        {
            node.Labels[label.Key] = label.Value;
        }

        node.Annotations["node.alpha.kubernetes.io/ttl"] = "0";
        node.Annotations["volumes.kubernetes.io/controller-managed-attach-detach"] = "true";
        _world.Nodes[(cluster.Name, node.Name)] = node;

        // The boot that happened before the simulation, consistent with the node's times: running at the median pending
        // time, Windows ready to use a median bootstrap before registration (the console output says so at that time).
        instance.Boot.LaunchedAt = launched;
        instance.Boot.RunningAt = launched.AddSeconds(35);
        instance.Boot.OsReadyAt = windows ? node.CreationTimestamp.AddSeconds(-65) : null;
        instance.Boot.RegisteredAt = node.CreationTimestamp;
        instance.Boot.ReadyAt = node.ReadySince;
        instance.Boot.UsableAt = node.ReadySince;
    }

    private void LoadWorkload(EksCluster cluster, WorkloadDefinition def)
    {
        List<KubeNode> nodes = _world.Nodes.Values
            .Where(n => n.ClusterName == cluster.Name && n.Labels.GetValueOrDefault("kubernetes.io/os") == def.Os)
            .OrderBy(n => n.Name, StringComparer.Ordinal)
            .ToList();
        if (nodes.Count == 0)
        {
            return;
        }

        bool daemonSet = string.Equals(def.Kind, "DaemonSet", StringComparison.OrdinalIgnoreCase);
        string ownerKind = daemonSet ? "DaemonSet" : "ReplicaSet";
        string templateHash = RandomName(10);
        string ownerName = daemonSet ? def.Name : $"{def.Name}-{templateHash}";
        string ownerUid = Ids.Uuid($"owner/{cluster.Name}/{def.Namespace}/{ownerName}");
        int count = daemonSet ? nodes.Count : def.Replicas;

        for (int i = 0; i < count; i++)
        {
            KubeNode node = nodes[i % nodes.Count];
            // 27^5 suffixes collide at scale (the large scenario): draw again, as the ReplicaSet controller's name generator would.
            string name;
            do
            {
                name = $"{ownerName}-{RandomName(5)}";
            }
            while (_world.Pods.ContainsKey((cluster.Name, def.Namespace, name)));
            var pod = new KubePod
            {
                ClusterName = cluster.Name,
                Namespace = def.Namespace,
                Name = name,
                Uid = Ids.Uuid($"pod/{cluster.Name}/{def.Namespace}/{name}"),
                CreationTimestamp = node.ReadySince.AddMinutes(1),
                NodeName = node.Name,
                PodIp = $"{node.InternalIp[..node.InternalIp.LastIndexOf('.')]}.{100 + (i % 150)}",
                HostIp = node.InternalIp,
                OwnerKind = ownerKind,
                OwnerName = ownerName,
                OwnerUid = ownerUid,
                StartTime = node.ReadySince.AddMinutes(1),
                ResourceVersion = _world.NextResourceVersion(),
            };
            pod.Labels["app"] = def.Name;
            foreach (KeyValuePair<string, string> label in def.Labels)
            {
                pod.Labels[label.Key] = label.Value;
            }

            if (daemonSet)
            {
                pod.Labels["controller-revision-hash"] = templateHash[..8];
                pod.Labels["pod-template-generation"] = "1";
            }
            else
            {
                pod.Labels["pod-template-hash"] = templateHash;
            }

            pod.NodeSelector["kubernetes.io/os"] = def.Os;
            foreach (ContainerDefinition container in def.Containers)
            {
                pod.Containers.Add(new KubeContainer { Name = container.Name, Image = container.Image });
            }

            _world.Pods[(cluster.Name, pod.Namespace, pod.Name)] = pod;
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
