using System.Globalization;
using System.Text.Json.Nodes;
using k8s.Models;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Kubernetes;

/// <summary>The apps/v1 resources the simulator serves: URL resource name → kind.</summary>
public static class AppsResources
{
    public static readonly IReadOnlyDictionary<string, string> Kinds = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["deployments"] = "Deployment",
        ["replicasets"] = "ReplicaSet",
        ["daemonsets"] = "DaemonSet",
        ["statefulsets"] = "StatefulSet",
    };
}

// Workloads, PDBs, Scale and Events as the API serializes them. Status fields are computed from the pods, as the
// controllers would have written them. Called under the world lock.
public static partial class KubeObjects
{
    private static string Rv(long rv) => rv.ToString(CultureInfo.InvariantCulture);

    private static V1ObjectMeta WorkloadMeta(KubeWorkload w) => new()
    {
        Name = w.Name,
        NamespaceProperty = w.Namespace,
        Uid = w.Uid,
        ResourceVersion = Rv(w.ResourceVersion),
        Generation = w.Generation,
        CreationTimestamp = w.CreationTimestamp.UtcDateTime,
        Labels = new Dictionary<string, string>(w.Labels),
        OwnerReferences = w.OwnerKind is null ? null :
        [
            new V1OwnerReference { ApiVersion = "apps/v1", Kind = w.OwnerKind, Name = w.OwnerName, Uid = w.OwnerUid, Controller = true, BlockOwnerDeletion = true },
        ],
    };

