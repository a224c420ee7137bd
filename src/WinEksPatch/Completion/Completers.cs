using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using WinEksPatch.Aws;
using WinEksPatch.Windows;
using WinEksPatch.Workflows;

namespace WinEksPatch.Commands.Completion;

/// <summary>
/// Tab completion from the live (or simulated) account: cluster names, a cluster's Windows node groups and nodes, and
/// candidate AMIs. Uses the same connection rules as the cmdlets (-Region/-ProfileName already typed on the line, else
/// the defaults), gives up quietly on any error, and never waits more than a few seconds.
/// </summary>
public abstract class AwsCompleter : IArgumentCompleter
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(5);

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            using var cancellation = new CancellationTokenSource(Budget);
            using var connections = new Connections(new AwsConnectionOptions(fakeBoundParameters["Region"] as string, fakeBoundParameters["ProfileName"] as string));
            var names = Task.Run(() => CandidatesAsync(connections, fakeBoundParameters, cancellation.Token)).GetAwaiter().GetResult();
            return names
                .Where(n => n.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal)
                .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n))
                .ToList();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return []; // completion must never throw at the user
        }
    }

    private protected abstract Task<IEnumerable<string>> CandidatesAsync(Connections connections, IDictionary bound, CancellationToken cancellationToken);

    private protected static ClusterSnapshotReader Reader(Connections c) => new WorkflowFactory(c).Reader();
}

/// <summary>Completes -ClusterName with the region's EKS clusters.</summary>
public sealed class ClusterNameCompleter : AwsCompleter
{
    private protected override async Task<IEnumerable<string>> CandidatesAsync(Connections connections, IDictionary bound, CancellationToken cancellationToken) =>
        await connections.Aws.Eks().ListClustersAsync(cancellationToken).ConfigureAwait(false);
}

/// <summary>Completes -NodeGroupName with the Windows node groups of the -ClusterName on the line.</summary>
public sealed class NodeGroupNameCompleter : AwsCompleter
{
    private protected override async Task<IEnumerable<string>> CandidatesAsync(Connections connections, IDictionary bound, CancellationToken cancellationToken)
    {
        if (bound["ClusterName"] is not string cluster)
        {
            return [];
        }

        var snapshot = await Reader(connections).ReadAsync(cluster, includeInstances: false, includePods: false, cancellationToken).ConfigureAwait(false);
        return snapshot.NodeGroups.Where(g => g.IsWindows).Select(g => g.Name);
    }
}

/// <summary>Completes -NodeName with the Windows nodes of the -ClusterName on the line.</summary>
public sealed class NodeNameCompleter : AwsCompleter
{
    private protected override async Task<IEnumerable<string>> CandidatesAsync(Connections connections, IDictionary bound, CancellationToken cancellationToken)
    {
        if (bound["ClusterName"] is not string cluster)
        {
            return [];
        }

        var (_, kubernetes) = await connections.KubernetesForClusterAsync(cluster).ConfigureAwait(false);
        return (await kubernetes.ListNodesAsync(ClusterInventory.WindowsNodeSelector, cancellationToken).ConfigureAwait(false)).Select(n => n.Name);
    }
}

/// <summary>Completes -ImageId with the latest EKS-optimized Windows AMIs and the AMIs the module built.</summary>
public sealed class ImageIdCompleter : AwsCompleter
{
    private protected override async Task<IEnumerable<string>> CandidatesAsync(Connections connections, IDictionary bound, CancellationToken cancellationToken)
    {
        var catalog = new WorkflowFactory(connections).Catalog();
        var eks = await catalog.LatestEksAsync(new AmiQuery(), cancellationToken).ConfigureAwait(false);
        var built = await catalog.BuiltAsync(new AmiQuery(), cancellationToken).ConfigureAwait(false);
        return eks.Concat(built).Select(a => a.ImageId).Distinct(StringComparer.Ordinal);
    }
}

/// <summary>Completes an AMI id EC2 Fast Launch can be turned on for: the AMIs New-WinNodeAmi built in the region.</summary>
public sealed class OwnImageIdCompleter : AwsCompleter
{
    private protected override async Task<IEnumerable<string>> CandidatesAsync(Connections connections, IDictionary bound, CancellationToken cancellationToken) =>
        (await new WorkflowFactory(connections).Catalog().BuiltAsync(new AmiQuery(), cancellationToken).ConfigureAwait(false)).Select(a => a.ImageId);
}

/// <summary>Completes an AMI id with the region's AMIs that have EC2 Fast Launch (DescribeFastLaunchImages).</summary>
public sealed class FastLaunchImageIdCompleter : AwsCompleter
{
    private protected override async Task<IEnumerable<string>> CandidatesAsync(Connections connections, IDictionary bound, CancellationToken cancellationToken) =>
        (await connections.Aws.Ec2().DescribeFastLaunchImagesAsync([], cancellationToken).ConfigureAwait(false)).Select(i => i.ImageId);
}
