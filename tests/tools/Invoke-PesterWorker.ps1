<#
.SYNOPSIS
    One of build.ps1's Pester workers: runs test files from a shared queue until none is left.
.DESCRIPTION
    Several workers run side by side, each in its own pwsh process (each test file starts its own simulator on ports of
    its own, so files do not share state). A worker claims a file by creating its claim file in -ClaimDirectory (an
    atomic create-if-absent: exactly one worker gets each file), runs it, and takes the next. -QueueFile lists the
    files' paths one per line, the slowest first, so the long files start early and the short ones fill in. The summary (counts and each file's
    duration) goes to -SummaryPath as JSON.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $PesterModulePath,
    [Parameter(Mandatory)] [string] $QueueFile,
    [Parameter(Mandatory)] [string] $ClaimDirectory,
    [Parameter(Mandatory)] [string] $SummaryPath
)

$ErrorActionPreference = 'Stop'
Import-Module $PesterModulePath

$summary = [ordered]@{ Passed = 0; Failed = 0; Skipped = 0; Files = [ordered]@{} }
foreach ($file in Get-Content $QueueFile) {
    try {
        [System.IO.File]::Open((Join-Path $ClaimDirectory ([System.IO.Path]::GetFileName($file))), [System.IO.FileMode]::CreateNew).Dispose()
    }
    catch [System.IO.IOException] {
        continue # another worker has it
    }

    $config = New-PesterConfiguration
    $config.Run.Path = $file
    $config.Run.PassThru = $true
    $config.Output.Verbosity = 'Normal'
    $result = Invoke-Pester -Configuration $config
    $summary.Passed += $result.PassedCount
    $summary.Failed += $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    $summary.Skipped += $result.SkippedCount
    $summary.Files[[System.IO.Path]::GetFileName($file)] = [math]::Round($result.Duration.TotalSeconds, 1)
    # Written after every file: a worker that dies later still leaves what it ran.
    $summary | ConvertTo-Json | Set-Content $SummaryPath
}

$summary | ConvertTo-Json | Set-Content $SummaryPath
