using System.Text.Json;
using System.Xml.Linq;
using WinEksPatch.Simulator.Tests.Infrastructure;

namespace WinEksPatch.Simulator.Tests.Aws;

[Collection(SimulatorCollection.Name)]
public sealed class EksAndAutoScalingTests(SimulatorFixture sim)
{
    private static readonly XNamespace AsNs = "http://autoscaling.amazonaws.com/doc/2011-01-01/";

    private Task<SignedHttp.Response> Eks(string path, IDictionary<string, string>? query = null) =>
        SignedHttp.SendAsync(sim.Info.Endpoint, "eks", "GET", path, query);

    private Task<SignedHttp.Response> AutoScaling(string action, IDictionary<string, string>? parameters = null) =>
        SignedHttp.QueryAsync(sim.Info.Endpoint, "autoscaling", "2011-01-01", action, parameters);

    [Fact]
    public async Task ListClusters_pages_with_maxResults_and_nextToken()
    {
        SignedHttp.Response first = await Eks("/clusters", new Dictionary<string, string> { ["maxResults"] = "1" });
        Assert.Equal(200, first.Status);
        using JsonDocument page1 = JsonDocument.Parse(first.Body);
        Assert.Equal("demo", page1.RootElement.GetProperty("clusters")[0].GetString());
        string token = page1.RootElement.GetProperty("nextToken").GetString()!;

        SignedHttp.Response second = await Eks("/clusters", new Dictionary<string, string> { ["maxResults"] = "1", ["nextToken"] = token });
        using JsonDocument page2 = JsonDocument.Parse(second.Body);
        Assert.Equal("staging", page2.RootElement.GetProperty("clusters")[0].GetString());
        Assert.False(page2.RootElement.TryGetProperty("nextToken", out _));
    }

