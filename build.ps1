#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests and demonstrates the WinEksPatch module.
.DESCRIPTION
    Tasks:
      build    Lays out the finished module in out/WinEksPatch (manifest, WinEksPatch.dll, formats, types, help,
               deps/ with the engine and its dependencies, simulator/).
      test     build, then every test suite against that folder, side by side: xUnit projects, Pester (workers in
               fresh pwsh -NoProfile -NonInteractive processes sharing its files) and the conformance suites (node,
               kubectl); each suite's output is printed whole when it ends. The last line is
               "Tests: N passed, N failed[, N skipped]"; the exit code is non-zero when anything failed or nothing ran.
      demo     build, then a whole patch cycle against the bundled simulator.
      package  build, then out/package/WinEksPatch.<version>.nupkg (Install-PSResource/Save-PSResource from a local
               repository) and out/package/WinEksPatch.zip (the SSM Automation runbook's attachment).
      clean    Removes out/ and the projects' bin/obj folders.
      bench    build, then tools/bench.ps1: import, assessment at scale, rollout, image cache and simulator benchmarks;
               writes bench/results.json and bench/results.md; exits non-zero naming each missed goal. Not part of test.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'demo', 'package', 'bench', 'clean')]
    [string] $Task = 'build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Root = $PSScriptRoot
$OutDir = Join-Path $Root 'out'
$ModuleDir = Join-Path $OutDir 'WinEksPatch'
$ResultsDir = Join-Path $OutDir 'test-results'
# pwsh of the local tool manifest; run through dotnet so it works whatever the tool store's layout.
$PwshDll = Join-Path $PSHOME 'pwsh.dll'

function Invoke-Native {
    param([string] $FilePath, [string[]] $Arguments, [string] $WorkingDirectory = $Root, [switch] $AllowFailure)
    Push-Location $WorkingDirectory
    try {
        & $FilePath @Arguments | Out-Host
        $code = $LASTEXITCODE
    }
    finally { Pop-Location }
    if ($code -ne 0 -and -not $AllowFailure) { throw "$FilePath $($Arguments -join ' ') failed with exit code $code." }
    return $code
}

function Invoke-Build {
    Write-Host "==> build ($Configuration)"
    $null = Invoke-Native dotnet @('build', (Join-Path $Root 'WinEksPatch.sln'), '-c', $Configuration, '--nologo', '-v', 'quiet', '-clp:ErrorsOnly')

    if (Test-Path $ModuleDir) { Remove-Item $ModuleDir -Recurse -Force }
    $deps = Join-Path $ModuleDir 'deps'
    New-Item -ItemType Directory -Force -Path $deps | Out-Null

    # deps/: the engine and everything it needs, loaded into the module's own AssemblyLoadContext.
    $null = Invoke-Native dotnet @('publish', (Join-Path $Root 'src/WinEksPatch.Engine/WinEksPatch.Engine.csproj'),
        '-c', $Configuration, '-o', $deps, '--no-build', '--nologo', '-v', 'quiet')
    Get-ChildItem $deps -Filter '*.pdb' | Remove-Item
    Get-ChildItem $deps -Filter '*.deps.json' | Remove-Item

    # The cmdlet assembly, manifest, formats and types at the top.
    $cmdletBin = Join-Path $Root "src/WinEksPatch/bin/$Configuration/net8.0"
    Copy-Item (Join-Path $cmdletBin 'WinEksPatch.dll') $ModuleDir
    Copy-Item (Join-Path $Root 'WinEksPatch.psd1') $ModuleDir
    Copy-Item (Join-Path $Root 'module/*.ps1xml') $ModuleDir
    # runbook/: the SSM Automation runbooks (their attachment's checksum is filled in by `package`, or by a simulator
    # that starts with them deployed).
    New-Item -ItemType Directory -Force -Path (Join-Path $ModuleDir 'runbook') | Out-Null
    Copy-Item (Join-Path $Root 'module/runbook/*.yaml') (Join-Path $ModuleDir 'runbook')

    # simulator/: the standalone simulator that Start-WinEksSimulator runs in its own process.
    $simProject = Join-Path $Root 'src/WinEksPatch.Simulator/WinEksPatch.Simulator.csproj'
    $null = Invoke-Native dotnet @('publish', $simProject, '-c', $Configuration, '-o', (Join-Path $ModuleDir 'simulator'),
        '--no-build', '--nologo', '-v', 'quiet')

    # en-US/: MAML help generated from the cmdlets' doc comments, and the about_ topics.
    New-Item -ItemType Directory -Force -Path (Join-Path $ModuleDir 'en-US') | Out-Null
    Copy-Item (Join-Path $Root 'module/en-US/*') (Join-Path $ModuleDir 'en-US')
    $null = Invoke-Native dotnet @($PwshDll, '-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tools/New-ModuleHelp.ps1'),
        '-ModuleDirectory', $ModuleDir, '-DocumentationFile', (Join-Path $cmdletBin 'WinEksPatch.xml'))

    $version = ([xml](Get-Content (Join-Path $Root 'Directory.Build.props') -Raw)).Project.PropertyGroup.Version | Select-Object -First 1
    $manifest = Import-PowerShellDataFile (Join-Path $ModuleDir 'WinEksPatch.psd1')
    if ($manifest.ModuleVersion -ne $version) { throw "WinEksPatch.psd1 ModuleVersion $($manifest.ModuleVersion) differs from Directory.Build.props Version $version." }
    Write-Host "    module laid out in $ModuleDir"
}

