using WinEksPatch.Errors;

namespace WinEksPatch.Abstractions;

/// <summary>
/// What a workflow may ask of whoever runs it (a cmdlet, a test). Workflows run off the pipeline thread; the cmdlet
/// implementation queues each call and performs it on the pipeline thread, where PowerShell allows it.
/// </summary>
public interface IWorkflowHost
{
    /// <summary>Emits one result object as soon as it exists.</summary>
    void Output(object item);

    /// <summary>Reports a failure of one item; the workflow goes on with the others.</summary>
    void Error(WinEksPatchException error);

    void Verbose(string message);

    /// <summary>Detail for -Debug (request ids); hosts without a debug stream drop it.</summary>
    void Debug(string message)
    {
    }

    void Warning(string message);

    void Progress(ProgressUpdate update);

    /// <summary>Asks -WhatIf/-Confirm whether to change <paramref name="target"/>; false means skip it.</summary>
    Task<bool> ShouldProcessAsync(string target, string action);

    /// <summary>Like <see cref="ShouldProcessAsync(string, string)"/>, with the whole change described: -WhatIf prints
    /// <paramref name="description"/> (which may span lines) and -Confirm shows it. Hosts without it fall back to target and action.</summary>
    Task<bool> ShouldProcessAsync(string target, string action, string description) => ShouldProcessAsync(target, action);
}

/// <summary>One progress bar update. <see cref="ParentId"/> nests a child bar (a node inside a node group).</summary>
public sealed record ProgressUpdate(
    int Id,
    string Activity,
    string Status,
    int PercentComplete = -1,
    int? ParentId = null,
    string? CurrentOperation = null,
    bool Completed = false);

/// <summary>A failure of the host itself while a workflow asked it something (a prompt a non-interactive session cannot
/// show, a stop at the prompt): the workflow lets it through untouched, and the cmdlet rethrows <see cref="Exception.InnerException"/>
/// as PowerShell raised it, instead of reporting it as a failure of the work.</summary>
public sealed class HostInteractionException(Exception inner) : Exception(inner.Message, inner);
