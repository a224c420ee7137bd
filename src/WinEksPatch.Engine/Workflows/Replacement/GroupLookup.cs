using WinEksPatch.Abstractions;
using WinEksPatch.Errors;

namespace WinEksPatch.Workflows.Replacement;

/// <summary>Reading a rollout's Auto Scaling group again while it runs.</summary>
internal static class GroupLookup
{
    /// <summary>The group, read again by name (DescribeAutoScalingGroups); a group deleted during the rollout is a named
    /// error (NodeGroupNotFound), not an unexpected state.</summary>
    public static async Task<AutoScalingGroup> ReadAsync(IAutoScalingApi autoScaling, string name, CancellationToken cancellationToken)
    {
        var found = await autoScaling.DescribeAutoScalingGroupsAsync([name], cancellationToken: cancellationToken).ConfigureAwait(false);
        return found.Count == 1 ? found[0]
            : throw new WinEksPatchException(ErrorIds.NodeGroupNotFound, ErrorKind.ObjectNotFound,
                $"The Auto Scaling group {name} is gone (deleted during the rollout?); the rollout stopped. Nothing was changed after it disappeared.", name);
    }
}
