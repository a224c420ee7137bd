using System.Text.Json.Nodes;
using WinEksPatch.Simulator.Scenarios;

namespace WinEksPatch.Simulator.World;

// EC2 Image Builder: resources, builds and their schedule on the simulated clock, and the AMIs they produce.
public sealed partial class SimWorld
{
    /// <summary>Modelled phase durations of a build (BUILDING also pays the pulls of the cached images).</summary>
    public static readonly IReadOnlyList<(string Status, TimeSpan Duration)> ImageBuildPhases =
    [
        ("PENDING", TimeSpan.FromMinutes(1)),
        ("CREATING", TimeSpan.FromMinutes(4)),
        ("BUILDING", TimeSpan.FromMinutes(35)),
        ("TESTING", TimeSpan.FromMinutes(8)),
        ("DISTRIBUTING", TimeSpan.FromMinutes(15)),
        ("INTEGRATING", TimeSpan.FromMinutes(1)),
    ];

    /// <summary>Amazon-managed components: name → versions.</summary>
    private static readonly (string Name, string Version, string Description)[] AmazonComponents =
    [
        ("update-windows", "1.0.1", "Updates Microsoft Windows with the latest security updates."),
        ("update-windows", "1.0.2", "Updates Microsoft Windows with the latest security updates."),
        ("reboot-windows", "1.0.1", "Reboots the instance."),
        ("aws-cli-version-2-windows", "1.0.0", "Installs the latest version of the AWS CLI version 2."),
        ("eks-optimized-ami-windows", "1.31.0", "Installs the Amazon EKS components for Windows (kubelet, kube-proxy, containerd)."),
    ];

