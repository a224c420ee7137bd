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
public sealed class ModuleInitializer : IModuleAssemblyInitializer
{
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
