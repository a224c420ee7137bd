using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace WinEksPatch.Simulator.Aws.Protocols;

/// <summary>
/// Flat query-protocol parameters ("Filter.1.Value.2=x") with helpers for the two list encodings:
/// awsQuery's "Name.member.N" and EC2's "Name.N".
/// </summary>
public sealed class QueryParams
{
    private readonly Dictionary<string, string> _values;

    private QueryParams(Dictionary<string, string> values) => _values = values;

    public static QueryParams FromPairs(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> pair in pairs)
        {
            values[pair.Key] = pair.Value;
        }

        return new QueryParams(values);
    }

    /// <summary>Parses an application/x-www-form-urlencoded body ('+' is a space there).</summary>
    public static QueryParams FromForm(byte[] body)
    {
        // A broken percent-escape is the query services' MalformedQueryString (400), not something to guess around.
        string text = Encoding.UTF8.GetString(body);
        System.Text.RegularExpressions.Match bad = System.Text.RegularExpressions.Regex.Match(text, "%(?![0-9A-Fa-f]{2})", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1));
        if (bad.Success)
        {
            throw new AwsException(400, "MalformedQueryString", $"Invalid percent-encoding in the query string at position {bad.Index}.");
        }

        Dictionary<string, Microsoft.Extensions.Primitives.StringValues> parsed = QueryHelpers.ParseQuery(text);
        return FromPairs(parsed.Select(p => new KeyValuePair<string, string>(p.Key, p.Value.ToString())));
    }

    public string? Get(string name) => _values.TryGetValue(name, out string? v) ? v : null;

    public bool Has(string name) => _values.ContainsKey(name);

    public IEnumerable<string> Names => _values.Keys;

    /// <summary>Values of a list: prefix.1, prefix.2, ... (EC2) or prefix.member.1, ... (awsQuery), in index order.</summary>
    public List<string> List(string prefix) =>
        Indexed(prefix).Select(i => _values[$"{prefix}.{i}"]).ToList();

    /// <summary>Indexes N present as "prefix.N" or "prefix.N.something", ascending.</summary>
    public List<int> Indexed(string prefix)
    {
        var indexes = new SortedSet<int>();
        string start = prefix + ".";
        foreach (string key in _values.Keys)
        {
            if (!key.StartsWith(start, StringComparison.Ordinal))
            {
                continue;
            }

            string rest = key[start.Length..];
            int dot = rest.IndexOf('.', StringComparison.Ordinal);
            string number = dot < 0 ? rest : rest[..dot];
            if (int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            {
                indexes.Add(n);
            }
        }

        return [.. indexes];
    }

    /// <summary>
    /// Filters as (Name, Values). EC2: Filter.N.Name / Filter.N.Value.M;
    /// awsQuery: Filters.member.N.Name / Filters.member.N.Values.member.M.
    /// </summary>
    public List<(string Name, List<string> Values)> Filters(string listPrefix, string valuesPrefix)
    {
        var filters = new List<(string, List<string>)>();
        foreach (int i in Indexed(listPrefix))
        {
            string name = Get($"{listPrefix}.{i}.Name") ?? "";
            filters.Add((name, List($"{listPrefix}.{i}.{valuesPrefix}")));
        }

        return filters;
    }
}
