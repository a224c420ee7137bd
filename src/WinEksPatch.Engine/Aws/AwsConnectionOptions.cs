using System.Text.RegularExpressions;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using WinEksPatch.Errors;

namespace WinEksPatch.Aws;

/// <summary>What the user said about AWS on the command line. Anything left null is decided by the SDK's own
/// default chains (environment, shared config and credentials files incl. SSO and assume-role profiles, web
/// identity, container and instance roles), exactly as the AWS CLI and AWS.Tools would.</summary>
public sealed record AwsConnectionOptions(string? Region = null, string? ProfileName = null)
{
    /// <summary>-ProfileLocation: the shared credentials file (ini format) to read -ProfileName from, as AWS.Tools takes it.</summary>
    public string? ProfileLocation { get; init; }

    /// <summary>-Credential: an AWSCredentials object, this module's or AWS.Tools' (another AWSSDK.Core: it is read through
    /// its GetCredentials() each time credentials are needed, so refreshing credentials keep refreshing).</summary>
    public object? Credential { get; init; }

    /// <summary>-EndpointUrl: the one endpoint every AWS service is called at (a proxy, a local stand-in).</summary>
    public string? EndpointUrl { get; init; }

    /// <summary>AWS.Tools' session defaults ($StoredAWSRegion of Set-DefaultAWSRegion, $StoredAWSCredentials of
    /// Set-AWSCredential): used after the explicit parameters and before the profile and environment, as AWS.Tools orders them.</summary>
    public string? SessionRegion { get; init; }

