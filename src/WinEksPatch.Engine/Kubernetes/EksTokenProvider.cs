using System.Net;
using System.Net.Http.Headers;
using k8s.Authentication;

namespace WinEksPatch.Kubernetes;

/// <summary>
/// Supplies the Kubernetes client with an EKS token, signing a new one when the current one is 14 minutes old (on the
/// injected clock) or when the API server said 401, so that a rollout lasting hours never fails on authentication.
/// </summary>
public sealed class EksTokenProvider(EksTokenGenerator generator, string clusterName, TimeProvider time) : ITokenProvider
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private EksToken? _current;

    /// <summary>How many tokens were signed; the simulator tests use it to show refreshes happen.</summary>
    public int TokensSigned { get; private set; }

    public async Task<AuthenticationHeaderValue> GetAuthenticationHeaderAsync(CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_current == null || time.GetUtcNow() >= _current.RefreshAt)
            {
                _current = await generator.CreateAsync(clusterName, cancellationToken).ConfigureAwait(false);
                TokensSigned++;
            }

            return new AuthenticationHeaderValue("Bearer", _current.Value);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Forgets the current token so the next request signs a new one.</summary>
    public void Invalidate(string rejectedHeaderValue)
    {
        _lock.Wait();
        try
        {
            if (_current != null && rejectedHeaderValue == _current.Value)
            {
                _current = null;
            }
        }
        finally
        {
            _lock.Release();
        }
    }
}

/// <summary>On a 401, asks the token provider for a freshly signed token and sends the request once more.</summary>
public sealed class ReauthenticateOnUnauthorizedHandler(EksTokenProvider tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized || request.Headers.Authorization?.Parameter is not { } rejected)
        {
            return response;
        }

        response.Dispose();
        tokens.Invalidate(rejected);
        request.Headers.Authorization = await tokens.GetAuthenticationHeaderAsync(cancellationToken).ConfigureAwait(false);
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }
}
