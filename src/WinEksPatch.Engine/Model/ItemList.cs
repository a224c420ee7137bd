namespace WinEksPatch.Model;

/// <summary>The list type of every list a model object carries. It is a <see cref="List{T}"/> in all respects (a JSON
/// array, an array to scripts and views) except that its text is its items joined by "; ": Export-Csv and
/// ConvertTo-Csv write a property's value as its ToString(), which for a plain list is its type name.</summary>
public sealed class ItemList<T> : List<T>
{
    public ItemList()
    {
    }

    public ItemList(IEnumerable<T> items)
        : base(items)
    {
    }

    public override string ToString() => string.Join("; ", this);
}

/// <summary>Wraps what a model object is given in an <see cref="ItemList{T}"/> (its init accessors call this, so a
/// caller may pass any list).</summary>
public static class ItemList
{
    public static ItemList<T> From<T>(IEnumerable<T>? items) => items as ItemList<T> ?? new ItemList<T>(items ?? []);
}

/// <summary>The dictionary type of every map a model object carries (tags): a <see cref="Dictionary{TKey, TValue}"/> in all
/// respects (a JSON object, a dictionary to scripts) whose text is "key=value; key=value", for Export-Csv.</summary>
public sealed class ItemMap : Dictionary<string, string>
{
    public ItemMap()
        : base(StringComparer.Ordinal)
    {
    }

    public ItemMap(IEnumerable<KeyValuePair<string, string>> items)
        : base(items, StringComparer.Ordinal)
    {
    }

    public override string ToString() => string.Join("; ", this.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
}
