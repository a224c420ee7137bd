using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace WinEksPatch.Simulator.Automation;

/// <summary>A variable a step names that the execution does not have: the step fails with this message.</summary>
public sealed class AutomationVariableException(string message) : Exception(message);

/// <summary>
/// The variables of one execution, as Automation fills them into step inputs: <c>{{ Parameter }}</c>,
/// <c>{{ Step.Output }}</c>, <c>{{ automation:EXECUTION_ID }}</c> and <c>{{ global:ACCOUNT_ID }}</c>, <c>REGION</c>,
/// <c>DATE_TIME</c>, <c>AWS_PARTITION</c>. A value that is only a variable takes the variable's type (a StringList is a
/// list); inside text, a list is written as JSON. Called with the world's lock held.
/// </summary>
public sealed partial class AutomationVariables(AutomationExecution execution, Func<DateTimeOffset> now)
{
    public JsonNode? Fill(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, Fill(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Fill)]),
        JsonValue v when v.TryGetValue(out string? s) => FillText(s),
        _ => node?.DeepClone(),
    };

    private JsonNode? FillText(string text)
    {
        Match whole = Whole().Match(text);
        if (whole.Success)
        {
            return Value(whole.Groups[1].Value);
        }

        return JsonValue.Create(Placeholder().Replace(text, m => Value(m.Groups[1].Value) switch
        {
            JsonValue v => SsmDocument.Text(v) ?? "",
            JsonNode other => other.ToJsonString(),
            null => "",
        }));
    }

    /// <summary>The value of one variable; AutomationVariableException when there is none of that name.</summary>
    public JsonNode? Value(string name)
    {
        switch (name)
        {
            case "automation:EXECUTION_ID":
                return execution.AutomationExecutionId;
            case "global:ACCOUNT_ID":
                return execution.AccountId;
            case "global:REGION":
                return execution.Region;
            case "global:AWS_PARTITION":
                return "aws";
            case "global:AWS_URL_SUFFIX":
                return "amazonaws.com";
            case "global:DATE_TIME":
                return now().UtcDateTime.ToString("yyyy-MM-dd_HH.mm.ss", CultureInfo.InvariantCulture);
            case "global:DATE":
                return now().UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }

        if (execution.Document.Parameters.FirstOrDefault(p => p.Name == name) is { } parameter)
        {
            List<string> values = execution.Parameters.GetValueOrDefault(name) ?? [];
            return parameter.Type is "StringList" or "MapList" ? new JsonArray([.. values.Select(v => (JsonNode?)JsonValue.Create(v))])
                : values.Count > 0 ? JsonValue.Create(values[0]) : JsonValue.Create("");
        }

        int dot = name.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0 && execution.StepExecutions.LastOrDefault(s => s.StepName == name[..dot] && s.StepStatus == "Success") is { } step
            && step.Outputs.TryGetValue(name[(dot + 1)..], out List<string>? output))
        {
            return OutputValue(execution.Document, step.StepName, name[(dot + 1)..], output);
        }

        throw new AutomationVariableException($"Unable to resolve the variable {{{{ {name} }}}}: it is not a parameter of the document, an output of a step that ran, or a global variable.");
    }

    /// <summary>A step output as its declared type: a StringList (or MapList) is a list, anything else one value.</summary>
    private static JsonNode? OutputValue(SsmDocument document, string step, string output, List<string> values)
    {
        string? type = document.Steps.OfType<JsonObject>().FirstOrDefault(s => SsmDocument.Text(s["name"]) == step)?["outputs"] is JsonArray outputs
            ? outputs.OfType<JsonObject>().Where(o => SsmDocument.Text(o["Name"]) == output).Select(o => SsmDocument.Text(o["Type"])).FirstOrDefault()
            : null;
        return type is "StringList" or "MapList" ? new JsonArray([.. values.Select(v => (JsonNode?)JsonValue.Create(v))])
            : values.Count > 0 ? JsonValue.Create(values[0]) : null;
    }

    /// <summary>The value a selector (<c>$.Payload.Status</c>, <c>$.Payload.Items[0]</c>) picks from a step's response.</summary>
    public static JsonNode? Select(JsonNode? root, string selector)
    {
        if (!selector.StartsWith('$'))
        {
            return null;
        }

        JsonNode? node = root;
        foreach (Match part in SelectorPart().Matches(selector[1..]))
        {
            node = part.Groups["name"].Success ? (node as JsonObject)?[part.Groups["name"].Value]
                : node is JsonArray list && int.Parse(part.Groups["index"].Value, CultureInfo.InvariantCulture) is int i && i < list.Count ? list[i] : null;
        }

        return node;
    }

    /// <summary>A selected value as the strings an output holds: a list's items, or the one value.</summary>
    public static List<string> AsStrings(JsonNode? value) => value switch
    {
        null => [],
        JsonArray list => [.. list.Select(i => SsmDocument.Text(i) ?? i?.ToJsonString() ?? "")],
        JsonObject o => [o.ToJsonString()],
        _ => [SsmDocument.Text(value) ?? ""],
    };

    [GeneratedRegex(@"^\s*\{\{\s*([\w:.-]+)\s*\}\}\s*$")]
    private static partial Regex Whole();

    [GeneratedRegex(@"\{\{\s*([\w:.-]+)\s*\}\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"\.(?<name>\w+)|\[(?<index>\d+)\]")]
    private static partial Regex SelectorPart();
}
