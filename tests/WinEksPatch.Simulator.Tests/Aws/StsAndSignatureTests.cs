using System.Xml.Linq;
using Amazon;
using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using WinEksPatch.Simulator.Tests.Infrastructure;

namespace WinEksPatch.Simulator.Tests.Aws;

[Collection(SimulatorCollection.Name)]
public sealed class StsAndSignatureTests(SimulatorFixture sim)
{
    private AmazonSecurityTokenServiceClient Sts(AWSCredentials? credentials = null) =>
        new(credentials ?? sim.Credentials, new AmazonSecurityTokenServiceConfig { ServiceURL = sim.Info.Endpoint, AuthenticationRegion = "us-west-2", MaxErrorRetry = 0 });

    [Fact]
    public async Task GetCallerIdentity_with_the_sdk_client_names_the_simulator_account()
    {
        using AmazonSecurityTokenServiceClient sts = Sts();
        GetCallerIdentityResponse identity = await sts.GetCallerIdentityAsync(new GetCallerIdentityRequest());
        Assert.Equal("111122223333", identity.Account);
        Assert.Equal("arn:aws:iam::111122223333:user/wineks-simulator", identity.Arn);
        Assert.False(string.IsNullOrEmpty(identity.ResponseMetadata.RequestId));
    }

    [Fact]
    public async Task A_wrong_secret_gets_SignatureDoesNotMatch()
    {
        using AmazonSecurityTokenServiceClient sts = Sts(new BasicAWSCredentials(sim.Info.AccessKeyId, "wrong-secret-wrong-secret-wrong-secret00"));
        AmazonSecurityTokenServiceException e = await Assert.ThrowsAsync<AmazonSecurityTokenServiceException>(() => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest()));
        Assert.Equal("SignatureDoesNotMatch", e.ErrorCode);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, e.StatusCode);
        Assert.False(string.IsNullOrEmpty(e.RequestId));
    }

    [Fact]
    public async Task An_unknown_access_key_gets_InvalidClientTokenId()
    {
        using AmazonSecurityTokenServiceClient sts = Sts(new BasicAWSCredentials("AKIAUNKNOWN000000000", sim.Info.SecretAccessKey));
        AmazonSecurityTokenServiceException e = await Assert.ThrowsAsync<AmazonSecurityTokenServiceException>(() => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest()));
        Assert.Equal("InvalidClientTokenId", e.ErrorCode);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, e.StatusCode);
    }

    [Fact]
    public async Task Json_services_answer_a_wrong_secret_with_InvalidSignatureException()
    {
        using var ssm = new AmazonSimpleSystemsManagementClient(new BasicAWSCredentials(sim.Info.AccessKeyId, "nope"),
            new AmazonSimpleSystemsManagementConfig { ServiceURL = sim.Info.Endpoint, AuthenticationRegion = "us-west-2", MaxErrorRetry = 0 });
        AmazonSimpleSystemsManagementException e = await Assert.ThrowsAsync<AmazonSimpleSystemsManagementException>(() => ssm.GetParameterAsync(new GetParameterRequest { Name = "/x" }));
        Assert.Equal("InvalidSignatureException", e.ErrorCode);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, e.StatusCode);
    }

    [Fact]
    public async Task The_presigned_GET_of_an_EKS_token_is_a_valid_GetCallerIdentity_call()
    {
        string token = SignedHttp.EksToken("demo", sim.Info.Endpoint, DateTime.UtcNow);
        string b64 = token["k8s-aws-v1.".Length..].Replace('-', '+').Replace('_', '/');
        string url = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=')));

        using var http = new HttpClient();
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("x-k8s-aws-id", "demo");
        HttpResponseMessage response = await http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal(200, (int)response.StatusCode);
        XNamespace ns = "https://sts.amazonaws.com/doc/2011-06-15/";
        Assert.Equal("111122223333", XDocument.Parse(body).Descendants(ns + "Account").Single().Value);

        // The cluster name is signed: another one does not verify.
        var wrong = new HttpRequestMessage(HttpMethod.Get, url);
        wrong.Headers.Add("x-k8s-aws-id", "staging");
        HttpResponseMessage rejected = await http.SendAsync(wrong);
        Assert.Equal(403, (int)rejected.StatusCode);
        Assert.Contains("<Code>SignatureDoesNotMatch</Code>", await rejected.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unsigned_requests_get_MissingAuthenticationToken()
    {
        using var http = new HttpClient();
        HttpResponseMessage response = await http.PostAsync(sim.Info.Endpoint + "/", new FormUrlEncodedContent(new Dictionary<string, string> { ["Action"] = "GetCallerIdentity", ["Version"] = "2011-06-15" }));
        Assert.Equal(403, (int)response.StatusCode);
        Assert.Contains("<Code>MissingAuthenticationToken</Code>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(response.Headers.Contains("x-amzn-RequestId"));
    }

    [Fact]
    public async Task Unknown_query_actions_get_InvalidAction_not_a_500()
    {
        SignedHttp.Response r = await SignedHttp.QueryAsync(sim.Info.Endpoint, "sts", "2011-06-15", "AssumeNothing");
        Assert.Equal(400, r.Status);
        XElement error = XDocument.Parse(r.Body).Root!;
        Assert.Equal("ErrorResponse", error.Name.LocalName);
        Assert.Equal("InvalidAction", error.Descendants().Single(e => e.Name.LocalName == "Code").Value);
        Assert.Equal(r.Message.Headers.GetValues("x-amzn-RequestId").Single(), error.Descendants().Single(e => e.Name.LocalName == "RequestId").Value);
    }
}
