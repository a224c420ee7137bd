using System.Net;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Credentials.Internal;
using Amazon.Runtime.Endpoints;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;
using Amazon.Runtime.Internal.Transform;

namespace WinEksPatch.Aws.Thin;

/// <summary>One call of a thin client: the operation and its protocol-specific parts.</summary>
public sealed class ThinRequest : AmazonWebServiceRequest
{
    public ThinRequest(string operation) => Operation = operation;

    public string Operation { get; }

    /// <summary>rest-json only: HTTP method and path template, with labels such as <c>{name}</c> filled from <see cref="PathLabels"/>.</summary>
    public string HttpMethod { get; init; } = "POST";

    public string Path { get; init; } = "/";

    /// <summary>rest-json: the values of the path's labels, unencoded; the SDK URI-encodes each once, as the protocol requires.</summary>
    public IDictionary<string, string> PathLabels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>rest-json: query string; awsQuery: form parameters (Action and Version are added).</summary>
    public IDictionary<string, string> Parameters { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>rest-json and JSON 1.1: request body.</summary>
    public string? JsonBody { get; init; }
}

/// <summary>The raw body of a successful response; typed clients parse it.</summary>
public sealed class ThinResponse : AmazonWebServiceResponse
{
    public string Body { get; init; } = "";
}

/// <summary>
/// An <see cref="AmazonServiceClient"/> for one service, so that credentials, SigV4 signing, retries with backoff,
/// clock-skew correction, endpoint variables and logging all come from the SDK's own pipeline. Only marshalling
/// (request parts to HTTP) and unmarshalling (raw body, error code and request id) are ours.
/// </summary>
public sealed class ThinServiceClient : AmazonServiceClient
{
    private readonly ThinClientConfig _config;
    private readonly ThinMarshaller _marshaller;
    private readonly IServiceMetadata _metadata;

    public ThinServiceClient(AWSCredentials? credentials, ThinClientConfig config)
        : base(credentials ?? DefaultAWSCredentialsIdentityResolver.GetCredentials(config), config)
    {
        _config = config;
        _marshaller = new ThinMarshaller(config.Service);
        _metadata = new ThinMetadata(config.Service.ServiceId);
    }

    protected override IServiceMetadata ServiceMetadata => _metadata;

    protected override void CustomizeRuntimePipeline(RuntimePipeline pipeline)
    {
        // The generated clients resolve endpoints with per-service rule sets we do not have; ours resolves the same
        // inputs (region, ServiceURL incl. AWS_ENDPOINT_URL*) with the simple rule every commercial region follows.
        pipeline.RemoveHandler<EndpointResolver>();
        pipeline.AddHandlerAfter<Marshaller>(new ThinEndpointResolver());
        pipeline.AddHandlerAfter<Marshaller>(new SigV4OnlyAuthResolver());
    }

    public Task<ThinResponse> SendAsync(ThinRequest request, CancellationToken cancellationToken = default)
    {
        var options = new InvokeOptions
        {
            RequestMarshaller = _marshaller,
            ResponseUnmarshaller = _config.Service.Protocol == AwsWireProtocol.Query
                ? ThinXmlUnmarshaller.Instance
                : ThinJsonUnmarshaller.Instance,
        };
        return InvokeAsync<ThinResponse>(request, options, cancellationToken);
    }

    private sealed class ThinMetadata(string serviceId) : IServiceMetadata
    {
        public string ServiceId => serviceId;

        public IDictionary<string, string> OperationNameMapping { get; } = new Dictionary<string, string>();
    }

    private sealed class ThinEndpointResolver : BaseEndpointResolver
    {
        protected override EndpointParameters MapEndpointsParameters(IRequestContext requestContext)
        {
            var config = requestContext.ClientConfig;
            return new EndpointParameters
            {
                ["Region"] = config.RegionEndpoint?.SystemName ?? config.AuthenticationRegion,
                ["Endpoint"] = config.ServiceURL,
            };
        }
    }

