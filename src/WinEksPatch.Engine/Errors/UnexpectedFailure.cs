using System.Text.Json;
using System.Text.RegularExpressions;

namespace WinEksPatch.Errors;

/// <summary>
/// The one error contract at the edges: a failure that is not already a <see cref="WinEksPatchException"/> (an HTTP call
/// that timed out, an answer that does not parse, a state the code did not expect) becomes one, with a specific id and
/// category. The original exception is not kept: it may hold a request, a token or a presigned URL. Its type and its
/// message, with every URL's query string cut off, are in the message instead.
/// </summary>
public static partial class UnexpectedFailure
{
    public static WinEksPatchException From(Exception ex, object? target = null) => ex switch
    {
        WinEksPatchException known => known,
        OperationCanceledException => new WinEksPatchException(ErrorIds.CallTimedOut, ErrorKind.OperationTimeout,
            $"A call did not answer in time ({Describe(ex)}). Nothing more was done; run again, and check the network path to AWS and the cluster.", target),
        InvalidDataException or JsonException or FormatException => new WinEksPatchException(ErrorIds.InvalidResponse, ErrorKind.InvalidData,
            $"An answer could not be read ({Describe(ex)}). Nothing more was done.", target) { Origin = Frames(ex) },
        _ => new WinEksPatchException(ErrorIds.UnexpectedError, ErrorKind.InvalidOperation,
            $"WinEksPatch met a state it did not expect ({Describe(ex)}). Nothing more was done; please report it with the -Debug output.", target)
        {
            Origin = Frames(ex),
        },
    };

    /// <summary>Each exception of the chain by type with its stack frames (method names, files, lines: no values).</summary>
    private static string Frames(Exception ex)
    {
        var lines = new List<string>();
        for (var e = ex; e != null; e = e.InnerException)
        {
            lines.Add((lines.Count == 0 ? "" : "inner: ") + e.GetType().FullName);
            lines.AddRange((e.StackTrace ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(f => "  " + f));
        }

        return string.Join(Environment.NewLine, lines);
    }

    private static string Describe(Exception ex) => $"{ex.GetType().Name}: {QueryString().Replace(ex.Message, "?…")}";

    /// <summary>A URL's query string (where SigV4 and presigned URLs carry their signature and session token).</summary>
    [GeneratedRegex(@"\?[^\s'""<>]*", RegexOptions.CultureInvariant)]
    private static partial Regex QueryString();
}
