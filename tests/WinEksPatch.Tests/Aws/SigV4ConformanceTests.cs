using System.Globalization;
using WinEksPatch.Tests.Infrastructure;

namespace WinEksPatch.Tests.Aws;

/// <summary>
/// The signatures our clients send, recomputed by @smithy/signature-v4 (the AWS SDK for JavaScript v3's signer) from
/// the request as the server received it. Equal Authorization headers mean both agree on the canonical request.
/// </summary>
public class SigV4ConformanceTests
{
    /// <summary>One request of each shape: rest-json GET, awsQuery form, JSON 1.1, a rest-json path label that needs encoding, and an
    /// ARN (with ':' and '/') in the query string, whose double encoding in the canonical request is the classic SigV4 mistake.</summary>
    public static TheoryData<string> Operations => new() { "eks-get", "autoscaling-form", "ecr-json", "eks-label", "imagebuilder-arn-query" };

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Signature_matches_the_AWS_SDK_for_JavaScript(string operation)
    {
        using var server = new LoopbackServer(_ => operation switch
        {
            "autoscaling-form" => new CannedResponse(200, """<DescribeAutoScalingInstancesResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><DescribeAutoScalingInstancesResult><AutoScalingInstances/></DescribeAutoScalingInstancesResult></DescribeAutoScalingInstancesResponse>""", "text/xml"),
            "ecr-json" => new CannedResponse(200, """{"authorizationData":[{"authorizationToken":"QVdTOng=","proxyEndpoint":"https://x"}]}"""),
            "eks-label" => new CannedResponse(200, """{"update":{"id":"u 1","status":"Successful"}}"""),
            "imagebuilder-arn-query" => new CannedResponse(200, """{"image":{"arn":"x","state":{"status":"AVAILABLE"}}}"""),
            _ => new CannedResponse(200, """{"clusters":[]}"""),
        });
        switch (operation)
        {
            case "autoscaling-form":
                await TestCredentials.AutoScaling(server.Url).DescribeAutoScalingInstancesAsync(["i-0abc", "i-0def"]);
                break;
            case "ecr-json":
                await TestCredentials.Ecr(server.Url).GetAuthorizationTokenAsync();
                break;
            case "eks-label":
                await TestCredentials.Eks(server.Url).DescribeUpdateAsync("demo", "win managed", "u 1");
                break;
            case "imagebuilder-arn-query":
                await new WinEksPatch.Aws.ImageBuilder.ImageBuilderClient(TestCredentials.Client(WinEksPatch.Aws.Thin.ThinServiceDescriptor.ImageBuilder, server.Url))
                    .GetImageAsync("arn:aws:imagebuilder:us-west-2:111122223333:image/win-2022/1.0.2/1");
                break;
            default:
                await TestCredentials.Eks(server.Url).ListClustersAsync();
                break;
        }

        var request = server.All.Single();
        var authorization = request.Header("Authorization");
        var scope = authorization.Split("Credential=")[1].Split(',')[0].Split('/');
        var signedHeaders = authorization.Split("SignedHeaders=")[1].Split(',')[0].Split(';');
        var amzDate = DateTime.ParseExact(request.Header("X-Amz-Date"), "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        var uri = new Uri(server.Url);

        var js = SmithySigner.Run(new
        {
            mode = "sign",
            accessKeyId = TestCredentials.AccessKey,
            secretAccessKey = TestCredentials.SecretKey,
            region = scope[2],
            service = scope[3],
            date = amzDate.ToString("o", CultureInfo.InvariantCulture),
            method = request.Method,
            protocol = "http:",
            hostname = uri.Host,
            port = uri.Port,
            path = request.Path,
            query = request.Form(fromQuery: true),
            headers = signedHeaders.ToDictionary(h => h, h => request.Header(h)),
            body = request.Body,
        });

        Assert.Equal(authorization, (string?)js["authorization"]);
    }
}
