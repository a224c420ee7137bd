using System.Globalization;
using System.Text.Json.Nodes;

namespace WinEksPatch.Simulator.Automation;

/// <summary>
/// aws:branch: the first of the Choices whose condition holds names the next step, else Default. A condition is a
/// Variable with one operator (StringEquals, EqualsIgnoreCase, StartsWith, EndsWith, Contains, BooleanEquals,
/// NumericEquals, NumericGreater, NumericLesser, NumericGreaterOrEquals, NumericLesserOrEquals), or And, Or, Not of
/// conditions. Inputs arrive with their variables filled in.
/// </summary>
internal static class Branch
{
    public static string? Choose(JsonObject inputs)
    {
        foreach (JsonObject choice in (inputs["Choices"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (Holds(choice))
            {
                return SsmDocument.Text(choice["NextStep"]);
            }
        }

        return SsmDocument.Text(inputs["Default"]);
    }

    private static bool Holds(JsonObject condition)
    {
        if (condition["And"] is JsonArray all)
        {
            return all.OfType<JsonObject>().All(Holds);
        }

        if (condition["Or"] is JsonArray any)
        {
            return any.OfType<JsonObject>().Any(Holds);
        }

        if (condition["Not"] is JsonObject not)
        {
            return !Holds(not);
        }

        if (condition["Not"] is JsonArray notList)
        {
            return !notList.OfType<JsonObject>().All(Holds);
        }

        string value = condition["Variable"] switch
        {
            JsonValue v => SsmDocument.Text(v) ?? "",
            JsonNode other => other.ToJsonString(),
            null => "",
        };
        foreach ((string op, JsonNode? operand) in condition)
        {
            string expected = SsmDocument.Text(operand) ?? "";
            bool? result = op switch
            {
                "StringEquals" => value == expected,
                "EqualsIgnoreCase" => string.Equals(value, expected, StringComparison.OrdinalIgnoreCase),
                "StartsWith" => value.StartsWith(expected, StringComparison.Ordinal),
                "EndsWith" => value.EndsWith(expected, StringComparison.Ordinal),
                "Contains" => value.Contains(expected, StringComparison.Ordinal),
                "BooleanEquals" => bool.TryParse(value, out bool b) && bool.TryParse(expected, out bool e) && b == e,
                "NumericEquals" => Compare(value, expected) is 0,
                "NumericGreater" => Compare(value, expected) > 0,
                "NumericLesser" => Compare(value, expected) < 0,
                "NumericGreaterOrEquals" => Compare(value, expected) >= 0,
                "NumericLesserOrEquals" => Compare(value, expected) <= 0,
                _ => null,
            };
            if (result is bool holds)
            {
                return holds;
            }
        }

        return false;
    }

    private static int? Compare(string value, string expected) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double a) && double.TryParse(expected, NumberStyles.Float, CultureInfo.InvariantCulture, out double b)
            ? a.CompareTo(b) : null;
}
