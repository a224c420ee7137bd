namespace WinEksPatch.Model;

/// <summary>
/// A plan to patch many clusters, possibly in many accounts and regions: ordered waves of targets, each wave with its
/// rate control (how many targets at once, how many may fail), the soak time after each target, its health gates and its
/// maintenance window. What <c>New-WinEksFleetPlan</c> builds, <c>Export-/Import-WinEksFleetPlan</c> write and read (JSON or
/// YAML) and <c>Invoke-WinEksFleetPatch</c> runs. The rate-control names are SSM Automation's (MaxConcurrency, MaxErrors),
/// and the maintenance window's are SSM Maintenance Windows'.
/// </summary>
public sealed class WinEksFleetPlan
{
    /// <summary>The plan's name (letters, digits, '-', '_', '.'), in reports and in the SSM Automation executions it starts.</summary>
    public string Name { get; set; } = "";

    public string? Description { get; set; }

    /// <summary>What each target's patch cycle does (Invoke-WinEksPatch's choices).</summary>
    public WinEksFleetRollout Rollout { get; set; } = new();

    /// <summary>When a target fails (its cycle or a health gate), roll its groups back to the AMI they ran before, with
    /// the same safe rollout. On by default.</summary>
    public bool Rollback { get; set; } = true;

    public List<WinEksFleetWave> Waves { get; set; } = [];

    /// <summary>Every target of every wave, in run order.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IEnumerable<WinEksFleetTarget> AllTargets => Waves.SelectMany(w => w.Targets);

    public override string ToString() => $"{Name}: {Waves.Count} wave(s), {AllTargets.Count()} target(s)";
}

/// <summary>How each target's groups are patched: Invoke-WinEksPatch's -ImageSource and rollout limits.</summary>
public sealed class WinEksFleetRollout
{
    /// <summary>EksLatest (the latest EKS-optimized AMI of each group), or Build (New-WinNodeAmi in each target's account
    /// and region). An AMI id is refused: AMI ids differ per region and account.</summary>
    public string ImageSource { get; set; } = "EksLatest";

    /// <summary>With Build: cache the images each group's pods run.</summary>
    public bool CacheImagesFromCluster { get; set; }

    /// <summary>Nodes (or a percentage) a group may have unavailable at once; Invoke-NodeReplacement's -MaxUnavailable.</summary>
    public string MaxUnavailable { get; set; } = "0";

    /// <summary>Extra nodes a group may launch at once; Invoke-NodeReplacement's -MaxSurge.</summary>
    public string MaxSurge { get; set; } = "1";

    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromMinutes(30);

    public TimeSpan ReadyTimeout { get; set; } = TimeSpan.FromMinutes(40);

    public TimeSpan MinReadyTime { get; set; } = TimeSpan.Zero;
}

/// <summary>A wave: targets patched together, under one rate control, soak time, set of gates and maintenance window.</summary>
public sealed class WinEksFleetWave
{
    public string Name { get; set; } = "";

    public List<WinEksFleetTarget> Targets { get; set; } = [];

    /// <summary>Targets of the wave patched at once (at least 1).</summary>
    public int MaxConcurrency { get; set; } = 1;

    /// <summary>Targets of the wave that may fail before the plan stops (later targets and waves never start).</summary>
    public int MaxErrors { get; set; }

    /// <summary>How long each target is watched by the health gates after its cycle, before it counts as done.</summary>
    public TimeSpan SoakTime { get; set; } = TimeSpan.Zero;

    /// <summary>The wave's first target starts with a canary: one node of its first self-managed group is replaced and
    /// soaked under the gates for the wave's soak time, before the rest of that target (and of the wave) goes.</summary>
    public bool Canary { get; set; }

    public WinEksFleetGates Gates { get; set; } = new();

    /// <summary>When the wave may disrupt anything; null: any time.</summary>
    public WinEksMaintenanceWindow? MaintenanceWindow { get; set; }

    public override string ToString() => $"{Name} ({Targets.Count} target(s))";
}

