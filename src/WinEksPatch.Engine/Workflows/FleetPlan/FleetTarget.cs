using WinEksPatch.Abstractions;
using WinEksPatch.Aws;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Workflows.AmiBuild;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Workflows.FleetPlan;

/// <summary>One target of a fleet plan with its own connections (its account's credentials, its region, its cluster's
/// Kubernetes API) for as long as the plan works on it.</summary>
public interface IFleetTarget : IDisposable
{
    WinEksFleetTarget Target { get; }

    /// <summary>After the pre-flight: the first self-managed group of those the cycle patches (a canary replaces one of
    /// its nodes; a managed group's update cannot stop after one), or null when there is none.</summary>
    string? CanaryGroup { get; }

    /// <summary>After the pre-flight: the account of the cluster the target's credentials reached.</summary>
    string? AccountId { get; }

    /// <summary>Checks, before any change anywhere, that the target can be patched: its credentials and region work,
    /// the cluster exists, the groups named are Windows groups of it (or it has one). Returns the groups the cycle will
    /// patch; throws FleetTargetInvalid naming what is wrong.</summary>
    Task<IReadOnlyList<string>> PreflightAsync(CancellationToken cancellationToken);

    /// <summary>The patch cycle of the target's groups onto the AMI the plan's rollout picks, or onto
    /// <paramref name="imageId"/> when given (a rollback).</summary>
    Task<PatchCycleOutcome> PatchAsync(IReadOnlyList<string> groups, WinEksFleetRollout rollout, string? imageId, ReplacementOptions options,
        IWorkflowHost host, CancellationToken cancellationToken);

    /// <summary>One reading for the health gates: the groups' Windows nodes, the pods on them, the cluster's pending pods.</summary>
    Task<(IReadOnlyList<KubeNode> Nodes, IReadOnlyList<KubePod> PodsOnNodes, IReadOnlyList<KubePod> PendingPods)> ReadHealthAsync(
        IReadOnlyList<string> groups, CancellationToken cancellationToken);

    /// <summary>The CloudWatch alarms of these names in the target's account and region (those that exist).</summary>
    Task<IReadOnlyList<CloudWatchAlarm>> ReadAlarmsAsync(IReadOnlyList<string> names, CancellationToken cancellationToken);
}

/// <summary>A target reached through the AWS SDK and KubernetesClient: its profile (or the session's default identity)
/// and region resolve to their own <see cref="Connections"/>, as -ProfileName and -Region do for one cmdlet.</summary>
public sealed class ConnectedFleetTarget : IFleetTarget
{
    private readonly Connections _connections;
    private readonly WorkflowFactory _workflows;
    private readonly bool _ownsConnections = true;

    /// <summary>A target reached through connections someone else made and disposes (a cmdlet's).</summary>
    public ConnectedFleetTarget(WinEksFleetTarget target, Connections connections)
    {
        Target = target ?? throw new ArgumentNullException(nameof(target));
        _connections = connections ?? throw new ArgumentNullException(nameof(connections));
        _workflows = new WorkflowFactory(_connections);
        _ownsConnections = false;
    }

    public ConnectedFleetTarget(WinEksFleetTarget target, TimeProvider? time = null)
    {
        Target = target ?? throw new ArgumentNullException(nameof(target));
        try
        {
            _connections = new Connections(new AwsConnectionOptions(target.Region, target.ProfileName), time: time);
        }
        catch (WinEksPatchException ex)
        {
            throw new WinEksPatchException(ErrorIds.FleetTargetInvalid, ex.Kind, $"Target {target.Key}: {ex.Message}", target.Key, ex);
        }

        _workflows = new WorkflowFactory(_connections);
    }

    public WinEksFleetTarget Target { get; }

    public string? CanaryGroup { get; private set; }

    public string? AccountId { get; private set; }

