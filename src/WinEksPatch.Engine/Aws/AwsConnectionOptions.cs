using System.Text.RegularExpressions;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using WinEksPatch.Errors;

namespace WinEksPatch.Aws;

/// <summary>What the user said about AWS on the command line. Anything left null is decided by the SDK's own
/// default chains (environment, shared config and credentials files incl. SSO and assume-role profiles, web
/// identity, container and instance roles), exactly as the AWS CLI and AWS.Tools would.</summary>
public sealed record AwsConnectionOptions(string? Region = null, string? ProfileName = null);

/// <summary>
/// The resolved AWS identity and region every AWS client of one cmdlet invocation shares.
/// Endpoints are never set here: <c>AWS_ENDPOINT_URL</c>, <c>AWS_ENDPOINT_URL_&lt;SERVICE&gt;</c> and the config
/// file's <c>endpoint_url</c> are honoured by the SDK itself, which is how the simulator is reached.
/// </summary>
public sealed partial class AwsContext
{
    private AwsContext(RegionEndpoint region, AWSCredentials? credentials, string? profileName, string? endpointOverride = null, Simulator.SimulatorTrust? endpointTrust = null)
    {
        Region = region;
        Credentials = credentials;
        ProfileName = profileName;
        EndpointOverride = endpointOverride;
        EndpointTrust = endpointTrust;
    }

    /// <summary>The one endpoint every service is called at: the simulator's, while the session is pointed at one.</summary>
    public string? EndpointOverride { get; }

    /// <summary>Trust in the CA of a simulator whose <see cref="EndpointOverride"/> is https (-Tls), for that endpoint only.</summary>
    public Simulator.SimulatorTrust? EndpointTrust { get; }

    public RegionEndpoint Region { get; }

    /// <summary>Credentials of the named profile, or null to let each client use the SDK's default chain.</summary>
    public AWSCredentials? Credentials { get; }

    public string? ProfileName { get; }

    /// <summary>Resolves region and credentials; throws a <see cref="WinEksPatchException"/> that names the parameter
    /// when the region is malformed, the profile does not exist, or no region can be found at all.</summary>
    public static AwsContext Resolve(AwsConnectionOptions options)
    {
        // A session pointed at the simulator talks to it, with its credentials, unless a profile is named explicitly.
        if (ModuleEnvironment.Simulator is { HasExited: false } simulator && string.IsNullOrWhiteSpace(options.ProfileName))
        {
            var info = simulator.Info;
            var simulatedRegion = string.IsNullOrWhiteSpace(options.Region) ? info.Region : ResolveRegion(options.Region, null).SystemName;
            return new AwsContext(RegionEndpoint.GetBySystemName(simulatedRegion),
                new BasicAWSCredentials(info.AccessKeyId, info.SecretAccessKey), null, info.Endpoint, simulator.Trust);
        }

        AWSCredentials? credentials = null;
        string? profileRegion = null;
        if (!string.IsNullOrWhiteSpace(options.ProfileName))
        {
            var chain = new CredentialProfileStoreChain();
            if (!chain.TryGetProfile(options.ProfileName, out var profile))
            {
                throw new WinEksPatchException(ErrorIds.ProfileNotFound, ErrorKind.InvalidArgument,
                    $"-ProfileName: no AWS profile named '{options.ProfileName}' in the shared config or credentials files.",
                    options.ProfileName);
            }

            profileRegion = profile.Region?.SystemName;
            try
            {
                credentials = profile.GetAWSCredentials(chain);
            }
            catch (Exception ex) when (ex is AmazonClientException or InvalidOperationException or ArgumentException)
            {
                throw new WinEksPatchException(ErrorIds.NoCredentials, ErrorKind.AuthenticationError,
                    $"-ProfileName: the AWS profile '{options.ProfileName}' has no usable credentials: {ex.Message}",
                    options.ProfileName, ex);
            }
        }

        var region = ResolveRegion(options.Region, profileRegion, options.ProfileName);
        return new AwsContext(region, credentials, options.ProfileName);
    }

    private static RegionEndpoint ResolveRegion(string? explicitRegion, string? profileRegion, string? profileName = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitRegion))
        {
            return KnownRegion(explicitRegion, $"-Region: '{explicitRegion}'");
        }

        if (profileRegion != null)
        {
            return KnownRegion(profileRegion, $"-ProfileName: the region '{profileRegion}' of profile '{profileName}'");
        }

        var fallback = FallbackRegionFactory.GetRegionEndpoint();
        return fallback == null
            ? throw new WinEksPatchException(ErrorIds.NoRegion, ErrorKind.InvalidArgument,
                "-Region: no AWS region given and none configured (AWS_REGION, AWS_DEFAULT_REGION or the profile's region).", "Region")
            : KnownRegion(fallback.SystemName, $"-Region: the configured region '{fallback.SystemName}' (AWS_REGION, AWS_DEFAULT_REGION or the default profile)");
    }

    /// <summary>
    /// RegionEndpoint.GetBySystemName accepts any string, so a typo (from -Region, a profile or the environment) would only
    /// fail later, as a DNS error against a made-up host, in the middle of a run. Only regions the SDK's endpoint data knows
    /// pass; the message says where the region came from and lists the known regions like it.
    /// </summary>
    private static RegionEndpoint KnownRegion(string region, string source)
    {
        if (RegionEndpoint.EnumerableAllRegions.FirstOrDefault(r => r.SystemName == region && IsKnown(r)) is { } known)
        {
            return known;
        }

        var shaped = RegionPattern().IsMatch(region);
        var nearby = shaped
            ? RegionEndpoint.EnumerableAllRegions.Where(IsKnown).Select(r => r.SystemName)
                .Where(r => r.StartsWith(region[..(region.LastIndexOf('-') + 1)], StringComparison.Ordinal))
                .Order(StringComparer.Ordinal).ToList()
            : [];
        throw new WinEksPatchException(ErrorIds.InvalidRegion, ErrorKind.InvalidArgument,
            shaped
                ? $"{source} is not a region this module's AWS SDK knows" + (nearby.Count > 0 ? $" (known: {string.Join(", ", nearby)})" : "") +
                  ". A region newer than the module needs a newer WinEksPatch."
                : $"{source} is not an AWS region code (for example us-west-2 or eu-central-1).",
            region);
    }

    /// <summary>Whether the SDK's endpoint data has the region: GetBySystemName (a profile's or the environment's region goes
    /// through it) also makes, and from then on lists, a RegionEndpoint for any other name, with the display name "Unknown".</summary>
    private static bool IsKnown(RegionEndpoint region) => region.DisplayName != "Unknown";

    [GeneratedRegex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$")]
    private static partial Regex RegionPattern();
}
