using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using WinEksPatch.Simulator.Hosting;

namespace WinEksPatch.Simulator;

/// <summary>
/// The standalone simulator:
///   WinEksPatch.Simulator --scenario demo [--time-scale N] [--aws-port P] [--k8s-port P] [--tls]
///                         [--parent-pid PID] [--ignore-stdin] [--ignore-interrupt] [--verbose]
///                         [--faults FILE] [--iam-policy FILE] [--powershell PWSH] [--document NAME=FILE]...
/// Prints exactly one JSON line (SimulatorInfo) on stdout, then serves until SIGINT/SIGTERM, until
/// stdin reaches end-of-file (a parent stops it by closing the pipe; --ignore-stdin turns that off),
/// or until the --parent-pid process exits. Logs go to stderr, and only with --verbose.
/// With --ignore-interrupt (Start-WinEksSimulator passes it) SIGINT is ignored: the console's Ctrl+C reaches every process
/// attached to the console, and a rehearsal must not lose its simulator to the Ctrl+C that stops one cmdlet.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        SimulatorOptions options;
        int? parentPid;
        bool ignoreStdin, ignoreInterrupt;
        try
        {
            (options, parentPid, ignoreStdin, ignoreInterrupt) = Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync("WinEksPatch.Simulator: " + e.Message).ConfigureAwait(false);
            await Console.Error.WriteLineAsync("usage: WinEksPatch.Simulator [--scenario <name|path>] [--time-scale <n>] [--aws-port <port>] [--k8s-port <port>] [--tls] [--parent-pid <pid>] [--ignore-stdin] [--ignore-interrupt] [--verbose] [--faults <file>] [--iam-policy <file>] [--powershell <pwsh|pwsh.dll>] [--document <name>=<file>]...").ConfigureAwait(false);
            return 2;
        }

        SimulatorHost host;
        try
        {
            host = await SimulatorHost.StartAsync(options).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException or JsonException or IOException)
        {
            await Console.Error.WriteLineAsync("WinEksPatch.Simulator: " + e.Message).ConfigureAwait(false);
            return 1;
        }

        await using (host.ConfigureAwait(false))
        {
            var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c =>
            {
                c.Cancel = true;
                if (!ignoreInterrupt)
                {
                    stop.TrySetResult();
                }
            });
            using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });

            Console.Out.WriteLine(JsonSerializer.Serialize(host.Info));
            Console.Out.Flush();

            if (!ignoreStdin)
            {
                _ = Task.Run(async () =>
                {
                    // Whatever arrives is ignored; end-of-file means the parent is gone or wants us to stop.
                    using Stream stdin = Console.OpenStandardInput();
                    var buffer = new byte[256];
                    while (await stdin.ReadAsync(buffer).ConfigureAwait(false) > 0)
                    {
                    }

                    stop.TrySetResult();
                });
            }

            if (parentPid is int pid)
            {
                _ = Task.Run(async () =>
                {
                    while (IsAlive(pid))
                    {
                        await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                    }

                    stop.TrySetResult();
                });
            }

            await stop.Task.ConfigureAwait(false);
        }

        return 0;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    internal static (SimulatorOptions Options, int? ParentPid, bool IgnoreStdin, bool IgnoreInterrupt) Parse(string[] args)
    {
        var options = new SimulatorOptions();
        int? parentPid = null;
        bool ignoreStdin = false, ignoreInterrupt = false;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value.");
            switch (arg)
            {
                case "--scenario":
                    options.Scenario = Value();
                    break;
                case "--time-scale":
                    options.TimeScale = double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out double scale) && scale > 0 && !double.IsInfinity(scale)
                        ? scale : throw new ArgumentException("--time-scale must be a positive number.");
                    break;
                case "--aws-port":
                    options.AwsPort = Port(Value(), arg);
                    break;
                case "--k8s-port":
                    options.KubernetesPort = Port(Value(), arg);
                    break;
                case "--parent-pid":
                    parentPid = int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : throw new ArgumentException("--parent-pid must be a process id.");
                    break;
                case "--state-dir":
                    options.StateDirectory = Value();
                    break;
                case "--tls":
                    options.Tls = true;
                    break;
                case "--ignore-stdin":
                    ignoreStdin = true;
                    break;
                case "--ignore-interrupt":
                    ignoreInterrupt = true;
                    break;
                case "--verbose":
                    options.Verbose = true;
                    break;
                case "--faults":
                    string faults = Value();
                    options.FaultsFile = File.Exists(faults) ? Path.GetFullPath(faults) : throw new ArgumentException($"--faults: no file '{faults}'.");
                    break;
                case "--iam-policy":
                    string policy = Value();
                    options.IamPolicyFile = File.Exists(policy) ? Path.GetFullPath(policy) : throw new ArgumentException($"--iam-policy: no file '{policy}'.");
                    break;
                case "--powershell":
                    string pwsh = Value();
                    options.PowerShell = File.Exists(pwsh) ? Path.GetFullPath(pwsh) : throw new ArgumentException($"--powershell: no file '{pwsh}'.");
                    break;
                case "--document":
                    string document = Value();
                    int equals = document.IndexOf('=', StringComparison.Ordinal);
                    string documentPath = equals > 0 ? document[(equals + 1)..] : "";
                    options.Documents.Add(equals > 0 && File.Exists(documentPath) ? (document[..equals], Path.GetFullPath(documentPath))
                        : throw new ArgumentException($"--document takes <name>=<file> of an existing file, not '{document}'."));
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{arg}'.");
            }
        }

        return (options, parentPid, ignoreStdin, ignoreInterrupt);
    }

    private static int Port(string value, string name) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port <= 65535 ? port : throw new ArgumentException($"{name} must be a port number (0 picks a free one).");
}