    public Dictionary<string, ImageBuilderResource> ImageBuilderResources { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, ImageBuild> ImageBuilds { get; } = new(StringComparer.Ordinal);

    /// <summary>clientToken → (fingerprint of the request, the response it got): Image Builder's idempotency.</summary>
    public Dictionary<string, (string Fingerprint, JsonObject Response)> ImageBuilderClientTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>IAM instance profiles that exist (infrastructure configurations must name one).</summary>
    public HashSet<string> InstanceProfiles { get; } = new(StringComparer.Ordinal);

    /// <summary>The role in each instance profile that does not hold the role of its own name (what the IAM console
    /// creates): the node roles of self-managed groups.</summary>
    public Dictionary<string, string> InstanceProfileRoles { get; } = new(StringComparer.Ordinal);

    /// <summary>The role ARN inside an instance profile given by name or ARN, or null for a profile that does not exist.</summary>
    public string? RoleOfInstanceProfile(string profile)
    {
        string name = profile.StartsWith("arn:", StringComparison.Ordinal) ? profile[(profile.LastIndexOf('/') + 1)..] : profile;
        return InstanceProfileRoles.TryGetValue(name, out string? role) ? role
            : InstanceProfiles.Contains(name) ? $"arn:aws:iam::{AccountId}:role/{name}"
            : null;
    }

    /// <summary>Reasons with which the next image builds fail at the end of BUILDING (a fault; first in, first used).</summary>
    public Queue<string> ImageBuildFaults { get; } = new();

    private PatchCalendar? _imageBuilderCalendar;

    /// <summary>Default instance profiles: Image Builder's documented ones and each cluster's node role.</summary>
    internal void InitializeImageBuilder(IEnumerable<string>? instanceProfiles)
    {
        foreach (string profile in instanceProfiles ?? ["EC2InstanceProfileForImageBuilder", "EC2InstanceProfileForImageBuilderECRContainerBuilds"])
        {
            InstanceProfiles.Add(profile);
        }

        foreach ((string name, string version, string description) in AmazonComponents)
        {
            string arn = $"arn:aws:imagebuilder:{Region}:aws:component/{name}/{version}/1";
            ImageBuilderResources[arn] = new ImageBuilderResource
            {
                Kind = ImageBuilderKind.Component,
                Arn = arn,
                Name = name,
                Version = version,
                Owner = "Amazon",
                DateCreated = new DateTimeOffset(2024, 3, 1, 0, 0, 0, TimeSpan.Zero),
                Definition = new JsonObject
                {
                    ["description"] = description,
                    ["platform"] = "Windows",
                    ["supportedOsVersions"] = new JsonArray("Microsoft Windows Server 2019", "Microsoft Windows Server 2022", "Microsoft Windows Server 2025"),
                    ["type"] = "BUILD",
                },
            };
        }
    }

    /// <summary>All subnet ids the world knows (clusters' and Auto Scaling groups').</summary>
    public bool SubnetExists(string subnetId) =>
        Clusters.Values.Any(c => c.SubnetIds.Contains(subnetId)) || AutoScalingGroups.Values.Any(g => g.SubnetIds.Contains(subnetId));

    /// <summary>
    /// A component by ARN: a build version ARN (…/name/1.0.2/1), a version ARN (…/name/1.0.2) or a wildcard
    /// (…/name/x.x.x, …/name/1.x.x): the newest matching version.
    /// </summary>
    public ImageBuilderResource? FindComponent(string arn)
    {
        if (ImageBuilderResources.TryGetValue(arn, out ImageBuilderResource? exact))
        {
            return exact.Kind == ImageBuilderKind.Component ? exact : null;
        }

        string[] parts = arn.Split('/');
        if (parts.Length < 3 || !parts[0].EndsWith(":component", StringComparison.Ordinal))
        {
            return null;
        }

        string prefix = parts[0] + "/" + parts[1] + "/";
        string[] wanted = parts[2].Split('.');
        return ImageBuilderResources.Values
            .Where(r => r.Kind == ImageBuilderKind.Component && r.Arn.StartsWith(prefix, StringComparison.Ordinal) && r.Version is not null)
            .Where(r => r.Version!.Split('.').Zip(wanted).All(p => p.Second == "x" || p.First == p.Second))
            .MaxBy(r => Version.Parse(r.Version!));
    }

    /// <summary>
    /// Starts a build: decides its schedule, output patch level, cached images and outcome now (the component
    /// documents are fixed), and sets a timer on the simulated clock for its end.
    /// </summary>
    public ImageBuild StartImageBuild(ImageBuilderResource recipe, ImageBuilderResource infrastructure, ImageBuilderResource? distribution,
        ImageBuilderResource? pipeline, AmiImage parent, JsonObject tags, bool testsEnabled, string buildType)
    {
        DateTimeOffset now = Clock.GetUtcNow();
        string version = recipe.Version!;
        int buildNumber = ImageBuilds.Values.Count(b => b.Recipe.Arn == recipe.Arn) + 1;
        string arn = $"arn:aws:imagebuilder:{Region}:{AccountId}:image/{recipe.Arn.Split('/')[1]}/{version}/{buildNumber}";

        List<ImageBuilderResource> components = [.. (recipe.Definition["components"] as JsonArray ?? [])
            .Select(c => FindComponent(c?["componentArn"]?.GetValue<string>() ?? "")).OfType<ImageBuilderResource>()];
        bool updatesWindows = components.Any(c => c.Owner == "Amazon" && c.Name == "update-windows");

        // Patch level: update-windows brings the newest monthly build released by now.
        _imageBuilderCalendar ??= ScenarioLoader.LoadCalendar();
        WindowsBuild? newest = _imageBuilderCalendar.For(parent.WindowsServer ?? "")
            .Where(b => b.ReleaseDate <= DateOnly.FromDateTime(now.UtcDateTime)).MaxBy(b => b.ReleaseDate);
        bool newer = updatesWindows && newest is not null && OsVersionComparer.Instance.Compare(newest.OsVersion, parent.OsVersion) > 0;
        string osVersion = newer ? newest!.OsVersion : parent.OsVersion;
        DateOnly patchMonth = newer ? newest!.PatchMonth : parent.PatchMonth;

        // Cached images: the parent's, then every image a component pulls (resolved for the output's Windows build).
        var cached = new List<CachedContainerImage>(AmiCachedImages.GetValueOrDefault(parent.ImageId) ?? []);
        var missing = new List<string>();
        var store = new NodeImageStore();
        foreach (CachedContainerImage c in cached)
        {
            if (ManifestsByDigest.TryGetValue(c.ManifestDigest, out PlatformImage? image))
            {
                store.AddImage(image, DateTimeOffset.MinValue);
            }
        }

        TimeSpan pulls = TimeSpan.Zero;
        foreach (string reference in components.SelectMany(c => c.Document?.PulledImages ?? []))
        {
            PlatformImage? image = ImageReference.TryParse(reference, out ImageReference? parsed) && ResolveImage(parsed) is { } resolved
                ? SelectPlatform(resolved, "windows", osVersion)
                : null;
            if (image is null)
            {
                missing.Add(reference);
                continue;
            }

            pulls += PodStartModel.Cost(image, d => store.LayerReadyAt(d) is not null).Duration;
            store.AddImage(image, DateTimeOffset.MinValue);
            cached.RemoveAll(c => c.Reference == reference);
            cached.Add(new CachedContainerImage(reference, image.Digest));
        }

        string? failure = missing.Count > 0
            ? $"Image pull failed: the image(s) {string.Join(", ", missing)} could not be resolved: not found in their registries. See the build logs of component step ExecutePowerShell."
            : ImageBuildFaults.Count > 0 ? ImageBuildFaults.Dequeue()
            : tags["wineks-sim:fail"]?.GetValue<string>() is { } tagged ? tagged
            : null;
        (BuildFastLaunch? fastLaunch, string? fastLaunchFailure) = PlanBuildFastLaunch(distribution);
        string failsAfter = "BUILDING";
        if (failure is null && fastLaunchFailure is not null)
        {
            failure = fastLaunchFailure;
            failsAfter = "DISTRIBUTING";
        }

        var schedule = new List<(string, DateTimeOffset)>();
        DateTimeOffset at = now;
        foreach ((string status, TimeSpan duration) in ImageBuildPhases)
        {
            if (status == "TESTING" && !testsEnabled)
            {
                continue;
            }

            at += status == "BUILDING" ? duration + pulls : duration;
            schedule.Add((status, at));
        }

        var build = new ImageBuild
        {
            Arn = arn,
            Name = recipe.Name,
            Version = version,
            BuildNumber = buildNumber,
            Recipe = recipe,
            Infrastructure = infrastructure,
            Distribution = distribution,
            Pipeline = pipeline,
            Parent = parent,
            DateCreated = now,
            Tags = tags,
            BuildType = buildType,
            TestsEnabled = testsEnabled,
            Schedule = schedule,
            FailureReason = failure,
            FailsAfter = failsAfter,
            FastLaunch = fastLaunchFailure is null ? fastLaunch : null,
            CachedImages = cached,
            OutputOsVersion = osVersion,
            OutputPatchMonth = patchMonth,
        };
        ImageBuilds[arn] = build;
        DateTimeOffset end = failure is null ? at : build.FailureAt;
        // On the world's one event scheduler, like every other timed change: the AMI appears when the build ends,
        // whether time runs scaled or is advanced (and every Image Builder request refreshes too).
        Scheduler.After(end - now, () =>
        {
            lock (Gate)
            {
                RefreshImageBuilds();
            }
        });

        return build;
    }

    /// <summary>Completes the builds that have reached AVAILABLE: registers their AMIs in EC2 with their caches. Called with Gate held
    /// by the build timers and by every Image Builder request (so a clock Advance is seen at once).</summary>
    public void RefreshImageBuilds()
    {
        DateTimeOffset now = Clock.GetUtcNow();
        foreach (ImageBuild build in ImageBuilds.Values.Where(b => b.OutputAmiId is null))
        {
            (string status, _) = build.StateAt(now);
            if (status is "FAILED" or "CANCELLED")
            {
                build.Timer?.Dispose();
                build.Timer = null;
            }

            if (status != "AVAILABLE")
            {
                continue;
            }

            build.Timer?.Dispose();
            build.Timer = null;
            CreateOutputAmi(build, build.Schedule[^1].Ends);
        }
    }

    private void CreateOutputAmi(ImageBuild build, DateTimeOffset created)
    {
        JsonObject? ownRegion = null;
        foreach (JsonNode? d in build.Distribution?.Definition["distributions"] as JsonArray ?? [])
        {
            string region = d?["region"]?.GetValue<string>() ?? Region;
            if (region == Region)
            {
                ownRegion = d as JsonObject;
            }
            else
            {
                build.OtherRegionAmis[region] = Ids.Ami($"{build.Arn}/{region}");
            }
        }

        JsonObject? amiConfig = ownRegion?["amiDistributionConfiguration"] as JsonObject;
        string buildDate = created.UtcDateTime.ToString("yyyy-MM-dd'T'HH-mm-ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        string name = (amiConfig?["name"]?.GetValue<string>() ?? $"{build.Name} {{{{imagebuilder:buildDate}}}}")
            .Replace("{{imagebuilder:buildDate}}", buildDate, StringComparison.Ordinal)
            .Replace("{{ imagebuilder:buildDate }}", buildDate, StringComparison.Ordinal)
            .Replace("{{imagebuilder:buildVersion}}", build.BuildNumber.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{{ imagebuilder:buildVersion }}", build.BuildNumber.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var ami = new AmiImage
        {
            ImageId = Ids.Ami(build.Arn),
            Name = name,
            Description = amiConfig?["description"]?.GetValue<string>() ?? $"Created by EC2 Image Builder from {build.Recipe.Arn}",
            OwnerId = AccountId,
            Platform = "windows",
            PlatformDetails = "Windows",
            Architecture = build.Parent.Architecture,
            CreationDate = created,
            Public = false,
            OsVersion = build.OutputOsVersion,
            KubernetesVersion = build.Parent.KubernetesVersion,
            OsFamily = "windows",
            WindowsServer = build.Parent.WindowsServer,
            WindowsEdition = build.Parent.WindowsEdition,
            PatchMonth = build.OutputPatchMonth,
            // Image Builder's Windows builds end with Sysprep (shutdown option) before the AMI is taken, which is what
            // EC2 Fast Launch requires.
            SysprepGeneralized = true,
        };
        foreach (KeyValuePair<string, JsonNode?> tag in amiConfig?["amiTags"] as JsonObject ?? [])
        {
            ami.Tags.Add(new Tag { Key = tag.Key, Value = tag.Value?.GetValue<string>() ?? "" });
        }

        ami.Tags.Add(new Tag { Key = "Ec2ImageBuilderArn", Value = build.Arn });
        ami.Tags.Add(new Tag { Key = "CreatedBy", Value = "EC2 Image Builder" });
        Images[ami.ImageId] = ami;
        AmiCachedImages[ami.ImageId] = [.. build.CachedImages];
        build.OutputAmiId = ami.ImageId;
        EnableBuildFastLaunch(build, ami);
    }
}
