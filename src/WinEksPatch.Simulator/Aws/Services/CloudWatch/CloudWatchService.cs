using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.CloudWatch;

/// <summary>
/// CloudWatch alarms over the service's JSON 1.0 protocol (X-Amz-Target GraniteServiceVersion20100801.*, as the AWS SDK
/// for JavaScript v3 sends it), query-compatible: each error also names its awsQuery code in x-amzn-query-error.
/// DescribeAlarms, PutMetricAlarm, SetAlarmState and DeleteAlarms, over the world's alarms; there are no metrics, so an
/// alarm's state changes only by SetAlarmState or a fault.
/// </summary>
public sealed class CloudWatchService : AwsService
{
    private const string TargetPrefix = "GraniteServiceVersion20100801.";
    private const string ContentType = "application/x-amz-json-1.0";
    private static readonly string[] AlarmTypes = ["CompositeAlarm", "MetricAlarm"];
    private static readonly string[] Comparisons =
    [
        "GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold",
        "LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold",
    ];

    /// <summary>The error shapes of the service model by the awsQuery code each carries (awsQueryError trait).</summary>
    private static readonly Dictionary<string, string> ErrorShapes = new(StringComparer.Ordinal)
    {
        ["InvalidFormat"] = "InvalidFormatFault",
        ["InvalidParameterCombination"] = "InvalidParameterCombinationException",
        ["InvalidParameterValue"] = "InvalidParameterValueException",
        ["MissingParameter"] = "MissingRequiredParameterException",
        ["ValidationError"] = "ValidationException",
    };

    public override string SigningName => "monitoring";

    /// <summary>IAM names CloudWatch's actions cloudwatch:*, not by its signing name.</summary>
    public override string IamPrefix => "cloudwatch";

    public override AwsProtocol Protocol => AwsProtocol.Json;

    public override Task HandleAsync(AwsCall call)
    {
        string operation = JsonProtocol.TargetOperation(call, TargetPrefix);
        JsonObject body = JsonProtocol.ParseBody(call);
        return operation switch
        {
            "DescribeAlarms" => DescribeAlarms(call, body),
            "PutMetricAlarm" => PutMetricAlarm(call, body),
            "SetAlarmState" => SetAlarmState(call, body),
            "DeleteAlarms" => DeleteAlarms(call, body),
            _ => throw new AwsException(400, "UnknownOperationException", ""),
        };
    }

    /// <summary>JSON 1.0 error: __type names the model's error shape, x-amzn-query-error its awsQuery code ("Code;Sender"),
    /// as query-compatible services answer; the SDKs take the code from that header.</summary>
    public override async Task WriteErrorAsync(HttpContext http, string requestId, AwsException error)
    {
        http.Response.StatusCode = error.StatusCode;
        http.Response.ContentType = ContentType;
        http.Response.Headers["x-amzn-query-error"] = $"{error.Code};{(error.StatusCode < 500 ? "Sender" : "Receiver")}";
        var body = new JsonObject { ["__type"] = "com.amazonaws.cloudwatch#" + ErrorShapes.GetValueOrDefault(error.Code, error.Code), ["message"] = error.Message };
        await http.Response.WriteAsync(body.ToJsonString()).ConfigureAwait(false);
    }

