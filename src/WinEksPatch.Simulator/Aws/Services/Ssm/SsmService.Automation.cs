using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using WinEksPatch.Simulator.Accounts;
using WinEksPatch.Simulator.Automation;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.Ssm;

/// <summary>
/// SSM Automation: StartAutomationExecution (parameters checked against the document; TargetLocations across the
/// simulator's accounts and Regions; an AlarmConfiguration that stops it), GetAutomationExecution,
/// DescribeAutomationExecutions, DescribeAutomationStepExecutions, SendAutomationSignal (Approve, Reject) and
/// StopAutomationExecution. A parent's child executions are readable from the parent's account.
/// </summary>
public sealed partial class SsmService
{
    private Task StartAutomationExecution(AwsCall call, JsonObject body)
    {
        string name = Required(JsonProtocol.String(body, "DocumentName"), "documentName");
        if (JsonProtocol.String(body, "Mode") is { } mode && mode != "Auto")
        {
            throw Validation($"The simulator runs executions in Auto mode, not {mode}.");
        }

        if (body["Targets"] is not null || body["TargetMaps"] is not null)
        {
            throw Validation("The simulator does not model rate control over Targets; use TargetLocations for accounts and Regions.");
        }

        SsmDocument document = FindDocument(call, new JsonObject { ["Name"] = name, ["DocumentVersion"] = JsonProtocol.String(body, "DocumentVersion") });
        if (document.DocumentType != "Automation")
        {
            throw new AwsException(400, "InvalidDocumentType", $"Document {name} is a {document.DocumentType} document, not an Automation document.");
        }

        Dictionary<string, List<string>> parameters = AutomationParameters(document, body["Parameters"] as JsonObject);
        JsonArray? targetLocations = body["TargetLocations"] as JsonArray;
        IReadOnlyList<AutomationLocation>? locations = targetLocations is null ? null : Locations(call, targetLocations);
        (string? alarm, bool ignorePollFailure) = Alarm(call.World, body["AlarmConfiguration"] as JsonObject);
        foreach (AutomationLocation location in locations ?? [])
        {
            var spec = targetLocations![location.EntryIndex] as JsonObject;
            if (Alarm(automationWorld: null, spec?["TargetLocationAlarmConfiguration"] as JsonObject).Name is { } perLocation)
            {
                // The alarm of a location is read in its account and Region: it must exist there.
                SimWorld there = automation.Organization.WorldOf(location.Account, location.Region);
                lock (there.Gate)
                {
                    if (!there.Alarms.ContainsKey(perLocation))
                    {
                        throw Validation($"The TargetLocationAlarmConfiguration alarm {perLocation} does not exist in {location.Account.Id}, {location.Region}.");
                    }
                }
            }
        }

        // ClientToken: a retry of the same request returns the execution the first one started; the token with another
        // request is IdempotentParameterMismatch.
        string? token = JsonProtocol.String(body, "ClientToken");
        if (token is not null && !Guid.TryParseExact(token, "D", out _))
        {
            throw Validation($"Value '{token}' at 'clientToken' failed to satisfy constraint: Member must satisfy the UUID format.");
        }

        var request = (JsonObject)body.DeepClone();
        request.Remove("ClientToken");
        string fingerprint = request.ToJsonString();
        lock (call.World.Gate)
        {
            if (token is not null && call.World.AutomationClientTokens.TryGetValue(token.ToLowerInvariant(), out var earlier))
            {
                return earlier.Request == fingerprint
                    ? JsonProtocol.WriteAsync(call, new JsonObject { ["AutomationExecutionId"] = earlier.ExecutionId }, contentType: JsonProtocol.Json11ContentType)
                    : throw new AwsException(400, "IdempotentParameterMismatch", $"The client token {token} was used with another request.");
            }
        }

        AutomationExecution execution = automation.Start(call.World, call.Account, document, parameters, targetLocations, locations, alarm, ignorePollFailure);
        if (token is not null)
        {
            lock (call.World.Gate)
            {
                call.World.AutomationClientTokens[token.ToLowerInvariant()] = (execution.AutomationExecutionId, fingerprint);
            }
        }

        return JsonProtocol.WriteAsync(call, new JsonObject { ["AutomationExecutionId"] = execution.AutomationExecutionId }, contentType: JsonProtocol.Json11ContentType);
    }

    private Task GetAutomationExecution(AwsCall call, JsonObject body)
    {
        (SimWorld world, AutomationExecution execution) = FindExecution(call, body);
        JsonObject result;
        lock (world.Gate)
        {
            result = AutomationJson.Execution(execution, includeSteps: true);
        }

        return JsonProtocol.WriteAsync(call, new JsonObject { ["AutomationExecution"] = result }, contentType: JsonProtocol.Json11ContentType);
    }

