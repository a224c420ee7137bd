using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>Who runs a rollout: what the group's Lease shows of its holder, so that a second run can name it.</summary>
public sealed record RolloutHolder(string Host, string User, int ProcessId, DateTimeOffset? ProcessStart, string RunId)
{
    /// <summary>This process, with a new run id.</summary>
    public static RolloutHolder Current()
    {
        using var self = Process.GetCurrentProcess();
        return new RolloutHolder(Environment.MachineName, Environment.UserName, Environment.ProcessId, StartOf(self), Guid.NewGuid().ToString("N")[..12]);
    }

    /// <summary>The Lease's holderIdentity, as leader election writes it: host and a unique suffix.</summary>
    public string Identity => $"{Host}_{RunId}";

    public override string ToString() => $"{User}@{Host} (process {ProcessId}, run {RunId})";

    /// <summary>Whether the holder is a process of this host that is no longer running (its process id gone, or reused by
    /// a process started at another time): then its lease can be taken at once instead of after it expires.</summary>
    public bool IsDeadProcessOn(string host)
    {
        if (!string.Equals(Host, host, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(ProcessId);
            return process.HasExited || (ProcessStart is { } started && StartOf(process) is { } actual && Math.Abs((actual - started).TotalSeconds) > 1);
        }
        catch (ArgumentException)
        {
            return true; // no process with that id
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private static DateTimeOffset? StartOf(Process process)
    {
        try
        {
            return new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return null;
        }
    }

    internal const string HostAnnotation = "winekspatch.io/host";
    internal const string UserAnnotation = "winekspatch.io/user";
    internal const string ProcessAnnotation = "winekspatch.io/process-id";
    internal const string ProcessStartAnnotation = "winekspatch.io/process-start";
    internal const string RunAnnotation = "winekspatch.io/run-id";
    internal const string GroupAnnotation = "winekspatch.io/node-group";

    internal Dictionary<string, string> Annotations(string nodeGroupName = "") => new(StringComparer.Ordinal)
    {
        [HostAnnotation] = Host,
        [UserAnnotation] = User,
        [ProcessAnnotation] = ProcessId.ToString(CultureInfo.InvariantCulture),
        [ProcessStartAnnotation] = ProcessStart?.ToString("o", CultureInfo.InvariantCulture) ?? "",
        [RunAnnotation] = RunId,
        [GroupAnnotation] = nodeGroupName,
    };

    internal static RolloutHolder? FromLease(KubeLease lease) =>
        string.IsNullOrEmpty(lease.HolderIdentity) ? null : new RolloutHolder(
            lease.Annotations.GetValueOrDefault(HostAnnotation) ?? lease.HolderIdentity.Split('_')[0],
            lease.Annotations.GetValueOrDefault(UserAnnotation) ?? "?",
            int.TryParse(lease.Annotations.GetValueOrDefault(ProcessAnnotation), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : -1,
            DateTimeOffset.TryParse(lease.Annotations.GetValueOrDefault(ProcessStartAnnotation), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var start) ? start : null,
            lease.Annotations.GetValueOrDefault(RunAnnotation) ?? lease.HolderIdentity);
}

/// <summary>
/// One run per node group: a coordination.k8s.io/v1 Lease in kube-system named after the group, taken and renewed with
/// optimistic concurrency (every write carries the resourceVersion it read, so of two runs racing one gets 409 and
/// loses). A second run is refused (NodeGroupBusy) naming the holder and since when. The holder renews every
/// <see cref="RenewInterval"/>; a lease not renewed for <see cref="Duration"/> has expired and the next run takes it over,
/// and on the holder's own host a lease whose process is gone is taken over at once. Losing the lease (another run took
/// it after this one could not renew) cancels <see cref="Lost"/>, which stops the rollout before its next step.
/// Disposing stops the renewals and releases the lease (a delete that only succeeds while it is still ours).
/// </summary>
public sealed class RolloutLease : IAsyncDisposable
{
    public const string Namespace = "kube-system";

    /// <summary>How long a renewal counts: a crashed run on another machine blocks its group at most this long.</summary>
    public static readonly TimeSpan Duration = TimeSpan.FromMinutes(2);

    public static readonly TimeSpan RenewInterval = TimeSpan.FromSeconds(30);

    private readonly IKubernetesApi _kubernetes;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewals;
    private KubeLease _lease;

    private RolloutLease(IKubernetesApi kubernetes, TimeProvider time, KubeLease lease, RolloutHolder holder)
    {
        _kubernetes = kubernetes;
        _time = time;
        _lease = lease;
        Holder = holder;
        _renewals = RenewAsync(_stop.Token);
    }

    public RolloutHolder Holder { get; }

    public string Name => _lease.Name;

    /// <summary>Cancelled when the lease was lost to another run.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>The Lease name of a node group: a DNS subdomain (lowercase letters, digits, '-'), with a short hash of the
    /// real name when it had to be changed to fit (so "Win_A" and "win-a" do not share one).</summary>
    public static string NameFor(string nodeGroupName)
    {
        var cleaned = new string(nodeGroupName.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
        var name = "winekspatch-" + (cleaned.Length == 0 ? "group" : cleaned);
        if (cleaned != nodeGroupName || name.Length > 200)
        {
            var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(nodeGroupName)))[..8].ToLowerInvariant();
            name = $"{name[..Math.Min(name.Length, 200)].TrimEnd('-')}-{hash}";
        }

        return name;
    }

    /// <summary>Takes the group's lease, or throws NodeGroupBusy naming the run that holds it.</summary>
    public static async Task<RolloutLease> AcquireAsync(IKubernetesApi kubernetes, string clusterName, string nodeGroupName, RolloutHolder me, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var name = NameFor(nodeGroupName);
        // Each pass reads the lease and tries one write; a 409 means someone else wrote in between: read again.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var now = time.GetUtcNow();
            var current = await kubernetes.GetLeaseAsync(Namespace, name, cancellationToken).ConfigureAwait(false);
            var mine = new KubeLease(Namespace, name, me.Identity, (int)Duration.TotalSeconds, now, now, current?.LeaseTransitions ?? 0,
                me.Annotations(nodeGroupName));
            KubeLease? taken;
            if (current == null)
            {
                taken = await kubernetes.CreateLeaseAsync(mine, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var holder = RolloutHolder.FromLease(current);
                var free = holder == null || current.ExpiresAt <= now || holder.IsDeadProcessOn(me.Host);
                if (!free)
                {
                    throw Busy(clusterName, nodeGroupName, current, holder!, now);
                }

                taken = await kubernetes.ReplaceLeaseAsync(mine with { LeaseTransitions = current.LeaseTransitions + 1, ResourceVersion = current.ResourceVersion },
                    cancellationToken).ConfigureAwait(false);
            }

            if (taken != null)
            {
                return new RolloutLease(kubernetes, time, taken, me);
            }
        }

        throw new WinEksPatchException(ErrorIds.NodeGroupBusy, ErrorKind.ResourceBusy,
            $"{clusterName}/{nodeGroupName}: the rollout lease {Namespace}/{name} kept changing while this run tried to take it; another run is starting. Try again in a minute.",
            nodeGroupName);
    }

    /// <summary>For -WhatIf: who holds the group's lease now (null when nobody does, or the holder's claim lapsed).</summary>
    public static async Task<string?> DescribeBusyAsync(IKubernetesApi kubernetes, string clusterName, string nodeGroupName, TimeProvider time, CancellationToken cancellationToken)
    {
        var current = await kubernetes.GetLeaseAsync(Namespace, NameFor(nodeGroupName), cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        return current != null && RolloutHolder.FromLease(current) is { } holder && current.ExpiresAt > now && !holder.IsDeadProcessOn(Environment.MachineName)
            ? Busy(clusterName, nodeGroupName, current, holder, now).Message
            : null;
    }

    private static WinEksPatchException Busy(string clusterName, string nodeGroupName, KubeLease lease, RolloutHolder holder, DateTimeOffset now) =>
        new(ErrorIds.NodeGroupBusy, ErrorKind.ResourceBusy,
            $"{clusterName}/{nodeGroupName} is being rolled out by {holder} since {lease.AcquireTime:u} (lease {lease.Namespace}/{lease.Name}, last renewed " +
            $"{(now - (lease.RenewTime ?? now)).TotalSeconds:0} s ago). One run per node group: wait for it to finish. If that run is gone, its lease expires at " +
            $"{lease.ExpiresAt:u} ({(int)Duration.TotalSeconds} s after its last renewal) and the next run takes over" +
            (holder.Host.Equals(Environment.MachineName, StringComparison.OrdinalIgnoreCase) ? "." : $"; on {holder.Host} a re-run takes over at once once that process has ended."),
            nodeGroupName);

    private async Task RenewAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RenewInterval, _time, stop).ConfigureAwait(false);
                var now = _time.GetUtcNow();
                var renewed = await _kubernetes.ReplaceLeaseAsync(_lease with { RenewTime = now }, stop).ConfigureAwait(false);
                if (renewed != null)
                {
                    _lease = renewed;
                    continue;
                }

                // 409: someone wrote the lease. Still ours (a stale read of our own write) or taken?
                var current = await _kubernetes.GetLeaseAsync(Namespace, _lease.Name, stop).ConfigureAwait(false);
                if (current?.HolderIdentity == Holder.Identity)
                {
                    _lease = current;
                    continue;
                }

                await _lost.CancelAsync().ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (WinEksPatchException) when (_time.GetUtcNow() < _lease.ExpiresAt)
            {
                // The API server was unreachable for a moment: try again at the next interval, while the claim still holds.
            }
            catch (WinEksPatchException)
            {
                // Not renewed for a whole lease duration: another run may have taken the group over; stop acting on it.
                await _lost.CancelAsync().ConfigureAwait(false);
                return;
            }
        }
    }

    /// <summary>Stops renewing and releases the lease (only while it is still ours), even when the run was cancelled.
    /// A renewal cancelled in flight may still have been applied by the API server, so a refused delete is retried at the
    /// version the server has, as long as the holder there is this run.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _renewals.ConfigureAwait(false);
        if (!_lost.IsCancellationRequested)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                var lease = _lease;
                for (var attempt = 0; attempt < 3 && lease?.ResourceVersion is { } version; attempt++)
                {
                    if (await _kubernetes.DeleteLeaseAsync(Namespace, lease.Name, version, timeout.Token).ConfigureAwait(false))
                    {
                        break;
                    }

                    lease = await _kubernetes.GetLeaseAsync(Namespace, lease.Name, timeout.Token).ConfigureAwait(false);
                    if (lease?.HolderIdentity != Holder.Identity)
                    {
                        break; // gone, or someone else's now
                    }
                }
            }
            catch (Exception ex) when (ex is WinEksPatchException or OperationCanceledException)
            {
                // Not released: it expires after Duration, or the next run on this host takes it over once this process ends.
            }
        }

        _stop.Dispose();
        _lost.Dispose();
    }
}
