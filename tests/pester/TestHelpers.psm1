# Shared helpers of the Pester suites. Tests run against the BUILT module (build.ps1 sets WINEKSPATCH_MODULE).

$script:ModulePath = if ($env:WINEKSPATCH_MODULE) { $env:WINEKSPATCH_MODULE } else { Join-Path $PSScriptRoot '../../out/WinEksPatch/WinEksPatch.psd1' }
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path

function Get-TestModulePath { $script:ModulePath }

function Get-TestRepoRoot { $script:RepoRoot }

<#
.SYNOPSIS
    Runs a script in a fresh `pwsh -NoProfile -NonInteractive` (a loaded binary module locks its DLL and pins its
    assemblies, so every scenario that depends on load order gets a process of its own) and returns what the script
    wrote as JSON on its last line.
#>
function Invoke-FreshPwsh {
    param(
        [Parameter(Mandatory)] [string] $Script,
        [hashtable] $Environment = @{}
    )
    $saved = @{}
    foreach ($name in $Environment.Keys) {
        $saved[$name] = [Environment]::GetEnvironmentVariable($name)
        [Environment]::SetEnvironmentVariable($name, $Environment[$name])
    }
    try {
        $wrapped = "`$ErrorActionPreference = 'Stop'; `$ProgressPreference = 'SilentlyContinue'; `$env:WINEKSPATCH_MODULE = '$script:ModulePath'`n$Script"
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($wrapped))
        $output = & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1
        $text = ($output | ForEach-Object { "$_" }) -join "`n"
        if ($LASTEXITCODE -ne 0) { throw "fresh pwsh failed (exit $LASTEXITCODE):`n$text" }
        $last = ($output | ForEach-Object { "$_" } | Where-Object { $_ -match '^\s*[\[{]' } | Select-Object -Last 1)
        if (-not $last) { throw "fresh pwsh wrote no JSON:`n$text" }
        return $last | ConvertFrom-Json
    }
    finally {
        foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
    }
}

<#
.SYNOPSIS
    Starts the bundled simulator (out/WinEksPatch/simulator) as its own process and returns its JSON contract plus the
    process. Stop it with Stop-TestSimulator.
#>
function Start-TestSimulator {
    param([string] $Scenario = 'demo', [double] $TimeScale = 1, [string[]] $ExtraArguments = @())
    $dll = Join-Path (Split-Path $script:ModulePath) 'simulator/WinEksPatch.Simulator.dll'
    if (-not (Test-Path $dll)) { throw "The simulator is not built at $dll (run build.ps1 build)." }
    $arguments = @($dll, '--scenario', $Scenario, '--time-scale', "$TimeScale", '--parent-pid', "$PID") + $ExtraArguments
    $start = [Diagnostics.ProcessStartInfo]::new('dotnet')
    # A test run started in the background (CI, the suite's parallel workers) ignores SIGINT, and children inherit that:
    # the simulator would then ignore a Ctrl+C no matter what its code does. It is started as a terminal starts it, with
    # SIGINT's default disposition restored (perl-base is part of every Debian system; a shell cannot undo an inherited ignore).
    if ($IsLinux -and ([Convert]::ToUInt64(((Get-Content "/proc/$PID/status" | Where-Object { $_ -like 'SigIgn:*' }) -split '\s+')[1], 16) -band 2)) {
        $start = [Diagnostics.ProcessStartInfo]::new('perl')
        $arguments = @('-e', '$SIG{INT} = "DEFAULT"; exec @ARGV or die "exec: $!"', 'dotnet') + $arguments
    }
    foreach ($a in $arguments) { $start.ArgumentList.Add($a) }
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardInput = $true
    $start.RedirectStandardError = $true
    $start.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($start)
    $line = $process.StandardOutput.ReadLineAsync()
    if (-not $line.Wait([TimeSpan]::FromSeconds(60)) -or -not $line.Result) {
        $err = $process.StandardError.ReadToEnd()
        try { $process.Kill() } catch { }
        throw "The simulator did not start: $err"
    }
    $info = $line.Result | ConvertFrom-Json
    $info | Add-Member -NotePropertyName Process -NotePropertyValue $process
    return $info
}

function Stop-TestSimulator {
    param($Simulator)
    if ($Simulator -and $Simulator.Process -and -not $Simulator.Process.HasExited) {
        $Simulator.Process.StandardInput.Close()   # the simulator stops when its stdin closes
        if (-not $Simulator.Process.WaitForExit(10000)) { $Simulator.Process.Kill() }
    }
}

<# Environment variables that point the AWS SDK (and so the module) at a running simulator. #>
function Get-SimulatorEnvironment {
    param([Parameter(Mandatory)] $Simulator)
    @{
        AWS_ENDPOINT_URL            = $Simulator.endpoint
        AWS_ACCESS_KEY_ID           = $Simulator.accessKeyId
        AWS_SECRET_ACCESS_KEY       = $Simulator.secretAccessKey
        AWS_SESSION_TOKEN           = $null
        AWS_REGION                  = $Simulator.region
        AWS_PROFILE                 = $null
        AWS_CONFIG_FILE             = '/nonexistent/wineks-config'
        AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/wineks-credentials'
        AWS_EC2_METADATA_DISABLED   = 'true'
    }
}

<#
.SYNOPSIS
    One AWS API call through the AWS SDK for JavaScript v3 (tests/conformance/tools/aws-call.mjs) against a simulator
    started with Start-TestSimulator: "someone else" acting on the cluster while the module runs. Returns the output.
#>
function Invoke-AwsCall {
    param([Parameter(Mandatory)] $Simulator, [Parameter(Mandatory)] [string] $Service, [Parameter(Mandatory)] [string] $Command, [hashtable] $Parameters = @{})
    $conformance = Join-Path $script:RepoRoot 'tests/conformance'
    $start = [Diagnostics.ProcessStartInfo]::new('node')
    $start.WorkingDirectory = $conformance
    foreach ($a in @((Join-Path $conformance 'tools/aws-call.mjs'), $Service, $Command, ($Parameters | ConvertTo-Json -Compress -Depth 10))) { $start.ArgumentList.Add($a) }
    foreach ($e in (Get-SimulatorEnvironment $Simulator).GetEnumerator()) {
        if ($null -eq $e.Value) { $null = $start.Environment.Remove($e.Key) } else { $start.Environment[$e.Key] = $e.Value }
    }
    $start.RedirectStandardOutput = $true; $start.RedirectStandardError = $true; $start.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($start)
    $out = $process.StandardOutput.ReadToEndAsync(); $err = $process.StandardError.ReadToEndAsync()
    $process.WaitForExit()
    if ($process.ExitCode -ne 0) { throw "$Service $Command failed: $($err.Result)" }
    $out.Result | ConvertFrom-Json
}

Export-ModuleMember -Function Get-TestModulePath, Get-TestRepoRoot, Invoke-FreshPwsh, Start-TestSimulator, Stop-TestSimulator, Get-SimulatorEnvironment, Invoke-AwsCall