    /// <inheritdoc cref="SessionRegion"/>
    public object? SessionCredential { get; init; }
}

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
        // A session pointed at the simulator talks to it, with its credentials, and to nothing else: not when it has gone
        // (SimulatorGone), not with a profile of the shared files (those name real accounts).
        if (ModuleEnvironment.Simulator is { } simulator)
        {
            if (simulator.HasExited)
            {
                simulator.EnsureServing();
            }

            // -ProfileName may name one of the simulator's accounts (its profiles); any other profile is a real one. Without
            // one, the keys in AWS_ACCESS_KEY_ID may be one of its accounts' (a script the simulator's Automation runs has
            // its account's keys and Region there, as a real execution has its role's); any other keys are ignored.
            var simulatedAccount = string.IsNullOrWhiteSpace(options.ProfileName) ? FromEnvironment(simulator) : simulator.Info.AccountByProfile(options.ProfileName);
            var environmentRegion = string.IsNullOrWhiteSpace(options.ProfileName) && simulatedAccount != null
                ? Environment.GetEnvironmentVariable("AWS_REGION") is { Length: > 0 } r ? r : Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION")
                : null;
            var real = !string.IsNullOrWhiteSpace(options.ProfileName) && simulatedAccount == null ? "-ProfileName"
                : options.Credential != null ? "-Credential"
                : !string.IsNullOrWhiteSpace(options.ProfileLocation) ? "-ProfileLocation"
                : options.EndpointUrl is { Length: > 0 } given && !string.Equals(given.TrimEnd('/'), simulator.Info.Endpoint.TrimEnd('/'), StringComparison.OrdinalIgnoreCase) ? "-EndpointUrl"
                : null;
            if (real != null)
            {
                throw new WinEksPatchException(ErrorIds.SimulatorSessionRealTarget, ErrorKind.InvalidOperation,
                    $"{real}: this session is pointed at the simulator ({simulator.Info.Endpoint}), and {real} names an identity or endpoint " +
                    "that would reach real AWS. Run Stop-WinEksSimulator first to use it." +
                    (real == "-ProfileName" && simulator.Info.Accounts is { Count: > 0 } accounts
                        ? $" The simulator's own profiles are: {string.Join(", ", accounts.Select(a => a.Profile))}." : ""), real);
            }

            var info = simulator.Info;
            var simulatedRegion = !string.IsNullOrWhiteSpace(options.Region) ? ResolveRegion(options.Region, null).SystemName
                : !string.IsNullOrWhiteSpace(environmentRegion) ? ResolveRegion(environmentRegion, null).SystemName
                : simulatedAccount?.Region ?? info.Region;
            var keys = simulatedAccount == null ? new BasicAWSCredentials(info.AccessKeyId, info.SecretAccessKey)
                : new BasicAWSCredentials(simulatedAccount.AccessKeyId, simulatedAccount.SecretAccessKey);
            return new AwsContext(RegionEndpoint.GetBySystemName(simulatedRegion), keys, simulatedAccount?.Profile, info.Endpoint, simulator.Trust);
        }

        AWSCredentials? credentials = null;
        string? profileRegion = null;
        if (options.Credential != null)
        {
            credentials = ForeignCredentials.From(options.Credential, "-Credential");
        }
        else if (!string.IsNullOrWhiteSpace(options.ProfileName))
        {
            var chain = string.IsNullOrWhiteSpace(options.ProfileLocation) ? new CredentialProfileStoreChain() : new CredentialProfileStoreChain(options.ProfileLocation);
            if (!chain.TryGetProfile(options.ProfileName, out var profile))
            {
                throw new WinEksPatchException(ErrorIds.ProfileNotFound, ErrorKind.InvalidArgument,
                    $"-ProfileName: no AWS profile named '{options.ProfileName}' in " +
                    (string.IsNullOrWhiteSpace(options.ProfileLocation) ? "the shared config or credentials files." : $"'{options.ProfileLocation}' (-ProfileLocation)."),
                    options.ProfileName);
            }

            profileRegion = profile.Region?.SystemName;
            try
            {
                credentials = profile.GetAWSCredentials(chain);
            }
            catch (Exception ex) when (ex is AmazonClientException or InvalidOperationException or ArgumentException or InvalidDataException)
            {
                throw new WinEksPatchException(ErrorIds.NoCredentials, ErrorKind.AuthenticationError,
                    $"-ProfileName: the AWS profile '{options.ProfileName}' has no usable credentials: {ex.Message}",
                    options.ProfileName, ex);
            }
        }

        else if (options.SessionCredential != null)
        {
            credentials = ForeignCredentials.From(options.SessionCredential, "Set-AWSCredential's session credentials ($StoredAWSCredentials)");
        }

        var region = !string.IsNullOrWhiteSpace(options.Region) || options.SessionRegion is not { Length: > 0 } sessionRegion
            ? ResolveRegion(options.Region, profileRegion, options.ProfileName)
            : KnownRegion(sessionRegion, $"Set-DefaultAWSRegion's session region '{sessionRegion}' ($StoredAWSRegion)");
        var endpoint = options.EndpointUrl is { Length: > 0 } url
            ? (Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "https" or "http" ? url
                : throw new WinEksPatchException(ErrorIds.InvalidEndpointUrl, ErrorKind.InvalidArgument,
                    $"-EndpointUrl: '{url}' is not an http or https URL (for example https://vpce-0123.eks.us-west-2.vpce.amazonaws.com).", url))
            : null;
        return new AwsContext(region, credentials, options.ProfileName, endpoint);
    }

    /// <summary>The simulated account whose access key AWS_ACCESS_KEY_ID holds, or null.</summary>
    private static Simulator.SimulatorAccount? FromEnvironment(Simulator.SimulatorSession simulator) =>
        Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is { Length: > 0 } key ? simulator.Info.AccountByAccessKey(key) : null;

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

        // A typo (us-weast-2, eu-centrall-1) is not a region newer than the module: name the region it nearly is.
        var close = nearby.Count > 0 ? []
            : RegionEndpoint.EnumerableAllRegions.Where(IsKnown).Select(r => (Name: r.SystemName, Distance: EditDistance(r.SystemName, region)))
                .Where(r => r.Distance <= 2).GroupBy(r => r.Distance).OrderBy(g => g.Key).Take(1)
                .SelectMany(g => g.Select(r => r.Name)).Order(StringComparer.Ordinal).ToList();
        if (close.Count > 0)
        {
            throw new WinEksPatchException(ErrorIds.InvalidRegion, ErrorKind.InvalidArgument,
                $"{source} is not a region; did you mean {string.Join(" or ", close)}?", region);
        }

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

    /// <summary>The regions the module's AWS SDK knows (what -Region completes to), with their names.</summary>
    public static IReadOnlyList<(string Code, string Name)> KnownRegions() =>
        [.. RegionEndpoint.EnumerableAllRegions.Where(IsKnown).Select(r => (r.SystemName, r.DisplayName)).OrderBy(r => r.SystemName, StringComparer.Ordinal)];

    /// <summary>The profiles of the shared config and credentials files, and on Windows of the SDK store (what -ProfileName
    /// completes to): every profile by name, those with only a region or an SSO or role setting too.</summary>
    public static IReadOnlyList<string> ProfileNames()
    {
        IEnumerable<string> names = new SharedCredentialsFile().ListProfileNames().Concat(ConfigFileProfileNames());
        if (OperatingSystem.IsWindows())
        {
            names = names.Concat(new NetSDKCredentialsFile().ListProfileNames());
        }

        return [.. names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    /// <summary>The profiles the config file declares ([profile name] and [default]): the SDK lists only those of the
    /// credentials file, and a profile with just a region, a role or SSO settings lives in the config file.</summary>
    private static IEnumerable<string> ConfigFileProfileNames()
    {
        var path = Environment.GetEnvironmentVariable("AWS_CONFIG_FILE") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".aws", "config");
        if (!File.Exists(path))
        {
            return [];
        }

        return File.ReadLines(path)
            .Select(line => ProfileHeader().Match(line))
            .Where(m => m.Success)
            .Select(m => m.Groups["name"].Value.Trim())
            .ToList();
    }

    [GeneratedRegex(@"^\s*\[(?:profile\s+)?(?<name>(?!sso-session\s)(?!services\s)[^\]]+)\]\s*$")]
    private static partial Regex ProfileHeader();

    /// <summary>Levenshtein distance: how many letters to insert, delete or change to turn one name into the other.</summary>
    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }

    /// <summary>Whether <paramref name="region"/> has the shape of a region code (us-west-2, us-gov-east-1), known to this
    /// SDK or not.</summary>
    public static bool IsRegionCode(string? region) => region is not null && RegionPattern().IsMatch(region);

    [GeneratedRegex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$")]
    private static partial Regex RegionPattern();
}

