using WinEksPatch.Abstractions;
using WinEksPatch.Errors;

namespace WinEksPatch.Workflows.FleetPlan;

/// <summary>
/// The host one target's cycle talks to while other targets' cycles run beside it: its messages and progress carry the
/// target's name, and its progress bars get ids of their own (a cycle numbers its bars from 1; two cycles at once would
/// overwrite each other's).
/// </summary>
internal sealed class TargetHost(IWorkflowHost inner, string target, int slot) : IWorkflowHost
{
    private readonly int _offset = 100_000 * (slot + 1);

    public void Output(object item) => inner.Output(item);

    public void Error(WinEksPatchException error) => inner.Error(error);

    public void Verbose(string message) => inner.Verbose($"[{target}] {message}");

    public void Debug(string message) => inner.Debug($"[{target}] {message}");

    public void Warning(string message) => inner.Warning($"[{target}] {message}");

    public void Progress(ProgressUpdate update) => inner.Progress(update with
    {
        Id = update.Id + _offset,
        ParentId = update.ParentId + _offset,
        Activity = $"{target}: {update.Activity}",
    });

    public Task<bool> ShouldProcessAsync(string target, string action) => inner.ShouldProcessAsync(target, action);

    public Task<bool> ShouldProcessAsync(string target, string action, string description) => inner.ShouldProcessAsync(target, action, description);
}
