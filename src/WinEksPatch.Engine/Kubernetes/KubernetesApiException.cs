using System.Net;
using k8s.Autorest;

namespace WinEksPatch.Kubernetes;

/// <summary>
/// What the user needs of a failed Kubernetes API call, and nothing more: the status, its reason, the API server's
/// message and the request's Audit-Id. It stands in for KubernetesClient's HttpOperationException as the inner exception
/// of the module's errors, because that one keeps the whole request, its `Authorization: Bearer k8s-aws-v1…` header (a
/// presigned STS URL with a session token) included, and `$_.Exception | ConvertTo-Json` would print it.
/// </summary>
public sealed class KubernetesApiException : Exception
{
    public KubernetesApiException()
    {
    }

    public KubernetesApiException(string message)
        : base(message)
    {
    }

    public KubernetesApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    private KubernetesApiException(HttpStatusCode statusCode, string? reason, string? statusMessage, string? auditId)
        : base($"{(int)statusCode} {reason}" + (statusMessage == null ? "" : $": {statusMessage}") + (auditId == null ? "" : $" (Audit-Id {auditId})"))
    {
        StatusCode = statusCode;
        Reason = reason;
        StatusMessage = statusMessage;
        AuditId = auditId;
    }

    public HttpStatusCode StatusCode { get; }

    public string? Reason { get; }

    /// <summary>The message of the API server's Status object.</summary>
    public string? StatusMessage { get; }

    /// <summary>The id the cluster's audit log knows the request by.</summary>
    public string? AuditId { get; }

    /// <summary>The facts of <paramref name="failure"/>, without its request (or the response's raw content).</summary>
    public static KubernetesApiException From(HttpOperationException failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var response = failure.Response;
        var auditId = response?.Headers is { } headers && headers.TryGetValue("Audit-Id", out var ids) ? ids.FirstOrDefault() : null;
        return new KubernetesApiException(response?.StatusCode ?? 0, response?.ReasonPhrase, StatusMessageOf(response?.Content), auditId);
    }

    /// <summary>The message of a Kubernetes Status body (null when the body is not one).</summary>
    internal static string? StatusMessageOf(string? content)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(content ?? "");
            return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && document.RootElement.TryGetProperty("message", out var m)
                ? m.GetString() : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
