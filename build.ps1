#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests and demonstrates the WinEksPatch module.
.DESCRIPTION
    Tasks:
      build    Lays out the finished module in out/WinEksPatch (manifest, WinEksPatch.dll, formats, types, help,
               deps/ with the engine and its dependencies, simulator/).
      test     build, then every test suite against that folder: xUnit projects, Pester (in a fresh
               pwsh -NoProfile -NonInteractive) and the conformance suites (node, kubectl). The last line is
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

# Each suite returns @{ Name; Passed; Failed; Skipped }.
function Invoke-XunitSuites {
    $results = @()
    foreach ($project in Get-ChildItem (Join-Path $Root 'tests') -Recurse -Filter '*.Tests.csproj') {
        $name = $project.BaseName
        $trx = Join-Path $ResultsDir "$name.trx"
        Write-Host "==> xunit: $name"
        $code = Invoke-Native dotnet @('test', $project.FullName, '-c', $Configuration, '--no-build', '--nologo',
            '--logger', "trx;LogFileName=$trx", '--logger', 'console;verbosity=minimal') -AllowFailure
        if (-not (Test-Path $trx)) {
            Write-Host "    $name produced no results (exit code $code)"
            $results += @{ Name = $name; Passed = 0; Failed = 1; Skipped = 0 }
            continue
        }
        $counters = ([xml](Get-Content $trx -Raw)).TestRun.ResultSummary.Counters
        $results += @{ Name = $name; Passed = [int]$counters.passed; Failed = [int]$counters.failed + [int]$counters.error
            Skipped = [int]$counters.notExecuted }
    }
    return $results
}

function Invoke-PesterSuite {
    $pester = Get-PesterModulePath
    $summary = Join-Path $ResultsDir 'pester.json'
    Write-Host '==> pester'
    $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$pester'
`$config = New-PesterConfiguration
`$config.Run.Path = '$(Join-Path $Root 'tests/pester')'
`$config.Run.PassThru = `$true
`$config.Output.Verbosity = 'Normal'
`$r = Invoke-Pester -Configuration `$config
@{ Passed = `$r.PassedCount; Failed = `$r.FailedCount + `$r.FailedBlocksCount + `$r.FailedContainersCount; Skipped = `$r.SkippedCount } |
    ConvertTo-Json | Set-Content '$summary'
"@
    $env:WINEKSPATCH_MODULE = Join-Path $ModuleDir 'WinEksPatch.psd1'
    $env:WINEKSPATCH_ROOT = $Root
    $null = Invoke-Native dotnet @($PwshDll, '-NoProfile', '-NonInteractive', '-Command', $script) -AllowFailure
    if (-not (Test-Path $summary)) { return @{ Name = 'pester'; Passed = 0; Failed = 1; Skipped = 0 } }
    $s = Get-Content $summary -Raw | ConvertFrom-Json
    return @{ Name = 'pester'; Passed = [int]$s.Passed; Failed = [int]$s.Failed; Skipped = [int]$s.Skipped }
}

function Invoke-ConformanceSuites {
    $dir = Join-Path $Root 'tests/conformance'
    if (-not (Test-Path (Join-Path $dir 'package.json'))) { return @() }
    # npm packages are needed by the xUnit suites too (the SigV4 cross-check), so install them even with no node tests.
    Write-Host '==> npm ci (tests/conformance)'
    $code = Invoke-Native npm @('ci', '--no-audit', '--no-fund', '--loglevel=error') -WorkingDirectory $dir -AllowFailure
    if ($code -ne 0) {
        Write-Host "    npm ci failed (exit code $code): the conformance suite cannot run"
        return @(@{ Name = 'conformance'; Passed = 0; Failed = 1; Skipped = 0 })
    }
    if (-not (Get-ChildItem $dir -Recurse -Filter '*.test.mjs' | Where-Object FullName -NotMatch 'node_modules')) { return @() }
    Write-Host '==> conformance (node)'
    $report = Join-Path $ResultsDir 'conformance.json'
    $env:WINEKSPATCH_MODULE_DIR = $ModuleDir
    $null = Invoke-Native node @('--test', '--test-reporter=spec', '--test-reporter-destination=stdout',
        '--test-reporter=./summary-reporter.mjs', "--test-reporter-destination=$report") -WorkingDirectory $dir -AllowFailure
    if (-not (Test-Path $report)) { return @(@{ Name = 'conformance'; Passed = 0; Failed = 1; Skipped = 0 }) }
    $s = Get-Content $report -Raw | ConvertFrom-Json
    return @(@{ Name = 'conformance'; Passed = [int]$s.passed; Failed = [int]$s.failed; Skipped = [int]$s.skipped })
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
    # Node tooling first: the xUnit suites check signatures against @smithy/signature-v4 from there.
    $suites = @()
    $suites += Invoke-ConformanceSuites
    $suites += Invoke-XunitSuites
    $suites += Invoke-PesterSuite
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
