using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using WinEksPatch.Abstractions;

namespace WinEksPatch.Aws.Ssm;

/// <summary><see cref="ISsmApi"/> and <see cref="ISsmAutomationApi"/> over the official AWSSDK.SimpleSystemsManagement client.</summary>
public sealed class SsmClient(IAmazonSimpleSystemsManagement ssm) : ISsmApi, ISsmAutomationApi
{
    private static readonly HashSet<string?> FinishedStatuses = ["Success", "Failed", "Cancelled", "TimedOut", "CompletedWithSuccess", "CompletedWithFailure", "Exited"];

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, AutomationExecution> _finishedChildren = new(StringComparer.Ordinal);

    public async Task<string> StartAsync(AutomationStart start, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(start);
        var request = new StartAutomationExecutionRequest
        {
            DocumentName = start.DocumentName,
            ClientToken = start.ClientToken,
            Parameters = start.Parameters.ToDictionary(p => p.Key, p => p.Value.ToList()),
            TargetLocations =
            [
                new TargetLocation
                {
                    Accounts = [.. start.Accounts],
                    Regions = [.. start.Regions],
                    TargetLocationMaxConcurrency = start.MaxConcurrency,
                    TargetLocationMaxErrors = start.MaxErrors,
                    ExecutionRoleName = start.ExecutionRoleName,
                },
            ],
        };
        if (start.StopAlarmName is { } alarm)
        {
            request.AlarmConfiguration = new AlarmConfiguration { Alarms = [new Alarm { Name = alarm }] };
        }

        var response = await AwsErrorTranslator.CallAsync("StartAutomationExecution", start.DocumentName,
            () => ssm.StartAutomationExecutionAsync(request, cancellationToken)).ConfigureAwait(false);
        return response.AutomationExecutionId;
    }

    public async Task<AutomationProgress> GetAsync(string executionId, CancellationToken cancellationToken = default)
    {
        var parent = await Execution(executionId, cancellationToken).ConfigureAwait(false);
        var locations = new List<AutomationLocationProgress>();
        foreach (var step in parent.StepExecutions ?? [])
        {
            string? childId = step.Outputs?.GetValueOrDefault("ExecutionId")?.FirstOrDefault();
            // A child that has ended does not change: it is read once, not at every read of its parent.
            var child = childId is null ? null
                : _finishedChildren.TryGetValue(childId, out var ended) ? ended
                : await Execution(childId, cancellationToken).ConfigureAwait(false);
            if (childId is not null && child is not null && FinishedStatuses.Contains(child.AutomationExecutionStatus?.Value))
            {
                _finishedChildren[childId] = child;
            }

            locations.Add(new AutomationLocationProgress(step.TargetLocation?.Accounts?.FirstOrDefault() ?? "", step.TargetLocation?.Regions?.FirstOrDefault() ?? "",
                child?.AutomationExecutionStatus?.Value ?? step.StepStatus?.Value ?? "", childId, child?.FailureMessage ?? step.FailureMessage,
                [.. (child?.StepExecutions ?? []).Select(s => new AutomationStepProgress(s.StepName, s.StepStatus?.Value ?? "", s.FailureMessage,
                    (s.Outputs ?? []).ToDictionary(o => o.Key, o => (IReadOnlyList<string>)o.Value)))]));
        }

        return new AutomationProgress(executionId, parent.AutomationExecutionStatus?.Value ?? "", parent.FailureMessage,
            [.. (parent.TriggeredAlarms ?? []).Select(a => $"{a.Name} {a.State?.Value}")], locations);
    }

    private async Task<AutomationExecution> Execution(string id, CancellationToken cancellationToken) =>
        (await AwsErrorTranslator.CallAsync("GetAutomationExecution", id,
            () => ssm.GetAutomationExecutionAsync(new GetAutomationExecutionRequest { AutomationExecutionId = id }, cancellationToken)).ConfigureAwait(false)).AutomationExecution;

    public async Task<SsmParameter?> GetParameterAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await AwsErrorTranslator.CallAsync("GetParameter", name,
                () => ssm.GetParameterAsync(new GetParameterRequest { Name = name }, cancellationToken)).ConfigureAwait(false);
            return ToParameter(response.Parameter);
        }
        catch (Errors.WinEksPatchException ex) when (ex.AwsErrorCode == "ParameterNotFound")
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<SsmParameter>> GetParametersByPathAsync(string path, bool recursive, CancellationToken cancellationToken = default)
    {
        var result = new List<SsmParameter>();
        var request = new GetParametersByPathRequest { Path = path, Recursive = recursive, MaxResults = 10 };
        do
        {
            var response = await AwsErrorTranslator.CallAsync("GetParametersByPath", path,
                () => ssm.GetParametersByPathAsync(request, cancellationToken)).ConfigureAwait(false);
            result.AddRange((response.Parameters ?? []).Select(ToParameter));
            request.NextToken = response.NextToken;
        }
        while (!string.IsNullOrEmpty(request.NextToken));
        return result;
    }

    private static SsmParameter ToParameter(Parameter p) => new(p.Name, p.Value,
        p.LastModifiedDate is { } modified ? new DateTimeOffset(DateTime.SpecifyKind(modified, DateTimeKind.Utc)) : null);
}