/// <summary>One cluster to patch: where it is (the profile or role of its account, its region) and which groups.</summary>
public sealed class WinEksFleetTarget
{
    /// <summary>The AWS profile of the target's account (in the shared config files, or of the simulator's accounts).</summary>
    public string? ProfileName { get; set; }

    public string Region { get; set; } = "";

    public string ClusterName { get; set; } = "";

    /// <summary>The account the cluster must be in: the run checks, before any change, that the profile (or the default
    /// identity) reaches the cluster in this account and not a cluster of the same name in another. New-WinEksFleetPlan
    /// takes it from the cluster's ARN.</summary>
    public string? AccountId { get; set; }

    /// <summary>Only these Windows groups; every Windows group of the cluster when empty.</summary>
    public List<string> NodeGroupName { get; set; } = [];

    /// <summary>"profile/region/cluster": how reports and messages name the target.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Key => $"{ProfileName ?? "(default)"}/{Region}/{ClusterName}";

    public override string ToString() => Key;
}

/// <summary>What must stay true while a target soaks, and after its cycle, for it to count as done.</summary>
public sealed class WinEksFleetGates
{
    /// <summary>The new nodes stay Ready and usable.</summary>
    public bool NodesReady { get; set; } = true;

    /// <summary>Workload pods on the new nodes are Ready. A target's soak lasts at least until they are.</summary>
    public bool PodsReady { get; set; } = true;

    /// <summary>How long a workload pod may take to start (its image pull included: minutes for a Windows image on a node
    /// that does not have it cached) before it fails the PodsReady gate.</summary>
    public TimeSpan PodReadyTimeout { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>Container restarts of workload pods on the new nodes may rise by at most this much over the soak.</summary>
    public int MaxRestartIncrease { get; set; }

    /// <summary>No new pod stays Pending for lack of a node.</summary>
    public bool NoPendingPods { get; set; } = true;

    /// <summary>CloudWatch alarms (of each target's own account and region) that must not be in ALARM when a target starts
    /// and through its soak. <c>{ClusterName}</c> and <c>{Region}</c> in a name are the target's; every alarm must exist
    /// (checked before any change). An alarm with INSUFFICIENT_DATA does not fail the gate.</summary>
    public List<string> Alarms { get; set; } = [];

    /// <summary>The placeholders an alarm name may hold.</summary>
    public static readonly string[] AlarmPlaceholders = ["{ClusterName}", "{Region}"];

    /// <summary>The alarm names for <paramref name="target"/>, placeholders filled in.</summary>
    public IReadOnlyList<string> AlarmsFor(WinEksFleetTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return [.. (Alarms ?? []).Select(a => a.Replace("{ClusterName}", target.ClusterName, StringComparison.Ordinal)
            .Replace("{Region}", target.Region, StringComparison.Ordinal)).Distinct(StringComparer.Ordinal)];
    }
}

/// <summary>
/// When a wave may change anything, as an SSM Maintenance Window says it: a cron or rate schedule in a time zone, an
/// offset in days after the scheduled date (2 with "the second Tuesday" is Patch Thursday), the window's length and its
/// cutoff (no new target starts in the last hours). Outside it nothing is disrupted; a plan waits for the next window.
/// </summary>
public sealed class WinEksMaintenanceWindow
{
    /// <summary>cron(minutes hours day-of-month month day-of-week year), as SSM writes it, e.g. cron(0 22 ? * TUE#2 *).</summary>
    public string Schedule { get; set; } = "";

    /// <summary>IANA time zone of the schedule (e.g. Europe/Berlin); UTC when empty.</summary>
    public string? ScheduleTimezone { get; set; }

    /// <summary>Days after the scheduled date the window opens (0–6).</summary>
    public int ScheduleOffset { get; set; }

    /// <summary>The window's length in hours (1–24).</summary>
    public int Duration { get; set; } = 4;

    /// <summary>Hours before the window's end when no new target starts (0 to Duration − 1).</summary>
    public int Cutoff { get; set; }

    public override string ToString() =>
        $"{Schedule}{(ScheduleOffset > 0 ? $" +{ScheduleOffset}d" : "")} {ScheduleTimezone ?? "UTC"}, {Duration} h";
}
