using System.Text.Json;
using WinEksPatch.Abstractions;
using WinEksPatch.Aws.ImageBuilder;
using WinEksPatch.Aws.Thin;
using WinEksPatch.Errors;
using WinEksPatch.Tests.Infrastructure;

namespace WinEksPatch.Tests.Aws;

/// <summary>The Image Builder thin client on the wire (rest-json, imagebuilder-2019-12-02): method, path, query and body per operation.</summary>
public class ImageBuilderClientTests
{
    private const string ComponentArn = "arn:aws:imagebuilder:us-west-2:111122223333:component/winekspatch-demo-2022-core-image-cache/1.0.0/1";

    private static ImageBuilderClient Client(LoopbackServer server) => new(TestCredentials.Client(ThinServiceDescriptor.ImageBuilder, server.Url));

    [Fact]
    public async Task CreateComponent_is_a_PUT_with_the_document_and_a_fresh_client_token()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(200, $$"""{"requestId":"r","clientToken":"t","componentBuildVersionArn":"{{ComponentArn}}"}"""));

        var arn = await Client(server).CreateComponentAsync(new ComponentSpec("cache", "1.0.0", "Windows", "name: cache\n", "d", ["Microsoft Windows Server 2022"]));

        Assert.Equal(ComponentArn, arn);
        var request = server.All.Single();
        Assert.Equal(("PUT", "/CreateComponent", ""), (request.Method, request.Path, request.Query));
        Assert.Equal("application/json", request.Header("Content-Type"));
        Assert.Contains("/us-west-2/imagebuilder/aws4_request", request.Header("Authorization"), StringComparison.Ordinal);
        using var body = JsonDocument.Parse(request.Body);
        var root = body.RootElement;
        Assert.Equal("cache", root.GetProperty("name").GetString());
        Assert.Equal("1.0.0", root.GetProperty("semanticVersion").GetString());
        Assert.Equal("Windows", root.GetProperty("platform").GetString());
        Assert.Equal("name: cache\n", root.GetProperty("data").GetString());
        Assert.Equal("Microsoft Windows Server 2022", root.GetProperty("supportedOsVersions")[0].GetString());
        Assert.True(Guid.TryParse(root.GetProperty("clientToken").GetString(), out _));
    }

    [Fact]
    public async Task ListComponents_posts_the_name_filter_and_follows_nextToken()
    {
        using var server = new LoopbackServer(r => r.Body.Contains("\"nextToken\":\"p2\"", StringComparison.Ordinal)
            ? new CannedResponse(200, """{"componentVersionList":[{"arn":"arn:aws:imagebuilder:us-west-2:111122223333:component/c/1.0.1","name":"c","version":"1.0.1"}]}""")
            : new CannedResponse(200, """{"componentVersionList":[{"arn":"arn:aws:imagebuilder:us-west-2:111122223333:component/c/1.0.0","name":"c","version":"1.0.0"}],"nextToken":"p2"}"""));

        var versions = await Client(server).ListComponentsAsync("c");

        Assert.Equal(["1.0.0", "1.0.1"], versions.Select(v => v.Version));
        Assert.Equal(2, server.All.Count);
        Assert.All(server.All, r =>
        {
            Assert.Equal(("POST", "/ListComponents"), (r.Method, r.Path));
            using var body = JsonDocument.Parse(r.Body);
            Assert.Equal("Self", body.RootElement.GetProperty("owner").GetString());
            Assert.Equal("name", body.RootElement.GetProperty("filters")[0].GetProperty("name").GetString());
            Assert.Equal("c", body.RootElement.GetProperty("filters")[0].GetProperty("values")[0].GetString());
            Assert.Equal(25, body.RootElement.GetProperty("maxResults").GetInt32());
        });
        Assert.DoesNotContain("nextToken", server.All[0].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListImageRecipes_reads_the_version_from_the_arn_across_pages()
    {
        using var server = new LoopbackServer(r => r.Body.Contains("\"nextToken\":\"n\"", StringComparison.Ordinal)
            ? new CannedResponse(200, """{"imageRecipeSummaryList":[{"arn":"arn:aws:imagebuilder:us-west-2:111122223333:image-recipe/r/1.0.2","name":"r"}]}""")
            : new CannedResponse(200, """{"imageRecipeSummaryList":[{"arn":"arn:aws:imagebuilder:us-west-2:111122223333:image-recipe/r/1.0.1","name":"r"}],"nextToken":"n"}"""));

        var recipes = await Client(server).ListImageRecipesAsync("r");

        Assert.Equal(["1.0.1", "1.0.2"], recipes.Select(r => r.Version));
        Assert.All(server.All, r => Assert.Equal(("POST", "/ListImageRecipes"), (r.Method, r.Path)));
    }

    [Fact]
    public async Task CreateImageRecipe_sends_components_in_order_and_the_root_volume()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(200, """{"imageRecipeArn":"arn:aws:imagebuilder:us-west-2:111122223333:image-recipe/r/1.0.0"}"""));

        await Client(server).CreateImageRecipeAsync(new ImageRecipeSpec("r", "1.0.0", "ami-0123456789abcdef0",
            ["arn:aws:imagebuilder:us-west-2:aws:component/update-windows/x.x.x", ComponentArn], [new RecipeBlockDevice("/dev/sda1", 65)]));

        var request = server.All.Single();
        Assert.Equal(("PUT", "/CreateImageRecipe"), (request.Method, request.Path));
        using var body = JsonDocument.Parse(request.Body);
        var root = body.RootElement;
        Assert.Equal("ami-0123456789abcdef0", root.GetProperty("parentImage").GetString());
        Assert.Equal(["arn:aws:imagebuilder:us-west-2:aws:component/update-windows/x.x.x", ComponentArn],
            root.GetProperty("components").EnumerateArray().Select(c => c.GetProperty("componentArn").GetString()));
        var ebs = root.GetProperty("blockDeviceMappings")[0];
        Assert.Equal("/dev/sda1", ebs.GetProperty("deviceName").GetString());
        Assert.Equal(65, ebs.GetProperty("ebs").GetProperty("volumeSize").GetInt32());
        Assert.Equal("gp3", ebs.GetProperty("ebs").GetProperty("volumeType").GetString());
    }

    [Fact]
    public async Task CreateInfrastructureConfiguration_requires_IMDSv2_and_terminates_on_failure()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(200, """{"infrastructureConfigurationArn":"arn:aws:imagebuilder:us-west-2:111122223333:infrastructure-configuration/i"}"""));

        await Client(server).CreateInfrastructureConfigurationAsync(new InfrastructureSpec("i", "EC2InstanceProfileForImageBuilder", ["m5.xlarge"],
            "subnet-0123456789abcdef0", ["sg-0123456789abcdef0"], true, "required"));

        var request = server.All.Single();
        Assert.Equal(("PUT", "/CreateInfrastructureConfiguration"), (request.Method, request.Path));
        using var body = JsonDocument.Parse(request.Body);
        var root = body.RootElement;
        Assert.True(root.GetProperty("terminateInstanceOnFailure").GetBoolean());
        Assert.Equal("required", root.GetProperty("instanceMetadataOptions").GetProperty("httpTokens").GetString());
        Assert.Equal("subnet-0123456789abcdef0", root.GetProperty("subnetId").GetString());
        Assert.Equal("sg-0123456789abcdef0", root.GetProperty("securityGroupIds")[0].GetString());
        Assert.Equal("m5.xlarge", root.GetProperty("instanceTypes")[0].GetString());
    }

    [Fact]
    public async Task CreateDistributionConfiguration_sends_the_ami_name_and_tags_per_region()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(200, """{"distributionConfigurationArn":"arn:aws:imagebuilder:us-west-2:111122223333:distribution-configuration/d"}"""));
        var tags = new Dictionary<string, string> { ["WinEksPatch:Cluster"] = "demo" };

        await Client(server).CreateDistributionConfigurationAsync(new DistributionSpec("d",
            [new AmiDistribution("us-west-2", "x-{{imagebuilder:buildDate}}", null, tags), new AmiDistribution("eu-west-1", "x-{{imagebuilder:buildDate}}", null, tags)]));

        using var body = JsonDocument.Parse(server.All.Single().Body);
        var distributions = body.RootElement.GetProperty("distributions");
        Assert.Equal(["us-west-2", "eu-west-1"], distributions.EnumerateArray().Select(d => d.GetProperty("region").GetString()));
        Assert.Equal("x-{{imagebuilder:buildDate}}", distributions[0].GetProperty("amiDistributionConfiguration").GetProperty("name").GetString());
        Assert.Equal("demo", distributions[1].GetProperty("amiDistributionConfiguration").GetProperty("amiTags").GetProperty("WinEksPatch:Cluster").GetString());
    }

    [Fact]
    public async Task GetImage_puts_the_arn_in_the_query_and_reads_status_reason_and_amis()
    {
        const string Build = "arn:aws:imagebuilder:us-west-2:111122223333:image/r/1.0.0/1";
        using var server = new LoopbackServer(_ => new CannedResponse(200, """
            {"image":{"arn":"arn:aws:imagebuilder:us-west-2:111122223333:image/r/1.0.0/1","name":"r","version":"1.0.0/1",
             "state":{"status":"FAILED","reason":"Step failed"},"dateCreated":"2026-09-20T10:00:00.000Z",
             "outputResources":{"amis":[{"region":"us-west-2","image":"ami-0123456789abcdef0","name":"n"}]}}}
            """));

        var image = await Client(server).GetImageAsync(Build);

        var request = server.All.Single();
        Assert.Equal(("GET", "/GetImage"), (request.Method, request.Path));
        Assert.Equal("?imageBuildVersionArn=" + Uri.EscapeDataString(Build), request.Query);
        Assert.Equal("", request.Body);
        Assert.Equal(("FAILED", "Step failed"), (image.Status, image.Reason));
        Assert.Equal(new DateTimeOffset(2026, 9, 20, 10, 0, 0, TimeSpan.Zero), image.DateCreated);
        Assert.Equal("ami-0123456789abcdef0", image.OutputAmis.Single().ImageId);
    }

    [Fact]
    public async Task DeleteComponent_is_a_DELETE_with_the_arn_in_the_query()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(200, $$"""{"componentBuildVersionArn":"{{ComponentArn}}"}"""));

        await Client(server).DeleteComponentAsync(ComponentArn);

        var request = server.All.Single();
        Assert.Equal(("DELETE", "/DeleteComponent"), (request.Method, request.Path));
        Assert.Equal("?componentBuildVersionArn=" + Uri.EscapeDataString(ComponentArn), request.Query);
    }

    [Fact]
    public async Task CancelImageCreation_is_a_PUT_with_the_arn_and_a_client_token()
    {
        const string Build = "arn:aws:imagebuilder:us-west-2:111122223333:image/r/1.0.0/1";
        using var server = new LoopbackServer(_ => new CannedResponse(200, $$"""{"imageBuildVersionArn":"{{Build}}"}"""));

        await Client(server).CancelImageCreationAsync(Build);

        var request = server.All.Single();
        Assert.Equal(("PUT", "/CancelImageCreation"), (request.Method, request.Path));
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal(Build, body.RootElement.GetProperty("imageBuildVersionArn").GetString());
        Assert.True(body.RootElement.TryGetProperty("clientToken", out _));
    }

    [Fact]
    public async Task A_ResourceNotFoundException_becomes_AwsResourceNotFound_with_code_and_request_id()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(404, """{"message":"The resource 'arn' does not exist."}""",
            Headers: new Dictionary<string, string> { ["x-amzn-ErrorType"] = "ResourceNotFoundException", ["x-amzn-RequestId"] = "req-ib-1" }));

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() => Client(server).GetComponentAsync(ComponentArn));

        Assert.Equal(ErrorIds.AwsResourceNotFound, error.ErrorId);
        Assert.Equal("ResourceNotFoundException", error.AwsErrorCode);
        Assert.Equal("req-ib-1", error.RequestId);
        Assert.Equal(ComponentArn, error.Target);
        Assert.Contains("GetComponent failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_InvalidParameterValueException_becomes_AwsValidationError()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(400,
            """{"message":"The value supplied for parameter 'instanceProfileName' is not valid. The instance profile 'x' does not exist."}""",
            Headers: new Dictionary<string, string> { ["x-amzn-ErrorType"] = "InvalidParameterValueException" }));

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() => Client(server).CreateInfrastructureConfigurationAsync(
            new InfrastructureSpec("i", "x", [], null, [], true, "required")));

        Assert.Equal(ErrorIds.AwsValidationError, error.ErrorId);
        Assert.Contains("instanceProfileName", error.Message, StringComparison.Ordinal);
        Assert.Single(server.All); // a 400 is not retried
    }
}
