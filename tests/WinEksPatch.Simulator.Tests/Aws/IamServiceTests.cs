using System.Xml.Linq;
using WinEksPatch.Simulator.Tests.Infrastructure;

namespace WinEksPatch.Simulator.Tests.Aws;

/// <summary>IAM's GetInstanceProfile on the wire (awsQuery, 2010-05-08), signed by AWSSDK.Core's own signer.</summary>
[Collection(SimulatorCollection.Name)]
public sealed class IamServiceTests(SimulatorFixture sim)
{
    private static readonly XNamespace IamNs = "https://iam.amazonaws.com/doc/2010-05-08/";

    private Task<SignedHttp.Response> Iam(string action, IDictionary<string, string>? parameters = null) =>
        SignedHttp.QueryAsync(sim.Info.Endpoint, "iam", "2010-05-08", action, parameters);

    private Task<SignedHttp.Response> GetInstanceProfile(string name) =>
        Iam("GetInstanceProfile", new Dictionary<string, string> { ["InstanceProfileName"] = name });

    private static (string Code, string Message, string Type) Error(SignedHttp.Response r)
    {
        XElement root = XDocument.Parse(r.Body).Root!;
        Assert.Equal(IamNs + "ErrorResponse", root.Name);
        XElement error = root.Element(IamNs + "Error")!;
        Assert.Equal(r.Message.Headers.GetValues("x-amzn-RequestId").Single(), root.Element(IamNs + "RequestId")!.Value);
        return (error.Element(IamNs + "Code")!.Value, error.Element(IamNs + "Message")!.Value, error.Element(IamNs + "Type")!.Value);
    }

    [Fact]
    public async Task GetInstanceProfile_answers_the_profile_and_its_role_in_IAMs_shape()
    {
        SignedHttp.Response r = await GetInstanceProfile("demo-node-instance-profile");
        Assert.Equal(200, r.Status);
        Assert.StartsWith("text/xml", r.Message.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);

        XElement root = XDocument.Parse(r.Body).Root!;
        Assert.Equal(IamNs + "GetInstanceProfileResponse", root.Name);
        Assert.Equal(r.Message.Headers.GetValues("x-amzn-RequestId").Single(),
            root.Element(IamNs + "ResponseMetadata")!.Element(IamNs + "RequestId")!.Value);

        XElement profile = root.Element(IamNs + "GetInstanceProfileResult")!.Element(IamNs + "InstanceProfile")!;
        Assert.Equal(
            ["Path", "InstanceProfileName", "InstanceProfileId", "Arn", "CreateDate", "Roles"],
            profile.Elements().Select(e => e.Name.LocalName));
        Assert.Equal("/", profile.Element(IamNs + "Path")!.Value);
        Assert.Equal("demo-node-instance-profile", profile.Element(IamNs + "InstanceProfileName")!.Value);
        Assert.Matches("^AIPA[A-Z2-7]{17}$", profile.Element(IamNs + "InstanceProfileId")!.Value);
        Assert.Equal("arn:aws:iam::111122223333:instance-profile/demo-node-instance-profile", profile.Element(IamNs + "Arn")!.Value);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", profile.Element(IamNs + "CreateDate")!.Value);

        XElement role = profile.Element(IamNs + "Roles")!.Elements(IamNs + "member").Single();
        Assert.Equal(
            ["Path", "RoleName", "RoleId", "Arn", "CreateDate", "AssumeRolePolicyDocument"],
            role.Elements().Select(e => e.Name.LocalName));
        Assert.Equal("/", role.Element(IamNs + "Path")!.Value);
        Assert.Equal("demo-node-role", role.Element(IamNs + "RoleName")!.Value);
        Assert.Matches("^AROA[A-Z2-7]{17}$", role.Element(IamNs + "RoleId")!.Value);
        Assert.Equal("arn:aws:iam::111122223333:role/demo-node-role", role.Element(IamNs + "Arn")!.Value);

        // URL-encoded, as IAM returns policy documents: no raw JSON punctuation, and it decodes to EC2's trust policy.
        string encoded = role.Element(IamNs + "AssumeRolePolicyDocument")!.Value;
        Assert.DoesNotContain('{', encoded);
        using var trust = System.Text.Json.JsonDocument.Parse(Uri.UnescapeDataString(encoded));
        System.Text.Json.JsonElement statement = trust.RootElement.GetProperty("Statement")[0];
        Assert.Equal("Allow", statement.GetProperty("Effect").GetString());
        Assert.Equal("ec2.amazonaws.com", statement.GetProperty("Principal").GetProperty("Service").GetString());
        Assert.Equal("sts:AssumeRole", statement.GetProperty("Action").GetString());

        // Deterministic: the same ids on every call.
        XElement again = XDocument.Parse((await GetInstanceProfile("demo-node-instance-profile")).Body).Root!;
        Assert.Equal(profile.Element(IamNs + "InstanceProfileId")!.Value, again.Descendants(IamNs + "InstanceProfileId").Single().Value);
        Assert.Equal(role.Element(IamNs + "RoleId")!.Value, again.Descendants(IamNs + "RoleId").Single().Value);
    }

    [Fact]
    public async Task A_profile_without_a_role_of_its_own_holds_the_role_of_its_name()
    {
        SignedHttp.Response r = await GetInstanceProfile("EC2InstanceProfileForImageBuilderECRContainerBuilds");
        Assert.Equal(200, r.Status);
        XElement role = XDocument.Parse(r.Body).Descendants(IamNs + "member").Single();
        Assert.Equal("EC2InstanceProfileForImageBuilderECRContainerBuilds", role.Element(IamNs + "RoleName")!.Value);
        Assert.Equal("arn:aws:iam::111122223333:role/EC2InstanceProfileForImageBuilderECRContainerBuilds", role.Element(IamNs + "Arn")!.Value);
    }

    [Fact]
    public async Task An_unknown_profile_is_NoSuchEntity_404()
    {
        SignedHttp.Response r = await GetInstanceProfile("no-such-profile");
        Assert.Equal(404, r.Status);
        Assert.Equal(("NoSuchEntity", "Instance Profile no-such-profile cannot be found.", "Sender"), Error(r));
    }

    [Fact]
    public async Task A_missing_or_malformed_name_is_ValidationError_400()
    {
        SignedHttp.Response missing = await Iam("GetInstanceProfile");
        Assert.Equal(400, missing.Status);
        Assert.Equal(("ValidationError", "1 validation error detected: Value null at 'instanceProfileName' failed to satisfy constraint: Member must not be null", "Sender"), Error(missing));

        SignedHttp.Response malformed = await GetInstanceProfile("has space");
        Assert.Equal(400, malformed.Status);
        Assert.Equal(("ValidationError", @"1 validation error detected: Value 'has space' at 'instanceProfileName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+", "Sender"), Error(malformed));
    }

    [Fact]
    public async Task Other_actions_are_InvalidAction()
    {
        SignedHttp.Response r = await Iam("ListRoles");
        Assert.Equal(400, r.Status);
        Assert.Equal(("InvalidAction", "The action ListRoles is not valid for this web service.", "Sender"), Error(r));
    }
}
