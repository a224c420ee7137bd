using Microsoft.AspNetCore.Http;
using WinEksPatch.Simulator.Accounts;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws;

/// <summary>One authenticated AWS API request, as the services see it.</summary>
public sealed class AwsCall
{
    public required HttpContext Http { get; init; }
    /// <summary>The world of the caller's account in the region the call reached.</summary>
    public required SimWorld World { get; init; }
    /// <summary>The account whose keys signed the call.</summary>
    public required SimAccount Account { get; init; }
    public required string RequestId { get; init; }
    /// <summary>SigV4 service name from the credential scope (routes the call).</summary>
    public required string Service { get; init; }
    public required string Region { get; init; }
    public required string AccessKeyId { get; init; }
    public required byte[] Body { get; init; }
    /// <summary>The path as sent, still percent-encoded.</summary>
    public required string RawPath { get; init; }
    /// <summary>Query-string parameters (decoded).</summary>
    public required QueryParams Query { get; init; }

    /// <summary>
    /// Query-protocol parameters (awsQuery and EC2): the form body of a POST, else the query string.
    /// </summary>
    public QueryParams FormOrQuery =>
        _form ??= Http.Request.Method == HttpMethods.Post && Body.Length > 0 ? QueryParams.FromForm(Body) : Query;

    private QueryParams? _form;
}

/// <summary>
/// An AWS error as the service reports it; each protocol renders it in its own shape.
/// Services throw it; the endpoint renders it. Never a 500 for a client mistake.
/// </summary>
public sealed class AwsException(int statusCode, string code, string message, bool senderFault = true) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
    public string Code { get; } = code;
    public bool SenderFault { get; } = senderFault;

    public static AwsException NotFound(string code, string message) => new(404, code, message);
}

/// <summary>Opaque, offset-based pagination tokens (clients must treat them as opaque anyway).</summary>
public static class Paging
{
    public static string Encode(int offset) =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("wineks-sim:" + offset.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    public static bool TryDecode(string? token, out int offset)
    {
        offset = 0;
        if (string.IsNullOrEmpty(token))
        {
            return true;
        }

        try
        {
            string text = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(token));
            return text.StartsWith("wineks-sim:", StringComparison.Ordinal)
                && int.TryParse(text["wineks-sim:".Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out offset);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>One page of <paramref name="items"/> and the token of the next one (null on the last page).</summary>
    public static (List<T> Page, string? NextToken) Page<T>(IReadOnlyList<T> items, int offset, int pageSize)
    {
        List<T> page = items.Skip(offset).Take(pageSize).ToList();
        int next = offset + page.Count;
        return (page, next < items.Count ? Encode(next) : null);
    }
}
