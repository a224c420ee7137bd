using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Scenarios;

// The scenario's clusters: per cluster its node groups (launch templates, Auto Scaling groups, instances, nodes) and
// workloads.
public sealed partial class ScenarioLoader
{
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
}