function Get-PesterModulePath {
    $null = Invoke-Native dotnet @('restore', (Join-Path $Root 'tests/tools/TestTools.csproj'), '--nologo', '-v', 'quiet')
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $path = Join-Path $packages 'pester/6.2.0/tools/Pester.psd1'
    if (-not (Test-Path $path)) { throw "Pester was not restored to $path." }
    return $path
}

# The suites run side by side, each in processes of its own (every test file and xUnit class starts its own simulator
# on free ports): the xUnit projects, the conformance files (node's runner, files in parallel) and Pester's files
# spread over workers. Each suite's output goes to a log under out/test-results, printed whole when the suite ends, so
# the console never interleaves two suites. Each suite returns @{ Name; Passed; Failed; Skipped }.

# Pester files, the slowest first (measured: out/test-results/pester-*.json "Files"), so they start early and the short
# ones fill in around them; files not named here run after these, in name order.
$PesterSlowestFirst = @(
    'Rollout.Tests.ps1', 'Unattended.Tests.ps1', 'HelpExamples.Tests.ps1', 'Runbook.Tests.ps1', 'IamEnforcement.Tests.ps1',
    'FastLaunch.Tests.ps1', 'NewWinNodeAmi.Tests.ps1', 'RolloutWindow.Tests.ps1', 'SimulatorControl.Tests.ps1',
    'ManagedRollout.Tests.ps1', 'FastLaunchPacing.Tests.ps1', 'FleetRunbook.Tests.ps1', 'BootPhases.Tests.ps1'
)
$PesterWorkers = 2

# Starts a suite as a thread job whose output goes to its own log. With -After, it starts once that job has ended: the
# xUnit projects and the conformance files run one after the other, beside the Pester workers (two cores do not run more
# side by side without the timing-sensitive tests suffering). The job returns when it started and ended.
function Start-SuiteJob([string] $Name, [scriptblock] $Run, [object[]] $Arguments = @(), $After = $null) {
    $log = Join-Path $ResultsDir "$Name.log"
    $job = Start-ThreadJob -Name $Name -ThrottleLimit 16 -ArgumentList @($log, $After, $Run.ToString(), $Arguments) -ScriptBlock {
        param($log, $after, $run, $arguments)
        if ($after) { $null = Wait-Job $after }
        $started = [DateTime]::UtcNow
        # A scriptblock belongs to the runspace that made it: the job runs its own copy.
        & ([scriptblock]::Create($run)) $log @arguments
        @{ Started = $started; Ended = [DateTime]::UtcNow }
    }
    $job | Add-Member -NotePropertyName Log -NotePropertyValue $log -PassThru
}

function Start-XunitSuites($After = $null) {
    foreach ($project in Get-ChildItem (Join-Path $Root 'tests') -Recurse -Filter '*.Tests.csproj') {
        $trx = Join-Path $ResultsDir "$($project.BaseName).trx"
        $After = Start-SuiteJob "xunit: $($project.BaseName)" {
            param($log, $projectPath, $trx, $configuration)
            & dotnet test $projectPath -c $configuration --no-build --nologo --logger "trx;LogFileName=$trx" --logger 'console;verbosity=minimal' *> $log
        } @($project.FullName, $trx, $Configuration) -After $After
        $After
    }
}

