using System.Net;
using System.Text;
using k8s;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Kubernetes;

namespace WinEksPatch.Tests.Kubernetes;

/// <summary>A watch whose response is cut off mid-stream (an HTTP/2 stream reset, a dropped connection) ends with the
/// module's connection error, which the watchers answer by re-listing, rather than with a raw IOException.</summary>
public sealed class KubernetesWatchTests
{
    private const string NodeEvent =
        """{"type":"ADDED","object":{"kind":"Node","apiVersion":"v1","metadata":{"name":"ip-10-0-0-1","resourceVersion":"7","labels":{"kubernetes.io/os":"windows"}}}}""" + "\n";

    [Fact]
    public async Task A_watch_stream_reset_after_an_event_is_a_KubernetesUnreachable_error()
    {
        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = "http://127.0.0.1:9" }, new ResettingHandler());
        var api = new KubernetesApi(client, "demo");
        var seen = new List<string>();

        var error = await Assert.ThrowsAsync<WinEksPatchException>(async () =>
        {
            await foreach (var e in api.WatchNodesAsync(null, "1"))
            {
                seen.Add($"{e.Type} {e.Item.Name}");
            }
        });

        Assert.Equal(["Added ip-10-0-0-1"], seen);
        Assert.Equal(ErrorIds.KubernetesUnreachable, error.ErrorId);
        Assert.Equal(ErrorKind.ConnectionError, error.Kind);
        Assert.Contains("broke while it was to watch nodes", error.Message, StringComparison.Ordinal);
        Assert.IsType<HttpProtocolException>(error.InnerException);
    }

    /// <summary>Answers a watch with one event, then fails the body the way an HTTP/2 RST_STREAM does.</summary>
    private sealed class ResettingHandler : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                RequestMessage = request,
                Content = new StreamContent(new ResetAfterStream(Encoding.UTF8.GetBytes(NodeEvent))),
            });
    }

    private sealed class ResetAfterStream(byte[] first) : Stream
    {
        private int _position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= first.Length)
            {
                throw new HttpProtocolException(2, "The HTTP/2 server reset the stream. HTTP/2 error code 'INTERNAL_ERROR' (0x2).", null);
            }

            int n = Math.Min(count, first.Length - _position);
            Array.Copy(first, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
