namespace WinEksPatch.Aws.Thin;

/// <summary>The wire protocols of the AWS services the module talks to through its own thin clients.</summary>
public enum AwsWireProtocol
{
    /// <summary>rest-json: operation in method + path, JSON body (EKS, Image Builder).</summary>
    RestJson,

    /// <summary>JSON 1.1: POST /, operation in X-Amz-Target (ECR).</summary>
    Json11,

    /// <summary>JSON 1.0: as JSON 1.1 with its own content type (CloudWatch, whose errors also name their awsQuery code in
    /// x-amzn-query-error).</summary>
    Json10,

    /// <summary>awsQuery: form-encoded Action/Version, XML responses (Auto Scaling, STS).</summary>
    Query,
}

/// <summary>Identity of one AWS service as its service model declares it (metadata block of the *.min.json model).</summary>
/// <param name="ServiceId">metadata.serviceId; the SDK derives AWS_ENDPOINT_URL_&lt;ID&gt; from it (spaces become _).</param>
/// <param name="EndpointPrefix">metadata.endpointPrefix: host prefix of the regional endpoint.</param>
/// <param name="SigningName">metadata.signingName: the SigV4 credential scope's service.</param>
/// <param name="ApiVersion">metadata.apiVersion.</param>
/// <param name="Protocol">metadata.protocol.</param>
/// <param name="JsonTargetPrefix">metadata.targetPrefix, for JSON 1.0 and 1.1 services.</param>
/// <param name="IsGlobal">metadata.globalEndpoint: one endpoint per partition (IAM), signed for the partition's home
/// region, whatever region the session uses.</param>
public sealed record ThinServiceDescriptor(
    string ServiceId,
    string EndpointPrefix,
    string SigningName,
    string ApiVersion,
    AwsWireProtocol Protocol,
    string? JsonTargetPrefix = null,
    bool IsGlobal = false)
{
    /// <summary>A global service's endpoint and signing region in the partition of <paramref name="region"/>
    /// (iam.amazonaws.com signed for us-east-1; China and GovCloud have their own).</summary>
    public (string Endpoint, string SigningRegion) GlobalHome(string region) => AwsPartition.Of(region) switch
    {
        AwsPartition.China => ($"https://{EndpointPrefix}.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        AwsPartition.GovCloud => ($"https://{EndpointPrefix}.us-gov.amazonaws.com", "us-gov-west-1"),
        _ => ($"https://{EndpointPrefix}.amazonaws.com", "us-east-1"),
    };

    public static readonly ThinServiceDescriptor Iam = new("IAM", "iam", "iam", "2010-05-08", AwsWireProtocol.Query, IsGlobal: true);

    public static readonly ThinServiceDescriptor Eks = new("EKS", "eks", "eks", "2017-11-01", AwsWireProtocol.RestJson);

    public static readonly ThinServiceDescriptor ImageBuilder =
        new("imagebuilder", "imagebuilder", "imagebuilder", "2019-12-02", AwsWireProtocol.RestJson);

    public static readonly ThinServiceDescriptor AutoScaling =
        new("Auto Scaling", "autoscaling", "autoscaling", "2011-01-01", AwsWireProtocol.Query);

    public static readonly ThinServiceDescriptor CloudWatch =
        new("CloudWatch", "monitoring", "monitoring", "2010-08-01", AwsWireProtocol.Json10, "GraniteServiceVersion20100801");

    public static readonly ThinServiceDescriptor Ecr =
        new("ECR", "api.ecr", "ecr", "2015-09-21", AwsWireProtocol.Json11, "AmazonEC2ContainerRegistry_V20150921");
}
