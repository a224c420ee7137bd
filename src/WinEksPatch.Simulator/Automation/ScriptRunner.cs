using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using WinEksPatch.Simulator.Accounts;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Automation;

/// <summary>
/// aws:executeScript with a PowerShell runtime, as Automation runs it: the script in a process of its own, its InputPayload
/// in <c>$env:InputPayload</c>, the attachment in its working directory, and the credentials of the execution's account
/// and Region in the standard AWS variables (pointed at this simulator, as the variables of a real execution point at
/// AWS). What the script returns (the last object, for several) is the step's Payload, as JSON.
/// </summary>
internal static partial class ScriptRunner
{
    private const string PayloadMarker = "##wineks-automation-payload##";

    public static async Task<JsonNode?> RunAsync(AutomationEngine engine, SimWorld world, SimAccount account, string runtime, string script, JsonNode payload,
        string? attachmentName, string? attachmentPath, TimeSpan timeout, CancellationToken stop)
    {
        if (!runtime.StartsWith("PowerShell", StringComparison.Ordinal))
        {
            throw new StepFailedException($"The simulator runs aws:executeScript with a PowerShell runtime only, not '{runtime}'.", "InputValidation");
        }

        if (engine.PowerShell is not { } powershell)
        {
            throw new StepFailedException("The simulator was started without --powershell, so it cannot run aws:executeScript steps.", "InputValidation");
        }

        string work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "wineks-automation-" + Guid.NewGuid().ToString("N")[..12])).FullName;
        try
        {
            if (attachmentName is not null && attachmentPath is not null)
            {
                File.Copy(attachmentPath, Path.Combine(work, attachmentName));
            }

            string wrapper = Path.Combine(work, "wineks-step.ps1");
            await File.WriteAllTextAsync(wrapper, $$"""
                $ErrorActionPreference = 'Stop'
                $ProgressPreference = 'SilentlyContinue'
                try { $__result = @(& {
                {{script}}
                }) } catch { [Console]::Error.WriteLine('STEP FAILED: ' + $_.Exception.Message); exit 1 }
                $__last = if ($__result.Count -gt 0) { $__result[-1] } else { $null }
                [Console]::Out.WriteLine('{{PayloadMarker}}' + (ConvertTo-Json -InputObject $__last -Compress -Depth 20))
                """, stop).ConfigureAwait(false);

            var start = new ProcessStartInfo
            {
                FileName = powershell.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? "dotnet" : powershell,
                WorkingDirectory = work,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            if (powershell.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            {
                start.ArgumentList.Add(powershell);
            }

            foreach (string argument in new[] { "-NoProfile", "-NonInteractive", "-File", wrapper })
            {
                start.ArgumentList.Add(argument);
            }

            // Nothing of the simulator's own AWS identity or session leaks in: the execution's account and Region only.
            foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.OrdinalIgnoreCase) || k.StartsWith("WINEKSPATCH_", StringComparison.OrdinalIgnoreCase)).ToList())
            {
                start.Environment.Remove(name);
            }

            start.Environment["InputPayload"] = payload.ToJsonString();
            start.Environment["AWS_ACCESS_KEY_ID"] = account.AccessKeyId;
            start.Environment["AWS_SECRET_ACCESS_KEY"] = account.SecretAccessKey;
            start.Environment["AWS_REGION"] = world.Region;
            start.Environment["AWS_DEFAULT_REGION"] = world.Region;
            start.Environment["AWS_ENDPOINT_URL"] = engine.Endpoint;
            start.Environment["WINEKSPATCH_SIMULATOR_ENDPOINT"] = engine.Endpoint;
            if (engine.CaCertPath is { } ca)
            {
                start.Environment["AWS_CA_BUNDLE"] = ca;
                start.Environment["WINEKSPATCH_SIMULATOR_CA_CERT"] = ca;
            }

            using var process = Process.Start(start) ?? throw new StepFailedException("The PowerShell process did not start.");
            process.StandardInput.Close();
            Task<string> output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            Task<string> errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
            using var timedOut = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timedOut.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(timedOut.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                stop.ThrowIfCancellationRequested();
                throw new StepFailedException($"Step timed out after {timeout.TotalSeconds:0} seconds.", "Timeout");
            }

            string stdout = await output.ConfigureAwait(false);
            string stderr = Ansi().Replace(await errors.ConfigureAwait(false), "");
            if (process.ExitCode != 0)
            {
                string reason = stderr.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("STEP FAILED: ", StringComparison.Ordinal))?["STEP FAILED: ".Length..]
                    ?? stderr.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0) ?? $"exit code {process.ExitCode}";
                throw new StepFailedException(reason);
            }

            string? line = stdout.Split('\n').Select(l => l.TrimEnd('\r')).LastOrDefault(l => l.StartsWith(PayloadMarker, StringComparison.Ordinal));
            try
            {
                return line is null ? null : JsonNode.Parse(line[PayloadMarker.Length..]);
            }
            catch (JsonException e)
            {
                throw new StepFailedException("The script's output is not JSON: " + e.Message);
            }
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // A file the killed process still held: the temp folder's clean-up takes it later.
            }
        }
    }

    [GeneratedRegex(@"\x1b\[[0-9;]*[A-Za-z]")]
    private static partial Regex Ansi();
}
