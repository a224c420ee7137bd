namespace WinEksPatch.Model;

/// <summary>What the simulator saw since it started or was reset: output of <c>Get-WinEksSimulatorReport</c>.</summary>
public sealed class WinEksSimulatorReport
{
    /// <summary>Simulated time the report starts at (simulator start or last reset).</summary>
    public DateTimeOffset Since { get; init; }

    /// <summary>Simulated time the report was taken.</summary>
    public DateTimeOffset Now { get; init; }

    /// <summary>AWS API calls by service and operation.</summary>
    public IReadOnlyList<WinEksSimulatorApiCall> ApiCalls { get; init => field = ItemList.From(value); } = new ItemList<WinEksSimulatorApiCall>();

    /// <summary>Kubernetes requests by verb and resource (watches counted apart from lists).</summary>
    public IReadOnlyList<WinEksSimulatorKubernetesRequest> KubernetesRequests { get; init => field = ItemList.From(value); } = new ItemList<WinEksSimulatorKubernetesRequest>();

    /// <summary>Node and pod events in simulated time order.</summary>
    public IReadOnlyList<WinEksSimulatorEvent> Events { get; init => field = ItemList.From(value); } = new ItemList<WinEksSimulatorEvent>();

    /// <summary>Healthy pods disrupted while their PodDisruptionBudget allowed no disruption.</summary>
    public IReadOnlyList<WinEksSimulatorPdbViolation> PdbViolations { get; init => field = ItemList.From(value); } = new ItemList<WinEksSimulatorPdbViolation>();

    /// <summary>Per node group: the lowest count of Ready, schedulable nodes and when it was reached.</summary>
    public IReadOnlyList<WinEksSimulatorReadyNodes> LowestReadyNodes { get; init => field = ItemList.From(value); } = new ItemList<WinEksSimulatorReadyNodes>();

    /// <summary>Running pods of a controller that were deleted directly instead of evicted.</summary>
    public IReadOnlyList<WinEksSimulatorPodDeletion> PodsDeletedNotEvicted { get; init => field = ItemList.From(value); } = new ItemList<WinEksSimulatorPodDeletion>();

    public long TotalApiCalls => ApiCalls.Sum(c => c.Count);

    public long ThrottledApiCalls => ApiCalls.Sum(c => c.Throttled);

    public long TotalKubernetesRequests => KubernetesRequests.Sum(r => r.Count);

    public override string ToString() =>
        $"{TotalApiCalls} API calls ({ThrottledApiCalls} throttled), {TotalKubernetesRequests} Kubernetes requests, {Events.Count} events, {PdbViolations.Count} PDB violations";
}

/// <summary>AWS API calls of one operation.</summary>
public sealed class WinEksSimulatorApiCall
{
    public required string Service { get; init; }
    public required string Operation { get; init; }
    public long Count { get; init; }
    public long Errors { get; init; }
    public long Throttled { get; init; }

    public override string ToString() => $"{Service}:{Operation} {Count}";
}

/// <summary>Kubernetes requests of one verb and resource.</summary>
public sealed class WinEksSimulatorKubernetesRequest
{
    public required string Verb { get; init; }
    public required string Resource { get; init; }
    public long Count { get; init; }
    public long Errors { get; init; }
    public long Throttled { get; init; }
    public long Unauthorized { get; init; }

    public override string ToString() => $"{Verb} {Resource} {Count}";
}

/// <summary>One node or pod event (NodeAdded, NodeReady, NodeCordoned, NodeRemoved, PodStarted, PodEvicted, PodDeleted, ...).</summary>
public sealed class WinEksSimulatorEvent
{
    public DateTimeOffset At { get; init; }
    public required string Kind { get; init; }
    public string? ClusterName { get; init; }
    public string? NodeGroup { get; init; }
    public string? NodeName { get; init; }
    public string? Namespace { get; init; }
    public string? PodName { get; init; }
    public string? Detail { get; init; }

    public override string ToString() => $"{At:u} {Kind} {NodeName ?? PodName}";
}

