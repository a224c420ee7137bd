using System.Text;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Tests.Infrastructure;

namespace WinEksPatch.Tests.Aws;

public class AutoScalingAndEcrClientTests
{
    private const string Ns = "http://autoscaling.amazonaws.com/doc/2011-01-01/";

    private static string GroupsPage(string name, string? nextToken) => $"""
        <DescribeAutoScalingGroupsResponse xmlns="{Ns}">
          <DescribeAutoScalingGroupsResult>
            <AutoScalingGroups>
              <member>
                <AutoScalingGroupName>{name}</AutoScalingGroupName>
                <MinSize>2</MinSize><MaxSize>8</MaxSize><DesiredCapacity>4</DesiredCapacity>
                <LaunchTemplate><LaunchTemplateId>lt-1</LaunchTemplateId><LaunchTemplateName>win</LaunchTemplateName><Version>7</Version></LaunchTemplate>
                <Instances>
                  <member><InstanceId>i-1</InstanceId><LifecycleState>InService</LifecycleState><HealthStatus>Healthy</HealthStatus>
                    <AvailabilityZone>us-west-2a</AvailabilityZone><ProtectedFromScaleIn>true</ProtectedFromScaleIn>
                    <LaunchTemplate><LaunchTemplateId>lt-1</LaunchTemplateId><Version>6</Version></LaunchTemplate></member>
                </Instances>
                <Tags><member><Key>kubernetes.io/cluster/demo</Key><Value>owned</Value></member></Tags>
                <SuspendedProcesses><member><ProcessName>AZRebalance</ProcessName><SuspensionReason>User suspended</SuspensionReason></member></SuspendedProcesses>
              </member>
            </AutoScalingGroups>
            {(nextToken == null ? "" : $"<NextToken>{nextToken}</NextToken>")}
          </DescribeAutoScalingGroupsResult>
          <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>
        </DescribeAutoScalingGroupsResponse>
        """;

    [Fact]
    public async Task DescribeAutoScalingGroups_sends_awsQuery_form_with_filters_and_pages()
    {
        using var server = new LoopbackServer(r => r.Form().ContainsKey("NextToken")
            ? new CannedResponse(200, GroupsPage("g2", null), "text/xml")
            : new CannedResponse(200, GroupsPage("g1", "tok/1"), "text/xml"));

        var groups = await TestCredentials.AutoScaling(server.Url).DescribeAutoScalingGroupsAsync(
            filters: new Dictionary<string, IReadOnlyCollection<string>> { ["tag-key"] = ["kubernetes.io/cluster/demo"] });

        Assert.Equal(["g1", "g2"], groups.Select(g => g.Name));
        var first = server.All[0];
        Assert.Equal("POST", first.Method);
        Assert.Equal("/", first.Path);
        Assert.StartsWith("application/x-www-form-urlencoded", first.Header("Content-Type"), StringComparison.Ordinal);
        var form = first.Form();
        Assert.Equal("DescribeAutoScalingGroups", form["Action"]);
        Assert.Equal("2011-01-01", form["Version"]);
        Assert.Equal("tag-key", form["Filters.member.1.Name"]);
        Assert.Equal("kubernetes.io/cluster/demo", form["Filters.member.1.Values.member.1"]);
        Assert.Equal("100", form["MaxRecords"]);
        Assert.Equal("tok/1", server.All[1].Form()["NextToken"]);
        Assert.Contains("/us-west-2/autoscaling/aws4_request", first.Header("Authorization"), StringComparison.Ordinal);

        var g = groups[0];
        Assert.Equal((2, 8, 4), (g.MinSize, g.MaxSize, g.DesiredCapacity));
        Assert.Equal(("lt-1", "7"), (g.LaunchTemplate!.Id, g.LaunchTemplate.Version));
        Assert.Equal("owned", g.Tags["kubernetes.io/cluster/demo"]);
        Assert.Equal(["AZRebalance"], g.SuspendedProcesses);
        var instance = Assert.Single(g.Instances);
        Assert.Equal(("i-1", "InService", true, "6"), (instance.InstanceId, instance.LifecycleState, instance.ProtectedFromScaleIn, instance.LaunchTemplate!.Version));
    }

