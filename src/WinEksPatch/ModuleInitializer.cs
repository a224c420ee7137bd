using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace WinEksPatch.Commands;

/// <summary>
/// Loads WinEksPatch.Engine and its dependencies (AWSSDK.*, KubernetesClient, YamlDotNet, ...) from the module's
/// <c>deps</c> folder into a private <see cref="AssemblyLoadContext"/>. A session that already loaded another
/// AWSSDK.Core (every AWS.Tools user) or another YamlDotNet keeps its copy; we use ours. Only the engine assembly is
/// handed to the default context, and only when this assembly asks for it (the pattern PowerShell documents in
/// "Resolving PowerShell module assembly dependency conflicts").
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    /// <summary>The output types (and the enums and records they hold) a user names in a script: `-is
    /// [WinEksPatch.Model.WinEksPatchReport]`, `[WinEksPatch.NodeGroupKind]::Managed`. They live in the engine, in the
    /// module's own load context, which PowerShell's type-name resolution does not search: type accelerators make both
    /// the full name and the short WinEksPatch.X name resolve. A test checks every cmdlet's OutputType is here.</summary>
    internal static readonly string[] ModelTypes =
    [
        "AmiSource", "GroupPatchResult", "NodeGroupAmiChange", "NodeGroupKind", "NodeReplacementPlan", "NodeReplacementResult",
        "PreflightFinding", "ReplacementOutcome", "ReplacementStep", "WinContainerImageSize", "WinContainerPatchStatus", "WinEksCluster",
        "WinEksPatchGroupReport", "WinEksPatchReport", "WinEksSimulator", "WinEksSimulatorApiCall", "WinEksSimulatorEvent",
        "WinEksSimulatorFault", "WinEksSimulatorKubernetesRequest", "WinEksSimulatorPdbViolation", "WinEksSimulatorPodDeletion",
        "WinEksSimulatorReadyNodes", "WinEksSimulatorReport", "WinImageCacheCandidate", "WinImageLayer", "WinNode", "WinNodeAmi",
        "WinNodeAmiBuild", "WinNodeAmiBuildPlan", "WinNodeAmiBuildResource", "WinNodeAmiCacheImage", "WinNodeAmiFastLaunchPlan",
        "AmiBuildResourceAction", "AmiBuildResourceKind", "WinNodeAmiFastLaunch", "NodeBoot", "NodeBootSummary", "WinNodeGroup", "WinPatchStatus",
        "WinEksSimulatorAccount", "WinEksFleetPlan", "WinEksFleetRollout", "WinEksFleetWave", "WinEksFleetTarget", "WinEksFleetGates",
        "WinEksMaintenanceWindow", "WinEksFleetReport", "WinEksFleetWaveReport", "WinEksFleetTargetReport", "FleetTargetResult",
        "WinNodeGroupHealth",
    ];

    private static readonly Type? Accelerators = typeof(PSObject).Assembly.GetType("System.Management.Automation.TypeAccelerators");

    private const string EngineAssemblyName = "WinEksPatch.Engine";

    private static readonly string DependencyDirectory =
        Path.Combine(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!, "deps");

    private static readonly DependencyLoadContext Context = new(DependencyDirectory);

    private static int _registered;

    public void OnImport()
    {
        // Import-Module -Force re-runs OnImport in the same process; one handler is enough.
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            AssemblyLoadContext.Default.Resolving += ResolveEngine;
        }

        // Only the engine assembly loads here (its model types derive from nothing of AWS's); the AWS SDK and
        // KubernetesClient still load with the first command.
        var engine = Context.LoadFromAssemblyName(new AssemblyName(EngineAssemblyName));
        foreach (var name in ModelTypes)
        {
            if (engine.GetType($"WinEksPatch.Model.{name}") is { } type)
            {
                Accelerate($"WinEksPatch.Model.{name}", type);
                Accelerate($"WinEksPatch.{name}", type);
            }
        }
    }

    /// <summary>Remove-Module takes the accelerators away with the module.</summary>
    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        var remove = Accelerators?.GetMethod("Remove", [typeof(string)]);
        foreach (var name in ModelTypes)
        {
            remove?.Invoke(null, [$"WinEksPatch.Model.{name}"]);
            remove?.Invoke(null, [$"WinEksPatch.{name}"]);
        }
    }

    private static void Accelerate(string name, Type type)
    {
        var accelerators = Accelerators?.GetMethod("Remove", [typeof(string)]);
        accelerators?.Invoke(null, [name]); // Import-Module -Force: the same name again
        Accelerators?.GetMethod("Add", [typeof(string), typeof(Type)])?.Invoke(null, [name, type]);
    }

    private static Assembly? ResolveEngine(AssemblyLoadContext defaultContext, AssemblyName name) =>
        name.Name == EngineAssemblyName ? Context.LoadFromAssemblyName(name) : null;

    private sealed class DependencyLoadContext(string directory) : AssemblyLoadContext("WinEksPatch", isCollectible: false)
    {
        protected override Assembly? Load(AssemblyName assemblyName)
        {
            // Our copy when we ship one; otherwise (framework assemblies) defer to the default context.
            var path = Path.Combine(directory, assemblyName.Name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
}
