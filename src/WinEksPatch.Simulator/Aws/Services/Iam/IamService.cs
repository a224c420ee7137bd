using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using WinEksPatch.Simulator.Aws.Protocols;

namespace WinEksPatch.Simulator.Aws.Services.Iam;

/// <summary>
/// IAM (awsQuery, 2010-05-08): GetInstanceProfile over the world's instance profiles (<c>SimWorld.InstanceProfiles</c>,
/// each holding one role: <c>SimWorld.RoleOfInstanceProfile</c>). IAM is global: its one endpoint signs with us-east-1,
/// and any signing region is accepted here, as every region is for the other services. IAM ARNs have no region.
/// </summary>
public sealed partial class IamService : AwsService
{
    public const string Namespace = "https://iam.amazonaws.com/doc/2010-05-08/";

    /// <summary>When the simulated profiles and roles were created (IAM answers a CreateDate; nothing here changes them).</summary>
    public static readonly DateTimeOffset Created = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The trust policy of every simulated role: EC2 may assume it (what an instance profile's role needs).</summary>
    public const string Ec2TrustPolicy =
        """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}""";

    public override string SigningName => "iam";

    public override AwsProtocol Protocol => AwsProtocol.Query;

    public override string XmlNamespace => Namespace;

    public override Task HandleAsync(AwsCall call)
    {
        string action = RequireAction(call);
        return action switch
        {
            "GetInstanceProfile" => GetInstanceProfile(call),
            _ => throw InvalidAction(action),
        };
    }

    private Task GetInstanceProfile(AwsCall call)
    {
        string name = ValidName(call.FormOrQuery.Get("InstanceProfileName"), "instanceProfileName");
        string account = call.World.AccountId;
        string? storedName;
        string? roleArn;
        lock (call.World.Gate)
        {
            // IAM names are not distinguished by case: a profile is found by any casing, and answered with its own.
            storedName = call.World.InstanceProfiles.FirstOrDefault(p => string.Equals(p, name, StringComparison.Ordinal))
                ?? call.World.InstanceProfiles.FirstOrDefault(p => string.Equals(p, name, StringComparison.OrdinalIgnoreCase));
            roleArn = storedName is null ? null : call.World.RoleOfInstanceProfile(storedName);
        }

        if (storedName is null || roleArn is null)
        {
            throw AwsException.NotFound("NoSuchEntity", $"Instance Profile {name} cannot be found.");
        }

        // arn:aws:iam::<account>:role[/path]/<name>: the path is what lies between "role" and the name.
        string resource = roleArn[(roleArn.IndexOf(":role/", StringComparison.Ordinal) + ":role".Length)..];
        int lastSlash = resource.LastIndexOf('/');
        string roleName = resource[(lastSlash + 1)..];
        string rolePath = resource[..(lastSlash + 1)];

        return AwsQueryProtocol.WriteResultAsync(call, XmlNamespace, "GetInstanceProfile", w =>
        {
            w.WriteStartElement("InstanceProfile");
            w.WriteElementString("Path", "/");
            w.WriteElementString("InstanceProfileName", storedName);
            w.WriteElementString("InstanceProfileId", UniqueId("AIPA", $"instance-profile/{account}/{storedName}"));
            w.WriteElementString("Arn", $"arn:aws:iam::{account}:instance-profile/{storedName}");
            w.WriteElementString("CreateDate", Time(Created));
            w.List("Roles", "member", [roleArn], (w, arn) =>
            {
                w.WriteElementString("Path", rolePath);
                w.WriteElementString("RoleName", roleName);
                w.WriteElementString("RoleId", UniqueId("AROA", arn));
                w.WriteElementString("Arn", arn);
                w.WriteElementString("CreateDate", Time(Created));
                // IAM returns policy documents URL-encoded (RFC 3986); clients decode them.
                w.WriteElementString("AssumeRolePolicyDocument", Uri.EscapeDataString(Ec2TrustPolicy));
            });
            w.WriteEndElement();
        });
    }

    /// <summary>
    /// An IAM name parameter as IAM's model constrains it (length 1–128, pattern [\w+=,.@-]+), else IAM's
    /// ValidationError naming each violated constraint (the member name in lower camel case, as IAM writes it).
    /// </summary>
    private static string ValidName(string? value, string member)
    {
        if (value is null)
        {
            throw new AwsException(400, "ValidationError", $"1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null");
        }

        var violations = new List<string>();
        if (value.Length < 1)
        {
            violations.Add("Member must have length greater than or equal to 1");
        }

        if (value.Length > 128)
        {
            violations.Add("Member must have length less than or equal to 128");
        }

        if (!NamePattern().IsMatch(value))
        {
            violations.Add(@"Member must satisfy regular expression pattern: [\w+=,.@-]+");
        }

        if (violations.Count == 0)
        {
            return value;
        }

        string count = violations.Count.ToString(CultureInfo.InvariantCulture);
        throw new AwsException(400, "ValidationError",
            $"{count} validation error{(violations.Count == 1 ? "" : "s")} detected: "
            + string.Join("; ", violations.Select(v => $"Value '{value}' at '{member}' failed to satisfy constraint: {v}")));
    }

    [GeneratedRegex(@"^[\w+=,.@-]+$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex NamePattern();

    /// <summary>An IAM unique id: its 4-letter prefix (AIPA instance profile, AROA role) and 17 characters of
    /// A–Z and 2–7, deterministic from <paramref name="seed"/>: 21 characters, as IAM's ids are.</summary>
    public static string UniqueId(string prefix, string seed)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes("iam/" + seed));
        var id = new StringBuilder(prefix, prefix.Length + 17);
        for (int i = 0; i < 17; i++)
        {
            id.Append(Alphabet[hash[i] % 32]);
        }

        return id.ToString();
    }

    /// <summary>IAM's timestamps: ISO 8601 in UTC to the second (2024-03-01T00:00:00Z).</summary>
    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
