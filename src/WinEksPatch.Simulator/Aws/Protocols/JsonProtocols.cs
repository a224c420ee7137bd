using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace WinEksPatch.Simulator.Aws.Protocols;

/// <summary>
/// The JSON protocols: "json" 1.1 (SSM, ECR: POST / with X-Amz-Target, errors carry __type in the body)
/// and rest-json (EKS, Image Builder: REST routes, errors named in the x-amzn-ErrorType header,
/// body {"message": ...}). Timestamps are epoch seconds (numbers) in both.
/// </summary>
public static class JsonProtocol
{
    public const string Json11ContentType = "application/x-amz-json-1.1";

    public static async Task WriteAsync(AwsCall call, JsonNode body, int status = 200, string contentType = "application/json")
    {
        call.Http.Response.StatusCode = status;
        call.Http.Response.ContentType = contentType;
        await call.Http.Response.WriteAsync(body.ToJsonString()).ConfigureAwait(false);
    }

    /// <summary>JSON 1.1 error: {"__type":"Code","message":"..."}, also named in x-amzn-ErrorType.</summary>
    public static async Task WriteJson11ErrorAsync(HttpContext http, AwsException error)
    {
        http.Response.StatusCode = error.StatusCode;
        http.Response.ContentType = Json11ContentType;
        http.Response.Headers["x-amzn-ErrorType"] = error.Code;
        var body = new JsonObject { ["__type"] = error.Code, ["message"] = error.Message };
        await http.Response.WriteAsync(body.ToJsonString()).ConfigureAwait(false);
    }

    /// <summary>rest-json error: header x-amzn-ErrorType: Code, body {"message":"..."}.</summary>
    public static async Task WriteRestJsonErrorAsync(HttpContext http, AwsException error)
    {
        http.Response.StatusCode = error.StatusCode;
        http.Response.ContentType = "application/json";
        http.Response.Headers["x-amzn-ErrorType"] = error.Code;
        var body = new JsonObject { ["message"] = error.Message };
        await http.Response.WriteAsync(body.ToJsonString()).ConfigureAwait(false);
    }

    /// <summary>Epoch seconds with millisecond precision, as the JSON protocols write timestamps.</summary>
    public static JsonNode Time(DateTimeOffset t) => JsonValue.Create(Math.Round(t.ToUnixTimeMilliseconds() / 1000.0, 3));

    /// <summary>The operation a JSON 1.0/1.1 request names in X-Amz-Target after the service's prefix
    /// ("AmazonSSM.GetParameter" → "GetParameter"), or the services' UnknownOperationException.</summary>
    public static string TargetOperation(AwsCall call, string targetPrefix)
    {
        string? target = call.Http.Request.Headers["X-Amz-Target"].FirstOrDefault();
        return target is not null && target.StartsWith(targetPrefix, StringComparison.Ordinal)
            ? target[targetPrefix.Length..]
            : throw new AwsException(400, "UnknownOperationException", "");
    }

    /// <summary>Parses a JSON 1.1 request body; malformed JSON is the services' SerializationException.</summary>
    public static JsonObject ParseBody(AwsCall call)
    {
        if (call.Body.Length == 0)
        {
            return [];
        }

        try
        {
            return JsonNode.Parse(call.Body) as JsonObject
                ?? throw new AwsException(400, "SerializationException", "Start of structure or map found where not expected.");
        }
        catch (JsonException)
        {
            throw new AwsException(400, "SerializationException", "Could not parse the request body as JSON.");
        }
    }

    /// <summary>A string member, or a SerializationException when it has another JSON type.</summary>
    public static string? String(JsonObject body, string name)
    {
        if (!body.TryGetPropertyValue(name, out JsonNode? node) || node is null)
        {
            return null;
        }

        if (node is JsonValue v && v.TryGetValue(out string? s))
        {
            return s;
        }

        throw new AwsException(400, "SerializationException", $"STRING_VALUE can not be converted to a String for member {name}.");
    }

    public static bool? Bool(JsonObject body, string name)
    {
        if (!body.TryGetPropertyValue(name, out JsonNode? node) || node is null)
        {
            return null;
        }

        if (node is JsonValue v && v.TryGetValue(out bool b))
        {
            return b;
        }

        throw new AwsException(400, "SerializationException", $"Expected a boolean for member {name}.");
    }

    public static int? Int(JsonObject body, string name)
    {
        if (!body.TryGetPropertyValue(name, out JsonNode? node) || node is null)
        {
            return null;
        }

        if (node is JsonValue v && v.TryGetValue(out int i))
        {
            return i;
        }

        throw new AwsException(400, "SerializationException", $"Expected an integer for member {name}.");
    }

    public static List<string>? StringList(JsonObject body, string name)
    {
        if (!body.TryGetPropertyValue(name, out JsonNode? node) || node is null)
        {
            return null;
        }

        if (node is not JsonArray array)
        {
            throw new AwsException(400, "SerializationException", $"Expected a list for member {name}.");
        }

        return array.Select(n => n is JsonValue v && v.TryGetValue(out string? s) ? s
            : throw new AwsException(400, "SerializationException", $"Expected strings in member {name}.")).ToList();
    }
}
