using System.Text.Json.Nodes;
using k8s.Models;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Kubernetes;

/// <summary>
/// Maps world entities to the real Kubernetes API types (k8s.Models), so responses serialize exactly as
/// an API server's do. Called under the world lock; the results are detached copies.
/// </summary>
public static partial class KubeObjects
{
    /// <summary>Writes JSON as the API server's Go encoder does: quotes as \" and no HTML escaping of &lt;, &gt;, &amp;, '.</summary>
    public static readonly System.Text.Json.JsonSerializerOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static V1Node Node(KubeNode n, DateTimeOffset now)
    {
        var capacity = new Dictionary<string, ResourceQuantity>
        {
            ["cpu"] = new(n.CpuCapacity),
            ["memory"] = new(n.MemoryCapacity),
            ["pods"] = new(n.PodCapacity),
            ["ephemeral-storage"] = new("52416492Ki"),
        };
        var allocatable = new Dictionary<string, ResourceQuantity>
        {
            ["cpu"] = new(n.CpuCapacity == "8" ? "7910m" : "3920m"),
            ["memory"] = new(n.MemoryCapacity == "32408668Ki" ? "31391836Ki" : "15076924Ki"),
            ["pods"] = new(n.PodCapacity),
            ["ephemeral-storage"] = new("47233297124"),
        };
        foreach ((string name, string quantity) in n.ExtendedResources)
        {
            capacity[name] = new(quantity);
            allocatable[name] = new(quantity);
        }

        DateTime heartbeat = now.UtcDateTime.AddSeconds(-(now.Second % 40));
        return new V1Node
        {
            ApiVersion = "v1",
            Kind = "Node",
            Metadata = new V1ObjectMeta
            {
                Name = n.Name,
                Uid = n.Uid,
                ResourceVersion = n.ResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
                CreationTimestamp = n.CreationTimestamp.UtcDateTime,
                Labels = new Dictionary<string, string>(n.Labels),
                Annotations = new Dictionary<string, string>(n.Annotations),
            },
            Spec = new V1NodeSpec
            {
                ProviderID = n.ProviderId,
                Unschedulable = n.Unschedulable ? true : null,
                Taints = n.Taints.Count == 0 ? null : n.Taints.Select(t => new V1Taint { Key = t.Key, Value = t.Value, Effect = t.Effect }).ToList(),
            },
            Status = new V1NodeStatus
            {
                Capacity = capacity,
                Allocatable = allocatable,
                Conditions =
                [
                    Condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available", heartbeat, n.CreationTimestamp),
                    Condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", heartbeat, n.CreationTimestamp),
                    Condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available", heartbeat, n.CreationTimestamp),
                    !n.KubeletRunning
                        ? Condition("Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.", n.ReadySince.UtcDateTime, n.ReadySince)
                    : n.Ready
                        ? Condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", heartbeat, n.ReadySince)
                        : Condition("Ready", "False", "KubeletNotReady", "container runtime network not ready", heartbeat, n.ReadySince),
                ],
                Addresses =
                [
                    new V1NodeAddress { Type = "InternalIP", Address = n.InternalIp },
                    new V1NodeAddress { Type = "InternalDNS", Address = n.Name },
                    new V1NodeAddress { Type = "Hostname", Address = n.Name },
                ],
                DaemonEndpoints = new V1NodeDaemonEndpoints { KubeletEndpoint = new V1DaemonEndpoint { Port = 10250 } },
                NodeInfo = new V1NodeSystemInfo
                {
                    MachineID = n.OperatingSystem == "windows" ? "" : n.Uid.Replace("-", "", StringComparison.Ordinal),
                    SystemUUID = n.Uid.ToUpperInvariant(),
                    BootID = n.OperatingSystem == "windows" ? "" : n.Uid,
                    KernelVersion = n.KernelVersion,
                    OsImage = n.OsImage,
                    ContainerRuntimeVersion = n.ContainerRuntimeVersion,
                    KubeletVersion = n.KubeletVersion,
                    KubeProxyVersion = n.KubeletVersion,
                    OperatingSystem = n.OperatingSystem,
                    Architecture = n.Architecture,
                },
            },
        };
    }

    private static V1NodeCondition Condition(string type, string status, string reason, string message, DateTime heartbeat, DateTimeOffset transition) => new()
    {
        Type = type,
        Status = status,
        Reason = reason,
        Message = message,
        LastHeartbeatTime = heartbeat,
        LastTransitionTime = transition.UtcDateTime,
    };

