using Amazon.Runtime;
using Amazon.Runtime.Endpoints;
using Amazon.Runtime.Internal;

namespace WinEksPatch.Aws.Thin;

/// <summary>
/// A <see cref="ClientConfig"/> for a service whose official NuGet client is not available here. Setting
/// <c>ServiceId</c> is what makes the SDK look up <c>AWS_ENDPOINT_URL_&lt;SERVICE_ID&gt;</c> and the config file's
/// per-service <c>endpoint_url</c>; retries use the SDK's standard mode (throttling and 5xx, with backoff).
/// </summary>
public sealed class ThinClientConfig : ClientConfig
{
    private readonly ThinServiceDescriptor _service;

    public ThinClientConfig(ThinServiceDescriptor service)
        : base(new DefaultConfigurationProvider(new IDefaultConfiguration[]
        {
            new DefaultConfiguration { Name = DefaultConfigurationMode.Standard, RetryMode = RequestRetryMode.Standard },
        }))
    {
        _service = service;
        ServiceId = service.ServiceId;
        AuthenticationServiceName = service.SigningName;
        EndpointProvider = new ThinEndpointProvider(service);
    }

    public ThinServiceDescriptor Service => _service;

    public override string RegionEndpointServiceName => _service.EndpointPrefix;

    public override string ServiceVersion => _service.ApiVersion;

    public override string UserAgent => $"WinEksPatch/{typeof(ThinClientConfig).Assembly.GetName().Version?.ToString(3)}";

    public override Endpoint DetermineServiceOperationEndpoint(ServiceOperationEndpointParameters parameters) =>
        EndpointProvider.ResolveEndpoint(new EndpointParameters
        {
            ["Region"] = RegionEndpoint?.SystemName ?? AuthenticationRegion,
            ["Endpoint"] = ServiceURL,
        });
}

/// <summary>Stands in for the generated endpoint rules: an explicit endpoint (ServiceURL, which already folds in the
/// AWS_ENDPOINT_URL* variables) wins, otherwise the regional endpoint https://{prefix}.{region}.{dnsSuffix}, or a
/// global service's one endpoint in the region's partition.</summary>
internal sealed class ThinEndpointProvider(ThinServiceDescriptor service) : IEndpointProvider
{
    public Endpoint ResolveEndpoint(EndpointParameters parameters)
    {
        if (parameters["Endpoint"] is string explicitEndpoint && explicitEndpoint.Length > 0)
        {
            return new Endpoint(explicitEndpoint);
        }

        var region = parameters["Region"] as string
            ?? throw new AmazonClientException("No region was set for the AWS client.");
        if (service.IsGlobal)
        {
            return new Endpoint(service.GlobalHome(region).Endpoint);
        }

        return new Endpoint($"https://{service.EndpointPrefix}.{region}.{AwsPartition.DnsSuffix(region)}");
    }
}
