namespace WinEksPatch.Simulator.Kubernetes;

/// <summary>A selector term could not be parsed or names an unsupported field (400 BadRequest).</summary>
public sealed class SelectorException(string message) : Exception(message);

/// <summary>
/// Kubernetes label selectors: "a=b", "a==b", "a!=b", "a in (x,y)", "a notin (x)", "a", "!a", comma-joined (AND).
/// </summary>
public sealed class LabelSelector
{
    private readonly List<Func<IReadOnlyDictionary<string, string>, bool>> _terms = [];

    public static LabelSelector Parse(string? text)
    {
        var selector = new LabelSelector();
        foreach (string raw in SplitTerms(text ?? ""))
        {
            string term = raw.Trim();
            if (term.Length == 0)
            {
                continue;
            }

            int open = term.IndexOf('(', StringComparison.Ordinal);
            if (open > 0)
            {
                string[] head = term[..open].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (head.Length != 2 || !term.EndsWith(')') || head[1] is not ("in" or "notin"))
                {
                    throw new SelectorException($"unable to parse requirement: {term}");
                }

                string key = head[0];
                var values = term[(open + 1)..^1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
                bool notIn = head[1] == "notin";
                selector._terms.Add(l => notIn
                    ? !l.TryGetValue(key, out string? v) || !values.Contains(v)
                    : l.TryGetValue(key, out string? v2) && values.Contains(v2));
            }
            else if (term.Contains("!=", StringComparison.Ordinal))
            {
                (string key, string value) = Split(term, "!=");
                selector._terms.Add(l => !l.TryGetValue(key, out string? v) || v != value);
            }
            else if (term.Contains('=', StringComparison.Ordinal))
            {
                (string key, string value) = Split(term, term.Contains("==", StringComparison.Ordinal) ? "==" : "=");
                selector._terms.Add(l => l.TryGetValue(key, out string? v) && v == value);
            }
            else if (term.StartsWith('!'))
            {
                string key = term[1..].Trim();
                selector._terms.Add(l => !l.ContainsKey(key));
            }
            else
            {
                selector._terms.Add(l => l.ContainsKey(term));
            }
        }

        return selector;
    }

    public bool Matches(IReadOnlyDictionary<string, string> labels) => _terms.TrueForAll(t => t(labels));

    private static (string Key, string Value) Split(string term, string op)
    {
        int at = term.IndexOf(op, StringComparison.Ordinal);
        return (term[..at].Trim(), term[(at + op.Length)..].Trim());
    }

    /// <summary>Splits on commas outside parentheses.</summary>
    private static IEnumerable<string> SplitTerms(string text)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    yield return text[start..i];
                    start = i + 1;
                    break;
            }
        }

        yield return text[start..];
    }
}

/// <summary>
/// Kubernetes field selectors: "field=value", "field==value", "field!=value", comma-joined (AND),
/// over the fields each resource supports (anything else is "field label not supported").
/// </summary>
public sealed class FieldSelector<T>
{
    private readonly List<Func<T, bool>> _terms = [];

    public static FieldSelector<T> Parse(string? text, IReadOnlyDictionary<string, Func<T, string>> fields)
    {
        var selector = new FieldSelector<T>();
        foreach (string raw in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            bool negate = raw.Contains("!=", StringComparison.Ordinal);
            string op = negate ? "!=" : raw.Contains("==", StringComparison.Ordinal) ? "==" : "=";
            int at = raw.IndexOf(op, StringComparison.Ordinal);
            if (at <= 0)
            {
                throw new SelectorException($"invalid selector: '{raw}'; can't understand '{raw}'");
            }

            string field = raw[..at].Trim();
            string value = raw[(at + op.Length)..].Trim();
            if (!fields.TryGetValue(field, out Func<T, string>? get))
            {
                throw new SelectorException($"field label not supported: {field}");
            }

            selector._terms.Add(o => (get(o) == value) != negate);
        }

        return selector;
    }

    public bool Matches(T item) => _terms.TrueForAll(t => t(item));
}