/// <summary>
/// Credentials handed in as an object: this module's AWSCredentials as they are, or those of another AWSSDK.Core (AWS.Tools
/// loads its own, version 3 or 4, into the default load context) read through their public GetCredentials() each time the
/// SDK asks, so that credentials that refresh (assume-role, SSO) keep refreshing.
/// </summary>
internal sealed class ForeignCredentials : AWSCredentials
{
    private readonly object _source;
    private readonly System.Reflection.MethodInfo _get;

    private ForeignCredentials(object source, System.Reflection.MethodInfo get)
    {
        _source = source;
        _get = get;
    }

    public static AWSCredentials From(object given, string parameter)
    {
        var source = given;
        if (source is AWSCredentials own)
        {
            return own;
        }

        return source.GetType().GetMethod("GetCredentials", Type.EmptyTypes) is { } get && IsAwsCredentials(source.GetType())
            ? new ForeignCredentials(source, get)
            : throw new WinEksPatchException(ErrorIds.InvalidCredential, ErrorKind.InvalidArgument,
                $"{parameter}: a {source.GetType().FullName} is not AWS credentials; give an Amazon.Runtime.AWSCredentials object (from Get-AWSCredential, " +
                "New-AWSCredential or [Amazon.Runtime.BasicAWSCredentials]::new(...)).", parameter);
    }

    private static bool IsAwsCredentials(Type? type)
    {
        for (; type != null; type = type.BaseType)
        {
            if (type.FullName == "Amazon.Runtime.AWSCredentials")
            {
                return true;
            }
        }

        return false;
    }

    public override ImmutableCredentials GetCredentials()
    {
        var credentials = _get.Invoke(_source, null) ?? throw new AmazonClientException("The given credentials returned nothing.");
        string? Read(string property) => credentials.GetType().GetProperty(property)?.GetValue(credentials) as string;
        return new ImmutableCredentials(Read("AccessKey"), Read("SecretKey"), Read("Token"));
    }

    public override string ToString() => "AWSCredentials (given)";
}
