using WinEksPatch.Simulator.Scenarios;

namespace WinEksPatch.Simulator.World;

/// <summary>
/// EC2 Fast Launch for one Windows AMI (EnableFastLaunch): its settings, its state as DescribeFastLaunchImages reports
/// it, and the pool of pre-provisioned snapshots EC2 keeps on hand. Only touched while holding <see cref="SimWorld.Gate"/>.
/// </summary>
public sealed class FastLaunchImage
{
    public required string ImageId { get; init; }
    /// <summary>The AMI's owner, or null for an AMI shared with the account ("This is not populated for AMIs that are
    /// shared with you", EC2 User Guide, View AMIs with EC2 Fast Launch enabled).</summary>
    public string? OwnerId { get; init; }
    public string ResourceType { get; set; } = "snapshot";
    public int TargetResourceCount { get; set; }
    public int MaxParallelLaunches { get; set; }
    public string? LaunchTemplateId { get; set; }
    public string? LaunchTemplateName { get; set; }
    public string? LaunchTemplateVersion { get; set; }
    /// <summary>enabling | enabling-failed | enabled | enabled-failed | disabling | disabling-failed.</summary>
    public string State { get; set; } = "enabling";
    public string StateTransitionReason { get; set; } = "";
    public DateTimeOffset StateTransitionTime { get; set; }
    /// <summary>Pre-provisioned snapshots ready for a launch (ids), oldest first.</summary>
    public List<string> ReadySnapshots { get; } = [];
    /// <summary>Temporary instances launched to make a snapshot and not finished yet.</summary>
    public int InFlight { get; set; }
    /// <summary>Bumped by every EnableFastLaunch/DisableFastLaunch: timed events of an older generation do nothing.</summary>
    public int Generation { get; set; }
    public int SnapshotsMade { get; set; }
}

/// <summary>
/// EC2 Fast Launch as the EC2 User Guide describes it ("Use EC2 Fast Launch for your Windows instances"): after
/// EnableFastLaunch, EC2 launches temporary t3 instances from the AMI, at most MaxParallelLaunches at a time; each one
/// runs Sysprep specialize and Windows OOBE, is stopped, snapshotted and terminated; the pre-provisioned snapshots are
/// kept on hand up to the target count and replenished as launches consume them. DisableFastLaunch removes them and the
/// image leaves DescribeFastLaunchImages (its states have no "disabled"). All methods expect <see cref="Gate"/> to be held.
/// </summary>
public sealed partial class SimWorld
{
    /// <summary>Fast Launch settings by image id (DescribeFastLaunchImages).</summary>
    public Dictionary<string, FastLaunchImage> FastLaunchImages { get; } = new(StringComparer.Ordinal);

    /// <summary>The documented default "launch frequency" of five launches per hour: "Amazon EC2 creates an initial set of
    /// five pre-provisioned snapshots" (EC2 Windows Guide, Configure your Windows AMI for faster launching).</summary>
    public const int FastLaunchDefaultTargetResourceCount = 5;

    /// <summary>MaxParallelLaunches "Value must be 6 or greater" (EC2 API Reference, EnableFastLaunch); also the default.</summary>
    public const int FastLaunchMinParallelLaunches = 6;

    /// <summary>EnableFastLaunch → the service has checked the AMI and its launch permissions and set itself up (the
    /// service-linked role, the launch template): a modelled figure of a minute or two, not a documented one.</summary>
    public static readonly double[] FastLaunchSetupSeconds = [60, 120];

    /// <summary>One pre-provisioning launch: a t3 instance goes through the standard Windows launch steps ("several reboots,
    /// and often take 15 minutes or longer to complete", EC2 User Guide, Use EC2 Fast Launch), is stopped and snapshotted.
    /// Modelled as 15 to 25 minutes.</summary>
    public static readonly double[] FastLaunchPreProvisionSeconds = [900, 1500];

    /// <summary>DisableFastLaunch: "Amazon EC2 removes all of your pre-provisioned snapshots" (User Guide, service-linked
    /// role for EC2 Fast Launch); modelled as one to three minutes of clean-up.</summary>
    public static readonly double[] FastLaunchCleanupSeconds = [60, 180];

    /// <summary>The service EC2 Fast Launch's service-linked role trusts.</summary>
    public const string FastLaunchServiceName = "ec2fastlaunch.amazonaws.com";

    /// <summary>AWSServiceRoleForEC2FastLaunch: EC2 creates it the first time the account enables Fast Launch (the caller
    /// needs iam:CreateServiceLinkedRole then); it stays afterwards.</summary>
    public bool FastLaunchServiceRoleExists { get; set; }

    public string FastLaunchServiceRoleArn => $"arn:aws:iam::{AccountId}:role/aws-service-role/{FastLaunchServiceName}/AWSServiceRoleForEC2FastLaunch";

    /// <summary>The reason EC2 gives for a change the caller asked for.</summary>
    public const string FastLaunchUserInitiated = "Client.UserInitiated";

    /// <summary>EnableFastLaunch (settings already validated): a new configuration in "enabling", or, for an image that has
    /// one, its settings changed and set up again (snapshots on hand are kept up to the new target).</summary>
    public FastLaunchImage EnableFastLaunch(AmiImage image, int targetResourceCount, int maxParallelLaunches, LaunchTemplate? template, string? templateVersion)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (!FastLaunchImages.TryGetValue(image.ImageId, out FastLaunchImage? config))
        {
            config = new FastLaunchImage { ImageId = image.ImageId, OwnerId = image.OwnerId == AccountId ? image.OwnerId : null };
            FastLaunchImages[image.ImageId] = config;
        }