    public async Task<IReadOnlyList<string>> PreflightAsync(CancellationToken cancellationToken)
    {
        ClusterSnapshot snapshot;
        try
        {
            snapshot = await _workflows.Reader().ReadAsync(Target.ClusterName, includeInstances: false, includePods: false, cancellationToken).ConfigureAwait(false);
        }
        catch (WinEksPatchException ex)
        {
            throw new WinEksPatchException(ErrorIds.FleetTargetInvalid, ex.Kind, $"Target {Target.Key}: {ex.Message}", Target.Key, ex);
        }

        // The profile must reach the cluster of the plan's account, not one of the same name in another account.
        string? account = AccountId = snapshot.Cluster.AccountId;
        if (Target.AccountId is { } expected && account != expected)
        {
            throw new WinEksPatchException(ErrorIds.FleetTargetInvalid, ErrorKind.PermissionDenied,
                $"Target {Target.Key}: the plan names account {expected}, and {(Target.ProfileName is null ? "the default identity" : $"profile {Target.ProfileName}")} " +
                $"reaches the cluster in account {account ?? "(unknown)"}.", Target.Key);
        }

        var windows = snapshot.NodeGroups.Where(g => g.IsWindows).Select(g => g.Name).ToList();
        var named = Target.NodeGroupName ?? [];
        var missing = named.Where(n => !windows.Contains(n, StringComparer.Ordinal)).ToList();
        if (missing.Count > 0)
        {
            throw new WinEksPatchException(ErrorIds.FleetTargetInvalid, ErrorKind.ObjectNotFound,
                $"Target {Target.Key}: {string.Join(", ", missing)} {(missing.Count == 1 ? "is not a Windows node group" : "are not Windows node groups")} of the cluster " +
                $"(its Windows groups: {(windows.Count == 0 ? "none" : string.Join(", ", windows))}).", Target.Key);
        }

        if (windows.Count == 0)
        {
            throw new WinEksPatchException(ErrorIds.FleetTargetInvalid, ErrorKind.ObjectNotFound,
                $"Target {Target.Key}: the cluster has no Windows node group, so there is nothing to patch.", Target.Key);
        }

        var chosen = named.Count > 0 ? named : windows;
        CanaryGroup = chosen.FirstOrDefault(name => snapshot.NodeGroups.Any(g => g.Name == name && g.Kind == Model.NodeGroupKind.SelfManaged));
        return chosen;
    }

    public Task<PatchCycleOutcome> PatchAsync(IReadOnlyList<string> groups, WinEksFleetRollout rollout, string? imageId, ReplacementOptions options,
        IWorkflowHost host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        ImageSource source = imageId is not null ? new ImageSource.Given(imageId)
            : rollout.ImageSource == "Build" ? _workflows.BuildSource(rollout.CacheImagesFromCluster, fastLaunch: null)
            : new ImageSource.EksLatest();
        return _workflows.PatchCycle().RunAsync(Target.ClusterName, groups, source, options, host, cancellationToken);
    }

    public async Task<(IReadOnlyList<KubeNode> Nodes, IReadOnlyList<KubePod> PodsOnNodes, IReadOnlyList<KubePod> PendingPods)> ReadHealthAsync(
        IReadOnlyList<string> groups, CancellationToken cancellationToken)
    {
        // Group membership comes from the groups (EKS labels, Auto Scaling's instance lists): no EC2 read is needed, and the
        // one pod list gives both the pods on the nodes and those still waiting for one.
        var snapshot = await _workflows.Reader().ReadAsync(Target.ClusterName, includeInstances: false, includePods: true, cancellationToken).ConfigureAwait(false);
        var nodes = snapshot.WindowsNodes.Where(n => snapshot.GroupOf(n) is { } g && groups.Contains(g, StringComparer.Ordinal)).ToList();
        var pods = nodes.SelectMany(n => snapshot.PodsByNode.GetValueOrDefault(n.Name) ?? []).ToList();
        return (nodes, pods, snapshot.UnscheduledPods);
    }

    public Task<IReadOnlyList<CloudWatchAlarm>> ReadAlarmsAsync(IReadOnlyList<string> names, CancellationToken cancellationToken) =>
        _connections.Aws.CloudWatch().DescribeAlarmsAsync(names, cancellationToken);

    public void Dispose()
    {
        if (_ownsConnections)
        {
            _connections.Dispose();
        }
    }
}
