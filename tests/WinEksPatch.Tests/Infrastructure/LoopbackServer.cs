using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WinEksPatch.Tests.Infrastructure;

/// <summary>A request as the loopback server received it.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : "";

    /// <summary>Form body (awsQuery) or query string, decoded.</summary>
    public IReadOnlyDictionary<string, string> Form(bool fromQuery = false)
    {
        var text = fromQuery ? Query.TrimStart('?') : Body;
        return text.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "");
    }
}

/// <summary>A canned response.</summary>
public sealed record CannedResponse(int Status, string Body, string ContentType = "application/json", IReadOnlyDictionary<string, string>? Headers = null);

/// <summary>
/// An HTTP server on a loopback port for wire-level tests (the approach of kubernetes-client/csharp's MockKubeApiServer):
/// records every request exactly as it arrived and answers from a handler.
/// </summary>
public sealed class LoopbackServer : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<RecordedRequest, CannedResponse> _handler;
    private readonly Task _loop;

    public LoopbackServer(Func<RecordedRequest, CannedResponse> handler)
    {
        _handler = handler;
        // Another process can take the probed port before the listener binds it: then take another one.
        for (var attempt = 1; ; attempt++)
        {
            var url = $"http://127.0.0.1:{FreePort()}";
            var listener = new HttpListener();
            listener.Prefixes.Add(url + "/");
            try
            {
                listener.Start();
                (_listener, Url) = (listener, url);
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                listener.Close();
            }
        }

        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public IReadOnlyList<RecordedRequest> All => [.. Requests];

    public void Dispose()
    {
        // Close alone: on Unix, Stop followed by Close removes the prefixes twice, and the second removal binds the port
        // again (HttpEndPointManager.GetEPListener), failing with "Address already in use" once another test owns it.
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
            // listener closed
        }
    }

    /// <summary>Ports handed out in this process: a port the OS just freed can come back from the probe while an earlier
    /// server of a parallel test still listens on it (HttpListener cannot bind port 0 itself).</summary>
    private static readonly ConcurrentDictionary<int, bool> Handed = new();

    private static int FreePort()
    {
        while (true)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            if (Handed.TryAdd(port, true))
            {
                return port;
            }
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers.AllKeys.Where(k => k != null)
                .ToDictionary(k => k!.ToLowerInvariant(), k => context.Request.Headers[k]!);
            var raw = context.Request.RawUrl ?? "/";
            var q = raw.IndexOf('?', StringComparison.Ordinal);
            var recorded = new RecordedRequest(context.Request.HttpMethod, q < 0 ? raw : raw[..q], q < 0 ? "" : raw[q..], headers, body);
            Requests.Enqueue(recorded);

            CannedResponse response;
            try
            {
                response = _handler(recorded);
            }
            catch (Exception ex)
            {
                response = new CannedResponse(599, ex.ToString(), "text/plain");
            }

            context.Response.StatusCode = response.Status;
            context.Response.ContentType = response.ContentType;
            foreach (var (k, v) in response.Headers ?? new Dictionary<string, string>())
            {
                context.Response.Headers[k] = v;
            }

            var bytes = Encoding.UTF8.GetBytes(response.Body);
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }
}
