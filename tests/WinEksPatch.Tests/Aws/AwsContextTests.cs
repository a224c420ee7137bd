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

    /// <summary>Files and folders a test wrote (tokens of the credential-provider tests), deleted after it.</summary>
    private readonly List<string> _written = [];

    public void Dispose()
    {
        _env.Dispose();
        foreach (var path in _written)
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else
            {
                File.Delete(path);
            }
        }
    }

    [Fact]
    public void A_profile_gives_its_credentials_and_region()
    {
        var context = AwsContext.Resolve(new AwsConnectionOptions(ProfileName: "sandbox"));

        Assert.Equal("eu-central-1", context.Region.SystemName);
        Assert.Equal("AKIDSANDBOX", context.Credentials!.GetCredentials().AccessKey);
    }

    /// <summary>AWS.Tools' credentials come from another AWSSDK.Core: the module sees only an object with GetCredentials().</summary>
    private sealed class OtherSdkCredentials(string accessKey) : Amazon.Runtime.AWSCredentials
    {
        public int Reads { get; private set; }

        public override Amazon.Runtime.ImmutableCredentials GetCredentials()
        {
            Reads++;
            return new Amazon.Runtime.ImmutableCredentials(accessKey, "secret", null);
        }
    }

    /// <summary>Not credentials at all, but shaped like them.</summary>
    private sealed class Impostor
    {
        public object GetCredentials() => new { AccessKey = "AKIDFAKE", SecretKey = "x" };
    }

    [Fact]
    public void An_explicit_credential_comes_before_the_profile_and_the_session_credentials()
    {
        var given = new OtherSdkCredentials("AKIDGIVEN");
        var session = new OtherSdkCredentials("AKIDSESSION");
        var context = AwsContext.Resolve(new AwsConnectionOptions("us-west-2", "sandbox") { Credential = given, SessionCredential = session });

        Assert.Equal("AKIDGIVEN", context.Credentials!.GetCredentials().AccessKey);
        Assert.Equal(0, session.Reads);
    }

    [Fact]
    public void Session_credentials_and_region_of_AWS_Tools_come_after_the_parameters_and_before_the_environment()
    {
        _env.Set("AWS_REGION", "eu-west-1");
        var session = new OtherSdkCredentials("AKIDSESSION");

        var fromSession = AwsContext.Resolve(new AwsConnectionOptions { SessionCredential = session, SessionRegion = "ap-northeast-1" });
        Assert.Equal("AKIDSESSION", fromSession.Credentials!.GetCredentials().AccessKey);
        Assert.Equal("ap-northeast-1", fromSession.Region.SystemName);

        var explicitWins = AwsContext.Resolve(new AwsConnectionOptions("us-east-2", "sandbox") { SessionCredential = session, SessionRegion = "ap-northeast-1" });
        Assert.Equal("AKIDSANDBOX", explicitWins.Credentials!.GetCredentials().AccessKey);
        Assert.Equal("us-east-2", explicitWins.Region.SystemName);
    }

    [Fact]
    public void A_session_region_that_is_no_region_says_it_came_from_Set_DefaultAWSRegion()
    {
        var error = Assert.Throws<WinEksPatchException>(() => AwsContext.Resolve(new AwsConnectionOptions { SessionRegion = "us-weast-2" }));

        Assert.Equal(ErrorIds.InvalidRegion, error.ErrorId);
        Assert.StartsWith("Set-DefaultAWSRegion's session region 'us-weast-2'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_credential_that_is_not_AWS_credentials_is_InvalidCredential()
    {
        var error = Assert.Throws<WinEksPatchException>(() => AwsContext.Resolve(new AwsConnectionOptions("us-west-2") { Credential = new Impostor() }));

        Assert.Equal(ErrorIds.InvalidCredential, error.ErrorId);
        Assert.StartsWith("-Credential:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProfileLocation_reads_the_profile_from_that_file()
    {
        var file = Path.Combine(Path.GetTempPath(), $"wineks-credentials-{Guid.NewGuid():N}");
        _written.Add(file);
        File.WriteAllText(file, "[elsewhere]\naws_access_key_id = AKIDELSEWHERE\naws_secret_access_key = s\nregion = ca-central-1\n");

        var context = AwsContext.Resolve(new AwsConnectionOptions(ProfileName: "elsewhere") { ProfileLocation = file });
        Assert.Equal("AKIDELSEWHERE", context.Credentials!.GetCredentials().AccessKey);
        Assert.Equal("ca-central-1", context.Region.SystemName);

        var missing = Assert.Throws<WinEksPatchException>(() => AwsContext.Resolve(new AwsConnectionOptions(ProfileName: "nowhere") { ProfileLocation = file }));
        Assert.Equal(ErrorIds.ProfileNotFound, missing.ErrorId);
        Assert.Contains("(-ProfileLocation)", missing.Message, StringComparison.Ordinal);

        // sandbox has only a region (in the config file) and no keys in that credentials file: NoCredentials, not the SDK's
        // raw InvalidDataException.
        var unusable = Assert.Throws<WinEksPatchException>(() => AwsContext.Resolve(new AwsConnectionOptions(ProfileName: "sandbox") { ProfileLocation = file }));
        Assert.Equal(ErrorIds.NoCredentials, unusable.ErrorId);
    }

    [Theory]
    [InlineData("https://vpce-0123.eks.us-west-2.vpce.amazonaws.com", true)]
    [InlineData("ftp://example.com", false)]
    [InlineData("not a url", false)]
    public void EndpointUrl_points_every_client_at_it_and_must_be_http_or_https(string url, bool valid)
    {
        if (valid)
        {
            Assert.Equal(url, AwsContext.Resolve(new AwsConnectionOptions("us-west-2") { EndpointUrl = url }).EndpointOverride);
        }
        else
        {
            Assert.Equal(ErrorIds.InvalidEndpointUrl, Assert.Throws<WinEksPatchException>(() => AwsContext.Resolve(new AwsConnectionOptions("us-west-2") { EndpointUrl = url })).ErrorId);
        }
    }

    [Fact]
    public void ProfileNames_lists_every_profile_of_the_shared_files_for_completion()
    {
        var names = AwsContext.ProfileNames();

        Assert.Contains("sandbox", names);
        Assert.Contains("noregion", names);   // a profile without credentials is still a name to complete
        Assert.Contains("sso-admin", names);
        Assert.DoesNotContain("corp", names);   // [sso-session corp] is not a profile
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
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
    public void A_region_shaped_code_that_is_no_region_names_Region_and_the_known_ones_like_it()
    {
        var error = Assert.Throws<WinEksPatchException>(() => AwsContext.Resolve(new AwsConnectionOptions("us-west-9")));

        Assert.Equal(ErrorIds.InvalidRegion, error.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.StartsWith("-Region: 'us-west-9' is not a region", error.Message, StringComparison.Ordinal);
        Assert.Contains("us-west-1, us-west-2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("us-weast-2", "us-east-2 or us-west-2")] // one letter from each
    [InlineData("eu-centrall-1", "eu-central-1")]
    [InlineData("ap-southeast2", "ap-southeast-2")]
    public void A_misspelt_region_names_the_region_it_nearly_is_and_does_not_blame_the_module(string typo, string meant)
    {
        var error = Assert.Throws<WinEksPatchException>(() => AwsContext.Resolve(new AwsConnectionOptions(typo)));

        Assert.Equal(ErrorIds.InvalidRegion, error.ErrorId);
        Assert.Equal($"-Region: '{typo}' is not a region; did you mean {meant}?", error.Message);
    }

    [Fact]
    public void A_profile_whose_region_is_no_region_names_the_profile()
    {
        var error = Assert.Throws<WinEksPatchException>(() => AwsContext.Resolve(new AwsConnectionOptions(ProfileName: "typo-region")));

        Assert.Equal(ErrorIds.InvalidRegion, error.ErrorId);
        Assert.StartsWith("-ProfileName: the region 'eu-centrall-1' of profile 'typo-region' is not a region", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_configured_region_that_is_no_region_says_where_it_came_from()
    {
        _env.Set("AWS_REGION", "us-west-9");
        Amazon.Runtime.FallbackRegionFactory.Reset(); // the SDK caches the region it found in the environment
        try
        {
            var error = Assert.Throws<WinEksPatchException>(() => AwsContext.Resolve(new AwsConnectionOptions()));

            Assert.Equal(ErrorIds.InvalidRegion, error.ErrorId);
            Assert.StartsWith("-Region: the configured region 'us-west-9' (AWS_REGION", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            _env.Set("AWS_REGION", null);
            Amazon.Runtime.FallbackRegionFactory.Reset();
        }
    }

    [Theory]
    [InlineData("us-west-2")]
    [InlineData("eu-central-1")]
    [InlineData("us-gov-west-1")]
    [InlineData("cn-north-1")]
    public void Every_partition_s_regions_are_accepted(string region)
    {
        Assert.Equal(region, AwsContext.Resolve(new AwsConnectionOptions(region)).Region.SystemName);
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

    // ---- the SDK's credential providers, each against a loopback STS/SSO and EKS -----------------------------------

    private static readonly string Expiration = DateTime.UtcNow.AddHours(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static string StsCredentials(string operation) => $"""
        <{operation}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><{operation}Result>
          <Credentials><AccessKeyId>ASIAASSUMED</AccessKeyId><SecretAccessKey>assumed-secret</SecretAccessKey>
            <SessionToken>assumed-session-token</SessionToken><Expiration>{Expiration}</Expiration></Credentials>
          <AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/WinEksPatcher/s</Arn><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId></AssumedRoleUser>
        </{operation}Result><ResponseMetadata><RequestId>sts-1</RequestId></ResponseMetadata></{operation}Response>
        """;

    /// <summary>STS (AssumeRole, AssumeRoleWithWebIdentity), SSO's GetRoleCredentials and EKS ListClusters on one port.</summary>
    private static LoopbackServer StsSsoAndEks() => new(r =>
        r.Path == "/federation/credentials"
            ? new CannedResponse(200, $$$"""{"roleCredentials":{"accessKeyId":"ASIASSO","secretAccessKey":"sso-secret","sessionToken":"sso-session-token","expiration":{{{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds()}}} } }""")
            : r.Method == "POST" && r.Form().TryGetValue("Action", out var action)
                ? new CannedResponse(200, StsCredentials(action), "text/xml")
                : new CannedResponse(200, """{"clusters":["prod"]}"""));

    private static void AssertSignedWithTheSessionCredentials(RecordedRequest eks, string accessKey, string sessionToken)
    {
        Assert.Equal("/clusters", eks.Path);
        Assert.Contains($"Credential={accessKey}/", eks.Header("Authorization"), StringComparison.Ordinal);
        Assert.Equal(sessionToken, eks.Header("X-Amz-Security-Token"));
    }

    [Fact]
    public async Task An_assume_role_profile_calls_STS_with_its_source_profile_and_signs_with_the_role()
    {
        using var server = StsSsoAndEks();
        _env.Set("AWS_ENDPOINT_URL", server.Url);
        using var factory = new AwsClientFactory(AwsContext.Resolve(new AwsConnectionOptions(ProfileName: "assumer")));

        Assert.Equal(["prod"], await factory.Eks().ListClustersAsync());

        var assume = server.All.Single(r => r.Method == "POST");
        var form = assume.Form();
        Assert.Equal(("AssumeRole", "arn:aws:iam::111122223333:role/WinEksPatcher", "winekspatch-test"), (form["Action"], form["RoleArn"], form["RoleSessionName"]));
        Assert.Contains("Credential=AKIDSANDBOX/", assume.Header("Authorization"), StringComparison.Ordinal);
        Assert.Contains("/sts/aws4_request", assume.Header("Authorization"), StringComparison.Ordinal);
        AssertSignedWithTheSessionCredentials(server.All.Single(r => r.Method == "GET"), "ASIAASSUMED", "assumed-session-token");
    }

    [Fact]
    public async Task Web_identity_from_the_environment_is_exchanged_unsigned_for_role_credentials()
    {
        using var server = StsSsoAndEks();
        var tokenFile = Path.Combine(TestAwsFiles.Directory, "web-identity-token");
        File.WriteAllText(tokenFile, "eyJhbGciOiJSUzI1NiJ9.service-account-token.sig");
        _written.Add(tokenFile);
        _env.Set("AWS_ENDPOINT_URL", server.Url).Set("AWS_ACCESS_KEY_ID", null).Set("AWS_SECRET_ACCESS_KEY", null)
            .Set("AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile).Set("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/irsa-patcher")
            .Set("AWS_ROLE_SESSION_NAME", "runbook");
        using var factory = new AwsClientFactory(AwsContext.Resolve(new AwsConnectionOptions("us-west-2")));

        Assert.Equal(["prod"], await factory.Eks().ListClustersAsync());

        var exchange = server.All.Single(r => r.Method == "POST").Form();
        Assert.Equal(("AssumeRoleWithWebIdentity", "arn:aws:iam::111122223333:role/irsa-patcher", "runbook"),
            (exchange["Action"], exchange["RoleArn"], exchange["RoleSessionName"]));
        Assert.Equal("eyJhbGciOiJSUzI1NiJ9.service-account-token.sig", exchange["WebIdentityToken"]);
        Assert.Equal("", server.All.Single(r => r.Method == "POST").Header("Authorization"));
        AssertSignedWithTheSessionCredentials(server.All.Single(r => r.Method == "GET" && r.Path == "/clusters"), "ASIAASSUMED", "assumed-session-token");
    }

    [Fact]
    public async Task An_SSO_profile_uses_the_cached_login_token_to_get_role_credentials()
    {
        using var server = StsSsoAndEks();
        // `aws sso login` caches the token under ~/.aws/sso/cache, named by the SHA-1 of the sso-session's name.
        var home = Directory.CreateTempSubdirectory("wineks-home-").FullName;
        _written.Add(home);
        var cache = Directory.CreateDirectory(Path.Combine(home, ".aws", "sso", "cache")).FullName;
        var name = Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes("corp")));
        File.WriteAllText(Path.Combine(cache, name + ".json"), $$"""
            {"startUrl":"https://corp.awsapps.com/start","region":"us-west-2","accessToken":"sso-bearer-token","expiresAt":"{{Expiration}}"}
            """);
        _env.Set("AWS_ENDPOINT_URL", server.Url).Set("HOME", home).Set("USERPROFILE", home);
        using var factory = new AwsClientFactory(AwsContext.Resolve(new AwsConnectionOptions(ProfileName: "sso-admin")));

        Assert.Equal(["prod"], await factory.Eks().ListClustersAsync());

        var roleCredentials = server.All.Single(r => r.Path == "/federation/credentials");
        Assert.Equal("sso-bearer-token", roleCredentials.Header("x-amz-sso_bearer_token"));
        Assert.Equal(("111122223333", "PatchAdmin"), (roleCredentials.Form(fromQuery: true)["account_id"], roleCredentials.Form(fromQuery: true)["role_name"]));
        AssertSignedWithTheSessionCredentials(server.All.Single(r => r.Path == "/clusters"), "ASIASSO", "sso-session-token");
    }
}
