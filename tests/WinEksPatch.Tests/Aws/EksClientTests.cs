using WinEksPatch.Errors;
using WinEksPatch.Tests.Infrastructure;

namespace WinEksPatch.Tests.Aws;

public class EksClientTests
{
    [Fact]
    public async Task ListClusters_follows_nextToken_and_sends_the_rest_json_request_shape()
    {
        using var server = new LoopbackServer(r => r.Query.Contains("nextToken=page%2B2", StringComparison.Ordinal)
            ? new CannedResponse(200, """{"clusters":["c3"]}""")
            : new CannedResponse(200, """{"clusters":["c1","c2"],"nextToken":"page+2"}"""));

        var clusters = await TestCredentials.Eks(server.Url).ListClustersAsync();

        Assert.Equal(["c1", "c2", "c3"], clusters);
        var requests = server.All;
        Assert.Equal(2, requests.Count);
        Assert.All(requests, r =>
        {
            Assert.Equal("GET", r.Method);
            Assert.Equal("/clusters", r.Path);
            Assert.Contains("maxResults=100", r.Query, StringComparison.Ordinal);
            Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", r.Header("Authorization"), StringComparison.Ordinal);
            Assert.Contains("/us-west-2/eks/aws4_request", r.Header("Authorization"), StringComparison.Ordinal);
            Assert.Equal("", r.Body);
        });
        Assert.DoesNotContain("nextToken", requests[0].Query, StringComparison.Ordinal);
        Assert.Contains("nextToken=page%2B2", requests[1].Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DescribeCluster_encodes_the_name_label_and_reads_the_cluster()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(200, """
            {"cluster":{"name":"demo","arn":"arn:aws:eks:us-west-2:111122223333:cluster/demo","version":"1.31","status":"ACTIVE",
             "endpoint":"https://ABC.gr7.us-west-2.eks.amazonaws.com","certificateAuthority":{"data":"LS0t"},
             "platformVersion":"eks.12","createdAt":1700000000.5}}
            """));

        var cluster = await TestCredentials.Eks(server.Url).DescribeClusterAsync("demo");

        Assert.Equal("/clusters/demo", server.All.Single().Path);
        Assert.Equal("GET", server.All.Single().Method);
        Assert.Equal("1.31", cluster.Version);
        Assert.Equal("ACTIVE", cluster.Status);
        Assert.Equal("LS0t", cluster.CertificateAuthorityData);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1700000000500), cluster.CreatedAt);
    }

    [Fact]
    public async Task DescribeNodegroup_reads_scaling_launch_template_and_autoscaling_groups()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(200, """
            {"nodegroup":{"nodegroupName":"win","clusterName":"demo","version":"1.31","releaseVersion":"1.31-2025.01",
             "status":"ACTIVE","capacityType":"ON_DEMAND","amiType":"WINDOWS_CORE_2022_x86_64",
             "scalingConfig":{"minSize":1,"maxSize":6,"desiredSize":3},"instanceTypes":["m5.large"],
             "launchTemplate":{"name":"win-lt","version":"4","id":"lt-0abc"},
             "resources":{"autoScalingGroups":[{"name":"eks-win-1234"}]}}}
            """));

        var group = await TestCredentials.Eks(server.Url).DescribeNodegroupAsync("demo", "win");

        Assert.Equal("/clusters/demo/node-groups/win", server.All.Single().Path);
        Assert.True(group.IsWindowsAmiType);
        Assert.Equal((1, 6, 3), (group.MinSize!.Value, group.MaxSize!.Value, group.DesiredSize!.Value));
        Assert.Equal(("lt-0abc", "4"), (group.LaunchTemplateId, group.LaunchTemplateVersion));
        Assert.Equal(["eks-win-1234"], group.AutoScalingGroupNames);
    }

    private const string UpdateBody = """
        {"update":{"id":"0f2c-upd","status":"Failed","type":"VersionUpdate","createdAt":1764583200.5,
         "errors":[{"errorCode":"PodEvictionFailure","errorMessage":"Reached max retries while trying to evict pods","resourceIds":["ip-10-0-1-5"]}]}}
        """;

    [Fact]
    public async Task UpdateNodegroupVersion_posts_the_launch_template_by_id_force_and_a_request_token()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(200, UpdateBody));

        var update = await TestCredentials.Eks(server.Url).UpdateNodegroupVersionAsync("demo", "win managed", new("lt-0abc", "win-lt", "7"), null, force: true);

        var request = server.All.Single();
        Assert.Equal(("POST", "/clusters/demo/node-groups/win%20managed/update-version", ""), (request.Method, request.Path, request.Query));
        Assert.StartsWith("application/json", request.Header("Content-Type"), StringComparison.Ordinal);
        using var body = System.Text.Json.JsonDocument.Parse(request.Body);
        var root = body.RootElement;
        Assert.True(root.GetProperty("force").GetBoolean());
        Assert.True(Guid.TryParse(root.GetProperty("clientRequestToken").GetString(), out _));
        // EKS takes the template by id or by name, never both.
        Assert.Equal("""{"id":"lt-0abc","version":"7"}""", root.GetProperty("launchTemplate").GetRawText());
        Assert.False(root.TryGetProperty("releaseVersion", out _));
        Assert.Equal(("0f2c-upd", "Failed", "VersionUpdate"), (update.Id, update.Status, update.Type));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1764583200500), update.CreatedAt);
        var error = Assert.Single(update.Errors);
        Assert.Equal(("PodEvictionFailure", "ip-10-0-1-5"), (error.ErrorCode, error.ResourceIds.Single()));
    }

    [Fact]
    public async Task UpdateNodegroupVersion_to_a_release_version_sends_it_without_a_template()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(200, UpdateBody));

        await TestCredentials.Eks(server.Url).UpdateNodegroupVersionAsync("demo", "win", null, "1.31.2-20251111", force: false);

        using var body = System.Text.Json.JsonDocument.Parse(server.All.Single().Body);
        Assert.Equal("1.31.2-20251111", body.RootElement.GetProperty("releaseVersion").GetString());
        Assert.False(body.RootElement.GetProperty("force").GetBoolean());
        Assert.False(body.RootElement.TryGetProperty("launchTemplate", out _));
    }

    [Fact]
    public async Task DescribeUpdate_is_a_GET_of_the_update_with_the_node_group_in_the_query()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(200, UpdateBody));

        var update = await TestCredentials.Eks(server.Url).DescribeUpdateAsync("demo", "win", "0f2c-upd");

        var request = server.All.Single();
        Assert.Equal(("GET", "/clusters/demo/updates/0f2c-upd", "?nodegroupName=win", ""), (request.Method, request.Path, request.Query, request.Body));
        Assert.Equal("Failed", update.Status);
    }

    [Fact]
    public async Task ListUpdates_filters_by_node_group_and_follows_nextToken()
    {
        using var server = new LoopbackServer(r => r.Query.Contains("nextToken=n2", StringComparison.Ordinal)
            ? new CannedResponse(200, """{"updateIds":["u3"]}""")
            : new CannedResponse(200, """{"updateIds":["u1","u2"],"nextToken":"n2"}"""));

        var ids = await TestCredentials.Eks(server.Url).ListUpdatesAsync("demo", "win");

        Assert.Equal(["u1", "u2", "u3"], ids);
        Assert.Equal(2, server.All.Count);
        Assert.All(server.All, r =>
        {
            Assert.Equal(("GET", "/clusters/demo/updates"), (r.Method, r.Path));
            Assert.Contains("nodegroupName=win", r.Query, StringComparison.Ordinal);
            Assert.Contains("maxResults=100", r.Query, StringComparison.Ordinal);
        });
        Assert.DoesNotContain("nextToken", server.All[0].Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_404_becomes_AwsResourceNotFound_with_the_code_and_request_id()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(404, """{"message":"No cluster found for name: nope."}""",
            Headers: new Dictionary<string, string> { ["x-amzn-ErrorType"] = "ResourceNotFoundException:http://internal", ["x-amzn-RequestId"] = "req-123" }));

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() => TestCredentials.Eks(server.Url).DescribeClusterAsync("nope"));

        Assert.Equal(ErrorIds.AwsResourceNotFound, error.ErrorId);
        Assert.Equal(ErrorKind.ObjectNotFound, error.Kind);
        Assert.Equal("ResourceNotFoundException", error.AwsErrorCode);
        Assert.Equal("req-123", error.RequestId);
        Assert.Equal("nope", error.Target);
        Assert.Contains("No cluster found for name: nope", error.Message, StringComparison.Ordinal);
        Assert.Contains("req-123", error.Message, StringComparison.Ordinal);
        Assert.Single(server.All); // a 404 is not retried
    }

    [Fact]
    public async Task Throttling_is_retried_by_the_SDK_and_then_succeeds()
    {
        var calls = 0;
        using var server = new LoopbackServer(_ => Interlocked.Increment(ref calls) <= 2
            ? new CannedResponse(400, """{"__type":"ThrottlingException","message":"Rate exceeded"}""")
            : new CannedResponse(200, """{"clusters":["c1"]}"""));

        var clusters = await TestCredentials.Eks(server.Url).ListClustersAsync();

        Assert.Equal(["c1"], clusters);
        Assert.Equal(3, server.All.Count);
    }

    [Fact]
    public async Task Persistent_throttling_ends_as_AwsThrottled_after_the_SDK_retries()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(429, """{"message":"Too many requests"}""",
            Headers: new Dictionary<string, string> { ["x-amzn-ErrorType"] = "TooManyRequestsException" }));

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() => TestCredentials.Eks(server.Url).ListClustersAsync());

        Assert.Equal(ErrorIds.AwsThrottled, error.ErrorId);
        Assert.Equal(ErrorKind.Throttled, error.Kind);
        Assert.True(server.All.Count > 1, "the SDK's standard retry mode retries throttling");
    }

    [Fact]
    public async Task Server_errors_are_retried()
    {
        var calls = 0;
        using var server = new LoopbackServer(_ => Interlocked.Increment(ref calls) == 1
            ? new CannedResponse(503, """{"message":"unavailable"}""", Headers: new Dictionary<string, string> { ["x-amzn-ErrorType"] = "ServiceUnavailableException" })
            : new CannedResponse(200, """{"nodegroups":["a"]}"""));

        Assert.Equal(["a"], await TestCredentials.Eks(server.Url).ListNodegroupsAsync("demo"));
        Assert.Equal(2, server.All.Count);
        Assert.All(server.All, r => Assert.Equal("/clusters/demo/node-groups", r.Path));
    }

    [Fact]
    public async Task Access_denied_maps_to_PermissionDenied()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(403, """{"message":"User is not authorized to perform: eks:ListClusters"}""",
            Headers: new Dictionary<string, string> { ["x-amzn-ErrorType"] = "AccessDeniedException" }));

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() => TestCredentials.Eks(server.Url).ListClustersAsync());

        Assert.Equal(ErrorIds.AwsAccessDenied, error.ErrorId);
        Assert.Equal(ErrorKind.PermissionDenied, error.Kind);
        Assert.DoesNotContain(TestCredentials.SecretKey, error.ToString(), StringComparison.Ordinal);
    }
}