    public static V1Pod Pod(KubePod p)
    {
        var pod = new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = p.Name,
                NamespaceProperty = p.Namespace,
                Uid = p.Uid,
                ResourceVersion = p.ResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
                CreationTimestamp = p.CreationTimestamp.UtcDateTime,
                Labels = new Dictionary<string, string>(p.Labels),
                Annotations = p.Annotations.Count == 0 ? null : new Dictionary<string, string>(p.Annotations),
                DeletionTimestamp = p.DeletionTimestamp?.UtcDateTime,
                DeletionGracePeriodSeconds = p.DeletionGracePeriodSeconds,
                GenerateName = p.OwnerName is null ? null : p.OwnerName + "-",
                OwnerReferences = p.OwnerKind is null ? null :
                [
                    new V1OwnerReference
                    {
                        ApiVersion = "apps/v1",
                        Kind = p.OwnerKind,
                        Name = p.OwnerName,
                        Uid = p.OwnerUid,
                        Controller = true,
                        BlockOwnerDeletion = true,
                    },
                ],
            },
            Spec = new V1PodSpec
            {
                NodeName = p.NodeName,
                NodeSelector = p.NodeSelector.Count == 0 ? null : new Dictionary<string, string>(p.NodeSelector),
                Containers = p.Containers.Select(c => new V1Container { Name = c.Name, Image = c.Image, ImagePullPolicy = "IfNotPresent" }).ToList(),
                RestartPolicy = "Always",
                SchedulerName = "default-scheduler",
                ServiceAccountName = "default",
                TerminationGracePeriodSeconds = p.TerminationGracePeriodSeconds,
                DnsPolicy = "ClusterFirst",
                Tolerations =
                [
                    .. p.Tolerations.Select(t => new V1Toleration { Key = t.Key, OperatorProperty = t.Operator, Value = t.Value, Effect = t.Effect, TolerationSeconds = t.TolerationSeconds }),
                    new V1Toleration { Key = "node.kubernetes.io/not-ready", OperatorProperty = "Exists", Effect = "NoExecute", TolerationSeconds = 300 },
                    new V1Toleration { Key = "node.kubernetes.io/unreachable", OperatorProperty = "Exists", Effect = "NoExecute", TolerationSeconds = 300 },
                ],
            },
            Status = new V1PodStatus
            {
                Phase = p.Phase,
                HostIP = p.HostIp,
                PodIP = p.PodIp,
                PodIPs = p.PodIp is null ? null : [new V1PodIP { Ip = p.PodIp }],
                StartTime = p.StartTime?.UtcDateTime,
                QosClass = "BestEffort",
                Conditions =
                [
                    p.NodeName is null
                        ? new V1PodCondition { Type = "PodScheduled", Status = "False", Reason = "Unschedulable", LastTransitionTime = p.CreationTimestamp.UtcDateTime }
                        : new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = (p.StartTime ?? p.CreationTimestamp).UtcDateTime },
                    new V1PodCondition { Type = "Initialized", Status = "True", LastTransitionTime = p.CreationTimestamp.UtcDateTime },
                    new V1PodCondition { Type = "ContainersReady", Status = p.Ready ? "True" : "False", LastTransitionTime = (p.RunningSince ?? p.StartTime ?? p.CreationTimestamp).UtcDateTime },
                    new V1PodCondition { Type = "Ready", Status = p.Ready ? "True" : "False", LastTransitionTime = (p.RunningSince ?? p.StartTime ?? p.CreationTimestamp).UtcDateTime },
                ],
                ContainerStatuses = p.NodeName is null ? null : p.Containers.Select(c => new V1ContainerStatus
                {
                    Name = c.Name,
                    Image = c.Image,
                    ImageID = c.Image.Split(':')[0] + "@sha256:" + Scenarios.Ids.Hex("image/" + c.Image, 64),
                    ContainerID = "containerd://" + Scenarios.Ids.Hex("container/" + p.Uid + "/" + c.Name, 64),
                    Ready = p.Ready,
                    Started = p.Phase == "Running" && !p.CrashLooping,
                    RestartCount = p.RestartCount,
                    State = p.CrashLooping
                        ? new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "CrashLoopBackOff",
                            Message = $"back-off restarting failed container={c.Name} pod={p.Name}_{p.Namespace}({p.Uid})" } }
                        : p.Phase == "Running"
                        ? new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = (p.RunningSince ?? p.StartTime)?.UtcDateTime } }
                        : new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ContainerCreating" } },
                    LastState = p.CrashLooping && p.RestartCount > 0
                        ? new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 1, Reason = "Error" } }
                        : null,
                }).ToList(),
            },
        };
        return pod;
    }

    public static V1Namespace Namespace(string name, DateTimeOffset created) => new()
    {
        ApiVersion = "v1",
        Kind = "Namespace",
        Metadata = new V1ObjectMeta
        {
            Name = name,
            Uid = Scenarios.Ids.Uuid("namespace/" + name),
            CreationTimestamp = created.UtcDateTime,
            ResourceVersion = "1",
            Labels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = name },
        },
        Spec = new V1NamespaceSpec { Finalizers = ["kubernetes"] },
        Status = new V1NamespaceStatus { Phase = "Active" },
    };

    /// <summary>
    /// A metav1.Status failure body. Built as JSON by hand: the client library's V1Status converter
    /// only reads (its Write throws NotImplementedException).
    /// </summary>
    public static JsonObject Status(int code, string reason, string message, string? name = null, string? kind = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
        };
        if (name is not null || kind is not null)
        {
            status["details"] = new JsonObject { ["name"] = name, ["kind"] = kind };
        }

        status["code"] = code;
        return status;
    }
}
