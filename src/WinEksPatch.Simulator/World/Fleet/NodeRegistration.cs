using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using WinEksPatch.Simulator.Scenarios;

namespace WinEksPatch.Simulator.World;

/// <summary>How a launched instance appears as a Kubernetes node once its bootstrap registers it.</summary>
public static partial class NodeRegistration
{
    public static KubeNode Build(SimWorld world, EksCluster cluster, Ec2Instance instance, AmiImage image, AutoScalingGroup group,
        EksNodegroup? nodegroup, LaunchTemplateVersion version, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(world);
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(version);
        bool windows = image.OsFamily == "windows";
        string os = windows ? "windows" : "linux";
        (string cpu, string memory) = Capacity(instance.InstanceType);
        var node = new KubeNode
        {
            ClusterName = cluster.Name,
            Name = instance.PrivateDnsName,
            Uid = Ids.Uuid($"node/{cluster.Name}/{instance.PrivateDnsName}/{instance.InstanceId}"),
            CreationTimestamp = now,
            ProviderId = $"aws:///{instance.AvailabilityZone}/{instance.InstanceId}",
            InstanceId = instance.InstanceId,
            InternalIp = instance.PrivateIpAddress,
            KernelVersion = image.OsVersion,
            OsImage = windows ? $"Windows Server {image.WindowsServer} Datacenter" : "Amazon Linux 2023.6.20241111",
            OperatingSystem = os,
            KubeletVersion = $"v{image.KubernetesVersion}.4-eks-{Ids.Hex("kubelet/" + image.KubernetesVersion, 7)}",
            ContainerRuntimeVersion = windows ? "containerd://1.7.20" : "containerd://1.7.23",
            CpuCapacity = cpu,
            MemoryCapacity = memory,
            PodCapacity = windows ? "110" : "58",
        };
        node.Labels["kubernetes.io/os"] = os;
        node.Labels["beta.kubernetes.io/os"] = os;
        node.Labels["kubernetes.io/arch"] = "amd64";
        node.Labels["beta.kubernetes.io/arch"] = "amd64";
        node.Labels["kubernetes.io/hostname"] = instance.PrivateDnsName;
        node.Labels["node.kubernetes.io/instance-type"] = instance.InstanceType;
        node.Labels["beta.kubernetes.io/instance-type"] = instance.InstanceType;
        node.Labels["topology.kubernetes.io/region"] = world.Region;
        node.Labels["topology.kubernetes.io/zone"] = instance.AvailabilityZone;
        node.Labels["failure-domain.beta.kubernetes.io/region"] = world.Region;
        node.Labels["failure-domain.beta.kubernetes.io/zone"] = instance.AvailabilityZone;
        if (windows)
        {
            node.Labels["node.kubernetes.io/windows-build"] = string.Join('.', image.OsVersion.Split('.').Take(3));
        }

        if (nodegroup is not null)
        {
            node.Labels["eks.amazonaws.com/nodegroup"] = nodegroup.Name;
            node.Labels["eks.amazonaws.com/nodegroup-image"] = image.ImageId;
            node.Labels["eks.amazonaws.com/capacityType"] = nodegroup.CapacityType;
            node.Labels["eks.amazonaws.com/sourceLaunchTemplateId"] = group.LaunchTemplate.LaunchTemplateId;
            node.Labels["eks.amazonaws.com/sourceLaunchTemplateVersion"] = version.VersionNumber.ToString(CultureInfo.InvariantCulture);
            foreach (KeyValuePair<string, string> label in nodegroup.Labels)
            {
                node.Labels[label.Key] = label.Value;
            }
        }
        else
        {
            // A self-managed node gets the labels its bootstrap passes to the kubelet (--node-labels in the user data).
            foreach ((string key, string value) in KubeletNodeLabels(version.UserData))
            {
                node.Labels[key] = value;
            }
        }

        node.Annotations["node.alpha.kubernetes.io/ttl"] = "0";
        node.Annotations["volumes.kubernetes.io/controller-managed-attach-detach"] = "true";
        return node;
    }

    /// <summary>The k=v pairs of --node-labels= in base64 user data (the EKS bootstrap's kubelet arguments).</summary>
    public static List<(string Key, string Value)> KubeletNodeLabels(string? userDataBase64)
    {
        var labels = new List<(string, string)>();
        if (string.IsNullOrEmpty(userDataBase64))
        {
            return labels;
        }

        string text;
        try
        {
            text = Encoding.UTF8.GetString(Convert.FromBase64String(userDataBase64));
        }
        catch (FormatException)
        {
            return labels;
        }

        foreach (Match m in NodeLabelsArgument().Matches(text))
        {
            foreach (string pair in m.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    labels.Add((pair[..eq], pair[(eq + 1)..]));
                }
            }
        }

        return labels;
    }

    private static (string Cpu, string Memory) Capacity(string instanceType) => instanceType.Split('.').LastOrDefault() switch
    {
        "large" => ("2", "7934464Ki"),
        "2xlarge" => ("8", "32408668Ki"),
        "4xlarge" => ("16", "65023300Ki"),
        "8xlarge" => ("32", "130277684Ki"),
        _ => ("4", "16093756Ki"),
    };

    [GeneratedRegex("--node-labels=([^\\s'\"]+)")]
    private static partial Regex NodeLabelsArgument();
}
