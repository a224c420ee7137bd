namespace WinEksPatch.Simulator.World;

/// <summary>An Auto Scaling lifecycle hook (PutLifecycleHook): instances that launch or terminate wait in Pending:Wait or
/// Terminating:Wait until it is completed, or until its heartbeat timeout applies its default result.</summary>
public sealed class LifecycleHook
{
    public const string Launching = "autoscaling:EC2_INSTANCE_LAUNCHING";
    public const string Terminating = "autoscaling:EC2_INSTANCE_TERMINATING";

    public required string Name { get; init; }
    public required string GroupName { get; init; }
    public required string Transition { get; set; }
    public int HeartbeatTimeout { get; set; } = 3600;
    /// <summary>CONTINUE or ABANDON (Auto Scaling's default).</summary>
    public string DefaultResult { get; set; } = "ABANDON";
    public string? NotificationTargetArn { get; set; }
    public string? RoleArn { get; set; }
    public string? NotificationMetadata { get; set; }

    /// <summary>The longest an instance can wait on this hook, heartbeats included: 100 × the heartbeat timeout, at most 48 hours.</summary>
    public int GlobalTimeout => Math.Min(100 * HeartbeatTimeout, 172800);

    /// <summary>Simulator only (scenario <c>completeAfterSeconds</c>): a handler such as the AWS Node Termination Handler or a
    /// Lambda that completes each action with CONTINUE this many seconds after it starts; null: nobody does.</summary>
    public double? CompleteAfterSeconds { get; set; }
}

/// <summary>An instance waiting on one lifecycle hook (CompleteLifecycleAction, RecordLifecycleActionHeartbeat).</summary>
public sealed class LifecycleAction
{
    public required LifecycleHook Hook { get; init; }
    public required string InstanceId { get; init; }
    public required string Token { get; init; }
    public required DateTimeOffset Started { get; init; }
    /// <summary>When the heartbeat timeout applies the hook's default result (moved by each heartbeat).</summary>
    public DateTimeOffset Deadline { get; set; }
    /// <summary>CONTINUE or ABANDON once completed (or timed out); null while waiting.</summary>
    public string? Result { get; set; }
}

/// <summary>An instance refresh (StartInstanceRefresh): the group's instances replaced in batches that keep
/// <see cref="MinHealthyPercentage"/> of its desired capacity healthy.</summary>
public sealed class InstanceRefresh
{
    public required string Id { get; init; }
    public required string GroupName { get; init; }
    /// <summary>Pending, InProgress, Successful, Failed, Cancelling, Cancelled.</summary>
    public string Status { get; set; } = "Pending";
    public string? StatusReason { get; set; }
    public required DateTimeOffset StartTime { get; init; }
    public DateTimeOffset? EndTime { get; set; }
    public int MinHealthyPercentage { get; init; } = 90;
    public int InstanceWarmup { get; init; } = 300;
    public bool SkipMatching { get; init; }
    /// <summary>The instances to replace, fixed when the refresh starts.</summary>
    public HashSet<string> ToReplace { get; } = new(StringComparer.Ordinal);
    public int InstancesToUpdate { get; set; }
    public int PercentageComplete { get; set; }

    public bool IsActive => Status is "Pending" or "InProgress" or "Cancelling";
}

/// <summary>A warm pool (PutWarmPool): pre-initialized instances beside the group that a scale-out takes first.</summary>
public sealed class WarmPool
{
    public int MinSize { get; set; }
    /// <summary>The most instances the group and its pool hold together; null: the group's max size.</summary>
    public int? MaxGroupPreparedCapacity { get; set; }
    /// <summary>Stopped, Running or Hibernated: the state warmed instances wait in.</summary>
    public string PoolState { get; set; } = "Stopped";
    public bool ReuseOnScaleIn { get; set; }
    /// <summary>The pool's instances, in launch order (not in the group's own instance list).</summary>
    public List<string> InstanceIds { get; } = [];

    /// <summary>How many instances the pool keeps: the prepared capacity beyond desired capacity, at least MinSize.</summary>
    public int TargetSize(AutoScalingGroup group) => Math.Max(MinSize, (MaxGroupPreparedCapacity ?? group.MaxSize) - group.DesiredCapacity);
}
