using System.Collections.Concurrent;
using System.Management.Automation;
using WinEksPatch.Abstractions;
using WinEksPatch.Errors;

namespace WinEksPatch.Commands;

/// <summary>
/// Base of every WinEksPatch cmdlet. Workflows run on a background task; whatever they want written (objects, errors,
/// progress, verbose, ShouldProcess questions) is queued and performed here on the pipeline thread, the only thread
/// PowerShell allows it on. Ctrl+C cancels the workflow's token (StopProcessing) and the cmdlet stops cleanly.
/// </summary>
public abstract class WinEksPatchCmdlet : PSCmdlet
{
    private CancellationTokenSource? _cancellation;

    protected CancellationToken CancellationToken => _cancellation?.Token ?? CancellationToken.None;

    protected override void BeginProcessing() => _cancellation = new CancellationTokenSource();

    protected override void StopProcessing() => _cancellation?.Cancel();

    protected override void EndProcessing()
    {
        _cancellation?.Dispose();
        _cancellation = null;
    }

    /// <summary>Runs <paramref name="workflow"/> off the pipeline thread and performs its requests on this one until it ends.
    /// An error escaping the workflow (a <see cref="WinEksPatchException"/>, or any other failure, given an id by <see cref="UnexpectedFailure"/>) ends the cmdlet with a terminating error, or, with
    /// <paramref name="perInputObject"/>, is written as the error of this pipeline input and the next input goes on.</summary>
    protected void RunWorkflow(Func<IWorkflowHost, CancellationToken, Task> workflow, bool perInputObject = false)
    {
        using var host = new QueuedHost();
        WorkflowHostChanged(host);
        var token = CancellationToken;
        // Not Task.Run(..., token): a stop that arrives before the task starts would skip the delegate, and with it the
        // host.Complete() that ends Pump, leaving the cmdlet (and Stop-Job, Ctrl+C) waiting forever.
        var task = Task.Run(async () =>
        {
            try
            {
                token.ThrowIfCancellationRequested();
                await workflow(host, token).ConfigureAwait(false);
            }
            finally
            {
                host.Complete();
            }
        }, CancellationToken.None);

        try
        {
            host.Pump(this);
        }
        finally
        {
            WorkflowHostChanged(null);
        }

        try
        {
            task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (HostInteractionException ex)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException!);
        }
        // PowerShell's own exceptions (a prompt a non-interactive host cannot show, -ErrorAction Stop, a stop) pass as they
        // are; anything else joins the error contract with an id and a category (UnexpectedFailure).
        catch (Exception ex) when (ex is not RuntimeException && perInputObject)
        {
            var failure = UnexpectedFailure.From(ex);
            DebugOrigin(failure);
            WriteError(ToErrorRecord(failure));
        }
        catch (Exception ex) when (ex is not RuntimeException)
        {
            var failure = UnexpectedFailure.From(ex);
            DebugOrigin(failure);
            ThrowTerminatingError(ToErrorRecord(failure));
        }
    }

    /// <summary>Where an unexpected failure came from (its frames, never its messages), to -Debug: what a report needs.</summary>
    private protected void DebugOrigin(WinEksPatchException failure)
    {
        if (failure.Origin is { } origin)
        {
            WriteDebug($"{failure.ErrorId} came from:{Environment.NewLine}{origin}");
        }
    }

    /// <summary>Told when a workflow starts (its host) and when it has ended (null): a cmdlet routes its own diagnostics there.</summary>
    private protected virtual void WorkflowHostChanged(IWorkflowHost? host)
    {
    }

    /// <summary>Whether -Verbose or -Debug (<paramref name="parameter"/>) or its preference variable asks for that stream.</summary>
    private protected bool Wants(string parameter, string preferenceVariable) =>
        MyInvocation.BoundParameters.TryGetValue(parameter, out var given)
            ? given is SwitchParameter { IsPresent: true } || given is true
            : GetVariableValue(preferenceVariable) is ActionPreference preference && preference is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore);

    /// <summary>-Force: no confirmation prompt (but -WhatIf still only shows; "-WhatIf trumps -Force, trumps -Confirm").</summary>
    private protected void ConfirmPreferenceOverride() => _force = true;

    private bool _force;

    /// <summary>ShouldProcess that honours -Force: with -WhatIf it only reports; with -Force it does not prompt.</summary>
    internal bool ShouldChange(string target, string action)
    {
        if (ForcedWithoutWhatIf)
        {
            WriteVerbose($"Performing the operation \"{action}\" on target \"{target}\".");
            return true;
        }

        return ShouldProcess(target, action);
    }

    /// <summary>Like <see cref="ShouldChange(string, string)"/> with the whole change described (the -WhatIf text, the
    /// verbose line, the -Confirm question).</summary>
    internal bool ShouldChange(string target, string action, string description)
    {
        if (ForcedWithoutWhatIf)
        {
            WriteVerbose(description);
            return true;
        }

        return ShouldProcess(description, $"{description}{Environment.NewLine}{action}?", $"{action}: {target}");
    }

    private bool ForcedWithoutWhatIf => _force && !WhatIfGiven;

    /// <summary>Whether -WhatIf was given (the plan is written and nothing changes).</summary>
    private protected bool WhatIfGiven =>
        MyInvocation.BoundParameters.TryGetValue("WhatIf", out var whatIf) && whatIf is SwitchParameter { IsPresent: true };

    /// <summary>A path parameter as a file-system path: relative to the PowerShell location (not the process's directory,
    /// which PowerShell does not move), with ~ and drives resolved; null when it names no file-system location (Cert:, Env:,
    /// HKLM:...). Every path parameter of the module goes through here.</summary>
    private protected string? FileSystemPath(string path)
    {
        try
        {
            var resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var provider, out _);
            return provider.ImplementingType == typeof(Microsoft.PowerShell.Commands.FileSystemProvider) ? resolved : null;
        }
        catch (Exception ex) when (ex is ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or NotSupportedException
            or ArgumentException or PSInvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Runs a synchronous step (parameter checks, connection setup), turning its module error into a terminating error.</summary>
    protected T Guard<T>(Func<T> step)
    {
        try
        {
            return step();
        }
        catch (WinEksPatchException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex));
            throw; // not reached: ThrowTerminatingError always throws
        }
    }

    internal static ErrorRecord ToErrorRecord(WinEksPatchException ex) =>
        new(new WinEksPatchErrorException(ex.Message, ex), ex.ErrorId, ToCategory(ex.Kind), ex.Target);

    internal static ErrorCategory ToCategory(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        ErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        ErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        ErrorKind.AuthenticationError => ErrorCategory.AuthenticationError,
        ErrorKind.ResourceBusy => ErrorCategory.ResourceBusy,
        ErrorKind.Throttled => ErrorCategory.LimitsExceeded,
        ErrorKind.OperationTimeout => ErrorCategory.OperationTimeout,
        ErrorKind.ConnectionError => ErrorCategory.ConnectionError,
        ErrorKind.InvalidData => ErrorCategory.InvalidData,
        ErrorKind.OperationStopped => ErrorCategory.OperationStopped,
        ErrorKind.SecurityError => ErrorCategory.SecurityError,
        _ => ErrorCategory.InvalidOperation,
    };

    /// <summary>The workflow side of the queue: every call becomes an action run later on the pipeline thread.</summary>
    private sealed class QueuedHost : IWorkflowHost, IDisposable
    {
        private readonly BlockingCollection<Action<WinEksPatchCmdlet>> _queue = [];

        public void Output(object item) => Enqueue(c => c.WriteObject(item));

        public void Error(WinEksPatchException error) => Enqueue(c =>
        {
            c.DebugOrigin(error);
            c.WriteError(ToErrorRecord(error));
        });

        public void Verbose(string message) => Enqueue(c => c.WriteVerbose(message));

        public void Debug(string message) => Enqueue(c => c.WriteDebug(message));

        public void Warning(string message) => Enqueue(c =>
        {
            try
            {
                c.WriteWarning(message);
            }
            catch (PipelineStoppedException) when (c.Stopping)
            {
                // After Ctrl+C PowerShell refuses every stream write; what the workflow says while stopping (what it left
                // running and how to follow it) still goes to the user through the host.
                c.Host?.UI?.WriteWarningLine(message);
                throw;
            }
        });

        // When each progress bar first appeared, on the module's clock (the simulator's when in use): for its elapsed time.
        private readonly Dictionary<int, DateTimeOffset> _progressStarted = [];

        /// <summary>A progress bar with its phase (the status), its percent, how long it has run and, once it has moved, an
        /// estimate of what remains (linear in its percent).</summary>
        public void Progress(ProgressUpdate update) => Enqueue(c =>
        {
            var now = ModuleEnvironment.Time.GetUtcNow();
            if (!_progressStarted.TryGetValue(update.Id, out var since))
            {
                _progressStarted[update.Id] = since = now;
            }

            var elapsed = now - since;
            var percent = Math.Clamp(update.PercentComplete, -1, 100);
            var status = string.IsNullOrEmpty(update.Status) ? "..." : update.Status;
            var record = new ProgressRecord(update.Id, update.Activity, $"{status} ({Elapsed(elapsed)} elapsed)")
            {
                PercentComplete = percent,
                ParentActivityId = update.ParentId ?? -1,
                CurrentOperation = update.CurrentOperation,
                RecordType = update.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
                SecondsRemaining = percent is > 0 and < 100 && elapsed >= TimeSpan.FromSeconds(1)
                    ? (int)Math.Min(int.MaxValue, elapsed.TotalSeconds * (100 - percent) / percent) : -1,
            };
            if (update.Completed)
            {
                _progressStarted.Remove(update.Id);
            }

            c.WriteProgress(record);
        });

        private static string Elapsed(TimeSpan elapsed) => elapsed.TotalHours >= 1
            ? $"{(int)elapsed.TotalHours}h{elapsed.Minutes:00}m"
            : elapsed.TotalMinutes >= 1 ? $"{(int)elapsed.TotalMinutes}m{elapsed.Seconds:00}s" : $"{Math.Max(0, (int)elapsed.TotalSeconds)}s";

        public Task<bool> ShouldProcessAsync(string target, string action)
        {
            var answer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            Enqueue(c =>
            {
                try
                {
                    answer.SetResult(c.ShouldChange(target, action));
                }
                catch (Exception ex)
                {
                    answer.SetException(new HostInteractionException(ex));
                }
            });
            return answer.Task;
        }

        public Task<bool> ShouldProcessAsync(string target, string action, string description)
        {
            var answer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            Enqueue(c =>
            {
                try
                {
                    answer.SetResult(c.ShouldChange(target, action, description));
                }
                catch (Exception ex)
                {
                    answer.SetException(new HostInteractionException(ex));
                }
            });
            return answer.Task;
        }

        public void Complete() => _queue.CompleteAdding();

        public void Pump(WinEksPatchCmdlet cmdlet)
        {
            PipelineStoppedException? stopped = null;
            foreach (var action in _queue.GetConsumingEnumerable())
            {
                try
                {
                    action(cmdlet);
                }
                catch (PipelineStoppedException ex) when (cmdlet.Stopping)
                {
                    // Ctrl+C: keep draining until the workflow has wound down, so what it says while stopping (a warning on
                    // what is left running) still reaches the warning stream, which PowerShell allows while stopping.
                    stopped ??= ex;
                }
            }

            if (stopped != null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(stopped);
            }
        }

        public void Dispose() => _queue.Dispose();

        private void Enqueue(Action<WinEksPatchCmdlet> action)
        {
            try
            {
                _queue.Add(action);
            }
            catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
            {
                // Completed or gone: the cmdlet is ending (stopped), or a call traced for -Verbose ended just after its
                // workflow; nothing more can be written.
            }
        }
    }
}

/// <summary>The exception inside a WinEksPatch ErrorRecord: the module's message, with the engine's error as inner exception.</summary>
public sealed class WinEksPatchErrorException(string message, Exception inner) : Exception(message, inner);
