using System.Globalization;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>
/// What a rollout must remember across a crash or Ctrl+C, kept on AWS (a tag of the Auto Scaling group) so that any
/// machine can re-run the same command and continue: the group's own desired and max sizes before the surge, and which
/// processes the rollout suspended (and so must resume). Old instances carry their drain state as instance tags.
/// Format (tag values hold 256 characters): <c>target=ami-..;desired=4;max=6;suspended=AZRebalance,ScheduledActions</c>.
/// </summary>
public sealed record RolloutState(string TargetImageId, int Desired, int Max, IReadOnlyList<string> Suspended)
{
    public const string GroupTag = "WinEksPatch:Rollout";
    public const string InstanceTag = "WinEksPatch:Drain";
    public const string Draining = "started";
    public const string Drained = "drained";

    public string Serialize() => string.Create(CultureInfo.InvariantCulture,
        $"target={TargetImageId};desired={Desired};max={Max};suspended={string.Join(',', Suspended)}");

    public static RolloutState? Parse(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var fields = value.Split(';').Select(f => f.Split('=', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1], StringComparer.Ordinal);
        return fields.TryGetValue("target", out var target)
            && fields.TryGetValue("desired", out var d) && int.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var desired)
            && fields.TryGetValue("max", out var m) && int.TryParse(m, NumberStyles.None, CultureInfo.InvariantCulture, out var max)
            ? new RolloutState(target, desired, max, fields.GetValueOrDefault("suspended")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [])
            : null;
    }
}