    private Task DescribeAutomationExecutions(AwsCall call, JsonObject body)
    {
        int maxResults = JsonProtocol.Int(body, "MaxResults") ?? 50;
        if (maxResults is < 1 or > 50)
        {
            throw Validation($"Value '{maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50");
        }

        if (!Paging.TryDecode(JsonProtocol.String(body, "NextToken"), out int offset))
        {
            throw new AwsException(400, "InvalidNextToken", "The specified token isn't valid.");
        }

        var filters = (body["Filters"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(f => (Key: JsonProtocol.String(f, "Key") ?? "", Values: JsonProtocol.StringList(f, "Values") ?? [])).ToList();
        string[] keys = ["DocumentNamePrefix", "ExecutionStatus", "ExecutionId", "ParentExecutionId", "CurrentAction", "AutomationType"];
        if (filters.FirstOrDefault(f => !keys.Contains(f.Key)) is { Key.Length: > 0 } bad)
        {
            throw new AwsException(400, "InvalidFilterKey", $"The filter key {bad.Key} is not one the simulator supports ({string.Join(", ", keys)}).");
        }

        // The caller's executions, and the children of its parents wherever they run.
        List<(SimWorld World, AutomationExecution Execution)> candidates;
        lock (call.World.Gate)
        {
            candidates = [.. call.World.AutomationExecutions.Values.Select(e => (call.World, e))];
        }

        candidates.AddRange(candidates.Where(c => c.Execution.AutomationType == "CrossAccount").SelectMany(c => automation.ChildrenOf(c.Execution.AutomationExecutionId)).ToList());
        var rows = new List<JsonObject>();
        foreach ((SimWorld world, AutomationExecution e) in candidates.DistinctBy(c => c.Execution.AutomationExecutionId))
        {
            lock (world.Gate)
            {
                bool matches = filters.All(f => f.Key switch
                {
                    "DocumentNamePrefix" => f.Values.Any(v => e.Document.Name.StartsWith(v, StringComparison.Ordinal)),
                    "ExecutionStatus" => f.Values.Contains(e.Status),
                    "ExecutionId" => f.Values.Contains(e.AutomationExecutionId),
                    "ParentExecutionId" => e.ParentAutomationExecutionId is { } parent && f.Values.Contains(parent),
                    "CurrentAction" => e.CurrentAction is { } action && f.Values.Contains(action),
                    _ => f.Values.Contains(e.AutomationType),
                });
                // Children are listed only when asked for by their parent, as in the console's view of a parent.
                if (matches && (e.ParentAutomationExecutionId is null || filters.Any(f => f.Key is "ParentExecutionId" or "ExecutionId")))
                {
                    rows.Add(AutomationJson.Execution(e, includeSteps: false));
                }
            }
        }

        rows = [.. rows.OrderByDescending(r => r["ExecutionStartTime"]!.GetValue<double>())];
        (List<JsonObject> page, string? next) = Paging.Page(rows, offset, maxResults);
        var result = new JsonObject { ["AutomationExecutionMetadataList"] = new JsonArray([.. page]) };
        if (next is not null)
        {
            result["NextToken"] = next;
        }

        return JsonProtocol.WriteAsync(call, result, contentType: JsonProtocol.Json11ContentType);
    }

    private Task DescribeAutomationStepExecutions(AwsCall call, JsonObject body)
    {
        (SimWorld world, AutomationExecution execution) = FindExecution(call, body);
        int maxResults = JsonProtocol.Int(body, "MaxResults") ?? 50;
        if (!Paging.TryDecode(JsonProtocol.String(body, "NextToken"), out int offset))
        {
            throw new AwsException(400, "InvalidNextToken", "The specified token isn't valid.");
        }

        var filters = (body["Filters"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(f => (Key: JsonProtocol.String(f, "Key") ?? "", Values: JsonProtocol.StringList(f, "Values") ?? [])).ToList();
        List<JsonObject> steps;
        lock (world.Gate)
        {
            steps = [.. execution.StepExecutions.Where(s => filters.All(f => f.Key switch
            {
                "StepName" => f.Values.Contains(s.StepName),
                "Action" => f.Values.Contains(s.Action),
                "StepExecutionStatus" => f.Values.Contains(s.StepStatus),
                "StepExecutionId" => f.Values.Contains(s.StepExecutionId),
                _ => throw new AwsException(400, "InvalidFilterKey", $"The filter key {f.Key} is not one the simulator supports (StepName, Action, StepExecutionStatus, StepExecutionId)."),
            })).Select(AutomationJson.Step)];
        }

        if (JsonProtocol.Bool(body, "ReverseOrder") == true)
        {
            steps.Reverse();
        }

        (List<JsonObject> page, string? next) = Paging.Page(steps, offset, Math.Clamp(maxResults, 1, 50));
        var result = new JsonObject { ["StepExecutions"] = new JsonArray([.. page]) };
        if (next is not null)
        {
            result["NextToken"] = next;
        }

        return JsonProtocol.WriteAsync(call, result, contentType: JsonProtocol.Json11ContentType);
    }

    private Task SendAutomationSignal(AwsCall call, JsonObject body)
    {
        (SimWorld world, AutomationExecution execution) = FindExecution(call, body);
        string signal = Required(JsonProtocol.String(body, "SignalType"), "signalType");
        string? comment = (body["Payload"] as JsonObject)?["Comment"] is JsonArray comments ? SsmDocument.Text(comments.FirstOrDefault()) : null;
        if (signal is not ("Approve" or "Reject"))
        {
            throw new AwsException(400, "InvalidAutomationSignalException", $"The simulator takes the signals Approve and Reject, not {signal}.");
        }

        lock (world.Gate)
        {
            if (execution.Approvers is not { } approvers)
            {
                throw new AwsException(400, "InvalidAutomationSignalException", $"Automation execution {execution.AutomationExecutionId} is not waiting for an approval.");
            }

            // An approver is named by user name or ARN (of a user, or a role the caller assumed).
            string user = call.Account.UserArn;
            if (!approvers.Any(a => a == user || a == user[(user.LastIndexOf('/') + 1)..]))
            {
                throw new AwsException(400, "InvalidAutomationSignalException", $"{user} is not an approver of this step (its approvers: {string.Join(", ", approvers)}).");
            }

            execution.Signals.Add((signal, user, comment));
        }

        execution.SignalArrived.Release();
        return JsonProtocol.WriteAsync(call, new JsonObject(), contentType: JsonProtocol.Json11ContentType);
    }

    private Task StopAutomationExecution(AwsCall call, JsonObject body)
    {
        (SimWorld world, AutomationExecution execution) = FindExecution(call, body);
        string type = JsonProtocol.String(body, "Type") ?? "Cancel";
        if (type is not ("Cancel" or "Complete"))
        {
            throw Validation($"Value '{type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [Complete, Cancel]");
        }

        lock (world.Gate)
        {
            if (execution.IsFinished)
            {
                throw new AwsException(400, "InvalidAutomationStatusUpdateException", $"Automation execution {execution.AutomationExecutionId} is {execution.Status} and cannot be stopped.");
            }

            execution.Status = "Cancelling";
        }

        execution.Stop.Cancel();
        return JsonProtocol.WriteAsync(call, new JsonObject(), contentType: JsonProtocol.Json11ContentType);
    }

    private (SimWorld World, AutomationExecution Execution) FindExecution(AwsCall call, JsonObject body)
    {
        string id = Required(JsonProtocol.String(body, "AutomationExecutionId"), "automationExecutionId");
        return automation.Find(call.World, id)
            ?? throw new AwsException(400, "AutomationExecutionNotFoundException", $"Automation execution {id} not found.");
    }

    /// <summary>The execution's parameters, every declared one with its value or default; InvalidAutomationExecutionParametersException
    /// for one the document does not declare, a required one missing, or a value its type, allowedValues or allowedPattern refuses.</summary>
    private static Dictionary<string, List<string>> AutomationParameters(SsmDocument document, JsonObject? given)
    {
        var declared = document.Parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach ((string name, JsonNode? value) in given ?? [])
        {
            if (!declared.ContainsKey(name))
            {
                throw InvalidParameters($"Parameter \"{name}\" is not defined in the document. Its parameters: {string.Join(", ", declared.Keys)}.");
            }

            values[name] = value is JsonArray list ? [.. list.Select(v => SsmDocument.Text(v) ?? "")] : [SsmDocument.Text(value) ?? ""];
        }

        foreach (DocumentParameter p in declared.Values)
        {
            if (!values.TryGetValue(p.Name, out List<string>? v))
            {
                if (p.Default is null)
                {
                    throw InvalidParameters($"Parameter \"{p.Name}\" is required.");
                }

                values[p.Name] = v = p.Default is JsonArray list ? [.. list.Select(i => SsmDocument.Text(i) ?? "")] : [SsmDocument.Text(p.Default) ?? ""];
            }

            string? wrong = p.Type switch
            {
                "String" or "AWS::EC2::Image::Id" when v.Count != 1 => "takes one value",
                "Boolean" when v.Count != 1 || !bool.TryParse(v[0], out _) => "takes true or false",
                "Integer" when v.Count != 1 || !int.TryParse(v[0], out _) => "takes a whole number",
                _ => v.FirstOrDefault(x => p.AllowedValues.Count > 0 && !p.AllowedValues.Contains(x)) is { } notAllowed ? $"does not allow '{notAllowed}' (allowed: {string.Join(", ", p.AllowedValues)})"
                    : p.AllowedPattern is { } pattern && v.FirstOrDefault(x => !Regex.IsMatch(x, pattern, RegexOptions.None, TimeSpan.FromSeconds(1))) is { } mismatch
                        ? $"value '{mismatch}' does not match the allowed pattern {pattern}" : null,
            };
            if (wrong is not null)
            {
                throw InvalidParameters($"Parameter \"{p.Name}\" ({p.Type}) {wrong}.");
            }
        }

        return values;
    }

    /// <summary>The accounts and Regions of TargetLocations, in order: accounts by id, or every account of an organizational
    /// unit (the scenario's), less ExcludeAccounts (ids or units).</summary>
    private IReadOnlyList<AutomationLocation> Locations(AwsCall call, JsonArray targetLocations)
    {
        if (targetLocations.Count is 0 or > 100)
        {
            throw Validation("TargetLocations takes 1 to 100 locations.");
        }

        var locations = new List<AutomationLocation>();
        for (int i = 0; i < targetLocations.Count; i++)
        {
            JsonObject spec = targetLocations[i] as JsonObject ?? throw Validation("Each TargetLocation is an object.");
            List<string> accounts = JsonProtocol.StringList(spec, "Accounts") ?? [call.Account.Id];
            List<string> regions = JsonProtocol.StringList(spec, "Regions") ?? [call.World.Region];
            foreach ((string field, string? rate, string pattern) in new[]
            {
                ("TargetLocationMaxConcurrency", JsonProtocol.String(spec, "TargetLocationMaxConcurrency"), @"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$"),
                ("TargetLocationMaxErrors", JsonProtocol.String(spec, "TargetLocationMaxErrors"), @"^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$"),
            })
            {
                if (rate is not null && !Regex.IsMatch(rate, pattern, RegexOptions.None, TimeSpan.FromSeconds(1)))
                {
                    throw Validation($"Value '{rate}' at 'targetLocations.{i + 1}.member.{char.ToLowerInvariant(field[0])}{field[1..]}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}");
                }
            }

            List<string> excluded = JsonProtocol.StringList(spec, "ExcludeAccounts") ?? [];
            var expanded = accounts.SelectMany(id => Members(id)).Where(a => !excluded.Contains(a.Id) && !excluded.Contains(a.OrganizationalUnit ?? "")).Distinct().ToList();
            foreach (SimAccount account in expanded)
            {
                foreach (string region in regions)
                {
                    if (!RegionCode().IsMatch(region))
                    {
                        throw Validation($"'{region}' is not a Region code.");
                    }

                    locations.Add(new AutomationLocation(account, region, i));
                }
            }
        }

        return locations;
    }

    /// <summary>The account of an id, or the accounts of an organizational unit.</summary>
    private IEnumerable<SimAccount> Members(string id)
    {
        var all = automation.Organization.Accounts;
        if (id.StartsWith("ou-", StringComparison.Ordinal))
        {
            var members = all.Where(a => a.OrganizationalUnit == id).ToList();
            return members.Count > 0 ? members
                : throw Validation($"The organizational unit {id} has no account of the simulator's (its units: {string.Join(", ", all.Select(a => a.OrganizationalUnit).OfType<string>().Distinct())}).");
        }

        return [all.FirstOrDefault(a => a.Id == id) ?? throw Validation($"Account {id} is not one of the simulator's accounts ({string.Join(", ", all.Select(a => a.Id))}).")];
    }

    /// <summary>The one alarm of an AlarmConfiguration; it must exist in <paramref name="automationWorld"/> when given.</summary>
    private static (string? Name, bool IgnorePollFailure) Alarm(SimWorld? automationWorld, JsonObject? configuration)
    {
        if (configuration is null)
        {
            return (null, false);
        }

        if (configuration["Alarms"] is not JsonArray { Count: 1 } alarms || SsmDocument.Text((alarms[0] as JsonObject)?["Name"]) is not { Length: > 0 } name)
        {
            throw Validation("AlarmConfiguration.Alarms takes exactly one alarm, with its Name.");
        }

        if (automationWorld is not null)
        {
            lock (automationWorld.Gate)
            {
                if (!automationWorld.Alarms.ContainsKey(name))
                {
                    throw Validation($"The alarm {name} does not exist in {automationWorld.AccountId}, {automationWorld.Region}.");
                }
            }
        }

        return (name, JsonProtocol.Bool(configuration, "IgnorePollAlarmFailure") ?? false);
    }

    private static AwsException InvalidParameters(string message) => new(400, "InvalidAutomationExecutionParametersException", message);

    [GeneratedRegex(@"^[a-z]{2}(-gov)?-[a-z]+-\d$")]
    private static partial Regex RegionCode();
}
