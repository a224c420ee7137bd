using System.Text.Json;
using WinEksPatch.Abstractions;
using WinEksPatch.Aws.Thin;

namespace WinEksPatch.Aws.CloudWatch;

/// <summary>CloudWatch over JSON 1.0 (service model monitoring-2010-08-01, query-compatible): alarm reads.</summary>
public sealed class CloudWatchClient(ThinServiceClient client) : ICloudWatchApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    public async Task<IReadOnlyList<CloudWatchAlarm>> DescribeAlarmsAsync(IReadOnlyCollection<string> alarmNames, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alarmNames);
        if (alarmNames.Count == 0)
        {
            return []; // no names: no alarm to read (DescribeAlarms without names would list every alarm)
        }

        if (alarmNames.Count > 100)
        {
            throw new ArgumentException("DescribeAlarms takes at most 100 alarm names.", nameof(alarmNames));
        }

        var alarms = new List<CloudWatchAlarm>();
        string? next = null;
        do
        {
            var request = new ThinRequest("DescribeAlarms")
            {
                JsonBody = JsonSerializer.Serialize(new DescribeAlarmsRequest([.. alarmNames], 100, next), Json),
            };
            var response = await AwsErrorTranslator.CallAsync(request.Operation, string.Join(", ", alarmNames),
                () => client.SendAsync(request, cancellationToken)).ConfigureAwait(false);
            var page = JsonSerializer.Deserialize<DescribeAlarmsResponse>(response.Body, Json);
            alarms.AddRange((page?.MetricAlarms ?? []).Select(a => new CloudWatchAlarm(a.AlarmName ?? "", a.StateValue ?? "",
                a.StateReason, a.StateUpdatedTimestamp is { } t ? DateTimeOffset.FromUnixTimeMilliseconds((long)(t * 1000)) : null)));
            next = page?.NextToken;
        }
        while (next is not null);

        return alarms;
    }

    private sealed record DescribeAlarmsRequest(List<string> AlarmNames, int MaxRecords, [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? NextToken);

    private sealed record DescribeAlarmsResponse(List<MetricAlarmShape>? MetricAlarms, string? NextToken);

    private sealed record MetricAlarmShape(string? AlarmName, string? StateValue, string? StateReason, double? StateUpdatedTimestamp);
}
