using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using WinEksPatch.Simulator.Clock;
using WinEksPatch.Simulator.Hosting;

namespace WinEksPatch.Simulator.Admin;

/// <summary>
/// The simulator's own control surface under /_sim on the AWS port (loopback only, no auth):
/// GET /_sim/clock, POST /_sim/clock/advance?seconds=N, POST /_sim/clock/scale?value=N, GET /_sim/info.
/// </summary>
public sealed class AdminApi(SimClock clock, Func<SimulatorInfo> info)
{
    public const string Prefix = "/_sim";

    public async Task HandleAsync(HttpContext http)
    {
        string path = http.Request.Path.Value?.TrimEnd('/') ?? "";
        string method = http.Request.Method;
        switch (path)
        {
            case "/_sim/clock" when method == "GET":
                await WriteAsync(http, 200, ClockJson()).ConfigureAwait(false);
                break;
            case "/_sim/clock/advance" when method == "POST":
                if (!double.TryParse(http.Request.Query["seconds"], NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) || seconds < 0 || double.IsInfinity(seconds))
                {
                    await WriteAsync(http, 400, new JsonObject { ["message"] = "seconds must be a non-negative number" }).ConfigureAwait(false);
                    return;
                }

                clock.Advance(TimeSpan.FromSeconds(seconds));
                await WriteAsync(http, 200, ClockJson()).ConfigureAwait(false);
                break;
            case "/_sim/clock/scale" when method == "POST":
                if (!double.TryParse(http.Request.Query["value"], NumberStyles.Float, CultureInfo.InvariantCulture, out double scale) || !(scale > 0) || double.IsInfinity(scale))
                {
                    await WriteAsync(http, 400, new JsonObject { ["message"] = "value must be a positive number" }).ConfigureAwait(false);
                    return;
                }

                clock.SetTimeScale(scale);
                await WriteAsync(http, 200, ClockJson()).ConfigureAwait(false);
                break;
            case "/_sim/info" when method == "GET":
                await WriteAsync(http, 200, JsonSerializer.SerializeToNode(info() with { TimeScale = clock.TimeScale })!).ConfigureAwait(false);
                break;
            default:
                await WriteAsync(http, 404, new JsonObject { ["message"] = $"no admin route {method} {path}" }).ConfigureAwait(false);
                break;
        }
    }

    private JsonObject ClockJson() => new()
    {
        ["utcNow"] = clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
        ["timeScale"] = clock.TimeScale,
    };

    private static async Task WriteAsync(HttpContext http, int status, JsonNode body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body.ToJsonString()).ConfigureAwait(false);
    }
}
