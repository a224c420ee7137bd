namespace WinEksPatch.Abstractions;

/// <summary>The CloudWatch operations the module uses: reading alarms (a fleet plan's alarm gate).</summary>
public interface ICloudWatchApi
{
    /// <summary>The metric alarms of these names (at most 100) that exist; a name without an alarm is left out; no names,
    /// no alarms.</summary>
    Task<IReadOnlyList<CloudWatchAlarm>> DescribeAlarmsAsync(IReadOnlyCollection<string> alarmNames, CancellationToken cancellationToken = default);
}

/// <summary>A CloudWatch alarm's state: OK, ALARM or INSUFFICIENT_DATA, with CloudWatch's reason and when it was set.</summary>
public sealed record CloudWatchAlarm(string Name, string StateValue, string? StateReason, DateTimeOffset? StateUpdated)
{
    public bool IsInAlarm => StateValue == "ALARM";
}