    [Fact]
    public async Task DescribeAutoScalingInstances_batches_ids_by_50()
    {
        using var server = new LoopbackServer(r =>
        {
            var ids = r.Form().Where(kv => kv.Key.StartsWith("InstanceIds.member.", StringComparison.Ordinal)).Select(kv => kv.Value);
            var members = string.Concat(ids.Select(id => $"<member><InstanceId>{id}</InstanceId><AutoScalingGroupName>asg-{id}</AutoScalingGroupName><LifecycleState>InService</LifecycleState></member>"));
            return new CannedResponse(200, $"""<DescribeAutoScalingInstancesResponse xmlns="{Ns}"><DescribeAutoScalingInstancesResult><AutoScalingInstances>{members}</AutoScalingInstances></DescribeAutoScalingInstancesResult></DescribeAutoScalingInstancesResponse>""", "text/xml");
        });
        var ids = Enumerable.Range(0, 120).Select(i => $"i-{i:d4}").ToList();

        var result = await TestCredentials.AutoScaling(server.Url).DescribeAutoScalingInstancesAsync(ids);

        Assert.Equal(120, result.Count);
        Assert.Equal("asg-i-0119", result.Single(r => r.InstanceId == "i-0119").AutoScalingGroupName);
        Assert.Equal([50, 50, 20], server.All.Select(r => r.Form().Keys.Count(k => k.StartsWith("InstanceIds.member.", StringComparison.Ordinal))));
    }

    private static CannedResponse Empty(string operation) =>
        new(200, $"""<{operation}Response xmlns="{Ns}"><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></{operation}Response>""", "text/xml");

    /// <summary>The form each write sends, beyond Action and Version (checked for all of them).</summary>
    public static TheoryData<string, Dictionary<string, string>> Writes => new()
    {
        {
            "UpdateAutoScalingGroup", new()
            {
                ["AutoScalingGroupName"] = "win", ["MinSize"] = "2", ["MaxSize"] = "9", ["DesiredCapacity"] = "5",
                ["LaunchTemplate.LaunchTemplateId"] = "lt-1", ["LaunchTemplate.Version"] = "8",
            }
        },
        {
            "UpdateAutoScalingGroup/mixed", new()
            {
                ["AutoScalingGroupName"] = "win", ["MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateName"] = "win-lt",
                ["MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.Version"] = "$Latest",
            }
        },
        {
            "UpdateAutoScalingGroup/overrides", new()
            {
                ["AutoScalingGroupName"] = "win", ["CapacityRebalance"] = "false",
                ["MixedInstancesPolicy.LaunchTemplate.Overrides.member.1.InstanceType"] = "m5.2xlarge",
                ["MixedInstancesPolicy.LaunchTemplate.Overrides.member.1.LaunchTemplateSpecification.LaunchTemplateId"] = "lt-2",
                ["MixedInstancesPolicy.LaunchTemplate.Overrides.member.1.LaunchTemplateSpecification.Version"] = "4",
                ["MixedInstancesPolicy.LaunchTemplate.Overrides.member.2.InstanceType"] = "m5.xlarge",
            }
        },
        { "SetDesiredCapacity", new() { ["AutoScalingGroupName"] = "win", ["DesiredCapacity"] = "6", ["HonorCooldown"] = "false" } },
        { "TerminateInstanceInAutoScalingGroup", new() { ["InstanceId"] = "i-0abc", ["ShouldDecrementDesiredCapacity"] = "true" } },
        {
            "SuspendProcesses", new()
            {
                ["AutoScalingGroupName"] = "win", ["ScalingProcesses.member.1"] = "AZRebalance", ["ScalingProcesses.member.2"] = "ReplaceUnhealthy",
            }
        },
        { "ResumeProcesses", new() { ["AutoScalingGroupName"] = "win", ["ScalingProcesses.member.1"] = "AZRebalance" } },
        {
            "CreateOrUpdateTags", new()
            {
                ["Tags.member.1.ResourceId"] = "win", ["Tags.member.1.ResourceType"] = "auto-scaling-group", ["Tags.member.1.Key"] = "winekspatch:rollout",
                ["Tags.member.1.Value"] = "{\"batch\":2}", ["Tags.member.1.PropagateAtLaunch"] = "false",
            }
        },
        {
            "DeleteTags", new()
            {
                ["Tags.member.1.ResourceId"] = "win", ["Tags.member.1.ResourceType"] = "auto-scaling-group", ["Tags.member.1.Key"] = "winekspatch:rollout",
                ["Tags.member.2.ResourceId"] = "win", ["Tags.member.2.ResourceType"] = "auto-scaling-group", ["Tags.member.2.Key"] = "winekspatch:sizes",
            }
        },
    };