function Read-XunitResult([string] $Name) {
    $trx = Join-Path $ResultsDir "$($Name -replace '^xunit: ', '').trx"
    if (-not (Test-Path $trx)) { return @{ Name = $Name; Passed = 0; Failed = 1; Skipped = 0 } }
    $counters = ([xml](Get-Content $trx -Raw)).TestRun.ResultSummary.Counters
    return @{ Name = $Name; Passed = [int]$counters.passed; Failed = [int]$counters.failed + [int]$counters.error; Skipped = [int]$counters.notExecuted }
}

function Start-PesterWorkers {
    $pester = Get-PesterModulePath
    $all = Get-ChildItem (Join-Path $Root 'tests/pester') -Filter '*.Tests.ps1' | Sort-Object Name
    $queue = @($PesterSlowestFirst | ForEach-Object { $all | Where-Object Name -eq $_ }) + @($all | Where-Object Name -notin $PesterSlowestFirst)
    $claims = Join-Path $ResultsDir 'pester-claims'
    New-Item -ItemType Directory -Force -Path $claims | Out-Null
    $env:WINEKSPATCH_MODULE = Join-Path $ModuleDir 'WinEksPatch.psd1'
    $env:WINEKSPATCH_ROOT = $Root
    $worker = Join-Path $Root 'tests/tools/Invoke-PesterWorker.ps1'
    $queueFile = Join-Path $ResultsDir 'pester-queue.txt'
    Set-Content $queueFile $queue.FullName
    foreach ($n in 1..$PesterWorkers) {
        Start-SuiteJob "pester $n" {
            param($log, $pwsh, $worker, $pester, $queueFile, $claims, $summary)
            & dotnet $pwsh -NoProfile -NonInteractive -File $worker -PesterModulePath $pester -QueueFile $queueFile -ClaimDirectory $claims -SummaryPath $summary *> $log
        } @($PwshDll, $worker, $pester, $queueFile, $claims, (Join-Path $ResultsDir "pester-$n.json"))
    }
}

function Read-PesterResult {
    $summaries = @(Get-ChildItem $ResultsDir -Filter 'pester-*.json' | ForEach-Object { Get-Content $_.FullName -Raw | ConvertFrom-Json })
    $ran = @($summaries | ForEach-Object { $_.Files.PSObject.Properties.Name })
    $all = @(Get-Content (Join-Path $ResultsDir 'pester-queue.txt') | ForEach-Object { Split-Path $_ -Leaf })
    # A file a worker claimed but did not finish (the worker died) is a failure, not a file that was never there.
    $lost = @($all | Where-Object { $_ -notin $ran })
    foreach ($file in $lost) { Write-Host "    pester: $file did not finish" }
    return @{ Name = 'pester'; Passed = [int]($summaries | Measure-Object Passed -Sum).Sum
        Failed = [int]($summaries | Measure-Object Failed -Sum).Sum + $lost.Count; Skipped = [int]($summaries | Measure-Object Skipped -Sum).Sum }
}

function Install-ConformancePackages {
    $dir = Join-Path $Root 'tests/conformance'
    if (-not (Test-Path (Join-Path $dir 'package.json'))) { return $true }
    # npm packages are needed by the xUnit suites too (the SigV4 cross-check), so they are installed before any suite runs.
    Write-Host '==> npm ci (tests/conformance)'
    $code = Invoke-Native npm @('ci', '--no-audit', '--no-fund', '--loglevel=error') -WorkingDirectory $dir -AllowFailure
    if ($code -ne 0) { Write-Host "    npm ci failed (exit code $code): the conformance suite cannot run" }
    return $code -eq 0
}

