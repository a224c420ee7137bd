using WinEksPatch.Abstractions;
using WinEksPatch.Errors;

namespace WinEksPatch.Workflows;

/// <summary>Turns the errors a workflow step reports per item into exceptions, for callers that name exactly one item
/// (Set-NodeGroupAmi, Invoke-NodeReplacement take one node group): there is nothing else to go on with.</summary>
internal sealed class ThrowingHost(IWorkflowHost inner) : IWorkflowHost
{
    public void Output(object item) => inner.Output(item);

    public void Error(WinEksPatchException error) => throw error;

    public void Verbose(string message) => inner.Verbose(message);

    public void Warning(string message) => inner.Warning(message);

    public void Progress(ProgressUpdate update) => inner.Progress(update);

    public Task<bool> ShouldProcessAsync(string target, string action) => inner.ShouldProcessAsync(target, action);

    // Forwarded explicitly: the interface's default would drop the description (the -WhatIf text of a whole plan).
    public Task<bool> ShouldProcessAsync(string target, string action, string description) => inner.ShouldProcessAsync(target, action, description);
}