    [Fact]
    public async Task DescribeCluster_gives_the_kubernetes_endpoint_and_the_CA()
    {
        SignedHttp.Response r = await Eks("/clusters/demo");
        Assert.Equal(200, r.Status);
        using JsonDocument doc = JsonDocument.Parse(r.Body);
        JsonElement cluster = doc.RootElement.GetProperty("cluster");
        Assert.Equal("arn:aws:eks:us-west-2:111122223333:cluster/demo", cluster.GetProperty("arn").GetString());
        Assert.Equal("1.31", cluster.GetProperty("version").GetString());
        Assert.Equal("ACTIVE", cluster.GetProperty("status").GetString());
        Assert.Equal(sim.Info.ClusterEndpoint("demo"), cluster.GetProperty("endpoint").GetString());
        Assert.Equal(JsonValueKind.Number, cluster.GetProperty("createdAt").ValueKind);
        string pem = System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(cluster.GetProperty("certificateAuthority").GetProperty("data").GetString()!));
        Assert.Equal(sim.Host.CaPem, pem);
    }

    [Fact]
    public async Task DescribeCluster_of_an_unknown_cluster_is_the_real_404()
    {
        SignedHttp.Response r = await Eks("/clusters/nope");
        Assert.Equal(404, r.Status);
        Assert.Equal("ResourceNotFoundException", r.Message.Headers.GetValues("x-amzn-ErrorType").Single());
        Assert.Equal("{\"message\":\"No cluster found for name: nope.\"}", r.Body);
        Assert.True(r.Message.Headers.Contains("x-amzn-RequestId"));
    }

    [Fact]
    public async Task ListNodegroups_and_DescribeNodegroup_show_the_managed_windows_group()
    {
        SignedHttp.Response list = await Eks("/clusters/demo/node-groups", new Dictionary<string, string> { ["maxResults"] = "1" });
        using JsonDocument listDoc = JsonDocument.Parse(list.Body);
        Assert.Equal("linux-system", listDoc.RootElement.GetProperty("nodegroups")[0].GetString());
        Assert.True(listDoc.RootElement.TryGetProperty("nextToken", out _));

        SignedHttp.Response r = await Eks("/clusters/demo/node-groups/win-managed");
        Assert.Equal(200, r.Status);
        using JsonDocument doc = JsonDocument.Parse(r.Body);
        JsonElement ng = doc.RootElement.GetProperty("nodegroup");
        Assert.Equal("WINDOWS_CORE_2022_x86_64", ng.GetProperty("amiType").GetString());
        Assert.Equal("1.31-2026.09.11", ng.GetProperty("releaseVersion").GetString());
        Assert.Equal(3, ng.GetProperty("scalingConfig").GetProperty("desiredSize").GetInt32());
        Assert.StartsWith("lt-", ng.GetProperty("launchTemplate").GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("eks-win-managed-", ng.GetProperty("resources").GetProperty("autoScalingGroups")[0].GetProperty("name").GetString(), StringComparison.Ordinal);

        SignedHttp.Response missing = await Eks("/clusters/demo/node-groups/nope");
        Assert.Equal(404, missing.Status);
        Assert.Equal("{\"message\":\"No node group found for name: nope.\"}", missing.Body);
    }

    [Fact]
    public async Task DescribeAutoScalingGroups_filters_by_cluster_tag_and_pages()
    {
        var names = new List<string>();
        string? token = null;
        do
        {
            var parameters = new Dictionary<string, string>
            {
                ["Filters.member.1.Name"] = "tag-key",
                ["Filters.member.1.Values.member.1"] = "kubernetes.io/cluster/demo",
                ["MaxRecords"] = "2",
            };
            if (token is not null)
            {
                parameters["NextToken"] = token;
            }

            SignedHttp.Response r = await AutoScaling("DescribeAutoScalingGroups", parameters);
            Assert.Equal(200, r.Status);
            XDocument doc = XDocument.Parse(r.Body);
            names.AddRange(doc.Descendants(AsNs + "AutoScalingGroupName").Select(e => e.Value));
            token = doc.Descendants(AsNs + "NextToken").SingleOrDefault()?.Value;
        }
        while (token is not null);

        Assert.Equal(3, names.Count);
        Assert.Contains("demo-win-selfmanaged", names);
    }

    [Fact]
    public async Task The_self_managed_group_has_a_launch_template_and_four_instances()
    {
        SignedHttp.Response r = await AutoScaling("DescribeAutoScalingGroups", new Dictionary<string, string> { ["AutoScalingGroupNames.member.1"] = "demo-win-selfmanaged" });
        XElement group = XDocument.Parse(r.Body).Descendants(AsNs + "AutoScalingGroups").Single().Elements(AsNs + "member").Single();
        Assert.Equal("$Latest", group.Element(AsNs + "LaunchTemplate")!.Element(AsNs + "Version")!.Value);
        Assert.Equal("4", group.Element(AsNs + "DesiredCapacity")!.Value);
        List<XElement> instances = group.Element(AsNs + "Instances")!.Elements(AsNs + "member").ToList();
        Assert.Equal(4, instances.Count);
        Assert.All(instances, i => Assert.Equal("InService", i.Element(AsNs + "LifecycleState")!.Value));
        Assert.Contains(group.Element(AsNs + "Tags")!.Elements(AsNs + "member"), t => t.Element(AsNs + "Key")!.Value == "kubernetes.io/cluster/demo" && t.Element(AsNs + "Value")!.Value == "owned");

        SignedHttp.Response managed = await AutoScaling("DescribeAutoScalingGroups", new Dictionary<string, string> { ["Filters.member.1.Name"] = "tag:eks:nodegroup-name", ["Filters.member.1.Values.member.1"] = "win-managed" });
        Assert.Single(XDocument.Parse(managed.Body).Descendants(AsNs + "MixedInstancesPolicy"));
    }

    [Fact]
    public async Task DescribeAutoScalingInstances_pages_and_names_the_group()
    {
        SignedHttp.Response r = await AutoScaling("DescribeAutoScalingInstances", new Dictionary<string, string> { ["MaxRecords"] = "10" });
        XDocument doc = XDocument.Parse(r.Body);
        Assert.Equal(10, doc.Descendants(AsNs + "AutoScalingInstances").Single().Elements().Count());
        string token = doc.Descendants(AsNs + "NextToken").Single().Value;

        SignedHttp.Response rest = await AutoScaling("DescribeAutoScalingInstances", new Dictionary<string, string> { ["MaxRecords"] = "10", ["NextToken"] = token });
        Assert.Single(XDocument.Parse(rest.Body).Descendants(AsNs + "AutoScalingInstances").Single().Elements());
    }

    [Fact]
    public async Task Bad_query_parameters_are_the_services_validation_errors()
    {
        SignedHttp.Response badMax = await AutoScaling("DescribeAutoScalingGroups", new Dictionary<string, string> { ["MaxRecords"] = "1000" });
        Assert.Equal(400, badMax.Status);
        Assert.Contains("<Code>ValidationError</Code>", badMax.Body, StringComparison.Ordinal);

        SignedHttp.Response badToken = await AutoScaling("DescribeAutoScalingGroups", new Dictionary<string, string> { ["NextToken"] = "garbage" });
        Assert.Equal(400, badToken.Status);
        Assert.Contains("<Code>InvalidNextToken</Code>", badToken.Body, StringComparison.Ordinal);

        SignedHttp.Response badEks = await Eks("/clusters", new Dictionary<string, string> { ["maxResults"] = "abc" });
        Assert.Equal(400, badEks.Status);
        Assert.Equal("InvalidParameterException", badEks.Message.Headers.GetValues("x-amzn-ErrorType").Single());
    }
}
