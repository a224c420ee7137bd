using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace WinEksPatch.Simulator.Auth.Iam;

/// <summary>
/// One request to authorize: an action ("ec2:CreateTags"), one resource ARN (or "*"), and the request context keys.
/// Context keys are matched case-insensitively (as IAM does); each key has one value (single-valued keys) or several
/// (multivalued keys such as aws:TagKeys; an empty list means the key is present with no values).
/// </summary>
public sealed record IamRequest(string Action, string Resource, IReadOnlyDictionary<string, IReadOnlyList<string>> Context);

/// <summary>The three outcomes IAM distinguishes: only an explicit deny cannot be overridden by another policy.</summary>
public enum IamDecision { Allow, ImplicitDeny, ExplicitDeny }

/// <summary>
/// The decision and the statement that made it (its Sid, or "Statement[&lt;index&gt;]" when it has none); null for an
/// implicit deny, since no statement made it.
/// </summary>
public sealed record IamEvaluation(IamDecision Decision, string? Statement);

/// <summary>A policy that does not parse or breaks IAM's grammar; Message says what and where, as IAM's MalformedPolicyDocument would.</summary>
public sealed class IamPolicyFormatException(string message) : Exception(message);

/// <summary>
/// One identity-based policy, parsed and checked as IAM does at upload (so a policy the module generates fails here when
/// IAM would refuse it) and evaluated as IAM evaluates a single identity policy: an explicit Deny wins, then an Allow,
/// else an implicit deny. Policy variables are not substituted: "${" is matched literally.
/// </summary>
public sealed class IamPolicyDocument
{
    private static readonly string[] Versions = ["2012-10-17", "2008-10-17"];
    private static readonly string[] StatementFields = ["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];

    private enum Family { String, StringIgnoreCase, StringLike, Numeric, Date, Bool, Binary, Ip, Arn, Null }

    private enum Comparison { Equal, LessThan, LessThanEquals, GreaterThan, GreaterThanEquals }

    private enum SetQualifier { None, ForAllValues, ForAnyValue }

    private sealed record OperatorSpec(Family Family, Comparison Comparison = Comparison.Equal, bool Negated = false);

    private sealed record Clause(OperatorSpec Spec, SetQualifier Set, bool IfExists, string Key, IReadOnlyList<string> Values);

    private sealed record Statement(
        string Name, bool IsAllow, bool NotAction, IReadOnlyList<string> Actions,
        bool NotResource, IReadOnlyList<string> Resources, IReadOnlyList<Clause> Conditions);

    /// <summary>Every operator of "IAM JSON policy elements: Condition operators"; names are looked up case-insensitively.</summary>
    private static readonly Dictionary<string, OperatorSpec> Operators = new(StringComparer.OrdinalIgnoreCase)
    {
        ["StringEquals"] = new(Family.String), ["StringNotEquals"] = new(Family.String, Negated: true),
        ["StringEqualsIgnoreCase"] = new(Family.StringIgnoreCase), ["StringNotEqualsIgnoreCase"] = new(Family.StringIgnoreCase, Negated: true),
        ["StringLike"] = new(Family.StringLike), ["StringNotLike"] = new(Family.StringLike, Negated: true),
        ["NumericEquals"] = new(Family.Numeric), ["NumericNotEquals"] = new(Family.Numeric, Negated: true),
        ["NumericLessThan"] = new(Family.Numeric, Comparison.LessThan), ["NumericLessThanEquals"] = new(Family.Numeric, Comparison.LessThanEquals),
        ["NumericGreaterThan"] = new(Family.Numeric, Comparison.GreaterThan), ["NumericGreaterThanEquals"] = new(Family.Numeric, Comparison.GreaterThanEquals),
        ["DateEquals"] = new(Family.Date), ["DateNotEquals"] = new(Family.Date, Negated: true),
        ["DateLessThan"] = new(Family.Date, Comparison.LessThan), ["DateLessThanEquals"] = new(Family.Date, Comparison.LessThanEquals),
        ["DateGreaterThan"] = new(Family.Date, Comparison.GreaterThan), ["DateGreaterThanEquals"] = new(Family.Date, Comparison.GreaterThanEquals),
        ["Bool"] = new(Family.Bool), ["BinaryEquals"] = new(Family.Binary),
        ["IpAddress"] = new(Family.Ip), ["NotIpAddress"] = new(Family.Ip, Negated: true),
        // "ArnEquals, ArnLike: ... Each of the six colon-delimited components of the ARN is checked separately and each can
        // include multi-character match wildcards (*) or single-character match wildcards (?)": the two behave alike.
        ["ArnEquals"] = new(Family.Arn), ["ArnLike"] = new(Family.Arn),
        ["ArnNotEquals"] = new(Family.Arn, Negated: true), ["ArnNotLike"] = new(Family.Arn, Negated: true),
        ["Null"] = new(Family.Null),
    };

    private readonly IReadOnlyList<Statement> _statements;

    private IamPolicyDocument(IReadOnlyList<Statement> statements) => _statements = statements;

    /// <summary>Parses and checks a policy; throws <see cref="IamPolicyFormatException"/> where IAM would answer MalformedPolicyDocument.</summary>
    public static IamPolicyDocument Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            // IAM takes strict JSON: no comments, no trailing commas.
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new IamPolicyFormatException($"The policy is not valid JSON (Syntax errors in policy): {e.Message}");
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            Check(root.ValueKind == JsonValueKind.Object, "The policy must be a JSON object.");

            JsonElement? statementNode = null;
            foreach (JsonProperty member in root.EnumerateObject())
            {
                switch (member.Name)
                {
                    case "Version":
                        string? version = member.Value.ValueKind == JsonValueKind.String ? member.Value.GetString() : null;
                        Check(version != null && Versions.Contains(version, StringComparer.Ordinal), $"The policy must contain a valid version string: Version {member.Value.GetRawText()} is neither 2012-10-17 nor 2008-10-17.");
                        break;
                    case "Id":
                        _ = RequireString(member.Value, "Id");
                        break;
                    case "Statement":
                        statementNode = member.Value;
                        break;
                    default:
                        throw new IamPolicyFormatException($"Unknown field {member.Name} in the policy (known: Version, Id, Statement).");
                }
            }

            JsonElement node = statementNode.GetValueOrDefault();
            Check(node.ValueKind is JsonValueKind.Object or JsonValueKind.Array, "The policy must contain a Statement (an object or an array of objects).");
            JsonElement[] elements = node.ValueKind == JsonValueKind.Array ? [.. node.EnumerateArray()] : [node];
            Check(elements.Length > 0, "The policy's Statement array is empty.");

            var statements = elements.Select(ParseStatement).ToList();
            string? duplicate = statements.Select(s => s.Name).GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1)?.Key;
            Check(duplicate == null, $"Statement IDs (SID) in a single policy must be unique: {duplicate} appears twice.");