    private static V1PodTemplateSpec Template(KubeWorkload w) => new()
    {
        Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(w.Template.Labels) },
        Spec = new V1PodSpec
        {
            NodeSelector = w.Template.NodeSelector.Count == 0 ? null : new Dictionary<string, string>(w.Template.NodeSelector),
            Containers = w.Template.Containers.Select(c => new V1Container { Name = c.Name, Image = c.Image, ImagePullPolicy = "IfNotPresent" }).ToList(),
            Tolerations = w.Template.Tolerations.Count == 0 ? null
                : w.Template.Tolerations.Select(t => new V1Toleration { Key = t.Key, OperatorProperty = t.Operator, Value = t.Value, Effect = t.Effect, TolerationSeconds = t.TolerationSeconds }).ToList(),
            RestartPolicy = "Always",
            TerminationGracePeriodSeconds = w.Template.TerminationGracePeriodSeconds,
            DnsPolicy = "ClusterFirst",
            SchedulerName = "default-scheduler",
        },
    };

    private static V1LabelSelector Selector(KubeWorkload w) => new() { MatchLabels = new Dictionary<string, string>(w.Selector) };

    /// <summary>A workload of any of the four kinds, as its k8s.Models type.</summary>
    public static object Workload(SimWorld world, KubeWorkload w)
    {
        ArgumentNullException.ThrowIfNull(world);
        ArgumentNullException.ThrowIfNull(w);
        List<KubePod> pods = world.PodsOf(w).Where(p => p.DeletionTimestamp is null).ToList();
        int current = pods.Count;
        int ready = pods.Count(p => p.Ready);
        DateTime changed = w.CreationTimestamp.UtcDateTime;
        switch (w.Kind)
        {
            case "Deployment":
                return new V1Deployment
                {
                    ApiVersion = "apps/v1",
                    Kind = "Deployment",
                    Metadata = WorkloadMeta(w),
                    Spec = new V1DeploymentSpec
                    {
                        Replicas = w.Replicas,
                        Selector = Selector(w),
                        Template = Template(w),
                        Strategy = new V1DeploymentStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = "25%", MaxUnavailable = "25%" } },
                        RevisionHistoryLimit = 10,
                        ProgressDeadlineSeconds = 600,
                    },
                    Status = new V1DeploymentStatus
                    {
                        ObservedGeneration = w.Generation,
                        Replicas = current,
                        UpdatedReplicas = current,
                        ReadyReplicas = ready == 0 ? null : ready,
                        AvailableReplicas = ready == 0 ? null : ready,
                        UnavailableReplicas = w.Replicas - ready > 0 ? w.Replicas - ready : null,
                        Conditions =
                        [
                            new V1DeploymentCondition
                            {
                                Type = "Available",
                                Status = ready >= w.Replicas ? "True" : "False",
                                Reason = ready >= w.Replicas ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                                Message = ready >= w.Replicas ? "Deployment has minimum availability." : "Deployment does not have minimum availability.",
                                LastUpdateTime = changed,
                                LastTransitionTime = changed,
                            },
                            new V1DeploymentCondition
                            {
                                Type = "Progressing",
                                Status = "True",
                                Reason = "NewReplicaSetAvailable",
                                Message = $"ReplicaSet \"{world.Workloads.Values.FirstOrDefault(r => r.OwnerUid == w.Uid)?.Name}\" has successfully progressed.",
                                LastUpdateTime = changed,
                                LastTransitionTime = changed,
                            },
                        ],
                    },
                };
            case "ReplicaSet":
                V1ObjectMeta rsMeta = WorkloadMeta(w);
                rsMeta.Annotations = new Dictionary<string, string>
                {
                    ["deployment.kubernetes.io/desired-replicas"] = w.Replicas.ToString(CultureInfo.InvariantCulture),
                    ["deployment.kubernetes.io/max-replicas"] = (w.Replicas + (int)Math.Ceiling(w.Replicas * 0.25)).ToString(CultureInfo.InvariantCulture),
                    ["deployment.kubernetes.io/revision"] = "1",
                };
                return new V1ReplicaSet
                {
                    ApiVersion = "apps/v1",
                    Kind = "ReplicaSet",
                    Metadata = rsMeta,
                    Spec = new V1ReplicaSetSpec { Replicas = w.Replicas, Selector = Selector(w), Template = Template(w) },
                    Status = new V1ReplicaSetStatus
                    {
                        ObservedGeneration = w.Generation,
                        Replicas = current,
                        FullyLabeledReplicas = current,
                        ReadyReplicas = ready == 0 ? null : ready,
                        AvailableReplicas = ready == 0 ? null : ready,
                    },
                };
            case "DaemonSet":
                int desired = world.DaemonSetNodes(w).Count;
                return new V1DaemonSet
                {
                    ApiVersion = "apps/v1",
                    Kind = "DaemonSet",
                    Metadata = WorkloadMeta(w),
                    Spec = new V1DaemonSetSpec
                    {
                        Selector = Selector(w),
                        Template = Template(w),
                        UpdateStrategy = new V1DaemonSetUpdateStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateDaemonSet { MaxUnavailable = "1", MaxSurge = "0" } },
                        RevisionHistoryLimit = 10,
                    },
                    Status = new V1DaemonSetStatus
                    {
                        ObservedGeneration = w.Generation,
                        DesiredNumberScheduled = desired,
                        CurrentNumberScheduled = pods.Count(p => p.NodeName is not null),
                        UpdatedNumberScheduled = pods.Count(p => p.NodeName is not null),
                        NumberReady = ready,
                        NumberAvailable = ready == 0 ? null : ready,
                        NumberUnavailable = desired - ready > 0 ? desired - ready : null,
                        NumberMisscheduled = 0,
                    },
                };
            default:
                return new V1StatefulSet
                {
                    ApiVersion = "apps/v1",
                    Kind = "StatefulSet",
                    Metadata = WorkloadMeta(w),
                    Spec = new V1StatefulSetSpec
                    {
                        Replicas = w.Replicas,
                        Selector = Selector(w),
                        Template = Template(w),
                        ServiceName = w.Name,
                        PodManagementPolicy = "OrderedReady",
                        UpdateStrategy = new V1StatefulSetUpdateStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateStatefulSetStrategy { Partition = 0 } },
                    },
                    Status = new V1StatefulSetStatus
                    {
                        ObservedGeneration = w.Generation,
                        Replicas = current,
                        CurrentReplicas = current,
                        UpdatedReplicas = current,
                        ReadyReplicas = ready,
                        AvailableReplicas = ready,
                        CurrentRevision = $"{w.Name}-{w.TemplateHash}",
                        UpdateRevision = $"{w.Name}-{w.TemplateHash}",
                    },
                };
        }
    }

    /// <summary>An autoscaling/v1 Scale (the scale subresource).</summary>
    public static JsonObject Scale(KubeWorkload w)
    {
        ArgumentNullException.ThrowIfNull(w);
        return new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = "autoscaling/v1",
            ["metadata"] = new JsonObject
            {
                ["name"] = w.Name,
                ["namespace"] = w.Namespace,
                ["uid"] = w.Uid,
                ["resourceVersion"] = Rv(w.ResourceVersion),
                ["creationTimestamp"] = w.CreationTimestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            },
            ["spec"] = new JsonObject { ["replicas"] = w.Replicas },
            ["status"] = new JsonObject
            {
                ["replicas"] = w.Replicas,
                ["selector"] = string.Join(',', w.Selector.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}")),
            },
        };
    }

    private static JsonNode IntOrString(string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? JsonValue.Create(n) : JsonValue.Create(value);

    /// <summary>A policy/v1 PodDisruptionBudget with the disruption controller's live status. Built as JSON: minAvailable
    /// and maxUnavailable are int-or-string and must keep their JSON type.</summary>
    public static JsonObject Pdb(SimWorld world, KubePdb pdb)
    {
        ArgumentNullException.ThrowIfNull(world);
        ArgumentNullException.ThrowIfNull(pdb);
        PdbStatusSnapshot status = world.PdbStatus(pdb);
        string created = pdb.CreationTimestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var matchLabels = new JsonObject();
        foreach (KeyValuePair<string, string> l in pdb.Selector)
        {
            matchLabels[l.Key] = l.Value;
        }

        var spec = new JsonObject { ["selector"] = new JsonObject { ["matchLabels"] = matchLabels } };
        if (pdb.MinAvailable is not null)
        {
            spec["minAvailable"] = IntOrString(pdb.MinAvailable);
        }

        if (pdb.MaxUnavailable is not null)
        {
            spec["maxUnavailable"] = IntOrString(pdb.MaxUnavailable);
        }

        bool allowed = status.DisruptionsAllowed > 0;
        return new JsonObject
        {
            ["kind"] = "PodDisruptionBudget",
            ["apiVersion"] = "policy/v1",
            ["metadata"] = new JsonObject
            {
                ["name"] = pdb.Name,
                ["namespace"] = pdb.Namespace,
                ["uid"] = pdb.Uid,
                ["resourceVersion"] = Rv(world.CurrentResourceVersion),
                ["generation"] = pdb.Generation,
                ["creationTimestamp"] = created,
            },
            ["spec"] = spec,
            ["status"] = new JsonObject
            {
                ["observedGeneration"] = pdb.Generation,
                ["disruptionsAllowed"] = status.DisruptionsAllowed,
                ["currentHealthy"] = status.CurrentHealthy,
                ["desiredHealthy"] = status.DesiredHealthy,
                ["expectedPods"] = status.ExpectedPods,
                ["conditions"] = new JsonArray(new JsonObject
                {
                    ["type"] = "DisruptionAllowed",
                    ["status"] = allowed ? "True" : "False",
                    ["observedGeneration"] = pdb.Generation,
                    ["lastTransitionTime"] = created,
                    ["reason"] = allowed ? "SufficientPods" : "InsufficientPods",
                    ["message"] = "",
                }),
            },
        };
    }

    public static Corev1Event Event(KubeEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new Corev1Event
        {
            ApiVersion = "v1",
            Kind = "Event",
            Metadata = new V1ObjectMeta
            {
                Name = e.Name,
                NamespaceProperty = e.Namespace,
                Uid = e.Uid,
                ResourceVersion = Rv(e.ResourceVersion),
                CreationTimestamp = e.FirstTimestamp.UtcDateTime,
            },
            InvolvedObject = new V1ObjectReference
            {
                Kind = e.InvolvedKind,
                Name = e.InvolvedName,
                NamespaceProperty = e.InvolvedNamespace,
                Uid = e.InvolvedUid,
                ApiVersion = e.InvolvedApiVersion,
            },
            Reason = e.Reason,
            Message = e.Message,
            Type = e.Type,
            Count = e.Count,
            FirstTimestamp = e.FirstTimestamp.UtcDateTime,
            LastTimestamp = e.LastTimestamp.UtcDateTime,
            Source = new V1EventSource { Component = e.SourceComponent, Host = e.SourceHost },
            ReportingComponent = e.SourceComponent,
            ReportingInstance = e.SourceHost ?? "",
        };
    }
}
