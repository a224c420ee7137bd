using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;

namespace WinEksPatch.Workflows;

/// <summary>What a cluster's Windows groups let the policy name exactly (Get-WinEksPatchIamPolicy -FromCluster).</summary>
/// <param name="AccountId">The account, from the cluster's ARN.</param>
/// <param name="Region">The region, from the cluster's ARN.</param>
/// <param name="NodeRoleArns">The roles in the instance profiles of the self-managed groups' launch templates (their
/// overrides' templates included): what Auto Scaling checks iam:PassRole on when a group is set to a new version. Managed
/// groups pass none (EKS adds the group's node role itself). Empty: no group passes a role.</param>
/// <param name="LaunchTemplateIds">The launch templates the groups launch from, overrides' included: the only ones
/// Set-NodeGroupAmi gives new versions and Auto Scaling launches from.</param>
/// <param name="NodeGroupNames">The Windows groups read.</param>
public sealed record ClusterIamFacts(
    string AccountId,
    string Region,
    IReadOnlyList<string> NodeRoleArns,
    IReadOnlyList<string> LaunchTemplateIds,
    IReadOnlyList<string> NodeGroupNames);

/// <summary>Reads a cluster's Windows node groups for the roles and launch templates the rollout policy must name.</summary>
public sealed class IamPolicyDiscovery(ClusterSnapshotReader reader, IEc2Api ec2, IIamApi iam)
{
    public async Task<ClusterIamFacts> DiscoverAsync(string clusterName, CancellationToken cancellationToken = default)
    {
        var snapshot = await reader.ReadAsync(clusterName, includeInstances: false, includePods: false, cancellationToken).ConfigureAwait(false);
        var groups = PatchCycle.SelectAll(snapshot, []);
        var (accountId, region) = AccountAndRegion(snapshot.Cluster);

        var templates = new Dictionary<string, LaunchTemplateVersion>(StringComparer.Ordinal);
        var profiles = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            var versions = new List<LaunchTemplateVersion>();
            if (group.TemplateVersion is { } version)
            {
                versions.Add(version);
            }

            foreach (var reference in (group.AutoScalingGroup?.Overrides ?? []).Select(o => o.LaunchTemplate).OfType<LaunchTemplateReference>())
            {
                versions.Add(await ec2.DescribeLaunchTemplateVersionAsync(reference, cancellationToken).ConfigureAwait(false));
            }

            foreach (var v in versions)
            {
                templates[v.LaunchTemplateId] = v;
                if (group.Kind == NodeGroupKind.SelfManaged && v.IamInstanceProfile is { } profile)
                {
                    profiles.Add(profile);
                }
            }
        }

        var roles = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var profile in profiles)
        {
            roles.UnionWith(await iam.GetInstanceProfileRoleArnsAsync(profile, cancellationToken).ConfigureAwait(false));
        }

        return new ClusterIamFacts(accountId, region, [.. roles], [.. templates.Keys.Order(StringComparer.Ordinal)], [.. groups.Select(g => g.Name)]);
    }

    /// <summary>arn:aws:eks:&lt;region&gt;:&lt;account&gt;:cluster/&lt;name&gt;.</summary>
    private static (string AccountId, string Region) AccountAndRegion(EksCluster cluster)
    {
        var parts = cluster.Arn?.Split(':');
        return parts is { Length: 6 } && parts[3].Length > 0 && parts[4].Length == 12
            ? (parts[4], parts[3])
            : throw new WinEksPatchException(ErrorIds.InvalidResponse, ErrorKind.InvalidData,
                $"EKS gave cluster '{cluster.Name}' the ARN '{cluster.Arn}', which names no account and region.", cluster.Name);
    }
}
