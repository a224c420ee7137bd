using System.Collections;
using System.Net;
using System.Reflection;
using System.Text;
using k8s;
using WinEksPatch.Errors;
using WinEksPatch.Kubernetes;

namespace WinEksPatch.Tests.Kubernetes;

/// <summary>A failed Kubernetes call becomes the module's error with what the user needs (status, reason, the API server's
/// message, the Audit-Id), and nothing reachable from it holds the bearer token the request carried.</summary>
public sealed class KubernetesErrorTests
{
    private const string Token = "k8s-aws-v1.aHR0cHM6Ly9zdHMudXMtd2VzdC0yLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZYLUFtei1TZWN1cml0eS1Ub2tlbj1TRUNSRVQ";

    [Theory]
    [InlineData(HttpStatusCode.Forbidden, ErrorIds.KubernetesApiError)]
    [InlineData(HttpStatusCode.Unauthorized, ErrorIds.KubernetesUnauthorized)]
    [InlineData(HttpStatusCode.InternalServerError, ErrorIds.KubernetesApiError)]
    public async Task A_refused_call_keeps_the_status_message_and_audit_id_and_no_token(HttpStatusCode status, string errorId)
    {
        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = "http://127.0.0.1:9", AccessToken = Token }, new RefusingHandler(status));
        var api = new KubernetesApi(client, "demo");

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() => api.ListNodesAsync(null));

        Assert.Equal(errorId, error.ErrorId);
        var inner = Assert.IsType<KubernetesApiException>(error.InnerException);
        Assert.Equal(status, inner.StatusCode);
        Assert.Equal("nodes is forbidden: User \"arn:aws:sts::111122223333:assumed-role/x\" cannot list resource \"nodes\"", inner.StatusMessage);
        Assert.Equal("6f1c2d8e-0000-4000-8000-000000000001", inner.AuditId);
        Assert.DoesNotContain(Token[..20], Everything(error), StringComparison.Ordinal);
    }

    /// <summary>Every string reachable from the exception: ToString, and every public property, nested, as a logging idiom
    /// such as `$_.Exception | ConvertTo-Json -Depth 4` would walk them.</summary>
    private static string Everything(object root)
    {
        var text = new StringBuilder();
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        void Walk(object? value, int depth)
        {
            if (value == null || depth > 5 || (!value.GetType().IsValueType && !seen.Add(value)))
            {
                return;
            }

            text.AppendLine(value.ToString());
            if (value is string || value.GetType().IsPrimitive || value is Type || value is MemberInfo || value is Assembly)
            {
                return;
            }

            if (value is IEnumerable items)
            {
                foreach (var item in items)
                {
                    Walk(item, depth + 1);
                }

                return;
            }

            foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
            {
                object? child;
                try
                {
                    child = property.GetValue(value);
                }
                catch (TargetInvocationException)
                {
                    continue;
                }

                Walk(child, depth + 1);
            }
        }

        Walk(root, 0);
        return text.ToString();
    }

    /// <summary>Answers every request with a Kubernetes Status of the given code and an Audit-Id.</summary>
    private sealed class RefusingHandler(HttpStatusCode status) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.Equal($"Bearer {Token}", request.Headers.Authorization?.ToString());
            var response = new HttpResponseMessage(status)
            {
                RequestMessage = request,
                Content = new StringContent(
                    """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"nodes is forbidden: User \"arn:aws:sts::111122223333:assumed-role/x\" cannot list resource \"nodes\"","reason":"Forbidden","code":403}""",
                    Encoding.UTF8, "application/json"),
            };
            response.Headers.Add("Audit-Id", "6f1c2d8e-0000-4000-8000-000000000001");
            return Task.FromResult(response);
        }
    }
}
