using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using WinEksPatch.Aws;
using WinEksPatch.Kubernetes;

namespace WinEksPatch.Commands.Completion;

/// <summary>
/// Tab completion from what this machine knows, with no call to AWS: regions, profiles, kubeconfig contexts, the
/// simulator's bundled scenarios, image sources. Never throws at the user.
/// </summary>
public abstract class LocalCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            var prefix = wordToComplete.Trim('\'', '"');
            return Candidates(fakeBoundParameters)
                .Where(c => c.Value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Select(c => new CompletionResult(c.Value, c.Value, CompletionResultType.ParameterValue, c.ToolTip))
                .ToList();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return [];
        }
    }

    private protected abstract IEnumerable<(string Value, string ToolTip)> Candidates(IDictionary bound);
}

/// <summary>Completes -Region with the regions the module's AWS SDK knows (tool tip: the region's name).</summary>
public sealed class RegionCompleter : LocalCompleter
{
    private protected override IEnumerable<(string Value, string ToolTip)> Candidates(IDictionary bound) =>
        AwsContext.KnownRegions().Select(r => (r.Code, r.Name));
}

/// <summary>Completes -ProfileName with the profiles of the shared AWS config and credentials files; while the session
/// is pointed at the simulator, with the simulator's accounts (the only profiles it accepts then).</summary>
public sealed class ProfileNameCompleter : LocalCompleter
{
    private protected override IEnumerable<(string Value, string ToolTip)> Candidates(IDictionary bound) =>
        ModuleEnvironment.Simulator?.Info.Accounts is { Count: > 0 } accounts
            ? accounts.Select(a => (a.Profile, $"simulated account {a.AccountId} ({a.Region})"))
            : AwsContext.ProfileNames().Select(p => (p, $"AWS profile {p}"));
}

/// <summary>Completes -KubeContext with the contexts of the -KubeConfigPath on the line (else KUBECONFIG or ~/.kube/config).</summary>
public sealed class KubeContextCompleter : LocalCompleter
{
    private protected override IEnumerable<(string Value, string ToolTip)> Candidates(IDictionary bound) =>
        KubernetesConnector.ContextNames(bound["KubeConfigPath"] as string).Select(c => (c, $"kubeconfig context {c}"));
}

/// <summary>Completes -Scenario with the simulator's bundled scenarios.</summary>
public sealed class ScenarioCompleter : LocalCompleter
{
    private protected override IEnumerable<(string Value, string ToolTip)> Candidates(IDictionary bound)
    {
        var folder = Path.Combine(Path.GetDirectoryName(typeof(ScenarioCompleter).Assembly.Location)!, "simulator", "Scenarios");
        return Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>()
                .Order(StringComparer.Ordinal).Select(s => (s, $"bundled scenario {s}"))
            : [];
    }
}

/// <summary>Completes -ImageSource with EksLatest and Build, then the candidate AMI ids (as -ImageId completes them).</summary>
public sealed class ImageSourceCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = wordToComplete.Trim('\'', '"');
        var fixedSources = new[] { ("EksLatest", "the latest EKS-optimized Windows AMI of each group"), ("Build", "a new AMI built with New-WinNodeAmi") }
            .Where(s => s.Item1.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(s => new CompletionResult(s.Item1, s.Item1, CompletionResultType.ParameterValue, s.Item2));
        var amis = prefix.StartsWith("ami-", StringComparison.OrdinalIgnoreCase) || prefix.Length == 0
            ? new ImageIdCompleter().CompleteArgument(commandName, parameterName, wordToComplete, commandAst, fakeBoundParameters)
            : [];
        return [.. fixedSources, .. amis];
    }
}