    private sealed class SigV4OnlyAuthResolver : BaseAuthResolverHandler
    {
        protected override List<IAuthSchemeOption> ResolveAuthOptions(IExecutionContext executionContext) =>
            AuthSchemeOption.DEFAULT_SIGV4;
    }
}

/// <summary>Turns a <see cref="ThinRequest"/> into the SDK's request description for the service's protocol.</summary>
internal sealed class ThinMarshaller(ThinServiceDescriptor service) : IMarshaller<IRequest, AmazonWebServiceRequest>
{
    public IRequest Marshall(AmazonWebServiceRequest input)
    {
        var request = (ThinRequest)input;
        IRequest wire = new DefaultRequest(request, service.ServiceId);
        switch (service.Protocol)
        {
            case AwsWireProtocol.Query:
                wire.HttpMethod = "POST";
                wire.ResourcePath = "/";
                wire.Parameters.Add("Action", request.Operation);
                wire.Parameters.Add("Version", service.ApiVersion);
                foreach (var (key, value) in request.Parameters)
                {
                    wire.Parameters.Add(key, value);
                }

                // The pipeline form-encodes Parameters into the body for POST requests without content.
                break;

            case AwsWireProtocol.Json11 or AwsWireProtocol.Json10:
                wire.HttpMethod = "POST";
                wire.ResourcePath = "/";
                wire.Headers["X-Amz-Target"] = $"{service.JsonTargetPrefix}.{request.Operation}";
                wire.Headers["Content-Type"] = service.Protocol == AwsWireProtocol.Json10 ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1";
                wire.Content = Encoding.UTF8.GetBytes(request.JsonBody ?? "{}");
                break;

            case AwsWireProtocol.RestJson:
                wire.HttpMethod = request.HttpMethod;
                wire.ResourcePath = request.Path;
                foreach (var (label, value) in request.PathLabels)
                {
                    wire.AddPathResource("{" + label + "}", value);
                }

                wire.UseQueryString = true;
                foreach (var (key, value) in request.Parameters)
                {
                    wire.Parameters.Add(key, value);
                }

                if (request.JsonBody != null)
                {
                    wire.Headers["Content-Type"] = "application/json";
                    wire.Content = Encoding.UTF8.GetBytes(request.JsonBody);
                }

                break;
        }

        return wire;
    }
}

/// <summary>Reads JSON responses (rest-json, JSON 1.0 and 1.1) and their error shapes.</summary>
internal sealed class ThinJsonUnmarshaller : JsonResponseUnmarshaller
{
    public static readonly ThinJsonUnmarshaller Instance = new();

    public override AmazonWebServiceResponse Unmarshall(JsonUnmarshallerContext input)
    {
        using var reader = new StreamReader(input.Stream);
        return new ThinResponse { Body = reader.ReadToEnd(), HttpStatusCode = input.ResponseData.StatusCode };
    }

    public override AmazonServiceException UnmarshallException(JsonUnmarshallerContext input, Exception innerException, HttpStatusCode statusCode)
    {
        using var reader = new StreamReader(input.Stream);
        var body = reader.ReadToEnd();
        var code = input.ResponseData.GetHeaderValue("x-amzn-ErrorType") ?? "";
        var requestId = input.ResponseData.GetHeaderValue("x-amzn-RequestId") ?? "";
        var message = "";
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("__type", out var type) || root.TryGetProperty("code", out type))
                {
                    code = type.GetString() ?? code;
                }

                if (root.TryGetProperty("message", out var text) || root.TryGetProperty("Message", out text))
                {
                    message = text.GetString() ?? "";
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page, say): the status code and header are all there is.
        }

        // "aws.protocoltests#FooError:http://..." and "com.amazonaws.eks#ResourceNotFoundException" both reduce to the name.
        code = code.Split(':')[0].Split('#')[^1];

        // A query-compatible service (CloudWatch) names the error's awsQuery code, the one its documentation lists.
        if (input.ResponseData.GetHeaderValue("x-amzn-query-error") is { Length: > 0 } queryError)
        {
            code = queryError.Split(';')[0];
        }

        if (code.Length == 0)
        {
            code = statusCode.ToString();
        }

        var type4xx = (int)statusCode < 500 ? ErrorType.Sender : ErrorType.Receiver;
        return new AmazonServiceException(message, innerException, type4xx, code, requestId, statusCode);
    }
}

/// <summary>Reads awsQuery XML responses and the &lt;ErrorResponse&gt; error shape.</summary>
internal sealed class ThinXmlUnmarshaller : XmlResponseUnmarshaller
{
    public static readonly ThinXmlUnmarshaller Instance = new();

    public override AmazonWebServiceResponse Unmarshall(XmlUnmarshallerContext input)
    {
        using var reader = new StreamReader(input.Stream);
        return new ThinResponse { Body = reader.ReadToEnd(), HttpStatusCode = input.ResponseData.StatusCode };
    }

    public override AmazonServiceException UnmarshallException(XmlUnmarshallerContext input, Exception innerException, HttpStatusCode statusCode)
    {
        using var reader = new StreamReader(input.Stream);
        var body = reader.ReadToEnd();
        string code = statusCode.ToString(), message = "", requestId = input.ResponseData.GetHeaderValue("x-amzn-RequestId") ?? "";
        try
        {
            var document = XDocument.Parse(body);
            var error = document.Descendants().FirstOrDefault(e => e.Name.LocalName == "Error");
            if (error != null)
            {
                code = error.Elements().FirstOrDefault(e => e.Name.LocalName == "Code")?.Value ?? code;
                message = error.Elements().FirstOrDefault(e => e.Name.LocalName == "Message")?.Value ?? "";
            }

            var id = document.Descendants().FirstOrDefault(e => e.Name.LocalName is "RequestId" or "RequestID")?.Value;
            if (!string.IsNullOrEmpty(id))
            {
                requestId = id;
            }
        }
        catch (System.Xml.XmlException)
        {
            // Not XML: keep the status code.
        }

        var type = (int)statusCode < 500 ? ErrorType.Sender : ErrorType.Receiver;
        return new AmazonServiceException(message, innerException, type, code, requestId, statusCode);
    }
}