            return new IamPolicyDocument(statements);
        }
    }

    /// <summary>Decides the request as IAM does for one identity policy: any matching Deny, else any matching Allow, else implicit deny.</summary>
    public IamEvaluation Evaluate(IamRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);

        // The caller's dictionary may compare keys ordinally; IAM compares condition key names case-insensitively.
        var context = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        foreach ((string key, IReadOnlyList<string> values) in request.Context)
        {
            context[key] = context.TryGetValue(key, out IReadOnlyList<string>? earlier) ? [.. earlier, .. values] : values;
        }

        Statement? allowedBy = null;
        foreach (Statement statement in _statements.Where(s => Matches(s, request, context)))
        {
            if (!statement.IsAllow)
            {
                return new IamEvaluation(IamDecision.ExplicitDeny, statement.Name);
            }

            allowedBy ??= statement;
        }

        return allowedBy == null ? new IamEvaluation(IamDecision.ImplicitDeny, null) : new IamEvaluation(IamDecision.Allow, allowedBy.Name);
    }

    private static Statement ParseStatement(JsonElement element, int index)
    {
        string where = $"Statement[{index}]";
        Check(element.ValueKind == JsonValueKind.Object, $"{where} must be a JSON object.");

        var members = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (JsonProperty member in element.EnumerateObject())
        {
            Check(StatementFields.Contains(member.Name, StringComparer.Ordinal), $"{where}: unknown field {member.Name}.");
            members[member.Name] = member.Value;
        }

        // An empty Sid passes IAM's [0-9A-Za-z]* and names nothing, so such a statement is reported by its index.
        string name = where;
        if (members.TryGetValue("Sid", out JsonElement sid) && RequireString(sid, $"{where} Sid") is { Length: > 0 } id)
        {
            (name, where) = (id, $"{where} (Sid {id})");
            Check(id.All(char.IsAsciiLetterOrDigit), $"{where}: Statement IDs (SID) must be alpha-numeric ([0-9A-Za-z]*).");
        }

        Check(!members.ContainsKey("Principal") && !members.ContainsKey("NotPrincipal"), $"{where}: Policy document should not specify a principal (Principal/NotPrincipal belong in resource-based policies, not identity policies).");
        Check(members.TryGetValue("Effect", out JsonElement effectNode), $"{where}: Missing required field Effect.");

        string effect = RequireString(effectNode, $"{where} Effect");
        Check(effect is "Allow" or "Deny", $"{where}: Invalid effect: {effect} (Effect is Allow or Deny, case-sensitive).");

        (bool notAction, IReadOnlyList<string> actions) = OneOf(members, "Action", "NotAction", where, "actions");
        string? unprefixed = actions.FirstOrDefault(a => a != "*" && a.IndexOf(':', StringComparison.Ordinal) <= 0);
        Check(unprefixed == null, $"{where}: Action {unprefixed} must be prefaced by a vendor, e.g., iam, ec2 (service:Name).");

        (bool notResource, IReadOnlyList<string> resources) = OneOf(members, "Resource", "NotResource", where, "resources");
        string? notArn = resources.FirstOrDefault(r => r != "*" && !r.StartsWith("arn:", StringComparison.Ordinal));
        Check(notArn == null, $"{where}: Resource {notArn} must be in ARN format or \"*\".");

        IReadOnlyList<Clause> conditions = members.TryGetValue("Condition", out JsonElement condition) ? ParseCondition(condition, where) : [];
        return new Statement(name, effect == "Allow", notAction, actions, notResource, resources, conditions);
    }

    /// <summary>Action/NotAction and Resource/NotResource: an identity statement needs exactly one of each pair.</summary>
    private static (bool Not, IReadOnlyList<string> Values) OneOf(Dictionary<string, JsonElement> members, string field, string notField, string where, string noun)
    {
        bool has = members.TryGetValue(field, out JsonElement value);
        bool hasNot = members.TryGetValue(notField, out JsonElement notValue);
        Check(!(has && hasNot), $"{where}: has both {field} and {notField}; a statement takes exactly one.");
        Check(has || hasNot, $"{where}: Policy statement must contain {noun} ({field} or {notField}).");

        List<string> values = StringOrArray(has ? value : notValue, $"{where} {(has ? field : notField)}", allowScalars: false);
        return values.Count == 0 ? throw new IamPolicyFormatException($"{where}: Policy statement must contain {noun}; {(has ? field : notField)} is empty.") : (hasNot, values);
    }

    private static List<Clause> ParseCondition(JsonElement condition, string where)
    {
        Check(condition.ValueKind == JsonValueKind.Object, $"{where}: Condition must be an object of operators.");

        var clauses = new List<Clause>();
        foreach (JsonProperty op in condition.EnumerateObject())
        {
            string name = op.Name;
            var set = SetQualifier.None;
            foreach ((string prefix, SetQualifier qualifier) in new[] { ("ForAllValues:", SetQualifier.ForAllValues), ("ForAnyValue:", SetQualifier.ForAnyValue) })
            {
                if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                {
                    (set, name) = (qualifier, name[prefix.Length..]);
                }
            }

            bool ifExists = name.EndsWith("IfExists", StringComparison.OrdinalIgnoreCase);
            string baseName = ifExists ? name[..^"IfExists".Length] : name;
            // Null tests presence only, so IAM has no NullIfExists; a set qualifier on it would test nothing more.
            Check(Operators.TryGetValue(baseName, out OperatorSpec? spec) && !(spec.Family == Family.Null && (ifExists || set != SetQualifier.None)), $"{where}: unknown condition operator {op.Name}.");
            Check(op.Value.ValueKind == JsonValueKind.Object && op.Value.EnumerateObject().Any(), $"{where}: condition operator {op.Name} must map at least one condition key to its values.");

            foreach (JsonProperty key in op.Value.EnumerateObject())
            {
                List<string> values = StringOrArray(key.Value, $"{where} {op.Name} {key.Name}", allowScalars: true);
                clauses.Add(values.Count == 0
                    ? throw new IamPolicyFormatException($"{where}: condition key {key.Name} of {op.Name} has no values.")
                    : new Clause(spec, set, ifExists, key.Name, values));
            }
        }

        return clauses;
    }

    /// <summary>A string or an array of strings; condition values may also be JSON numbers or booleans, which IAM takes as their text.</summary>
    private static List<string> StringOrArray(JsonElement node, string what, bool allowScalars)
    {
        string One(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.String => e.GetString()!,
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False when allowScalars => e.GetRawText(),
            _ => throw new IamPolicyFormatException($"{what} must be a string or an array of strings, not {e.ValueKind}."),
        };
        return node.ValueKind == JsonValueKind.Array ? [.. node.EnumerateArray().Select(One)] : [One(node)];
    }

    /// <summary>One grammar rule: IAM refuses the whole policy when any rule fails, so the first failure ends the parse.</summary>
    private static void Check([DoesNotReturnIf(false)] bool ok, string message)
    {
        if (!ok)
        {
            throw new IamPolicyFormatException(message);
        }
    }

    private static string RequireString(JsonElement node, string what) =>
        node.ValueKind == JsonValueKind.String ? node.GetString()! : throw new IamPolicyFormatException($"{what} must be a string.");

    private static bool Matches(Statement s, IamRequest request, Dictionary<string, IReadOnlyList<string>> context)
    {
        // Actions are case-insensitive ("ec2:createtags" is ec2:CreateTags); ARNs are case-sensitive.
        bool actionListed = s.Actions.Any(p => Glob(p, request.Action, ignoreCase: true));
        bool resourceListed = s.Resources.Any(p => Glob(p, request.Resource, ignoreCase: false));
        return actionListed != s.NotAction && resourceListed != s.NotResource && s.Conditions.All(c => Holds(c, context));
    }

    /// <summary>One condition key under one operator; the rules for absent keys and set qualifiers follow the IAM user guide.</summary>
    private static bool Holds(Clause c, Dictionary<string, IReadOnlyList<string>> context)
    {
        bool present = context.TryGetValue(c.Key, out IReadOnlyList<string>? values);
        if (c.Spec.Family == Family.Null)
        {
            // "true (the key doesn't exist — it is null) or false (the key exists and its value is not null)"; values OR.
            return c.Values.Any(v => string.Equals(v, present ? "false" : "true", StringComparison.OrdinalIgnoreCase));
        }

        if (!present)
        {
            // IfExists: "If the key is not present, evaluate the condition element as true."
            // ForAllValues: "It also returns true if there are no context keys in the request." ForAnyValue needs a value.
            // Plain operators, from "Condition operators": "If the key that you specify in a policy condition is not present
            // in the request context, the values do not match and the condition is false. If the policy condition requires
            // that the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the
            // condition is true."
            return c.IfExists || c.Set == SetQualifier.ForAllValues || (c.Set == SetQualifier.None && c.Spec.Negated);
        }

        return c.Set switch
        {
            // Every request value must match (vacuously true for an empty set, as IAM documents: pair it with Null false).
            SetQualifier.ForAllValues => values!.All(v => ValueMatches(c, v)),
            SetQualifier.ForAnyValue => values!.Any(v => ValueMatches(c, v)),
            // "Multivalued context keys require a condition set operator" and IAM does not say what happens without one:
            // a positive operator holds when any request value matches, a negated one when no request value matches.
            _ when c.Spec.Negated => values!.All(v => ValueMatches(c, v)),
            _ => values!.Any(v => ValueMatches(c, v)),
        };
    }

    /// <summary>
    /// One request value against the policy values: they OR together, and a negated operator holds when none matches (NOR).
    /// A request value that is not of the operator's type (not a number, date, IP address, ARN...) matches neither way.
    /// </summary>
    private static bool ValueMatches(Clause c, string value)
    {
        bool? any = AnyPolicyValueMatches(c, value);
        return any is { } matched && matched != c.Spec.Negated;
    }

    private static bool? AnyPolicyValueMatches(Clause c, string value)
    {
        IReadOnlyList<string> policy = c.Values;
        string[] arn = value.Split(':', 6);
        return c.Spec.Family switch
        {
            Family.String => policy.Any(p => string.Equals(p, value, StringComparison.Ordinal)),
            Family.StringIgnoreCase => policy.Any(p => string.Equals(p, value, StringComparison.OrdinalIgnoreCase)),
            Family.StringLike => policy.Any(p => Glob(p, value, ignoreCase: false)),
            Family.Numeric when TryNumber(value, out double n) => policy.Any(p => TryNumber(p, out double pn) && Compare(c.Spec.Comparison, n.CompareTo(pn))),
            Family.Date when TryDate(value, out DateTimeOffset d) => policy.Any(p => TryDate(p, out DateTimeOffset pd) && Compare(c.Spec.Comparison, d.CompareTo(pd))),
            Family.Bool when bool.TryParse(value, out bool b) => policy.Any(p => bool.TryParse(p, out bool pb) && pb == b),
            Family.Binary when TryBase64(value) is { } bytes => policy.Any(p => TryBase64(p) is { } pbytes && pbytes.AsSpan().SequenceEqual(bytes)),
            Family.Ip when IPAddress.TryParse(value, out IPAddress? ip) => policy.Any(p => InCidr(ip, p)),
            Family.Arn when arn.Length == 6 => policy.Any(p => p.Split(':', 6) is { Length: 6 } pp && pp.Zip(arn).All(x => Glob(x.First, x.Second, ignoreCase: false))),
            _ => null, // a number, date, boolean, base64, address or ARN operator given a request value of another type
        };
    }

    private static bool Compare(Comparison comparison, int order) => comparison switch
    {
        Comparison.Equal => order == 0,
        Comparison.LessThan => order < 0,
        Comparison.LessThanEquals => order <= 0,
        Comparison.GreaterThan => order > 0,
        _ => order >= 0,
    };

    private static bool TryNumber(string text, out double number) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out number) && double.IsFinite(number);

    /// <summary>IAM dates are ISO 8601 (zone-less ones are UTC) or epoch seconds.</summary>
    private static bool TryDate(string text, out DateTimeOffset date)
    {
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seconds))
        {
            bool inRange = seconds >= DateTimeOffset.MinValue.ToUnixTimeSeconds() && seconds <= DateTimeOffset.MaxValue.ToUnixTimeSeconds();
            date = inRange ? DateTimeOffset.FromUnixTimeSeconds(seconds) : default;
            return inRange;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out date);
    }

    private static byte[]? TryBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out int written) ? buffer[..written] : null;
    }

    /// <summary>CIDR containment for IPv4 and IPv6; a bare address is a /32 or /128, and host bits in the block are ignored.</summary>
    private static bool InCidr(IPAddress address, string cidr)
    {
        int slash = cidr.IndexOf('/', StringComparison.Ordinal);
        if (!IPAddress.TryParse(slash < 0 ? cidr : cidr[..slash], out IPAddress? network))
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6 && network.AddressFamily == AddressFamily.InterNetwork)
        {
            address = address.MapToIPv4();
        }

        byte[] a = address.GetAddressBytes(), n = network.GetAddressBytes();
        int prefix = a.Length * 8;
        if (a.Length != n.Length || (slash >= 0 && (!int.TryParse(cidr[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > a.Length * 8)))
        {
            return false;
        }

        for (int bit = 0; bit < prefix; bit++)
        {
            int mask = 0x80 >> (bit % 8);
            if ((a[bit / 8] & mask) != (n[bit / 8] & mask))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>IAM's wildcard match: '*' is any run of characters (also none), '?' exactly one; everything else is literal.</summary>
    private static bool Glob(string pattern, string text, bool ignoreCase)
    {
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                (star, resume) = (p++, t);
            }
            else if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]
                || (ignoreCase && char.ToUpperInvariant(pattern[p]) == char.ToUpperInvariant(text[t]))))
            {
                (p, t) = (p + 1, t + 1);
            }
            else if (star >= 0)
            {
                // Let the last '*' swallow one more character and retry from there.
                (p, t) = (star + 1, ++resume);
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