function Start-ConformanceSuite($After = $null) {
    $dir = Join-Path $Root 'tests/conformance'
    if (-not (Get-ChildItem $dir -Recurse -Filter '*.test.mjs' | Where-Object FullName -NotMatch 'node_modules')) { return }
    $env:WINEKSPATCH_MODULE_DIR = $ModuleDir
    # The PowerShell that runs this build runs the simulator's Automation aws:executeScript steps too.
    $env:WINEKSPATCH_PWSH = Join-Path $PSHOME 'pwsh.dll'
    Start-SuiteJob 'conformance' {
        param($log, $dir, $report)
        Set-Location $dir
        & node --test --test-concurrency=2 --test-reporter=spec --test-reporter-destination=stdout `
            --test-reporter=./summary-reporter.mjs "--test-reporter-destination=$report" *> $log
    } @($dir, (Join-Path $ResultsDir 'conformance.json')) -After $After
}

function Read-ConformanceResult {
    $report = Join-Path $ResultsDir 'conformance.json'
    if (-not (Test-Path $report)) { return @{ Name = 'conformance'; Passed = 0; Failed = 1; Skipped = 0 } }
    $s = Get-Content $report -Raw | ConvertFrom-Json
    return @{ Name = 'conformance'; Passed = [int]$s.passed; Failed = [int]$s.failed; Skipped = [int]$s.skipped }
}

function Write-TestSummary([object[]] $Suites) {
    Write-Host ''
    foreach ($s in $Suites) { Write-Host ("    {0,-32} {1,5} passed {2,4} failed {3,4} skipped" -f $s.Name, $s.Passed, $s.Failed, $s.Skipped) }
    $passed = ($Suites | Measure-Object -Property Passed -Sum).Sum
    $failed = ($Suites | Measure-Object -Property Failed -Sum).Sum
    $skipped = ($Suites | Measure-Object -Property Skipped -Sum).Sum
    $line = "Tests: $passed passed, $failed failed"
    if ($skipped -gt 0) { $line += ", $skipped skipped" }
    Write-Host $line
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

function Invoke-Test {
    # A build that fails still ends with the summary line, counted as one failure, so CI and people read the same last line.
    try { Invoke-Build }
    catch {
        Write-Host "    build failed: $_"
        Write-TestSummary @(@{ Name = 'build'; Passed = 0; Failed = 1; Skipped = 0 })
    }
    if (Test-Path $ResultsDir) { Remove-Item $ResultsDir -Recurse -Force }
    New-Item -ItemType Directory -Force -Path $ResultsDir | Out-Null
    $suites = @()
    if (-not (Install-ConformancePackages)) { $suites += @{ Name = 'conformance'; Passed = 0; Failed = 1; Skipped = 0 } }
    # The longest suite (Pester) starts first; the xUnit projects, then the conformance files, run in one lane beside it.
    $jobs = @(Start-PesterWorkers)
    $xunit = @(Start-XunitSuites)
    $jobs += $xunit
    if ($suites.Count -eq 0) { $jobs += @(Start-ConformanceSuite -After ($xunit | Select-Object -Last 1)) }
    $pending = [System.Collections.Generic.List[object]]::new([object[]]$jobs)
    while ($pending.Count -gt 0) {
        $done = Wait-Job -Job $pending -Any
        $null = $pending.Remove($done)
        $times = $done | Receive-Job -ErrorAction Continue | Where-Object { $_ -is [hashtable] -and $_.ContainsKey('Started') } | Select-Object -Last 1
        Write-Host ("==> {0}{1}" -f $done.Name, $(if ($times) { " ({0:0} s)" -f ($times.Ended - $times.Started).TotalSeconds } else { '' }))
        if (Test-Path $done.Log) { Get-Content $done.Log | Out-Host }
        Remove-Job $done
    }

    $suites += @($jobs | Where-Object Name -like 'xunit: *' | ForEach-Object { Read-XunitResult $_.Name })
    $suites += Read-PesterResult
    if ($jobs.Name -contains 'conformance') { $suites += Read-ConformanceResult }
    Write-TestSummary $suites
}

function Invoke-Demo {
    Invoke-Build
    $demo = Join-Path $Root 'tools/demo.ps1'
    $code = Invoke-Native dotnet @($PwshDll, '-NoProfile', '-NonInteractive', '-File', $demo, '-ModulePath', (Join-Path $ModuleDir 'WinEksPatch.psd1')) -AllowFailure
    exit $code
}

function Invoke-Bench {
    Invoke-Build
    $bench = Join-Path $Root 'tools/bench.ps1'
    $code = Invoke-Native dotnet @($PwshDll, '-NoProfile', '-NonInteractive', '-File', $bench, '-ModuleDirectory', $ModuleDir) -AllowFailure
    exit $code
}

switch ($Task) {
    'build' { Invoke-Build }
    'test' { Invoke-Test }
    'demo' { Invoke-Demo }
    'package' {
        Invoke-Build
        $null = Invoke-Native dotnet @($PwshDll, '-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tools/New-ModulePackage.ps1'),
            '-ModuleDirectory', $ModuleDir, '-OutputDirectory', (Join-Path $OutDir 'package'))
    }
    'bench' { Invoke-Bench }
    'clean' {
        if (Test-Path $OutDir) { Remove-Item $OutDir -Recurse -Force }
        Get-ChildItem $Root -Recurse -Directory -Include bin, obj | Where-Object FullName -NotMatch 'node_modules' | Remove-Item -Recurse -Force
    }
}
