using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Xml.Linq;
using Amazon.EC2;
using Amazon.EC2.Model;
using k8s;
using k8s.Autorest;
using WinEksPatch.Simulator.Hosting;
using WinEksPatch.Simulator.Tests.Infrastructure;

namespace WinEksPatch.Simulator.Tests.Control;

/// <summary>
/// API fault rules through the admin path: errors in each protocol's own shape, counts, probabilities, latency on the
/// simulated clock, Kubernetes Status errors by verb and resource, token expiry, and the rules at start.
/// </summary>
public sealed class FaultRuleTests : IAsyncLifetime
{
    private SimulatorHost _sim = null!;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync() => _sim = await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "demo" });

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _sim.DisposeAsync();
    }

    private async Task<JsonElement> AddFault(object rule)
    {
        HttpResponseMessage response = await _http.PostAsJsonAsync(_sim.Info.AdminEndpoint + "/faults", rule);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<JsonElement> Report() => JsonDocument.Parse(await _http.GetStringAsync(_sim.Info.AdminEndpoint + "/report")).RootElement.Clone();

    private static JsonElement Row(JsonElement report, string list, Func<JsonElement, bool> match) =>
        report.GetProperty(list).EnumerateArray().Single(match);

    private Task<SignedHttp.Response> DescribeGroups() =>
        SignedHttp.QueryAsync(_sim.Info.Endpoint, "autoscaling", "2011-01-01", "DescribeAutoScalingGroups");

    [Fact]
    public async Task A_counted_throttling_rule_answers_the_awsQuery_Throttling_error_twice_then_lets_calls_through()
    {
        JsonElement rule = await AddFault(new { service = "autoscaling", operation = "DescribeAutoScaling*", throttle = true, count = 2 });
        Assert.StartsWith("api-", rule.GetProperty("id").GetString(), StringComparison.Ordinal);

        for (int i = 0; i < 2; i++)
        {
            SignedHttp.Response throttled = await DescribeGroups();
            Assert.Equal(400, throttled.Status);
            XElement error = XDocument.Parse(throttled.Body).Root!;
            XNamespace ns = error.Name.Namespace;
            Assert.Equal("ErrorResponse", error.Name.LocalName);
            Assert.Equal("Throttling", error.Descendants(ns + "Code").Single().Value);
            Assert.Equal("Rate exceeded", error.Descendants(ns + "Message").Single().Value);
            Assert.Equal("Sender", error.Descendants(ns + "Type").Single().Value);
        }

        Assert.Equal(200, (await DescribeGroups()).Status);
        // Other operations of the service are untouched.
        Assert.Equal(200, (await SignedHttp.QueryAsync(_sim.Info.Endpoint, "autoscaling", "2011-01-01", "DescribeTags")).Status);

        JsonElement faults = JsonDocument.Parse(await _http.GetStringAsync(_sim.Info.AdminEndpoint + "/faults")).RootElement.GetProperty("faults");
        Assert.Equal(2, faults.EnumerateArray().Single(f => f.GetProperty("id").GetString() == rule.GetProperty("id").GetString()).GetProperty("hits").GetInt32());

        JsonElement calls = Row(await Report(), "apiCalls", r => r.GetProperty("operation").GetString() == "DescribeAutoScalingGroups");
        Assert.Equal("autoscaling", calls.GetProperty("service").GetString());
        Assert.Equal(3, calls.GetProperty("count").GetInt32());
        Assert.Equal(2, calls.GetProperty("errors").GetInt32());
        Assert.Equal(2, calls.GetProperty("throttled").GetInt32());
    }

    [Fact]
    public async Task EC2_throttling_is_RequestLimitExceeded_and_the_SDK_retries_it()
    {
        await AddFault(new { service = "ec2", operation = "DescribeInstances", throttle = true, count = 1 });
        using var ec2 = new AmazonEC2Client(new Amazon.Runtime.BasicAWSCredentials(_sim.Info.AccessKeyId, _sim.Info.SecretAccessKey),
            new AmazonEC2Config { ServiceURL = _sim.Info.Endpoint, AuthenticationRegion = "us-west-2", MaxErrorRetry = 0 });
        AmazonEC2Exception e = await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.DescribeInstancesAsync(new DescribeInstancesRequest()));
        Assert.Equal("RequestLimitExceeded", e.ErrorCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.StatusCode);
        Assert.NotEmpty((await ec2.DescribeInstancesAsync(new DescribeInstancesRequest())).Reservations);
    }

    [Fact]
    public async Task Errors_take_each_protocols_shape_and_default_status()
    {
        await AddFault(new { service = "eks", operation = "DescribeCluster", resource = "staging", errorCode = "AccessDeniedException" });
        await AddFault(new { service = "ssm", operation = "GetParameter", statusCode = 500 });

        SignedHttp.Response denied = await SignedHttp.SendAsync(_sim.Info.Endpoint, "eks", "GET", "/clusters/staging");
        Assert.Equal(403, denied.Status);
        Assert.Equal("AccessDeniedException", denied.Message.Headers.GetValues("x-amzn-ErrorType").Single());
        Assert.Contains("is not authorized to perform: eks:DescribeCluster", JsonDocument.Parse(denied.Body).RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        // The resource pattern: another cluster is not hit.
        Assert.Equal(200, (await SignedHttp.SendAsync(_sim.Info.Endpoint, "eks", "GET", "/clusters/demo")).Status);

        SignedHttp.Response failed = await SignedHttp.SendAsync(_sim.Info.Endpoint, "ssm", "POST", "/", body: "{\"Name\":\"/x\"}",
            contentType: "application/x-amz-json-1.1", headers: new Dictionary<string, string> { ["X-Amz-Target"] = "AmazonSSM.GetParameter" });
        Assert.Equal(500, failed.Status);
        Assert.Equal("InternalFailure", JsonDocument.Parse(failed.Body).RootElement.GetProperty("__type").GetString());
    }

    [Fact]
    public async Task A_probability_rule_is_seeded_and_hits_about_that_share()
    {
        await AddFault(new { service = "autoscaling", operation = "DescribeTags", statusCode = 503, probability = 0.5, seed = 7 });
        int failures = 0;
        for (int i = 0; i < 40; i++)
        {
            SignedHttp.Response r = await SignedHttp.QueryAsync(_sim.Info.Endpoint, "autoscaling", "2011-01-01", "DescribeTags");
            if (r.Status == 503)
            {
                Assert.Contains("<Code>ServiceUnavailable</Code>", r.Body, StringComparison.Ordinal);
                failures++;
            }
        }

        Assert.InRange(failures, 8, 32);
        var again = new Random(7);
        Assert.Equal(Enumerable.Range(0, 40).Count(_ => again.NextDouble() < 0.5), failures);
    }

    [Fact]
    public async Task Simulated_latency_passes_on_the_simulated_clock()
    {
        _sim.Clock.SetTimeScale(600);
        await AddFault(new { service = "eks", operation = "ListClusters", latencySeconds = 60 });
        DateTimeOffset before = _sim.Clock.GetUtcNow();
        SignedHttp.Response r = await SignedHttp.SendAsync(_sim.Info.Endpoint, "eks", "GET", "/clusters");
        Assert.Equal(200, r.Status);
        Assert.True(_sim.Clock.GetUtcNow() - before >= TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Kubernetes_rules_match_verb_and_resource_and_answer_a_Status()
    {
        await AddFault(new { service = "kubernetes", operation = "create pods/eviction", resource = "shop/*", throttle = true, count = 1 });
        await AddFault(new { service = "kubernetes", operation = "list pods", errorCode = "InternalError" });
        using k8s.Kubernetes client = new(KubernetesClientConfiguration.BuildConfigFromConfigFile(_sim.Info.KubeConfigPath, currentContext: "demo"));

        HttpOperationException listed = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ListNamespacedPodAsync("shop"));
        Assert.Equal(HttpStatusCode.InternalServerError, listed.Response.StatusCode);
        JsonElement status = JsonDocument.Parse(listed.Response.Content).RootElement;
        Assert.Equal("Status", status.GetProperty("kind").GetString());
        Assert.Equal("InternalError", status.GetProperty("reason").GetString());
        Assert.NotEmpty((await client.CoreV1.ListNodeAsync()).Items); // list nodes is not hit

        string pod;
        lock (_sim.World.Gate)
        {
            pod = _sim.World.Pods.Keys.First(k => k.Cluster == "demo" && k.Namespace == "shop" && k.Name.StartsWith("orders-api", StringComparison.Ordinal)).Name;
        }

        var eviction = new k8s.Models.V1Eviction { Metadata = new k8s.Models.V1ObjectMeta { Name = pod, NamespaceProperty = "shop" } };
        HttpOperationException throttled = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedPodEvictionAsync(eviction, pod, "shop"));
        Assert.Equal((HttpStatusCode)429, throttled.Response.StatusCode);
        Assert.Equal("TooManyRequests", JsonDocument.Parse(throttled.Response.Content).RootElement.GetProperty("reason").GetString());
        await client.CoreV1.CreateNamespacedPodEvictionAsync(eviction, pod, "shop"); // count 1: the next one goes through

        JsonElement report = await Report();
        JsonElement lists = Row(report, "kubernetesRequests", r => r.GetProperty("verb").GetString() == "list" && r.GetProperty("resource").GetString() == "pods");
        Assert.Equal(1, lists.GetProperty("errors").GetInt32());
        JsonElement evictions = Row(report, "kubernetesRequests", r => r.GetProperty("verb").GetString() == "create" && r.GetProperty("resource").GetString() == "pods/eviction");
        Assert.Equal(2, evictions.GetProperty("count").GetInt32());
        Assert.Equal(1, evictions.GetProperty("errors").GetInt32());
    }

    [Fact]
    public async Task Token_expiry_answers_401_to_the_next_requests_with_an_EKS_token_then_lets_them_through()
    {
        string old = SignedHttp.EksToken("demo", _sim.Info.Endpoint, _sim.Clock.GetUtcNow().UtcDateTime.AddSeconds(-5));
        using HttpClient k8sHttp = Http(old);
        string nodes = _sim.Info.KubernetesEndpoint + "/clusters/demo/api/v1/nodes";
        Assert.Equal(HttpStatusCode.OK, (await k8sHttp.GetAsync(nodes)).StatusCode);

        JsonElement rule = await AddFault(new { kind = "token-expiry", count = 2 });
        Assert.Equal(2, rule.GetProperty("count").GetInt32());
        Assert.Equal(1, (await AddFault(new { kind = "token-expiry", resource = "staging" })).GetProperty("count").GetInt32());
        Assert.Equal(HttpStatusCode.Unauthorized, (await k8sHttp.GetAsync(nodes)).StatusCode);
        using HttpClient fresh = Http(SignedHttp.EksToken("demo", _sim.Info.Endpoint, _sim.Clock.GetUtcNow().UtcDateTime));
        Assert.Equal(HttpStatusCode.Unauthorized, (await fresh.GetAsync(nodes)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fresh.GetAsync(nodes)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await k8sHttp.GetAsync(nodes)).StatusCode);

        // The kubeconfig's static token is not an EKS token: never refused.
        await AddFault(new { kind = "token-expiry", count = 5 });
        using HttpClient staticToken = Http("wineks-simulator-static-token-0000000000000000");
        Assert.Equal(HttpStatusCode.OK, (await staticToken.GetAsync(nodes)).StatusCode);

        JsonElement row = Row(await Report(), "kubernetesRequests", r => r.GetProperty("verb").GetString() == "list" && r.GetProperty("resource").GetString() == "nodes");
        Assert.Equal(2, row.GetProperty("unauthorized").GetInt32());
    }

    [Fact]
    public async Task Token_expiry_with_a_maximum_age_refuses_older_tokens_while_the_rule_exists()
    {
        string nodes = _sim.Info.KubernetesEndpoint + "/clusters/demo/api/v1/nodes";
        using HttpClient aged = Http(SignedHttp.EksToken("demo", _sim.Info.Endpoint, _sim.Clock.GetUtcNow().UtcDateTime.AddMinutes(-5)));
        JsonElement rule = await AddFault(new { kind = "token-expiry", maxTokenAgeSeconds = 120 });
        Assert.Equal(HttpStatusCode.Unauthorized, (await aged.GetAsync(nodes)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await _http.DeleteAsync(_sim.Info.AdminEndpoint + "/faults/" + rule.GetProperty("id").GetString())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await aged.GetAsync(nodes)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.DeleteAsync(_sim.Info.AdminEndpoint + "/faults/api-999")).StatusCode);
    }

    [Fact]
    public async Task Fleet_kinds_go_to_the_fleet_rules_and_both_list_and_clear_together()
    {
        JsonElement fleet = await AddFault(new { kind = "launch-failure", group = "demo-win-*", count = 1 });
        Assert.Equal("launch-failure", fleet.GetProperty("kind").GetString());
        await AddFault(new { service = "ec2", operation = "*", throttle = true });
        JsonElement all = JsonDocument.Parse(await _http.GetStringAsync(_sim.Info.AdminEndpoint + "/faults")).RootElement.GetProperty("faults");
        Assert.Equal(2, all.GetArrayLength());
        JsonElement fleetOnly = JsonDocument.Parse(await _http.GetStringAsync(_sim.Info.AdminEndpoint + "/fleet/faults")).RootElement.GetProperty("faults");
        Assert.Equal(fleet.GetProperty("id").GetString(), fleetOnly.EnumerateArray().Single().GetProperty("id").GetString());

        foreach (object bad in new object[] { new { kind = "meteor" }, new { service = "ec2", operation = "x" }, new { service = "ec2", throttle = true, probability = 2 }, new { service = "ec2", statusCode = 200 } })
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await _http.PostAsJsonAsync(_sim.Info.AdminEndpoint + "/faults", bad)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await _http.DeleteAsync(_sim.Info.AdminEndpoint + "/faults")).StatusCode);
        Assert.Equal(0, JsonDocument.Parse(await _http.GetStringAsync(_sim.Info.AdminEndpoint + "/faults")).RootElement.GetProperty("faults").GetArrayLength());
    }

    [Fact]
    public async Task Rules_apply_from_the_start_from_a_faults_file()
    {
        string file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "{ \"faults\": [ { \"service\": \"autoscaling\", \"operation\": \"DescribeAutoScalingGroups\", \"errorCode\": \"AccessDenied\" } ] }");
        try
        {
            await using SimulatorHost sim = await SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "demo", FaultsFile = file });
            SignedHttp.Response r = await SignedHttp.QueryAsync(sim.Info.Endpoint, "autoscaling", "2011-01-01", "DescribeAutoScalingGroups");
            Assert.Equal(403, r.Status);
            Assert.Contains("<Code>AccessDenied</Code>", r.Body, StringComparison.Ordinal);

            await File.WriteAllTextAsync(file, "[ { \"service\": \"ec2\" } ]");
            InvalidDataException bad = await Assert.ThrowsAsync<InvalidDataException>(() => SimulatorHost.StartAsync(new SimulatorOptions { Scenario = "demo", FaultsFile = file }));
            Assert.Contains("needs errorCode", bad.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private HttpClient Http(string bearer)
    {
        var ca = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(_sim.CaPem);
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
            {
                using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
                chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                return cert is not null && chain.Build(cert);
            },
        };
        var client = new HttpClient(handler);
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        return client;
    }
}
