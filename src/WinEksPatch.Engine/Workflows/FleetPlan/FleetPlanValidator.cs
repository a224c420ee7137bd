using System.Globalization;
using System.Text.RegularExpressions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Workflows.Replacement;

namespace WinEksPatch.Workflows.FleetPlan;

/// <summary>
/// Checks a fleet plan before anything runs: every field that can be wrong without asking AWS, each problem reported as
/// FleetPlanInvalid naming its field as the file writes it (waves[1].targets[0].region). What needs AWS (the profile,
/// the cluster, its groups) is checked by the run's pre-flight, before its first change.
/// </summary>
public static partial class FleetPlanValidator
{
    public static void Validate(WinEksFleetPlan plan, string source)
    {
        ArgumentNullException.ThrowIfNull(plan);
        WinEksPatchException Invalid(string field, string problem) =>
            new(ErrorIds.FleetPlanInvalid, ErrorKind.InvalidData, $"The fleet plan {source} is not valid: {field}: {problem}", field);

        if (!NamePattern().IsMatch(plan.Name ?? ""))
        {
            throw Invalid("name", $"'{plan.Name}' is not 1 to 128 letters, digits, '-', '_' or '.'.");
        }

        ValidateRollout(plan.Rollout ?? throw Invalid("rollout", "is missing."), Invalid);
        if (plan.Waves is null or { Count: 0 })
        {
            throw Invalid("waves", "a plan has at least one wave.");
        }

        var waveNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var clusters = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int w = 0; w < plan.Waves.Count; w++)
        {
            WinEksFleetWave wave = plan.Waves[w] ?? throw Invalid($"waves[{w}]", "is empty.");
            string at = $"waves[{w}]";
            if (!NamePattern().IsMatch(wave.Name ?? ""))
            {
                throw Invalid($"{at}.name", $"'{wave.Name}' is not 1 to 128 letters, digits, '-', '_' or '.'.");
            }

            if (!waveNames.Add(wave.Name!))
            {
                throw Invalid($"{at}.name", $"two waves are named '{wave.Name}'.");
            }

            if (wave.Targets is null or { Count: 0 })
            {
                throw Invalid($"{at}.targets", "a wave has at least one target.");
            }

            if (wave.MaxConcurrency < 1)
            {
                throw Invalid($"{at}.maxConcurrency", $"{wave.MaxConcurrency}; at least 1 target runs at a time.");
            }

            if (wave.MaxErrors < 0)
            {
                throw Invalid($"{at}.maxErrors", $"{wave.MaxErrors}; 0 stops the plan at the first failed target.");
            }

            if (wave.SoakTime < TimeSpan.Zero || wave.SoakTime > TimeSpan.FromDays(7))
            {
                throw Invalid($"{at}.soakTime", $"{wave.SoakTime}; a soak lasts from 00:00:00 to 7 days.");
            }

            WinEksFleetGates gates = wave.Gates ?? throw Invalid($"{at}.gates", "is empty; leave it out for the default gates.");
            if (gates.MaxRestartIncrease < 0)
            {
                throw Invalid($"{at}.gates.maxRestartIncrease", $"{gates.MaxRestartIncrease}; restarts cannot fall.");
            }

            ValidateAlarms(gates.Alarms, $"{at}.gates.alarms", Invalid);
            if (wave.MaintenanceWindow is { } window)
            {
                _ = MaintenanceWindowSchedule.Parse(window, $"{source}: {at}.maintenanceWindow");
            }

            for (int t = 0; t < wave.Targets.Count; t++)
            {
                ValidateTarget(wave.Targets[t], $"{at}.targets[{t}]", clusters, Invalid);
            }
        }
    }

    /// <summary>Alarm names as CloudWatch takes them (1 to 255 characters, no control characters), at most the 100 one
    /// DescribeAlarms reads, with no placeholder but those a target fills in.</summary>
    private static void ValidateAlarms(List<string>? alarms, string at, Func<string, string, WinEksPatchException> invalid)
    {
        if (alarms is null)
        {
            throw invalid(at, "is empty; leave it out for no alarm gate.");
        }

        if (alarms.Count > 100)
        {
            throw invalid(at, $"{alarms.Count} alarms; a gate reads at most 100.");
        }

        foreach (string? alarm in alarms)
        {
            string bare = WinEksFleetGates.AlarmPlaceholders.Aggregate(alarm ?? "", (name, p) => name.Replace(p, "", StringComparison.Ordinal));
            if (string.IsNullOrWhiteSpace(alarm) || alarm.Length > 255 || alarm.Any(char.IsControl))
            {
                throw invalid(at, $"'{alarm}' is not a CloudWatch alarm name (1 to 255 characters, no control characters).");
            }

            if (bare.Contains('{', StringComparison.Ordinal) && bare.Contains('}', StringComparison.Ordinal))
            {
                throw invalid(at, $"'{alarm}' holds a placeholder the plan does not fill in; it fills in {string.Join(" and ", WinEksFleetGates.AlarmPlaceholders)}.");
            }
        }
    }

    private static void ValidateRollout(WinEksFleetRollout rollout, Func<string, string, WinEksPatchException> invalid)
    {
        if (rollout.ImageSource is not ("EksLatest" or "Build"))
        {
            throw invalid("rollout.imageSource", $"'{rollout.ImageSource}'; a plan takes EksLatest or Build" +
                (rollout.ImageSource?.StartsWith("ami-", StringComparison.Ordinal) == true ? " (an AMI id belongs to one account and region, and a plan spans many)." : "."));
        }

        if (rollout.CacheImagesFromCluster && rollout.ImageSource != "Build")
        {
            throw invalid("rollout.cacheImagesFromCluster", "caches images in the AMI a build makes; set imageSource to Build.");
        }

        foreach ((string name, string? value) in new[] { ("maxSurge", rollout.MaxSurge), ("maxUnavailable", rollout.MaxUnavailable) })
        {
            try
            {
                _ = RolloutLimit.Parse(value ?? "", name);
            }
            catch (WinEksPatchException ex)
            {
                throw invalid($"rollout.{name}", ex.Message[(ex.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..]);
            }
        }

        if (RolloutLimit.Parse(rollout.MaxSurge, "maxSurge").Value == 0 && RolloutLimit.Parse(rollout.MaxUnavailable, "maxUnavailable").Value == 0)
        {
            throw invalid("rollout", "maxSurge and maxUnavailable are both 0: no node could ever be replaced.");
        }

        foreach ((string name, TimeSpan value, TimeSpan least) in new[] { ("drainTimeout", rollout.DrainTimeout, TimeSpan.FromSeconds(1)),
            ("readyTimeout", rollout.ReadyTimeout, TimeSpan.FromSeconds(1)), ("minReadyTime", rollout.MinReadyTime, TimeSpan.Zero) })
        {
            if (value < least || value > TimeSpan.FromDays(1))
            {
                throw invalid($"rollout.{name}", $"{value.ToString("c", CultureInfo.InvariantCulture)}; from {least.ToString("c", CultureInfo.InvariantCulture)} to 1 day.");
            }
        }
    }

    private static void ValidateTarget(WinEksFleetTarget? target, string at, Dictionary<string, string> clusters, Func<string, string, WinEksPatchException> invalid)
    {
        if (target is null)
        {
            throw invalid(at, "is empty.");
        }

        if (target.ProfileName is { } profile && (profile.Length == 0 || profile.Any(c => char.IsWhiteSpace(c) || c is '[' or ']')))
        {
            throw invalid($"{at}.profileName", $"'{profile}' is not a profile name.");
        }

        if (target.AccountId is { } account && !AccountPattern().IsMatch(account))
        {
            throw invalid($"{at}.accountId", $"'{account}' is not a 12-digit account id.");
        }

        if (!Aws.AwsContext.IsRegionCode(target.Region))
        {
            throw invalid($"{at}.region", $"'{target.Region}' is not a region code (e.g. us-west-2).");
        }

        if (!ClusterPattern().IsMatch(target.ClusterName ?? ""))
        {
            throw invalid($"{at}.clusterName", $"'{target.ClusterName}' is not an EKS cluster name (1 to 100 letters, digits, '-' or '_', starting with a letter or digit).");
        }

        if (target.NodeGroupName?.FirstOrDefault(string.IsNullOrWhiteSpace) is not null)
        {
            throw invalid($"{at}.nodeGroupName", "names an empty group.");
        }

        // One cycle per cluster: a cluster twice in a plan would be patched (and rolled back) twice.
        if (clusters.TryGetValue(target.Key, out string? first))
        {
            throw invalid(at, $"{target.Key} is already {first}; a plan patches each cluster once (name its groups in one target).");
        }

        clusters[target.Key] = at;
    }

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,128}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[0-9]{12}$")]
    private static partial Regex AccountPattern();

    [GeneratedRegex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")]
    private static partial Regex ClusterPattern();
}
