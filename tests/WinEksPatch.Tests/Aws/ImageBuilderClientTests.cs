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

    private const string Account = "arn:aws:imagebuilder:us-west-2:111122223333:";

    [Fact]
    public async Task ListComponentBuildVersions_posts_the_version_arn_and_follows_nextToken()
    {
        const string VersionArn = Account + "component/c/1.0.0";
        using var server = new LoopbackServer(r => r.Body.Contains("\"nextToken\":\"b2\"", StringComparison.Ordinal)
            ? new CannedResponse(200, $$"""{"componentSummaryList":[{"arn":"{{VersionArn}}/2"}]}""")
            : new CannedResponse(200, $$"""{"componentSummaryList":[{"arn":"{{VersionArn}}/1"}],"nextToken":"b2"}"""));

        var builds = await Client(server).ListComponentBuildVersionsAsync(VersionArn);

        Assert.Equal([VersionArn + "/1", VersionArn + "/2"], builds);
        Assert.All(server.All, r =>
        {
            Assert.Equal(("POST", "/ListComponentBuildVersions", ""), (r.Method, r.Path, r.Query));
            using var body = JsonDocument.Parse(r.Body);
            Assert.Equal(VersionArn, body.RootElement.GetProperty("componentVersionArn").GetString());
            Assert.Equal(25, body.RootElement.GetProperty("maxResults").GetInt32());
        });
    }

    /// <summary>Every Get is a GET with the ARN as its one query parameter and no body; every list is a POST of the name filter.</summary>
    public static TheoryData<string, string, string> Reads => new()
    {
        { "GetComponent", "componentBuildVersionArn", ComponentArn },
        { "GetImageRecipe", "imageRecipeArn", Account + "image-recipe/r/1.0.2" },
        { "GetInfrastructureConfiguration", "infrastructureConfigurationArn", Account + "infrastructure-configuration/i" },
        { "GetDistributionConfiguration", "distributionConfigurationArn", Account + "distribution-configuration/d" },
    };

    [Theory]
    [MemberData(nameof(Reads))]
    public async Task Each_Get_sends_the_arn_in_the_query_and_reads_the_resource_back(string operation, string parameter, string arn)
    {
        using var server = new LoopbackServer(_ => new CannedResponse(200, operation switch
        {
            "GetComponent" => $$$"""{"component":{"arn":"{{{arn}}}","name":"cache","version":"1.0.0","platform":"Windows","owner":"111122223333","data":"name: cache\n"}}""",
            "GetImageRecipe" => $$$"""
                {"imageRecipe":{"arn":"{{{arn}}}","name":"r","version":"1.0.2","parentImage":"ami-0123456789abcdef0","description":"monthly",
                 "components":[{"componentArn":"{{{Account}}}component/a/1.0.0/1"},{"componentArn":"{{{ComponentArn}}}"}],
                 "blockDeviceMappings":[{"deviceName":"/dev/sda1","ebs":{"volumeSize":80,"volumeType":"gp3","deleteOnTermination":false}},{"deviceName":"xvdb","noDevice":""}]}}
                """,
            "GetInfrastructureConfiguration" => $$$"""
                {"infrastructureConfiguration":{"arn":"{{{arn}}}","name":"i","instanceProfileName":"EC2InstanceProfileForImageBuilder",
                 "instanceTypes":["m5.xlarge","m6i.xlarge"],"subnetId":"subnet-1","securityGroupIds":["sg-1"],"terminateInstanceOnFailure":false,
                 "instanceMetadataOptions":{"httpTokens":"required","httpPutResponseHopLimit":2} } }
                """,
            _ => $$$"""
                {"distributionConfiguration":{"arn":"{{{arn}}}","name":"d","description":"patched",
                 "distributions":[{"region":"us-west-2","amiDistributionConfiguration":{"name":"x-{{imagebuilder:buildDate}}","amiTags":{"WinEksPatch:Cluster":"demo"} } }]} }
                """,
        }));
        var client = Client(server);

        object read = operation switch
        {
            "GetComponent" => await client.GetComponentAsync(arn),
            "GetImageRecipe" => await client.GetImageRecipeAsync(arn),
            "GetInfrastructureConfiguration" => await client.GetInfrastructureConfigurationAsync(arn),
            _ => await client.GetDistributionConfigurationAsync(arn),
        };

        var request = server.All.Single();
        Assert.Equal(("GET", "/" + operation, $"?{parameter}={Uri.EscapeDataString(arn)}", ""), (request.Method, request.Path, request.Query, request.Body));
        switch (read)
        {
            case ImageBuilderComponent c:
                Assert.Equal((arn, "cache", "1.0.0", "Windows", "name: cache\n"), (c.Arn, c.Name, c.Version, c.Platform, c.Data));
                break;
            case ImageRecipeSpec r:
                Assert.Equal((arn, "1.0.2", "ami-0123456789abcdef0", "monthly"), (r.Arn, r.SemanticVersion, r.ParentImage, r.Description));
                Assert.Equal([Account + "component/a/1.0.0/1", ComponentArn], r.Components);
                Assert.Equal(new RecipeBlockDevice("/dev/sda1", 80, "gp3", false), Assert.Single(r.BlockDevices)); // a noDevice mapping is no volume
                break;
            case InfrastructureSpec i:
                Assert.Equal(["m5.xlarge", "m6i.xlarge"], i.InstanceTypes);
                Assert.Equal(("subnet-1", "sg-1", false, "required"), (i.SubnetId, i.SecurityGroupIds.Single(), i.TerminateInstanceOnFailure, i.HttpTokens));
                break;
            case DistributionSpec d:
                var region = Assert.Single(d.Distributions);
                Assert.Equal(("patched", "us-west-2", "x-{{imagebuilder:buildDate}}", "demo"),
                    (d.Description, region.Region, region.AmiName, region.AmiTags["WinEksPatch:Cluster"]));
                break;
        }
    }

    [Theory]
    [InlineData("ListInfrastructureConfigurations", "infrastructureConfigurationSummaryList")]
    [InlineData("ListDistributionConfigurations", "distributionConfigurationSummaryList")]
    public async Task Configuration_lists_filter_by_name_without_an_owner_and_follow_nextToken(string operation, string listMember)
    {
        using var server = new LoopbackServer(r => r.Body.Contains("\"nextToken\":\"t\"", StringComparison.Ordinal)
            ? new CannedResponse(200, $$"""{"{{listMember}}":[{"arn":"{{Account}}x/b","name":"b"}]}""")
            : new CannedResponse(200, $$"""{"{{listMember}}":[{"arn":"{{Account}}x/a","name":"a"}],"nextToken":"t"}"""));
        var client = Client(server);

        var arns = operation == "ListInfrastructureConfigurations"
            ? await client.ListInfrastructureConfigurationsAsync("winekspatch-demo")
            : await client.ListDistributionConfigurationsAsync("winekspatch-demo");

        Assert.Equal([Account + "x/a", Account + "x/b"], arns);
        Assert.All(server.All, r =>
        {
            Assert.Equal(("POST", "/" + operation), (r.Method, r.Path));
            using var body = JsonDocument.Parse(r.Body);
            // These two operations have no owner member in the service model.
            Assert.False(body.RootElement.TryGetProperty("owner", out _));
            Assert.Equal("winekspatch-demo", body.RootElement.GetProperty("filters")[0].GetProperty("values")[0].GetString());
        });
    }

    [Theory]
    [InlineData("DeleteImageRecipe", "imageRecipeArn")]
    [InlineData("DeleteInfrastructureConfiguration", "infrastructureConfigurationArn")]
    [InlineData("DeleteDistributionConfiguration", "distributionConfigurationArn")]
    public async Task Each_Delete_is_a_DELETE_with_the_arn_in_the_query(string operation, string parameter)
    {
        var arn = Account + "resource/x/1.0.0";
        using var server = new LoopbackServer(_ => new CannedResponse(200, $$"""{"requestId":"r","{{parameter}}":"{{arn}}"}"""));
        var client = Client(server);

        await (operation switch
        {
            "DeleteImageRecipe" => client.DeleteImageRecipeAsync(arn),
            "DeleteInfrastructureConfiguration" => client.DeleteInfrastructureConfigurationAsync(arn),
            _ => client.DeleteDistributionConfigurationAsync(arn),
        });

        var request = server.All.Single();
        Assert.Equal(("DELETE", "/" + operation, $"?{parameter}={Uri.EscapeDataString(arn)}", ""), (request.Method, request.Path, request.Query, request.Body));
    }

    [Fact]
    public async Task CreateImage_sends_the_three_configurations_tests_and_tags()
    {
        const string Build = Account + "image/r/1.0.2/1";
        using var server = new LoopbackServer(_ => new CannedResponse(200, $$"""{"requestId":"r","clientToken":"t","imageBuildVersionArn":"{{Build}}"}"""));

        var arn = await Client(server).CreateImageAsync(new ImageBuildRequest(Account + "image-recipe/r/1.0.2", Account + "infrastructure-configuration/i",
            Account + "distribution-configuration/d", new Dictionary<string, string> { ["WinEksPatch:Cluster"] = "demo" }, ImageTestsEnabled: false));

        Assert.Equal(Build, arn);
        var request = server.All.Single();
        Assert.Equal(("PUT", "/CreateImage", ""), (request.Method, request.Path, request.Query));
        using var body = JsonDocument.Parse(request.Body);
        var root = body.RootElement;
        Assert.Equal(Account + "image-recipe/r/1.0.2", root.GetProperty("imageRecipeArn").GetString());
        Assert.Equal(Account + "infrastructure-configuration/i", root.GetProperty("infrastructureConfigurationArn").GetString());
        Assert.Equal(Account + "distribution-configuration/d", root.GetProperty("distributionConfigurationArn").GetString());
        Assert.False(root.GetProperty("imageTestsConfiguration").GetProperty("imageTestsEnabled").GetBoolean());
        Assert.Equal("demo", root.GetProperty("tags").GetProperty("WinEksPatch:Cluster").GetString());
        Assert.True(Guid.TryParse(root.GetProperty("clientToken").GetString(), out _));
    }

    [Fact]
    public async Task A_body_of_another_shape_is_AwsServiceError_naming_the_operation()
    {
        // A proxy or mock answering 200 with something else: "state" should be an object.
        using var server = new LoopbackServer(_ => new CannedResponse(200, """{"image":{"arn":"x","state":"AVAILABLE"}}"""));

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() => Client(server).GetImageAsync(Account + "image/r/1.0.0/1"));

        Assert.Equal((ErrorIds.AwsServiceError, ErrorKind.InvalidData), (error.ErrorId, error.Kind));
        Assert.StartsWith("GetImage returned a body that is not its response shape", error.Message, StringComparison.Ordinal);
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

    [Fact]
    public async Task A_read_back_resource_names_the_settings_the_module_does_not_make_and_ignores_generated_and_default_members()
    {
        using var server = new LoopbackServer(request => new CannedResponse(200, request.Path.StartsWith("/GetImageRecipe", StringComparison.Ordinal)
            ? """
              {"requestId":"r","imageRecipe":{"arn":"arn:aws:imagebuilder:us-west-2:111122223333:image-recipe/r/1.0.0","name":"r","version":"1.0.0",
                "owner":"111122223333","platform":"Windows","type":"AMI","dateCreated":"2026-12-01T00:00:00Z","tags":{"a":"b"},"parentImage":"ami-1",
                "components":[{"componentArn":"arn:c","parameters":[]}],"workingDirectory":"",
                "additionalInstanceConfiguration":{"systemsManagerAgent":{"uninstallAfterBuild":false},"userDataOverride":"cG93ZXJzaGVsbA=="}}}
              """
            : """
              {"requestId":"r","distributionConfiguration":{"arn":"arn:d","name":"d","timeoutMinutes":0,"distributions":[{"region":"us-west-2",
                "amiDistributionConfiguration":{"name":"n","amiTags":{"k":"v"},"launchPermission":{"userGroups":["all"]}},"licenseConfigurationArns":[]},
                {"region":"eu-west-1","targetAccountIds":["444455556666"]}]}}
              """));
        var client = Client(server);

        var recipe = await client.GetImageRecipeAsync("arn:aws:imagebuilder:us-west-2:111122223333:image-recipe/r/1.0.0");
        var distribution = await client.GetDistributionConfigurationAsync("arn:d");

        Assert.Equal(["additionalInstanceConfiguration.userDataOverride"], recipe.OtherSettings);
        Assert.Equal(["distributions[].amiDistributionConfiguration.launchPermission.userGroups", "distributions[].targetAccountIds"], distribution.OtherSettings);
    }
}