    private static Task DescribeAlarms(AwsCall call, JsonObject body)
    {
        List<string>? names = JsonProtocol.StringList(body, "AlarmNames");
        string? prefix = JsonProtocol.String(body, "AlarmNamePrefix");
        string? state = JsonProtocol.String(body, "StateValue");
        List<string> types = JsonProtocol.StringList(body, "AlarmTypes") ?? ["MetricAlarm"];
        int maxRecords = JsonProtocol.Int(body, "MaxRecords") ?? 50;
        if (names is not null && prefix is not null)
        {
            throw new AwsException(400, "InvalidParameterCombination", "AlarmNames and AlarmNamePrefix cannot be specified together.");
        }

        if (names is { Count: > 100 })
        {
            throw Validation($"Value '{names.Count}' at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100");
        }

        if (maxRecords is < 1 or > 100)
        {
            throw Validation($"Value '{maxRecords}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and 100");
        }

        if (state is not null && !MetricAlarm.States.Contains(state))
        {
            throw Validation($"Value '{state}' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [{string.Join(", ", MetricAlarm.States)}]");
        }

        if (types.FirstOrDefault(t => !AlarmTypes.Contains(t)) is { } badType)
        {
            throw Validation($"Value '[{badType}]' at 'alarmTypes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [{string.Join(", ", AlarmTypes)}]]");
        }

        if (!Paging.TryDecode(JsonProtocol.String(body, "NextToken"), out int offset))
        {
            throw new AwsException(400, "InvalidNextToken", "The service returned an invalid NextToken.");
        }

        var alarms = new JsonArray();
        string? next;
        lock (call.World.Gate)
        {
            List<MetricAlarm> matches = types.Contains("MetricAlarm")
                ? [.. call.World.Alarms.Values
                    .Where(a => (names is null || names.Contains(a.AlarmName)) && (prefix is null || a.AlarmName.StartsWith(prefix, StringComparison.Ordinal))
                        && (state is null || a.StateValue == state))
                    .OrderBy(a => a.AlarmName, StringComparer.Ordinal)]
                : [];
            (List<MetricAlarm> page, next) = Paging.Page(matches, offset, maxRecords);
            foreach (MetricAlarm alarm in page)
            {
                alarms.Add(ToJson(call.World, alarm));
            }
        }

        var result = new JsonObject { ["MetricAlarms"] = alarms };
        if (types.Contains("CompositeAlarm"))
        {
            result["CompositeAlarms"] = new JsonArray();
        }

        if (next is not null)
        {
            result["NextToken"] = next;
        }

        return JsonProtocol.WriteAsync(call, result, contentType: ContentType);
    }

    private static Task PutMetricAlarm(AwsCall call, JsonObject body)
    {
        string name = Required(body, "AlarmName");
        if (name.Length > 255)
        {
            throw Validation($"Value '{name}' at 'alarmName' failed to satisfy constraint: Member must have length less than or equal to 255");
        }

        int evaluationPeriods = JsonProtocol.Int(body, "EvaluationPeriods") ?? throw Missing("EvaluationPeriods");
        string comparison = Required(body, "ComparisonOperator");
        if (!Comparisons.Contains(comparison))
        {
            throw Validation($"Value '{comparison}' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [{string.Join(", ", Comparisons)}]");
        }

        if (evaluationPeriods < 1)
        {
            throw Validation($"Value '{evaluationPeriods}' at 'evaluationPeriods' failed to satisfy constraint: Member must have value greater than or equal to 1");
        }

        var dimensions = new List<(string, string)>();
        if (body["Dimensions"] is JsonArray list)
        {
            foreach (JsonObject d in list.OfType<JsonObject>())
            {
                dimensions.Add((JsonProtocol.String(d, "Name") ?? "", JsonProtocol.String(d, "Value") ?? ""));
            }
        }

        lock (call.World.Gate)
        {
            DateTimeOffset now = call.World.Scheduler.Now;
            if (!call.World.Alarms.TryGetValue(name, out MetricAlarm? alarm))
            {
                // A new alarm has no data yet.
                alarm = new MetricAlarm { AlarmName = name, StateUpdatedTimestamp = now, StateTransitionedTimestamp = now };
                call.World.Alarms[name] = alarm;
            }

            alarm.AlarmDescription = JsonProtocol.String(body, "AlarmDescription");
            alarm.Namespace = JsonProtocol.String(body, "Namespace") ?? "";
            alarm.MetricName = JsonProtocol.String(body, "MetricName") ?? "";
            alarm.Statistic = JsonProtocol.String(body, "Statistic") ?? "Sum";
            alarm.Dimensions = dimensions;
            alarm.Period = JsonProtocol.Int(body, "Period") ?? 60;
            alarm.EvaluationPeriods = evaluationPeriods;
            alarm.DatapointsToAlarm = JsonProtocol.Int(body, "DatapointsToAlarm");
            alarm.Threshold = body["Threshold"] is JsonValue t && t.TryGetValue(out double threshold) ? threshold : 0;
            alarm.ComparisonOperator = comparison;
            alarm.TreatMissingData = JsonProtocol.String(body, "TreatMissingData") ?? "missing";
            alarm.ActionsEnabled = JsonProtocol.Bool(body, "ActionsEnabled") ?? true;
            alarm.AlarmConfigurationUpdatedTimestamp = now;
        }

        return JsonProtocol.WriteAsync(call, new JsonObject(), contentType: ContentType);
    }

