using System.Net;
using Amazon.Runtime;
using WinEksPatch.Errors;

namespace WinEksPatch.Aws;

/// <summary>
/// Turns what the AWS SDK throws into the module's errors: a specific id and kind by cause, the AWS error code and
/// request id in the message (what AWS support asks for), and nothing secret: SDK exception messages carry neither
/// keys nor signatures, and we add none.
/// </summary>
public static class AwsErrorTranslator
{
    private static readonly HashSet<string> ThrottlingCodes = new(StringComparer.Ordinal)
    {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException",
    };

    private static readonly HashSet<string> AuthenticationCodes = new(StringComparer.Ordinal)
    {
        "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "ExpiredToken",
        "ExpiredTokenException", "InvalidAccessKeyId", "AuthFailure", "IncompleteSignature", "MissingAuthenticationToken",
        "InvalidSignatureException", "RequestExpired",
    };

    /// <summary>Runs one AWS call and translates its failure. <paramref name="target"/> is what the call is about.</summary>
    public static async Task<T> CallAsync<T>(string operation, object? target, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (AmazonServiceException ex)
        {
            throw Translate(operation, target, ex);
        }
        catch (AmazonClientException ex)
        {
            throw TranslateClient(operation, target, ex);
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(operation, target, ex);
        }
    }

    public static WinEksPatchException Translate(string operation, object? target, AmazonServiceException ex)
    {
        var code = string.IsNullOrEmpty(ex.ErrorCode) ? ex.StatusCode.ToString() : ex.ErrorCode;
        var (id, kind) = Classify(code, ex.StatusCode);
        var detail = string.IsNullOrWhiteSpace(ex.Message) ? code : ex.Message.TrimEnd('.');
        var requestId = string.IsNullOrEmpty(ex.RequestId) ? "none" : ex.RequestId;
        return new WinEksPatchException(id, kind, $"{operation} failed: {detail}. (AWS error {code}, request id {requestId})", target, ex)
        {
            AwsErrorCode = code,
            RequestId = ex.RequestId,
        };
    }

    internal static (string Id, ErrorKind Kind) Classify(string code, HttpStatusCode status)
    {
        if (ThrottlingCodes.Contains(code) || status == HttpStatusCode.TooManyRequests)
        {
            return (ErrorIds.AwsThrottled, ErrorKind.Throttled);
        }

        if (AuthenticationCodes.Contains(code))
        {
            return (ErrorIds.AwsAuthenticationFailed, ErrorKind.AuthenticationError);
        }

        if (code.EndsWith("NotFound", StringComparison.Ordinal) || code.EndsWith("NotFoundException", StringComparison.Ordinal)
            || code.Contains(".NotFound", StringComparison.Ordinal) || code == "ParameterNotFound" || status == HttpStatusCode.NotFound)
        {
            return (ErrorIds.AwsResourceNotFound, ErrorKind.ObjectNotFound);
        }

        if (code.StartsWith("AccessDenied", StringComparison.Ordinal) || code == "UnauthorizedOperation"
            || code == "UnauthorizedException" || status == HttpStatusCode.Forbidden)
        {
            return (ErrorIds.AwsAccessDenied, ErrorKind.PermissionDenied);
        }

        if (code.Contains("Validation", StringComparison.Ordinal) || code.StartsWith("Invalid", StringComparison.Ordinal)
            || code.StartsWith("Missing", StringComparison.Ordinal) || code == "BadRequestException"
            || status == HttpStatusCode.BadRequest)
        {
            return (ErrorIds.AwsValidationError, ErrorKind.InvalidArgument);
        }

        return (ErrorIds.AwsServiceError, ErrorKind.InvalidOperation);
    }

    /// <summary>For failures while resolving credentials, before any call.</summary>
    internal static WinEksPatchException TranslateCredentials(string operation, AmazonClientException ex) =>
        TranslateClient(operation, null, ex);

    private static WinEksPatchException TranslateClient(string operation, object? target, AmazonClientException ex)
    {
        if (ex.InnerException is HttpRequestException http)
        {
            return Unreachable(operation, target, http);
        }

        // The default credential chain reports "Failed to resolve AWS credentials" when every source came up empty.
        if (ex.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase))
        {
            return new WinEksPatchException(ErrorIds.NoCredentials, ErrorKind.AuthenticationError,
                $"{operation}: no AWS credentials found. Pass -ProfileName, set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, " +
                "or run where an instance or container role is available.", target, ex);
        }

        return new WinEksPatchException(ErrorIds.AwsServiceError, ErrorKind.InvalidOperation, $"{operation} failed: {ex.Message}", target, ex);
    }

    private static WinEksPatchException Unreachable(string operation, object? target, HttpRequestException ex) =>
        new(ErrorIds.AwsEndpointUnreachable, ErrorKind.ConnectionError,
            $"{operation}: the AWS endpoint could not be reached ({ex.Message}). Check -Region, AWS_ENDPOINT_URL and the network.",
            target, ex);
}
