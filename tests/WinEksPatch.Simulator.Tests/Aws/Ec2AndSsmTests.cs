using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using WinEksPatch.Simulator.Tests.Infrastructure;
using Filter = Amazon.EC2.Model.Filter;

namespace WinEksPatch.Simulator.Tests.Aws;

[Collection(SimulatorCollection.Name)]
public sealed class Ec2AndSsmTests(SimulatorFixture sim)
{
    private const string Ssm2022Core131 = "/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.31/image_id";

    private AmazonEC2Client Ec2() => new(sim.Credentials, new AmazonEC2Config { ServiceURL = sim.Info.Endpoint, AuthenticationRegion = "us-west-2", MaxErrorRetry = 0 });

    private AmazonSimpleSystemsManagementClient Ssm() => new(sim.Credentials, new AmazonSimpleSystemsManagementConfig { ServiceURL = sim.Info.Endpoint, AuthenticationRegion = "us-west-2", MaxErrorRetry = 0 });

    [Fact]
    public async Task DescribeInstances_filters_by_the_auto_scaling_group_tag()
    {
        using AmazonEC2Client ec2 = Ec2();
        DescribeInstancesResponse response = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest
        {
            Filters = [new Filter("tag:aws:autoscaling:groupName", ["demo-win-selfmanaged"]), new Filter("instance-state-name", ["running"])],
        });
        List<Instance> instances = response.Reservations.SelectMany(r => r.Instances).ToList();
        Assert.Equal(4, instances.Count);
        Assert.All(instances, i =>
        {
            Assert.Equal(PlatformValues.Windows, i.Platform);
            Assert.EndsWith(".us-west-2.compute.internal", i.PrivateDnsName, StringComparison.Ordinal);
            Assert.Equal(InstanceStateName.Running, i.State.Name);
        });
        Assert.Single(instances.Select(i => i.ImageId).Distinct());
    }

    [Fact]
    public async Task DescribeInstances_pages_with_MaxResults_and_NextToken()
    {
        using AmazonEC2Client ec2 = Ec2();
        var ids = new List<string>();
        string? token = null;
        int pages = 0;
        do
        {
            DescribeInstancesResponse page = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { MaxResults = 5, NextToken = token });
            ids.AddRange(page.Reservations.SelectMany(r => r.Instances).Select(i => i.InstanceId));
            token = page.NextToken;
            pages++;
        }
        while (token is not null);

        Assert.Equal(11, ids.Count); // demo: 3 + 4 + 2, staging: 2
        Assert.Equal(3, pages);
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task DescribeInstances_of_an_unknown_instance_is_InvalidInstanceID_NotFound()
    {
        using AmazonEC2Client ec2 = Ec2();
        AmazonEC2Exception e = await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = ["i-0123456789abcdef0"] }));
        Assert.Equal("InvalidInstanceID.NotFound", e.ErrorCode);
        Assert.Equal("The instance ID 'i-0123456789abcdef0' does not exist", e.Message);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, e.StatusCode);
        Assert.False(string.IsNullOrEmpty(e.RequestId));
    }

    [Fact]
    public async Task DescribeImages_finds_the_monthly_EKS_optimized_Windows_AMIs()
    {
        using AmazonEC2Client ec2 = Ec2();
        DescribeImagesResponse response = await ec2.DescribeImagesAsync(new DescribeImagesRequest
        {
            Owners = ["amazon"],
            Filters = [new Filter("name", ["Windows_Server-2022-English-Core-EKS_Optimized-1.31-*"]), new Filter("platform", ["windows"])],
        });
        Assert.Equal(16, response.Images.Count); // 2025-06 .. 2026-09
        Image newest = response.Images.OrderByDescending(i => i.CreationDate).First();
        Assert.Equal("Windows_Server-2022-English-Core-EKS_Optimized-1.31-2026.09.11", newest.Name);
        Assert.Equal("801119661308", newest.OwnerId);
        Assert.Equal("amazon", newest.ImageOwnerAlias);
        Assert.Equal(ArchitectureValues.X86_64, newest.Architecture);
    }

    [Fact]
    public async Task DescribeImages_of_an_unknown_image_is_InvalidAMIID_NotFound()
    {
        using AmazonEC2Client ec2 = Ec2();
        AmazonEC2Exception e = await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.DescribeImagesAsync(new DescribeImagesRequest { ImageIds = ["ami-0123456789abcdef0"] }));
        Assert.Equal("InvalidAMIID.NotFound", e.ErrorCode);
    }

    [Fact]
    public async Task An_unknown_filter_is_InvalidParameterValue()
    {
        using AmazonEC2Client ec2 = Ec2();
        AmazonEC2Exception e = await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.DescribeInstancesAsync(new DescribeInstancesRequest { Filters = [new Filter("no-such-filter", ["x"])] }));
        Assert.Equal("InvalidParameterValue", e.ErrorCode);
    }

    [Fact]
    public async Task The_public_SSM_parameter_names_the_AMI_of_the_current_managed_nodes()
    {
        using AmazonSimpleSystemsManagementClient ssm = Ssm();
        GetParameterResponse parameter = await ssm.GetParameterAsync(new GetParameterRequest { Name = Ssm2022Core131 });
        Assert.StartsWith("ami-", parameter.Parameter.Value, StringComparison.Ordinal);

        using AmazonEC2Client ec2 = Ec2();
        DescribeInstancesResponse managed = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { Filters = [new Filter("tag:eks:nodegroup-name", ["win-managed"])] });
        Assert.All(managed.Reservations.SelectMany(r => r.Instances), i => Assert.Equal(parameter.Parameter.Value, i.ImageId));

        DescribeInstancesResponse outdated = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { Filters = [new Filter("tag:aws:autoscaling:groupName", ["demo-win-selfmanaged"])] });
        Assert.All(outdated.Reservations.SelectMany(r => r.Instances), i => Assert.NotEqual(parameter.Parameter.Value, i.ImageId));
    }

    [Fact]
    public async Task The_demo_ids_are_stable()
    {
        // Ids are derived from names, so docs and scripts may name them (see the simulator's README).
        using AmazonSimpleSystemsManagementClient ssm = Ssm();
        Assert.Equal("ami-03ae33a4ed49091ae", (await ssm.GetParameterAsync(new GetParameterRequest { Name = Ssm2022Core131 })).Parameter.Value);

        using AmazonEC2Client ec2 = Ec2();
        DescribeInstancesResponse selfManaged = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = ["i-093882ba348fce5c1"] });
        Instance instance = selfManaged.Reservations.Single().Instances.Single();
        Assert.Equal("ami-0b178af229e4ddbf9", instance.ImageId);
        Assert.Contains(instance.Tags, t => t.Key == "aws:autoscaling:groupName" && t.Value == "demo-win-selfmanaged");
    }

    [Fact]
    public async Task GetParameter_of_an_unknown_name_is_ParameterNotFound()
    {
        using AmazonSimpleSystemsManagementClient ssm = Ssm();
        await Assert.ThrowsAsync<ParameterNotFoundException>(() => ssm.GetParameterAsync(new GetParameterRequest { Name = "/aws/service/ami-windows-latest/nope" }));
    }

    [Fact]
    public async Task GetParameters_reports_invalid_names()
    {
        using AmazonSimpleSystemsManagementClient ssm = Ssm();
        GetParametersResponse response = await ssm.GetParametersAsync(new GetParametersRequest { Names = [Ssm2022Core131, "/nope"] });
        Assert.Single(response.Parameters);
        Assert.Equal(["/nope"], response.InvalidParameters);
    }

    [Fact]
    public async Task GetParametersByPath_pages_through_the_windows_parameters()
    {
        using AmazonSimpleSystemsManagementClient ssm = Ssm();
        var names = new List<string>();
        string? token = null;
        do
        {
            GetParametersByPathResponse page = await ssm.GetParametersByPathAsync(new GetParametersByPathRequest
            {
                Path = "/aws/service/ami-windows-latest",
                Recursive = true,
                MaxResults = 4,
                NextToken = token,
            });
            Assert.True(page.Parameters.Count <= 4);
            names.AddRange(page.Parameters.Select(p => p.Name));
            token = page.NextToken;
        }
        while (token is not null);

        // 3 Kubernetes versions x (2019, 2022, 2025) x (Core, Full)
        Assert.Equal(18, names.Count);
        Assert.Contains(Ssm2022Core131, names);
    }

    [Fact]
    public async Task A_malformed_json_body_is_a_SerializationException()
    {
        SignedHttp.Response r = await SignedHttp.SendAsync(sim.Info.Endpoint, "ssm", "POST", "/", body: "{\"Name\": ", contentType: "application/x-amz-json-1.1",
            headers: new Dictionary<string, string> { ["X-Amz-Target"] = "AmazonSSM.GetParameter" });
        Assert.Equal(400, r.Status);
        Assert.Contains("SerializationException", r.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_required_member_is_a_ValidationException()
    {
        using AmazonSimpleSystemsManagementClient ssm = Ssm();
        AmazonSimpleSystemsManagementException e = await Assert.ThrowsAsync<AmazonSimpleSystemsManagementException>(() => ssm.GetParameterAsync(new GetParameterRequest()));
        Assert.Equal("ValidationException", e.ErrorCode);
    }
}