    private static Task SetAlarmState(AwsCall call, JsonObject body)
    {
        string name = Required(body, "AlarmName");
        string state = Required(body, "StateValue");
        string reason = Required(body, "StateReason");
        string? data = JsonProtocol.String(body, "StateReasonData");
        if (!MetricAlarm.States.Contains(state))
        {
            throw Validation($"Value '{state}' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [{string.Join(", ", MetricAlarm.States)}]");
        }

        if (data is not null)
        {
            try
            {
                using var _ = JsonDocument.Parse(data);
            }
            catch (JsonException)
            {
                throw new AwsException(400, "InvalidFormat", "StateReasonData is not valid JSON.");
            }
        }

        lock (call.World.Gate)
        {
            MetricAlarm alarm = call.World.Alarms.GetValueOrDefault(name) ?? throw NotFound(name);
            call.World.SetAlarmState(alarm, state, reason, data);
        }

        return JsonProtocol.WriteAsync(call, new JsonObject(), contentType: ContentType);
    }

    private static Task DeleteAlarms(AwsCall call, JsonObject body)
    {
        List<string> names = JsonProtocol.StringList(body, "AlarmNames") ?? throw Missing("AlarmNames");
        lock (call.World.Gate)
        {
            // All or nothing: one name that does not exist fails the call and deletes none.
            if (names.FirstOrDefault(n => !call.World.Alarms.ContainsKey(n)) is { } missing)
            {
                throw NotFound(missing);
            }

            foreach (string name in names)
            {
                call.World.Alarms.Remove(name);
            }
        }

        return JsonProtocol.WriteAsync(call, new JsonObject(), contentType: ContentType);
    }

    private static JsonObject ToJson(SimWorld world, MetricAlarm a)
    {
        var alarm = new JsonObject
        {
            ["AlarmName"] = a.AlarmName,
            ["AlarmArn"] = world.AlarmArn(a.AlarmName),
            ["AlarmConfigurationUpdatedTimestamp"] = JsonProtocol.Time(a.AlarmConfigurationUpdatedTimestamp),
            ["ActionsEnabled"] = a.ActionsEnabled,
            ["OKActions"] = new JsonArray(),
            ["AlarmActions"] = new JsonArray(),
            ["InsufficientDataActions"] = new JsonArray(),
            ["StateValue"] = a.StateValue,
            ["StateReason"] = a.StateReason,
            ["StateUpdatedTimestamp"] = JsonProtocol.Time(a.StateUpdatedTimestamp),
            ["MetricName"] = a.MetricName,
            ["Namespace"] = a.Namespace,
            ["Statistic"] = a.Statistic,
            ["Dimensions"] = new JsonArray([.. a.Dimensions.Select(d => (JsonNode)new JsonObject { ["Name"] = d.Name, ["Value"] = d.Value })]),
            ["Period"] = a.Period,
            ["EvaluationPeriods"] = a.EvaluationPeriods,
            ["Threshold"] = a.Threshold,
            ["ComparisonOperator"] = a.ComparisonOperator,
            ["TreatMissingData"] = a.TreatMissingData,
            ["StateTransitionedTimestamp"] = JsonProtocol.Time(a.StateTransitionedTimestamp),
        };
        if (a.AlarmDescription is not null)
        {
            alarm["AlarmDescription"] = a.AlarmDescription;
        }

        if (a.StateReasonData is not null)
        {
            alarm["StateReasonData"] = a.StateReasonData;
        }

        if (a.DatapointsToAlarm is int datapoints)
        {
            alarm["DatapointsToAlarm"] = datapoints;
        }

        return alarm;
    }

    private static string Required(JsonObject body, string member) =>
        JsonProtocol.String(body, member) is { Length: > 0 } value ? value : throw Missing(member);

    private static AwsException Missing(string member) => new(400, "MissingParameter", $"The parameter {member} is required.");

    private static AwsException NotFound(string name) => new(404, "ResourceNotFound", $"Alarm {name} not found");

    private static AwsException Validation(string detail) =>
        new(400, "ValidationError", "1 validation error detected: " + detail);
}
