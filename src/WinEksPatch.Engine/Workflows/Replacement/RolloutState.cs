using System.Globalization;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>
/// What a rollout must remember across a crash or Ctrl+C, kept on AWS (a tag of the Auto Scaling group) so that any
/// machine can re-run the same command and continue: the group's own desired and max sizes before the surge, which
/// processes the rollout suspended (and so must resume), whether it turned Capacity Rebalancing off (and so must turn
/// it back on), and the run that wrote it. Old instances carry their drain
/// state as instance tags.
/// Format (tag values hold 256 characters):
/// <c>target=ami-..;desired=4;max=6;suspended=AZRebalance,ScheduledActions;rebalance=paused;run=0123456789ab</c>.
/// A tag is a claim anyone can edit (infrastructure as code reconciles tags), so it is validated against the group as it
/// is before it is trusted (<see cref="Problems"/>), and checked again while the rollout runs.
/// </summary>
public sealed record RolloutState(string TargetImageId, int Desired, int Max, IReadOnlyList<string> Suspended, string? RunId = null, bool RebalancePaused = false)
{
    public const string GroupTag = "WinEksPatch:Rollout";
    public const string InstanceTag = "WinEksPatch:Drain";
    public const string Draining = "started";
    public const string Drained = "drained";

    /// <summary>The drain tag of a node whose drain began at <paramref name="at"/>: "started 2026-12-07T03:00:00Z". A re-run
    /// (the runbook's next round, a run after Ctrl+C) finishes that drain within what is left of -DrainTimeout since
    /// then, so a drain a budget blocks ends at its timeout however the rollout is cut into runs. A drain that ended
    /// (left blocked by -BlockedNodeAction Skip) loses the time, and one abandoned longer than twice the timeout ago
    /// starts afresh: the next run is a new attempt, not the end of the old one.</summary>
    public static string DrainingSince(DateTimeOffset at) =>
        $"{Draining} {at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}";

    /// <summary>When the drain a tag records began; null for a tag without a time (an older module's "started").</summary>
    public static DateTimeOffset? DrainStartedAt(string? tag) =>
        tag is not null && tag.StartsWith(Draining + " ", StringComparison.Ordinal)
        && DateTimeOffset.TryParse(tag[(Draining.Length + 1)..], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at : null;

    public string Serialize() => string.Create(CultureInfo.InvariantCulture,
        $"target={TargetImageId};desired={Desired};max={Max};suspended={string.Join(',', Suspended)}") + (RebalancePaused ? ";rebalance=paused" : "")
        + (RunId == null ? "" : $";run={RunId}");

    public static RolloutState? Parse(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var fields = value.Split(';').Select(f => f.Split('=', 2)).Where(f => f.Length == 2).GroupBy(f => f[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);
        return fields.TryGetValue("target", out var target)
            && fields.TryGetValue("desired", out var d) && int.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var desired)
            && fields.TryGetValue("max", out var m) && int.TryParse(m, NumberStyles.None, CultureInfo.InvariantCulture, out var max)
            ? new RolloutState(target, desired, max, fields.GetValueOrDefault("suspended")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [],
                fields.GetValueOrDefault("run"), fields.GetValueOrDefault("rebalance") == "paused")
            : null;
    }

    /// <summary>Why this state cannot be the one the group's rollout started from, judged against the group now: the
    /// rollout only ever raises desired capacity (up to its surge) and suspends <paramref name="suspendable"/>.</summary>
    public IReadOnlyList<string> Problems(AutoScalingGroup group, IReadOnlyCollection<string> suspendable)
    {
        var problems = new List<string>();
        if (Desired < group.MinSize)
        {
            problems.Add($"desired={Desired} is below the group's minimum size {group.MinSize}");
        }

        if (Desired > group.DesiredCapacity)
        {
            problems.Add($"desired={Desired} is above the group's desired capacity now ({group.DesiredCapacity}): the group was scaled in since the rollout started");
        }

        if (Max < Desired)
        {
            problems.Add($"max={Max} is below desired={Desired}");
        }

        if (Suspended.Except(suspendable, StringComparer.Ordinal).ToList() is { Count: > 0 } foreign)
        {
            problems.Add($"suspended={string.Join(',', Suspended)} names processes the module never suspends ({string.Join(", ", foreign)})");
        }

        return problems;
    }

    /// <summary>The state tag as found, refused with what is wrong: nothing has been changed yet.</summary>
    internal static WinEksPatchException Invalid(string groupName, string tagValue, IReadOnlyList<string> problems) =>
        new(ErrorIds.RolloutStateInvalid, ErrorKind.InvalidData,
            $"{groupName}: its {GroupTag} tag ('{tagValue}') cannot be the state of an interrupted rollout: {string.Join("; ", problems)}. " +
            $"Nothing was changed. Check the group's sizes and suspended processes, set them to what they should be after the rollout, " +
            $"delete the {GroupTag} tag, and run again.", groupName);
}
