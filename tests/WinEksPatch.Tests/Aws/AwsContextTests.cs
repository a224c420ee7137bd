using WinEksPatch.Aws;
using WinEksPatch.Errors;
using WinEksPatch.Tests.Infrastructure;

namespace WinEksPatch.Tests.Aws;

[Collection(EnvironmentCollection.Name)]
public sealed class AwsContextTests : IDisposable
{
    private readonly EnvironmentScope _env = new();

    // The profiles come from TestAwsFiles (set up once per test process).
    public AwsContextTests() =>
        _env.Set("AWS_REGION", null).Set("AWS_DEFAULT_REGION", null).Set("AWS_PROFILE", null);

    public void Dispose()
    {
        _env.Dispose();
    }

    [Fact]
    public void A_profile_gives_its_credentials_and_region()
    {
        var context = AwsContext.Resolve(new AwsConnectionOptions(ProfileName: "sandbox"));

        Assert.Equal("eu-central-1", context.Region.SystemName);
        Assert.Equal("AKIDSANDBOX", context.Credentials!.GetCredentials().AccessKey);
    }

    [Fact]
    public void An_explicit_region_wins_over_the_profile()
    {
        Assert.Equal("ap-southeast-2", AwsContext.Resolve(new AwsConnectionOptions("ap-southeast-2", "sandbox")).Region.SystemName);
    }

    [Fact]
    public void A_missing_profile_names_ProfileName()
    {
        var error = Assert.Throws<WinEksPatchException>(() => AwsContext.Resolve(new AwsConnectionOptions(ProfileName: "prod")));

        Assert.Equal(ErrorIds.ProfileNotFound, error.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.StartsWith("-ProfileName:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("uswest2")]
    [InlineData("us-west")]
    [InlineData("https://eks.us-west-2.amazonaws.com")]
    public void A_malformed_region_names_Region(string region)
    {
        var error = Assert.Throws<WinEksPatchException>(() => AwsContext.Resolve(new AwsConnectionOptions(region)));

        Assert.Equal(ErrorIds.InvalidRegion, error.ErrorId);
        Assert.StartsWith("-Region:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_region_the_SDK_does_not_know_yet_but_shaped_like_one_is_accepted()
    {
        Assert.Equal("xx-newplace-7", AwsContext.Resolve(new AwsConnectionOptions("xx-newplace-7")).Region.SystemName);
    }

    [Fact]
    public void No_region_anywhere_is_NoRegion()
    {
        var error = Assert.Throws<WinEksPatchException>(() => AwsContext.Resolve(new AwsConnectionOptions(ProfileName: "noregion")));

        Assert.Equal(ErrorIds.NoRegion, error.ErrorId);
    }

    [Fact]
    public async Task AWS_ENDPOINT_URL_EKS_routes_the_thin_EKS_client_and_the_profile_signs()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(200, """{"clusters":["from-env"]}"""));
        _env.Set("AWS_ENDPOINT_URL_EKS", server.Url);
        using var factory = new AwsClientFactory(AwsContext.Resolve(new AwsConnectionOptions("us-west-2", "sandbox")));

        var clusters = await factory.Eks().ListClustersAsync();

        Assert.Equal(["from-env"], clusters);
        Assert.Contains("Credential=AKIDSANDBOX/", server.All.Single().Header("Authorization"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWS_ENDPOINT_URL_routes_every_service_including_the_SDK_clients()
    {
        using var server = new LoopbackServer(r => r.Header("X-Amz-Target").StartsWith("AmazonSSM", StringComparison.Ordinal)
            ? new CannedResponse(200, """{"Parameter":{"Name":"/x","Type":"String","Value":"ami-0123","Version":1}}""", "application/x-amz-json-1.1")
            : new CannedResponse(200, """<DescribeAutoScalingInstancesResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><DescribeAutoScalingInstancesResult><AutoScalingInstances/></DescribeAutoScalingInstancesResult></DescribeAutoScalingInstancesResponse>""", "text/xml"));
        _env.Set("AWS_ENDPOINT_URL", server.Url).Set("AWS_ACCESS_KEY_ID", "AKIDENV").Set("AWS_SECRET_ACCESS_KEY", "env-secret");
        using var factory = new AwsClientFactory(AwsContext.Resolve(new AwsConnectionOptions("us-west-2")));

        await factory.AutoScaling().DescribeAutoScalingInstancesAsync(["i-1"]);
        var parameter = await factory.Ssm().GetParameterAsync("/x");

        Assert.Equal("ami-0123", parameter!.Value);
        Assert.Equal(2, server.All.Count);
        Assert.All(server.All, r => Assert.Contains("Credential=AKIDENV/", r.Header("Authorization"), StringComparison.Ordinal));
    }
}