    [Theory]
    [MemberData(nameof(Writes))]
    public async Task Each_write_posts_exactly_its_awsQuery_form(string call, Dictionary<string, string> expected)
    {
        var operation = call.Split('/')[0];
        using var server = new LoopbackServer(_ => Empty(operation));
        var client = TestCredentials.AutoScaling(server.Url);

        await (call switch
        {
            "UpdateAutoScalingGroup" => client.UpdateAutoScalingGroupAsync("win", 2, 9, 5, new("lt-1", "ignored-when-id-is-set", "8")),
            "UpdateAutoScalingGroup/mixed" => client.UpdateAutoScalingGroupAsync("win", launchTemplate: new(null, "win-lt", "$Latest"), mixedInstancesPolicy: true),
            "UpdateAutoScalingGroup/overrides" => client.UpdateAutoScalingGroupAsync("win", mixedInstancesPolicy: true, capacityRebalance: false,
                overrides: [new("m5.2xlarge", new("lt-2", null, "4")), new("m5.xlarge", null)]),
            "SetDesiredCapacity" => client.SetDesiredCapacityAsync("win", 6),
            "TerminateInstanceInAutoScalingGroup" => client.TerminateInstanceInAutoScalingGroupAsync("i-0abc", decrementDesiredCapacity: true),
            "SuspendProcesses" => client.SuspendProcessesAsync("win", ["AZRebalance", "ReplaceUnhealthy"]),
            "ResumeProcesses" => client.ResumeProcessesAsync("win", ["AZRebalance"]),
            "CreateOrUpdateTags" => client.CreateOrUpdateTagsAsync("win", new Dictionary<string, string> { ["winekspatch:rollout"] = "{\"batch\":2}" }),
            "DeleteTags" => client.DeleteTagsAsync("win", ["winekspatch:rollout", "winekspatch:sizes"]),
            _ => throw new ArgumentOutOfRangeException(nameof(call)),
        });

        var request = server.All.Single();
        Assert.Equal(("POST", "/"), (request.Method, request.Path));
        Assert.Contains("/us-west-2/autoscaling/aws4_request", request.Header("Authorization"), StringComparison.Ordinal);
        var form = request.Form();
        Assert.Equal(operation, form["Action"]);
        Assert.Equal("2011-01-01", form["Version"]);
        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal),
            form.Where(kv => kv.Key is not ("Action" or "Version")).OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }

    private static string ActivitiesPage(int first, int count, string? nextToken) => $"""
        <DescribeScalingActivitiesResponse xmlns="{Ns}"><DescribeScalingActivitiesResult><Activities>
        {string.Concat(Enumerable.Range(first, count).Select(i => $"<member><ActivityId>a-{i}</ActivityId><Description>Launching a new EC2 instance</Description>" +
            $"<StatusCode>{(i == 0 ? "Failed" : "Successful")}</StatusCode><StatusMessage>{(i == 0 ? "InsufficientInstanceCapacity" : "")}</StatusMessage>" +
            $"<StartTime>2026-12-01T10:{i % 60:d2}:00Z</StartTime></member>"))}
        </Activities>{(nextToken == null ? "" : $"<NextToken>{nextToken}</NextToken>")}</DescribeScalingActivitiesResult></DescribeScalingActivitiesResponse>
        """;

    [Fact]
    public async Task DescribeScalingActivities_reads_newest_first_and_pages_only_as_far_as_asked()
    {
        // The service hands out pages of what MaxRecords asks for and always has more.
        using var server = new LoopbackServer(r =>
        {
            var form = r.Form();
            var first = form.TryGetValue("NextToken", out var token) ? int.Parse(token, System.Globalization.CultureInfo.InvariantCulture) : 0;
            var count = int.Parse(form["MaxRecords"], System.Globalization.CultureInfo.InvariantCulture);
            return new CannedResponse(200, ActivitiesPage(first, count, (first + count).ToString(System.Globalization.CultureInfo.InvariantCulture)), "text/xml");
        });
        var client = TestCredentials.AutoScaling(server.Url);

        var recent = await client.DescribeScalingActivitiesAsync("win", 5);
        var many = await client.DescribeScalingActivitiesAsync("win", 230);

        Assert.Equal(["a-0", "a-1", "a-2", "a-3", "a-4"], recent.Select(a => a.ActivityId));
        Assert.Equal(("Failed", "InsufficientInstanceCapacity"), (recent[0].StatusCode, recent[0].StatusMessage));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 10, 1, 0, TimeSpan.Zero), recent[1].StartTime);
        Assert.Equal(Enumerable.Range(0, 230).Select(i => $"a-{i}"), many.Select(a => a.ActivityId));
        Assert.Equal(["5", "100", "100", "30"], server.All.Select(r => r.Form()["MaxRecords"]));
        Assert.All(server.All, r => Assert.Equal(("DescribeScalingActivities", "win"), (r.Form()["Action"], r.Form()["AutoScalingGroupName"])));
        Assert.Equal(["100", "200"], server.All.Skip(2).Select(r => r.Form()["NextToken"]));
    }

    [Fact]
    public async Task DescribeLifecycleHooks_and_DescribeInstanceRefreshes_read_the_documented_shapes()
    {
        using var server = new LoopbackServer(r => r.Form()["Action"] == "DescribeLifecycleHooks"
            ? new CannedResponse(200, $"""
                <DescribeLifecycleHooksResponse xmlns="{Ns}"><DescribeLifecycleHooksResult><LifecycleHooks>
                  <member><LifecycleHookName>nth</LifecycleHookName><AutoScalingGroupName>win</AutoScalingGroupName>
                    <LifecycleTransition>autoscaling:EC2_INSTANCE_TERMINATING</LifecycleTransition><HeartbeatTimeout>300</HeartbeatTimeout>
                    <GlobalTimeout>30000</GlobalTimeout><DefaultResult>CONTINUE</DefaultResult></member>
                  <member><LifecycleHookName>warm</LifecycleHookName><AutoScalingGroupName>win</AutoScalingGroupName>
                    <LifecycleTransition>autoscaling:EC2_INSTANCE_LAUNCHING</LifecycleTransition><HeartbeatTimeout>3600</HeartbeatTimeout>
                    <GlobalTimeout>172800</GlobalTimeout><DefaultResult>ABANDON</DefaultResult></member>
                </LifecycleHooks></DescribeLifecycleHooksResult></DescribeLifecycleHooksResponse>
                """, "text/xml")
            : new CannedResponse(200, $"""
                <DescribeInstanceRefreshesResponse xmlns="{Ns}"><DescribeInstanceRefreshesResult><InstanceRefreshes>
                  <member><InstanceRefreshId>0e7a1b2c-0000-4000-8000-000000000001</InstanceRefreshId><AutoScalingGroupName>win</AutoScalingGroupName>
                    <Status>InProgress</Status><StartTime>2026-12-01T10:00:00Z</StartTime><PercentageComplete>25</PercentageComplete><InstancesToUpdate>3</InstancesToUpdate></member>
                  <member><InstanceRefreshId>0e7a1b2c-0000-4000-8000-000000000000</InstanceRefreshId><AutoScalingGroupName>win</AutoScalingGroupName>
                    <Status>Successful</Status><StartTime>2026-11-01T10:00:00Z</StartTime><EndTime>2026-11-01T11:00:00Z</EndTime><PercentageComplete>100</PercentageComplete></member>
                </InstanceRefreshes><NextToken>more</NextToken></DescribeInstanceRefreshesResult></DescribeInstanceRefreshesResponse>
                """, "text/xml"));
        var client = TestCredentials.AutoScaling(server.Url);

        var hooks = await client.DescribeLifecycleHooksAsync("win");
        var refreshes = await client.DescribeInstanceRefreshesAsync("win");

        Assert.Equal([new LifecycleHookInfo("nth", LifecycleHookInfo.Terminating, 300, "CONTINUE"), new LifecycleHookInfo("warm", LifecycleHookInfo.Launching, 3600, "ABANDON")], hooks);
        Assert.Equal(2, refreshes.Count);
        Assert.Equal(("InProgress", 25, true), (refreshes[0].Status, refreshes[0].PercentageComplete, refreshes[0].IsActive));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero), refreshes[0].StartTime);
        Assert.False(refreshes[1].IsActive);
        // One page of refreshes (newest first holds the running one); the hooks' group by name.
        Assert.Equal(2, server.All.Count);
        Assert.Equal(("win", "10"), (server.All[1].Form()["AutoScalingGroupName"], server.All[1].Form()["MaxRecords"]));
        Assert.False(server.All[1].Form().ContainsKey("NextToken"));
    }

    [Fact]
    public async Task A_query_error_response_maps_code_and_request_id()
    {
        using var server = new LoopbackServer(_ => new CannedResponse(400, """
            <ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type><Code>ValidationError</Code>
            <Message>1 validation error detected</Message></Error><RequestId>req-9</RequestId></ErrorResponse>
            """, "text/xml"));

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() => TestCredentials.AutoScaling(server.Url).DescribeAutoScalingGroupsAsync(["x"]));

        Assert.Equal(ErrorIds.AwsValidationError, error.ErrorId);
        Assert.Equal("ValidationError", error.AwsErrorCode);
        Assert.Equal("req-9", error.RequestId);
        Assert.Equal("x", error.Target);
    }

    [Fact]
    public async Task Ecr_GetAuthorizationToken_uses_json_1_1_and_splits_the_token()
    {
        var token = Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:secret-password"));
        using var server = new LoopbackServer(_ => new CannedResponse(200,
            $$"""{"authorizationData":[{"authorizationToken":"{{token}}","expiresAt":1.7E9,"proxyEndpoint":"https://111122223333.dkr.ecr.us-west-2.amazonaws.com"}]}""",
            "application/x-amz-json-1.1"));

        var auth = await TestCredentials.Ecr(server.Url).GetAuthorizationTokenAsync();

        var request = server.All.Single();
        Assert.Equal(("POST", "/"), (request.Method, request.Path));
        Assert.Equal("AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", request.Header("X-Amz-Target"));
        Assert.StartsWith("application/x-amz-json-1.1", request.Header("Content-Type"), StringComparison.Ordinal);
        Assert.Equal("{}", request.Body);
        Assert.Contains("/us-west-2/ecr/aws4_request", request.Header("Authorization"), StringComparison.Ordinal);
        Assert.Equal(("AWS", "secret-password"), (auth.UserName, auth.Password));
        Assert.DoesNotContain("secret-password", auth.ToString(), StringComparison.Ordinal);
    }
}