/// <summary>A pod disrupted below its budget's minimum.</summary>
public sealed class WinEksSimulatorPdbViolation
{
    public DateTimeOffset At { get; init; }
    public string? ClusterName { get; init; }
    public string? Namespace { get; init; }
    public required string PodDisruptionBudget { get; init; }
    public string? PodName { get; init; }
    public string? Cause { get; init; }
    public int DesiredHealthy { get; init; }
    public int HealthyAfter { get; init; }

    public override string ToString() => $"{Namespace}/{PodDisruptionBudget}: {HealthyAfter}/{DesiredHealthy}";
}

/// <summary>The low-water mark of Ready, schedulable nodes of one node group.</summary>
public sealed class WinEksSimulatorReadyNodes
{
    public string? ClusterName { get; init; }
    public required string NodeGroup { get; init; }
    public int Lowest { get; init; }
    public DateTimeOffset At { get; init; }
    public int Current { get; init; }
    public int Highest { get; init; }

    public override string ToString() => $"{NodeGroup}: lowest {Lowest}";
}

/// <summary>A pod deleted directly rather than evicted.</summary>
public sealed class WinEksSimulatorPodDeletion
{
    public DateTimeOffset At { get; init; }
    public string? ClusterName { get; init; }
    public string? Namespace { get; init; }
    public required string PodName { get; init; }
    public string? NodeName { get; init; }
    public string? Owner { get; init; }

    public override string ToString() => $"{Namespace}/{PodName}";
}

/// <summary>A fault rule of the simulator: output of <c>Add-WinEksSimulatorFault</c> and <c>Get-WinEksSimulatorFault</c>.</summary>
public sealed class WinEksSimulatorFault
{
    public required string Id { get; init; }

    /// <summary>Api, TokenExpiry, LaunchFailure, NeverRegisters, RegistersNotReady or RegistersWithoutPodIps.</summary>
    public required string Kind { get; init; }

    public string? Service { get; init; }
    public string? Operation { get; init; }
    public string? Resource { get; init; }
    public string? NodeGroup { get; init; }
    public bool Throttle { get; init; }
    public string? ErrorCode { get; init; }
    public int? StatusCode { get; init; }
    public double? LatencySeconds { get; init; }
    public string? LatencyClock { get; init; }
    public double? MaxTokenAgeSeconds { get; init; }
    public double Probability { get; init; } = 1;
    public int? Count { get; init; }
    public int Hits { get; init; }

    /// <summary>CrashLoop, NodeFails and Alarm: the bad AMI.</summary>
    public string? ImageId { get; init; }

    /// <summary>NodeFails: seconds after a node of the AMI turned Ready that it turns NotReady; Alarm: that the alarm trips.</summary>
    public double? AfterSeconds { get; init; }

    /// <summary>Alarm: the CloudWatch alarm a node of the AMI trips.</summary>
    public string? AlarmName { get; init; }

    /// <summary>What the rule targets, in one column: service and operation, the node group, or the token.</summary>
    public string Target => Kind switch
    {
        "Api" => $"{Service} {Operation}{(Resource is null ? "" : $" [{Resource}]")}",
        "TokenExpiry" => $"EKS tokens{(Resource is null ? "" : $" of {Resource}")}",
        "CrashLoop" or "NodeFails" or "Alarm" => $"{ImageId} in {NodeGroup}",
        _ => NodeGroup ?? "",
    };

    /// <summary>What the rule does, in one column.</summary>
    public string Effect => string.Join(", ", new[]
    {
        Throttle && ErrorCode is null ? "throttle" : null,
        ErrorCode is null && StatusCode is null ? null : $"{ErrorCode}{(StatusCode is int s ? $" ({s})" : "")}".Trim(),
        LatencySeconds is double l ? $"+{l:0.###} s {LatencyClock}" : null,
        MaxTokenAgeSeconds is double m ? $"max age {m:0.###} s" : null,
        Kind == "TokenExpiry" && Count is int c ? $"expire {c} token(s)" : null,
        Kind == "NodeFails" && AfterSeconds is double after ? $"NotReady {after:0.###} s after Ready" : null,
        Kind == "CrashLoop" ? "workloads crash-loop" : null,
        Kind == "Alarm" ? $"{AlarmName} in ALARM {AfterSeconds ?? 300:0.###} s after Ready" : null,
    }.Where(p => !string.IsNullOrEmpty(p)));

    public override string ToString() => $"{Id} {Kind} {Target}";
}
