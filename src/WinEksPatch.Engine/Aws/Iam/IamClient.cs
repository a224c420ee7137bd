using System.Xml.Linq;
using WinEksPatch.Abstractions;
using WinEksPatch.Aws.Thin;

namespace WinEksPatch.Aws.Iam;

/// <summary>IAM over awsQuery (service model iam-2010-05-08, a global endpoint): only GetInstanceProfile.</summary>
public sealed class IamClient(ThinServiceClient client) : IIamApi
{
    public async Task<IReadOnlyList<string>> GetInstanceProfileRoleArnsAsync(string instanceProfile, CancellationToken cancellationToken = default)
    {
        // GetInstanceProfile takes the name; a launch template may give the ARN (…:instance-profile/path/name).
        var name = instanceProfile.StartsWith("arn:", StringComparison.Ordinal) ? instanceProfile[(instanceProfile.LastIndexOf('/') + 1)..] : instanceProfile;
        var request = new ThinRequest("GetInstanceProfile");
        request.Parameters["InstanceProfileName"] = name;
        var response = await AwsErrorTranslator.CallAsync("GetInstanceProfile", name, () => client.SendAsync(request, cancellationToken)).ConfigureAwait(false);
        var root = XDocument.Parse(response.Body).Root ?? throw new InvalidDataException("GetInstanceProfile returned an empty document.");
        var ns = root.Name.Namespace;
        var profile = root.Element(ns + "GetInstanceProfileResult")?.Element(ns + "InstanceProfile")
            ?? throw new InvalidDataException("GetInstanceProfile returned no InstanceProfile element.");
        return profile.Element(ns + "Roles")?.Elements(ns + "member").Select(r => r.Element(ns + "Arn")?.Value).OfType<string>().ToList() ?? [];
    }
}
