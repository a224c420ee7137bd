namespace WinEksPatch.Simulator.World;

/// <summary>A CloudWatch metric alarm (DescribeAlarms' MetricAlarm shape). The simulator keeps no metrics: an alarm's state
/// changes by SetAlarmState, or by the fault kind "alarm" (an AMI whose nodes trip it).</summary>
public sealed class MetricAlarm
{
    public string AlarmName { get; set; } = "";
    public string? AlarmDescription { get; set; }
    public string Namespace { get; set; } = "";
    public string MetricName { get; set; } = "";
    public string Statistic { get; set; } = "Sum";
    public List<(string Name, string Value)> Dimensions { get; set; } = [];
    public int Period { get; set; } = 60;
    public int EvaluationPeriods { get; set; } = 1;
    public int? DatapointsToAlarm { get; set; }
    public double Threshold { get; set; }
    public string ComparisonOperator { get; set; } = "GreaterThanThreshold";
    public string TreatMissingData { get; set; } = "missing";
    public bool ActionsEnabled { get; set; } = true;
    public string StateValue { get; set; } = "INSUFFICIENT_DATA";
    public string StateReason { get; set; } = "Unchecked: Initial alarm creation";
    public string? StateReasonData { get; set; }
    public DateTimeOffset StateUpdatedTimestamp { get; set; }
    public DateTimeOffset StateTransitionedTimestamp { get; set; }
    public DateTimeOffset AlarmConfigurationUpdatedTimestamp { get; set; }

    /// <summary>The states CloudWatch has (StateValue).</summary>
    public static readonly string[] States = ["OK", "ALARM", "INSUFFICIENT_DATA"];
}

/// <summary>
/// CloudWatch alarms of this account and region, and the bad-AMI fault "alarm": some seconds after a node of the AMI turned
/// Ready, a named alarm goes into ALARM, as an error-rate alarm on the workloads would when the AMI breaks them in a way
/// Kubernetes does not see.
/// </summary>
public sealed partial class SimWorld
{
    /// <summary>By alarm name.</summary>
    public Dictionary<string, MetricAlarm> Alarms { get; } = new(StringComparer.Ordinal);

    public string AlarmArn(string name) => $"arn:aws:cloudwatch:{Region}:{AccountId}:alarm:{name}";

    /// <summary>Sets an alarm's state as SetAlarmState does: the update time always moves, the transition time only when the
    /// state changes. Called with Gate held.</summary>
    public void SetAlarmState(MetricAlarm alarm, string state, string reason, string? reasonData = null)
    {
        DateTimeOffset now = Scheduler.Now;
        if (alarm.StateValue != state)
        {
            alarm.StateTransitionedTimestamp = now;
        }

        alarm.StateValue = state;
        alarm.StateReason = reason;
        alarm.StateReasonData = reasonData;
        alarm.StateUpdatedTimestamp = now;
    }

    /// <summary>What makes a fault rule that is well formed impossible in this world (an alarm rule naming no alarm of it),
    /// or null. Called with Gate held.</summary>
    public string? FleetFaultProblem(FleetFaultRule rule) =>
        rule.Kind == "alarm" && rule.AlarmName is { } name && !Alarms.ContainsKey(name)
            ? $"there is no CloudWatch alarm named {name} in account {AccountId}, {Region}" : null;

    /// <summary>A node of an "alarm" AMI that just turned Ready: the rule's alarm goes into ALARM the rule's seconds later,
    /// while the node still runs.</summary>
    private void TripAlarmLaterIfBadAmi(KubeNode node, Ec2Instance instance)
    {
        if (BadAmiRule("alarm", node) is not { AlarmName: { } name } rule)
        {
            return;
        }

        rule.Hits++;
        Scheduler.After(TimeSpan.FromSeconds(rule.AfterSeconds), () => Locked(() =>
        {
            if (Nodes.GetValueOrDefault((node.ClusterName, node.Name)) == node && instance.State == "running" && Alarms.TryGetValue(name, out MetricAlarm? alarm))
            {
                string comparison = alarm.ComparisonOperator.Contains("Greater", StringComparison.Ordinal) ? "greater than" : "less than";
                SetAlarmState(alarm, "ALARM",
                    $"Threshold Crossed: 1 out of the last {alarm.EvaluationPeriods} datapoints was {comparison} the threshold ({alarm.Threshold:0.0}) (minimum 1 datapoint for OK -> ALARM transition).");
            }
        }));
    }
}
