using System.Text.Json.Nodes;
using WinEksPatch.Simulator.Automation;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.Ssm;

/// <summary>
/// SSM (JSON 1.1, X-Amz-Target AmazonSSM.*): parameter reads, chiefly the public
/// /aws/service/ami-windows-latest/... parameters naming the newest EKS-optimized AMIs; documents
/// (SsmService.Documents.cs) and Automation executions (SsmService.Automation.cs), run by <see cref="AutomationEngine"/>.
/// </summary>
public sealed partial class SsmService(AutomationEngine automation) : AwsService
{
    private const string TargetPrefix = "AmazonSSM.";

    public override string SigningName => "ssm";

    public override AwsProtocol Protocol => AwsProtocol.Json;

    public override Task HandleAsync(AwsCall call)
    {
        string operation = JsonProtocol.TargetOperation(call, TargetPrefix);
        JsonObject body = JsonProtocol.ParseBody(call);
        return operation switch
        {
            "GetParameter" => GetParameter(call, body),
            "GetParameters" => GetParameters(call, body),
            "GetParametersByPath" => GetParametersByPath(call, body),
            "CreateDocument" => CreateDocument(call, body),
            "DescribeDocument" => DescribeDocument(call, body),
            "GetDocument" => GetDocument(call, body),
            "ListDocuments" => ListDocuments(call, body),
            "StartAutomationExecution" => StartAutomationExecution(call, body),
            "GetAutomationExecution" => GetAutomationExecution(call, body),
            "DescribeAutomationExecutions" => DescribeAutomationExecutions(call, body),
            "DescribeAutomationStepExecutions" => DescribeAutomationStepExecutions(call, body),
            "SendAutomationSignal" => SendAutomationSignal(call, body),
            "StopAutomationExecution" => StopAutomationExecution(call, body),
            _ => throw new AwsException(400, "UnknownOperationException", ""),
        };
    }

    private static Task GetParameter(AwsCall call, JsonObject body)
    {
        string name = Required(JsonProtocol.String(body, "Name"), "name");
        JsonObject parameter;
        lock (call.World.Gate)
        {
            SsmParameter p = Find(call.World, name) ?? throw new AwsException(400, "ParameterNotFound", "");
            parameter = ToJson(call, p);
        }

        return JsonProtocol.WriteAsync(call, new JsonObject { ["Parameter"] = parameter }, contentType: JsonProtocol.Json11ContentType);
    }

    private static Task GetParameters(AwsCall call, JsonObject body)
    {
        List<string> names = JsonProtocol.StringList(body, "Names")
            ?? throw Validation("Value null at 'names' failed to satisfy constraint: Member must not be null");
        if (names.Count is < 1 or > 10)
        {
            throw Validation($"Value '[{string.Join(", ", names)}]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1");
        }

        var found = new JsonArray();
        var invalid = new JsonArray();
        lock (call.World.Gate)
        {
            foreach (string name in names)
            {
                if (Find(call.World, name) is { } p)
                {
                    found.Add(ToJson(call, p));
                }
                else
                {
                    invalid.Add(name);
                }
            }
        }

        return JsonProtocol.WriteAsync(call, new JsonObject { ["Parameters"] = found, ["InvalidParameters"] = invalid }, contentType: JsonProtocol.Json11ContentType);
    }

    private static Task GetParametersByPath(AwsCall call, JsonObject body)
    {
        string path = Required(JsonProtocol.String(body, "Path"), "path");
        bool recursive = JsonProtocol.Bool(body, "Recursive") ?? false;
        int maxResults = JsonProtocol.Int(body, "MaxResults") ?? 10;
        if (maxResults is < 1 or > 10)
        {
            throw Validation($"Value '{maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10");
        }

        if (!path.StartsWith('/'))
        {
            throw Validation("The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\".");
        }

        if (!Paging.TryDecode(JsonProtocol.String(body, "NextToken"), out int offset))
        {
            throw new AwsException(400, "InvalidNextToken", "The specified token isn't valid.");
        }

        string prefix = path.EndsWith('/') ? path : path + "/";
        var page = new JsonArray();
        string? next;
        lock (call.World.Gate)
        {
            List<SsmParameter> matches = call.World.SsmParameters.Values
                .Where(p => p.Name.StartsWith(prefix, StringComparison.Ordinal) && (recursive || !p.Name[prefix.Length..].Contains('/', StringComparison.Ordinal)))
                .OrderBy(p => p.Name, StringComparer.Ordinal)
                .ToList();
            (List<SsmParameter> items, next) = Paging.Page(matches, offset, maxResults);
            foreach (SsmParameter p in items)
            {
                page.Add(ToJson(call, p));
            }
        }

        var result = new JsonObject { ["Parameters"] = page };
        if (next is not null)
        {
            result["NextToken"] = next;
        }

        return JsonProtocol.WriteAsync(call, result, contentType: JsonProtocol.Json11ContentType);
    }

    private static SsmParameter? Find(SimWorld world, string name)
    {
        // Accept the ARN form too, as SSM does.
        int slash = name.StartsWith("arn:", StringComparison.Ordinal) ? name.IndexOf(":parameter/", StringComparison.Ordinal) : -1;
        if (slash >= 0)
        {
            name = name[(slash + ":parameter".Length)..];
        }

        return world.SsmParameters.GetValueOrDefault(name);
    }

    private static JsonObject ToJson(AwsCall call, SsmParameter p)
    {
        // Public parameters live in AWS's own account; their ARNs carry no account id.
        string account = p.Name.StartsWith("/aws/service/", StringComparison.Ordinal) ? "" : call.World.AccountId;
        return new JsonObject
        {
            ["Name"] = p.Name,
            ["Type"] = p.Type,
            ["Value"] = p.Value,
            ["Version"] = p.Version,
            ["LastModifiedDate"] = JsonProtocol.Time(p.LastModifiedDate),
            ["ARN"] = $"arn:aws:ssm:{call.World.Region}:{account}:parameter{p.Name}",
            ["DataType"] = p.DataType,
        };
    }

    private static string Required(string? value, string member) =>
        string.IsNullOrEmpty(value) ? throw Validation($"Value null at '{member}' failed to satisfy constraint: Member must not be null") : value;

    private static AwsException Validation(string detail) =>
        new(400, "ValidationException", "1 validation error detected: " + detail);
}
