using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;

namespace WinEksPatch.Simulator.Kubernetes;

// Watches: ?watch=true|1 on node and pod lists. The response is a stream of newline-delimited JSON watch events
// ({"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}), flushed per event, as the API server sends them.
public sealed partial class KubeApi
{
    /// <summary>Without timeoutSeconds the API server ends a watch after its minimum request timeout (30 minutes and more).</summary>
    private static readonly TimeSpan DefaultWatchTimeout = TimeSpan.FromMinutes(30);

    /// <summary>Turns a watch event's object into a one-row Table (ERROR and BOOKMARK events pass unchanged).</summary>
    private string TableEvent(string line, string resource, string includeObject, bool withColumns)
    {
        JsonNode e = JsonNode.Parse(line)!;
        string type = e["type"]!.GetValue<string>();
        if (type is not ("ADDED" or "MODIFIED" or "DELETED"))
        {
            return line;
        }

        string objectJson = e["object"]!.ToJsonString();
        DateTimeOffset now = world.Clock.GetUtcNow();
        JsonObject rendered;
        if (resource == "nodes")
        {
            V1Node node = KubernetesJson.Deserialize<V1Node>(objectJson);
            rendered = Tables.Nodes([node], now, new V1ListMeta { ResourceVersion = node.Metadata.ResourceVersion }, includeObject);
        }
        else
        {
            V1Pod pod = KubernetesJson.Deserialize<V1Pod>(objectJson);
            rendered = Tables.Pods([pod], now, new V1ListMeta { ResourceVersion = pod.Metadata.ResourceVersion }, includeObject);
        }

        if (!withColumns)
        {
            rendered["columnDefinitions"] = new JsonArray();
        }

        return KubeWatchHub.Line(type, rendered.ToJsonString(KubeObjects.JsonOptions));
    }

    private async Task WatchAsync(HttpContext http, string cluster, string resource, string? ns)
    {
        LabelSelector labels = LabelSelector.Parse(http.Request.Query["labelSelector"]);
        FieldSelector<IReadOnlyDictionary<string, string>> fields = KubeFields.SnapshotSelector(http.Request.Query["fieldSelector"], resource);
        TimeSpan timeout = DefaultWatchTimeout;
        string? timeoutText = http.Request.Query["timeoutSeconds"];
        if (!string.IsNullOrEmpty(timeoutText))
        {
            if (!long.TryParse(timeoutText, NumberStyles.Integer, CultureInfo.InvariantCulture, out long seconds) || seconds < 0)
            {
                throw new SelectorException($"invalid timeoutSeconds: {timeoutText}");
            }

            if (seconds > 0)
            {
                timeout = TimeSpan.FromSeconds(seconds);
            }
        }

        // No resourceVersion or "0": the current state first (as ADDED events), then changes. A version: changes after it.
        string? rvText = http.Request.Query["resourceVersion"];
        bool sendInitialEvents = http.Request.Query["sendInitialEvents"] == "true";
        bool bookmarks = http.Request.Query["allowWatchBookmarks"] == "true";
        long? from = null;
        if (!string.IsNullOrEmpty(rvText) && rvText != "0" && !sendInitialEvents)
        {
            if (!long.TryParse(rvText, NumberStyles.None, CultureInfo.InvariantCulture, out long rv))
            {
                throw new SelectorException($"resourceVersion: Invalid value: \"{rvText}\": must be a valid resource version");
            }

            from = rv;
        }

        // kubectl get -w asks for Tables: each event then carries a one-row Table (column definitions in the first).
        bool table = Tables.Wanted(http.Request.Headers.Accept);
        string includeObject = IncludeObject(http);
        bool firstTable = true;
        string Shape(string line)
        {
            if (!table)
            {
                return line;
            }

            string result = TableEvent(line, resource, includeObject, firstTable);
            firstTable = false;
            return result;
        }

        var initial = new List<string>();
        KubeWatchHub.Subscription subscription;
        long floor;
        long currentRv;
        lock (world.Gate)
        {
            subscription = _watches.Open(cluster, resource, ns, labels, fields, from, initial, out floor);
            currentRv = world.CurrentResourceVersion;
        }

        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        http.Response.Headers.CacheControl = "no-cache, private";
        await http.Response.StartAsync(http.RequestAborted).ConfigureAwait(false);
        try
        {
            if (floor > 0)
            {
                // What the watch cache answers for a version it no longer has: one ERROR event with a 410 Expired Status.
                await http.Response.WriteAsync(KubeWatchHub.TooOldLine(from!.Value, floor), http.RequestAborted).ConfigureAwait(false);
                return;
            }

            foreach (string line in initial)
            {
                await http.Response.WriteAsync(Shape(line), http.RequestAborted).ConfigureAwait(false);
            }

            if (sendInitialEvents)
            {
                await http.Response.WriteAsync(KubeWatchHub.InitialEventsEndLine(resource, currentRv), http.RequestAborted).ConfigureAwait(false);
            }

            await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);

            // timeoutSeconds runs on the simulated clock, like every other duration in the world.
            using var timer = new CancellationTokenSource(timeout, world.Clock);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, http.RequestAborted);
            try
            {
                // The timeout only ends the wait for events, never a write: a write cancelled half-way would leave the
                // response unusable for the closing BOOKMARK (and Kestrel would reset the stream).
                while (await subscription.Events.Reader.WaitToReadAsync(linked.Token).ConfigureAwait(false))
                {
                    while (subscription.Events.Reader.TryRead(out string? line))
                    {
                        await http.Response.WriteAsync(Shape(line), http.RequestAborted).ConfigureAwait(false);
                    }

                    await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (timer.IsCancellationRequested && !http.RequestAborted.IsCancellationRequested)
            {
                if (bookmarks)
                {
                    string rv;
                    lock (world.Gate)
                    {
                        rv = world.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture);
                    }

                    await http.Response.WriteAsync(KubeWatchHub.Line("BOOKMARK",
                        $"{{\"kind\":\"{(resource == "nodes" ? "Node" : "Pod")}\",\"apiVersion\":\"v1\",\"metadata\":{{\"resourceVersion\":\"{rv}\"}}}}"), http.RequestAborted).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            lock (world.Gate)
            {
                _watches.Close(subscription);
            }
        }
    }
}
