using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;

namespace WinEksPatch.Workflows;

/// <summary>What a cluster's Windows groups let the policy name exactly (Get-WinEksPatchIamPolicy -FromCluster).</summary>
/// <param name="Targets">The policy's targets: the partition, account and region of the cluster's ARN; the roles in the
/// instance profiles of the self-managed groups' launch templates (their overrides' templates included), which Auto
/// Scaling checks iam:PassRole on when a group is set to a new version (managed groups pass none: EKS adds the node role
/// itself); the groups' launch templates (new versions), the self-managed groups' ones (launches), and the SSM parameters
/// the templates name their AMI by.</param>
/// <param name="NodeGroupNames">The Windows groups read.</param>
/// <param name="FloatingVersionGroups">Self-managed groups that launch $Latest or $Default: a new version of their template
/// changes what they launch with no Auto Scaling call, so no iam:PassRole or ec2:RunInstances check stands in between.</param>
public sealed record ClusterIamFacts(IamPolicyTargets Targets, IReadOnlyList<string> NodeGroupNames, IReadOnlyList<string> FloatingVersionGroups);

/// <summary>Reads a cluster's Windows node groups for the roles and launch templates the rollout policy must name.</summary>
public sealed class IamPolicyDiscovery(ClusterSnapshotReader reader, IEc2Api ec2, IIamApi iam)
{
    public async Task<ClusterIamFacts> DiscoverAsync(string clusterName, string imageBuilderRoleName, CancellationToken cancellationToken = default)
    {
        var snapshot = await reader.ReadAsync(clusterName, includeInstances: false, includePods: false, cancellationToken).ConfigureAwait(false);
        var groups = PatchCycle.SelectAll(snapshot, []);
        var (partition, accountId, region) = PartitionAccountAndRegion(snapshot.Cluster);

        var templates = new SortedSet<string>(StringComparer.Ordinal);
        var launched = new SortedSet<string>(StringComparer.Ordinal);
        var parameters = new SortedSet<string>(StringComparer.Ordinal);
        var profiles = new SortedSet<string>(StringComparer.Ordinal);
        var floating = new List<string>();
        foreach (var group in groups)
        {
            var versions = new List<LaunchTemplateVersion>();
            if (group.TemplateVersion is { } version)
            {
                versions.Add(version);
            }

            // Only a self-managed group's mixed instances overrides are the group's own (a managed group's Auto Scaling
            // group is EKS's, launched from EKS's copy of the template).
            var selfManaged = group.Kind == NodeGroupKind.SelfManaged;
            foreach (var reference in selfManaged ? (group.AutoScalingGroup?.Overrides ?? []).Select(o => o.LaunchTemplate).OfType<LaunchTemplateReference>() : [])
            {
                versions.Add(await ec2.DescribeLaunchTemplateVersionAsync(reference, cancellationToken).ConfigureAwait(false));
            }

            if (selfManaged && group.LaunchTemplate?.Version is null or "$Latest" or "$Default")
            {
                floating.Add(group.Name);
            }

            foreach (var v in versions)
            {
                templates.Add(v.LaunchTemplateId);
                if (v.ImageAlias is { } alias)
                {
                    parameters.Add(ParameterName(alias));
                }

                if (selfManaged)
                {
                    launched.Add(v.LaunchTemplateId);
                    if (v.IamInstanceProfile is { } profile)
                    {
                        profiles.Add(profile);
                    }
                }
            }
        }

        var roles = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var profile in profiles)
        {
            roles.UnionWith(await iam.GetInstanceProfileRoleArnsAsync(profile, cancellationToken).ConfigureAwait(false));
        }

        var targets = new IamPolicyTargets
        {
            ClusterName = clusterName,
            Partition = partition,
            AccountId = accountId,
            Region = region,
            NodeRoles = [.. roles],
            ImageBuilderRoleName = imageBuilderRoleName,
            LaunchTemplateIds = [.. templates],
            LaunchedTemplateIds = [.. launched],
            ImageParameters = [.. parameters],
        };
        return new ClusterIamFacts(targets, [.. groups.Select(g => g.Name)], floating);
    }

    /// <summary>"resolve:ssm:name", "resolve:ssm:name:version" or "resolve:ssm:name:label": the parameter's name.</summary>
    private static string ParameterName(string alias)
    {
        var name = alias["resolve:ssm:".Length..];
        var colon = name.LastIndexOf(':');
        return colon > 0 ? name[..colon] : name;
    }

    /// <summary>arn:&lt;partition&gt;:eks:&lt;region&gt;:&lt;account&gt;:cluster/&lt;name&gt;.</summary>
    private static (string Partition, string AccountId, string Region) PartitionAccountAndRegion(EksCluster cluster)
    {
        var parts = cluster.Arn?.Split(':');
        return parts is { Length: 6 } && parts[1].StartsWith("aws", StringComparison.Ordinal) && parts[3].Length > 0 && parts[4].Length == 12
            ? (parts[1], parts[4], parts[3])
            : throw new WinEksPatchException(ErrorIds.InvalidResponse, ErrorKind.InvalidData,
                $"EKS gave cluster '{cluster.Name}' the ARN '{cluster.Arn}', which names no partition, account and region.", cluster.Name);
    }
}