        FastLaunchServiceRoleExists = true; // created with the first configuration, by EC2 or by Image Builder on its behalf
        config.Generation++;
        config.TargetResourceCount = targetResourceCount;
        config.MaxParallelLaunches = maxParallelLaunches;
        config.LaunchTemplateId = template?.LaunchTemplateId;
        config.LaunchTemplateName = template?.LaunchTemplateName;
        config.LaunchTemplateVersion = template is null ? null : templateVersion;
        config.InFlight = 0; // instances of an older generation no longer count (their results are dropped)
        if (config.ReadySnapshots.Count > targetResourceCount)
        {
            config.ReadySnapshots.RemoveRange(targetResourceCount, config.ReadySnapshots.Count - targetResourceCount);
        }

        SetFastLaunchState(config, "enabling", FastLaunchUserInitiated);
        int generation = config.Generation;
        Scheduler.After(Spread(FastLaunchSetupSeconds), () => Locked(() =>
        {
            if (!IsCurrent(config, generation))
            {
                return;
            }

            if (!image.SysprepGeneralized)
            {
                // The first temporary instance never reaches the end of OOBE: an AMI not generalized with Sysprep
                // (shutdown option) is not supported ("doesn't currently support AMIs that were created from a running
                // instance", EC2 User Guide, EC2 Fast Launch prerequisites). The wording of the reason is modelled.
                Scheduler.After(Spread(FastLaunchPreProvisionSeconds), () => Locked(() =>
                {
                    if (IsCurrent(config, generation))
                    {
                        SetFastLaunchState(config, "enabling-failed",
                            $"Client.InvalidImage: The image {image.ImageId} was not generalized with Sysprep using the shutdown option. EC2 Fast Launch supports only AMIs created with Sysprep.");
                    }
                }));
                return;
            }

            SetFastLaunchState(config, "enabled", FastLaunchUserInitiated);
            FillFastLaunchPool(config);
        }));
        return config;
    }

    /// <summary>DisableFastLaunch: "disabling" while EC2 removes the pre-provisioned snapshots, then the image has no
    /// Fast Launch configuration any more. Launches stop using snapshots at once.</summary>
    public FastLaunchImage DisableFastLaunch(FastLaunchImage config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.State == "disabling")
        {
            return config;
        }

        config.Generation++;
        config.InFlight = 0;
        SetFastLaunchState(config, "disabling", FastLaunchUserInitiated);
        int generation = config.Generation;
        Scheduler.After(Spread(FastLaunchCleanupSeconds), () => Locked(() =>
        {
            if (IsCurrent(config, generation))
            {
                config.ReadySnapshots.Clear();
                FastLaunchImages.Remove(config.ImageId);
            }
        }));
        return config;
    }

    /// <summary>A launch from the AMI takes one pre-provisioned snapshot when Fast Launch has one ready (enabled, or
    /// enabled-failed with snapshots left); EC2 then launches a temporary instance to replace it. False: a standard launch.</summary>
    public bool TryTakeFastLaunchSnapshot(string imageId) => TryTakeFastLaunchSnapshot(imageId, out _);

    /// <summary>As <see cref="TryTakeFastLaunchSnapshot(string)"/>, with the id of the snapshot taken (the oldest ready
    /// one): the launch restores its root volume from it (<see cref="InstanceBoot.FastLaunchSnapshotId"/>).</summary>
    public bool TryTakeFastLaunchSnapshot(string imageId, out string? snapshotId)
    {
        lock (Gate)
        {
            snapshotId = null;
            if (!FastLaunchImages.TryGetValue(imageId, out FastLaunchImage? config)
                || config.State is not ("enabled" or "enabled-failed" or "enabling")
                || config.ReadySnapshots.Count == 0)
            {
                return false;
            }

            snapshotId = config.ReadySnapshots[0];
            config.ReadySnapshots.RemoveAt(0);
            if (config.State == "enabled")
            {
                FillFastLaunchPool(config);
            }

            return true;
        }
    }

    /// <summary>Starts pre-provisioning launches while the pool (ready + in flight) is below its target, at most
    /// MaxParallelLaunches at a time.</summary>
    private void FillFastLaunchPool(FastLaunchImage config)
    {
        int generation = config.Generation;
        while (config.ReadySnapshots.Count + config.InFlight < config.TargetResourceCount && config.InFlight < config.MaxParallelLaunches)
        {
            config.InFlight++;
            Scheduler.After(Spread(FastLaunchPreProvisionSeconds), () => Locked(() =>
            {
                if (!IsCurrent(config, generation))
                {
                    return;
                }

                config.InFlight--;
                config.SnapshotsMade++;
                config.ReadySnapshots.Add("snap-0" + Ids.Hex($"fast-launch/{config.ImageId}/{config.SnapshotsMade}", 16));
                if (config.State == "enabled")
                {
                    FillFastLaunchPool(config);
                }
            }));
        }
    }

    private bool IsCurrent(FastLaunchImage config, int generation) =>
        config.Generation == generation && FastLaunchImages.TryGetValue(config.ImageId, out FastLaunchImage? now) && ReferenceEquals(now, config);

    private void SetFastLaunchState(FastLaunchImage config, string state, string reason)
    {
        config.State = state;
        config.StateTransitionReason = reason;
        config.StateTransitionTime = Scheduler.Now;
    }
}
