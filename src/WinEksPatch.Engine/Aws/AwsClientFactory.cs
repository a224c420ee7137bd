using Amazon.EC2;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using WinEksPatch.Aws.AutoScaling;
using WinEksPatch.Aws.CloudWatch;
using WinEksPatch.Aws.Ec2;
using WinEksPatch.Aws.Ecr;
using WinEksPatch.Aws.Eks;
using WinEksPatch.Aws.Iam;
using WinEksPatch.Aws.ImageBuilder;
using WinEksPatch.Aws.Ssm;
using WinEksPatch.Aws.Thin;

namespace WinEksPatch.Aws;

/// <summary>
/// Creates the AWS clients of one invocation from one resolved <see cref="AwsContext"/>, so every client shares the
/// region and credentials. Clients are created on first use: a cmdlet that never calls ECR never resolves it.
/// </summary>
public sealed class AwsClientFactory(AwsContext context, Diagnostics.ApiCallCounter? calls = null) : IDisposable
{
    private readonly List<IDisposable> _created = [];

    /// <summary>Counts every request of the clients this factory made.</summary>
    public Diagnostics.ApiCallCounter Calls { get; } = calls ?? new Diagnostics.ApiCallCounter();

    public AwsContext Context => context;

    public EksClient Eks() => new(Thin(ThinServiceDescriptor.Eks));

    public AutoScalingClient AutoScaling() => new(Thin(ThinServiceDescriptor.AutoScaling));

    public EcrClient Ecr() => new(Thin(ThinServiceDescriptor.Ecr));

    public CloudWatchClient CloudWatch() => new(Thin(ThinServiceDescriptor.CloudWatch));

    public ImageBuilderClient ImageBuilder() => new(Thin(ThinServiceDescriptor.ImageBuilder));

    public IamClient Iam() => new(Thin(ThinServiceDescriptor.Iam));

    public ThinServiceClient Thin(ThinServiceDescriptor service)
    {
        var config = Point(new ThinClientConfig(service) { RegionEndpoint = context.Region });
        if (service.IsGlobal && context.EndpointOverride == null)
        {
            config.AuthenticationRegion = service.GlobalHome(context.Region.SystemName).SigningRegion;
        }

        return Track(Create(() => new ThinServiceClient(context.Credentials, config), service.ServiceId), service.SigningName);
    }

    public Ec2Client Ec2() => new(Ec2Sdk());

    public SsmClient Ssm() => new(SsmSdk());

    public IAmazonEC2 Ec2Sdk()
    {
        var config = Point(new AmazonEC2Config { RegionEndpoint = context.Region });
        return Track(Create(() => context.Credentials == null ? new AmazonEC2Client(config) : new AmazonEC2Client(context.Credentials, config), "EC2"), "ec2");
    }

    public IAmazonSimpleSystemsManagement SsmSdk()
    {
        var config = Point(new AmazonSimpleSystemsManagementConfig { RegionEndpoint = context.Region });
        return Track(Create(
            () => context.Credentials == null ? new AmazonSimpleSystemsManagementClient(config) : new AmazonSimpleSystemsManagementClient(context.Credentials, config),
            "SSM"), "ssm");
    }

    /// <summary>Credentials the clients sign with (profile's, or the default chain's); used to sign EKS tokens.</summary>
    public AWSCredentials ResolveCredentials() =>
        context.Credentials ?? Create(() => Amazon.Runtime.Credentials.DefaultAWSCredentialsIdentityResolver.GetCredentials(), "credentials");

    /// <summary>Retries for every client: a rollout runs for hours, so it rides out throttling and 5xx storms with the SDK's
    /// standard mode (exponential backoff with jitter, a retry quota) and more attempts than the default three.</summary>
    public const int MaxErrorRetry = 8;

    /// <summary>Applies the module's retry settings; with an endpoint override (the simulator), every client calls it,
    /// still signing for the region, and trusts the simulator's CA for that endpoint when it is https (-Tls).</summary>
    private T Point<T>(T config)
        where T : ClientConfig
    {
        config.RetryMode = RequestRetryMode.Standard;
        config.MaxErrorRetry = MaxErrorRetry;
        // Sign for the region the module resolved, always: with an endpoint URL from AWS_ENDPOINT_URL[_<SERVICE>] or the
        // config file's endpoint_url, the SDK otherwise takes the signing region from the environment (AWS_REGION),
        // and a call the module reports as us-west-2 would be signed for (and, behind one endpoint, reach) another region.
        config.AuthenticationRegion = context.Region.SystemName;
        if (context.EndpointOverride is { } endpoint)
        {
            config.ServiceURL = endpoint;
            if (context.EndpointTrust is { } trust)
            {
                config.HttpClientFactory = trust.CreateAwsHttpClientFactory();
            }
        }

        return config;
    }

    public void Dispose()
    {
        foreach (var client in _created)
        {
            client.Dispose();
        }

        _created.Clear();
    }

    private T Track<T>(T client, string service)
        where T : IDisposable
    {
        _created.Add(client);
        if (client is AmazonServiceClient serviceClient)
        {
            Calls.Attach(serviceClient, service);
        }

        return client;
    }

    // Client constructors resolve the default credential chain; "nothing found" must become NoCredentials.
    private static T Create<T>(Func<T> create, string service)
    {
        try
        {
            return create();
        }
        catch (AmazonClientException ex)
        {
            throw AwsErrorTranslator.TranslateCredentials(service, ex);
        }
    }
}
