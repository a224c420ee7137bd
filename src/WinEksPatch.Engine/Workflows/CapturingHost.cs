using WinEksPatch.Abstractions;
using WinEksPatch.Errors;

namespace WinEksPatch.Workflows;

/// <summary>Keeps what a step emits (to put it in the report) and passes everything else through; with
/// <paramref name="forward"/> the objects are written on too.</summary>
public sealed class CapturingHost(IWorkflowHost inner, bool forward = false) : IWorkflowHost
{
    public List<object> Items { get; } = [];

    public void Output(object item)
    {
        Items.Add(item);
        if (forward)
        {
            inner.Output(item);
        }
    }

    public void Error(WinEksPatchException error) => inner.Error(error);

    public void Verbose(string message) => inner.Verbose(message);

    public void Warning(string message) => inner.Warning(message);

    public void Progress(ProgressUpdate update) => inner.Progress(update);

    public Task<bool> ShouldProcessAsync(string target, string action) => inner.ShouldProcessAsync(target, action);

    // Forwarded explicitly: the interface's default would drop the description (the -WhatIf text of a whole plan).
    public Task<bool> ShouldProcessAsync(string target, string action, string description) => inner.ShouldProcessAsync(target, action, description);
}
