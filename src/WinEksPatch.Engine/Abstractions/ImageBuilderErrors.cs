using System.Text.RegularExpressions;
using WinEksPatch.Errors;

namespace WinEksPatch.Abstractions;

/// <summary>
/// What an Image Builder error says beyond its code. Image Builder answers every rejected value with one code,
/// InvalidParameterValueException (the module's <see cref="ErrorIds.AwsValidationError"/>), and names the rejected request
/// member only in its message: "The value supplied for parameter 'subnetId' is not valid. …". This is the one place that
/// reads it, by that exact phrase, so that callers match a member name rather than search messages.
/// </summary>
public static partial class ImageBuilderErrors
{
    /// <summary>The request member an <see cref="ErrorIds.AwsValidationError"/> of Image Builder rejected; null for any other
    /// error, or one that names no member.</summary>
    public static string? RejectedParameter(WinEksPatchException error) =>
        error.ErrorId == ErrorIds.AwsValidationError && RejectedParameterPhrase().Match(error.Message) is { Success: true } match ? match.Groups["name"].Value : null;

    [GeneratedRegex(@"The value supplied for parameter '(?<name>[A-Za-z.\[\]0-9]+)' is not valid", RegexOptions.CultureInvariant)]
    private static partial Regex RejectedParameterPhrase();
}
