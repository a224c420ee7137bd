using Amazon;
using WinEksPatch.Aws.Iam;
using WinEksPatch.Aws.Thin;
using WinEksPatch.Tests.Infrastructure;

namespace WinEksPatch.Tests.Aws;

public class IamClientTests
{
    [Fact]
    public async Task GetInstanceProfile_sends_the_name_of_a_profile_given_by_ARN_and_reads_its_roles()
    {
        const string body = """
            <GetInstanceProfileResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
              <GetInstanceProfileResult><InstanceProfile>
                <Path>/nodes/</Path><InstanceProfileName>demo-node-instance-profile</InstanceProfileName>
                <Arn>arn:aws:iam::111122223333:instance-profile/nodes/demo-node-instance-profile</Arn>
                <Roles><member><Path>/nodes/</Path><RoleName>demo-node-role</RoleName><Arn>arn:aws:iam::111122223333:role/nodes/demo-node-role</Arn></member></Roles>
              </InstanceProfile></GetInstanceProfileResult>
              <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>
            </GetInstanceProfileResponse>
            """;
        using var server = new LoopbackServer(_ => new CannedResponse(200, body, "text/xml"));

        var roles = await new IamClient(TestCredentials.Client(ThinServiceDescriptor.Iam, server.Url))
            .GetInstanceProfileRoleArnsAsync("arn:aws:iam::111122223333:instance-profile/nodes/demo-node-instance-profile");

        Assert.Equal(["arn:aws:iam::111122223333:role/nodes/demo-node-role"], roles);
        var form = server.All[0].Form();
        Assert.Equal(("GetInstanceProfile", "2010-05-08", "demo-node-instance-profile"), (form["Action"], form["Version"], form["InstanceProfileName"]));
        Assert.Contains("/iam/aws4_request", server.All[0].Header("Authorization"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("eu-west-1", "https://iam.amazonaws.com", "us-east-1")]
    [InlineData("us-west-2", "https://iam.amazonaws.com", "us-east-1")]
    [InlineData("cn-northwest-1", "https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1")]
    [InlineData("us-gov-east-1", "https://iam.us-gov.amazonaws.com", "us-gov-west-1")]
    public void IAM_is_one_endpoint_per_partition_signed_for_its_home_region(string region, string endpoint, string signingRegion)
    {
        var config = new ThinClientConfig(ThinServiceDescriptor.Iam) { RegionEndpoint = RegionEndpoint.GetBySystemName(region) };

        Assert.Equal(endpoint, config.DetermineServiceOperationEndpoint(new Amazon.Runtime.Endpoints.ServiceOperationEndpointParameters(new ThinRequest("GetInstanceProfile"))).URL);
        Assert.Equal((endpoint, signingRegion), ThinServiceDescriptor.Iam.GlobalHome(region));
    }
}
