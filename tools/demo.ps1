#!/usr/bin/env pwsh
<#
.SYNOPSIS
    The demo of `build.ps1 demo`: a whole patch cycle against the bundled simulator, printed as it goes.
.DESCRIPTION
    Starts the simulator on the demo scenario (virtual clock: simulated hours pass in seconds), shows the fleet and how
    far behind it is, the real cost of a Windows image (the EKS best-practices guide's fluentd example), runs
    Invoke-WinEksPatch, and prints the report: nodes replaced, simulated time, and what the simulator observed.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [double] $TimeScale = 240
)

$ErrorActionPreference = 'Stop'
# Progress bars need an interactive console (build.ps1 pipes this script's output), so the patch step's progress is
# printed as a log instead: the module's verbose messages, stamped with the time since the step began in simulated
# seconds (wall time x the time scale, so approximately).
$ProgressPreference = 'SilentlyContinue'
Import-Module $ModulePath

function Write-Section([string] $Title) {
    Write-Host ''
    Write-Host ('== ' + $Title + ' ' + ('=' * [Math]::Max(0, 100 - $Title.Length)))
}

function Show([object[]] $InputObject) { $InputObject | Out-String -Width 120 | Write-Host }

# One line per message, cut to the width of the demo's tables.
function Format-LogLine([string] $Message) {
    $line = ($Message -replace '\s+', ' ').Trim()
    if ($line.Length -gt 108) { $line.Substring(0, 107) + '…' } else { $line }
}

$wall = [Diagnostics.Stopwatch]::StartNew()
$sim = Start-WinEksSimulator -Scenario demo -TimeScale $TimeScale
Write-Host "Simulator: AWS at $($sim.Endpoint), Kubernetes at $($sim.KubernetesEndpoint), $TimeScale simulated seconds per second."
Write-Host "kubectl works too: kubectl --kubeconfig $($sim.KubeConfigPath) --context demo get nodes"
try {
    Write-Section 'The fleet'
    Show (Get-WinEksCluster)
    $before = Get-WinPatchStatus -ClusterName demo
    Show $before

    Write-Section 'What a Windows image really costs (Measure-WinContainerImage)'
    $fluentd = '111122223333.dkr.ecr.us-west-2.amazonaws.com/fluentd-windows:1.17.3-ltsc2019'
    $alone = Measure-WinContainerImage -Image $fluentd
    $base = Get-WinNodeAmi -All -KubernetesVersion 1.31 -WindowsVersion 2019 -Edition Core -Source Eks |
        Where-Object { $_.CachedImages -contains "mcr.microsoft.com/windows/servercore:$($alone.OsVersion)" } | Select-Object -First 1
    $onBase = Measure-WinContainerImage -Image $fluentd -ImageId $base.ImageId
    Write-Host "fluentd (Windows Server 2019):       $($alone.CompressedSizeText) compressed in ECR, $($alone.SizeText) on disk"
    Write-Host "on a node that caches its base ($($base.ImageId)): $($onBase.SharedSizeText) shared servercore base, $($onBase.ExtractSizeText) added, $($onBase.DownloadSizeText) to download"

    Write-Section 'What caching the cluster''s images in the AMI would save (Get-WinImageCachePlan)'
    $planBefore = Get-WinImageCachePlan -ClusterName demo -NodeGroupName demo-win-selfmanaged
    Show ($planBefore | Format-Table Image, Pods, @{ n = 'Download'; e = { '{0:N0} MB' -f ($_.DownloadSize / 1e6) } }, @{ n = 'Extract'; e = { '{0:N0} MB' -f ($_.ExtractSize / 1e6) } }, @{ n = 'PullTime'; e = { $_.EstimatedPullTime.ToString('hh\:mm\:ss') } } -AutoSize)

    Write-Section 'Patch: Invoke-WinEksPatch -ClusterName demo -ImageSource Build -CacheImagesFromCluster -Force'
    $null = Get-WinEksSimulatorReport -Reset
    $started = Get-Date
    Write-Host "  ~sim time  progress (the module's -Verbose messages)"
    $stopwatch = [Diagnostics.Stopwatch]::StartNew()
    $report = Invoke-WinEksPatch -ClusterName demo -ImageSource Build -CacheImagesFromCluster -Force -WarningAction SilentlyContinue -Verbose 4>&1 |
        ForEach-Object {
            if ($_ -is [Management.Automation.VerboseRecord]) {
                $simulated = [TimeSpan]::FromSeconds([Math]::Round($stopwatch.Elapsed.TotalSeconds * $TimeScale))
                Write-Host ("  {0:hh\:mm\:ss}  {1}" -f $simulated, (Format-LogLine $_.Message))
            }
            else { $_ }
        }
    Write-Host ''
    Show $report.Groups
    Show $report.Groups.Nodes
    $mutating = ($report.ApiCalls | Where-Object { $_.Mutating -and $_.Service -ne 'kubernetes' } | Measure-Object Count -Sum).Sum
    $describes = ($report.ApiCalls | Where-Object { -not $_.Mutating -and $_.Service -ne 'kubernetes' } | Measure-Object Count -Sum).Sum
    Write-Host ("Nodes replaced: {0}; simulated time {1:hh\:mm\:ss} (wall {2:mm\:ss}); AWS calls: {3} mutating, {4} describe/list" -f `
        $report.NodesReplaced, $report.Duration, ((Get-Date) - $started), $mutating, $describes)

    Write-Section 'What the simulator saw (Get-WinEksSimulatorReport)'
    $observed = Get-WinEksSimulatorReport
    Write-Host ("PodDisruptionBudget violations: {0}; pods deleted rather than evicted: {1}" -f @($observed.PdbViolations).Count, @($observed.PodsDeletedNotEvicted).Count)
    Show ($observed.LowestReadyNodes | Where-Object NodeGroup -like '*win*' | Format-Table NodeGroup, Lowest, At, Current -AutoSize)

    Write-Section 'Pod start on a new node: image pull + extract, without and with the cache (modelled)'
    $planAfter = Get-WinImageCachePlan -ClusterName demo -NodeGroupName demo-win-selfmanaged
    $rows = foreach ($before in $planBefore) {
        $after = $planAfter | Where-Object Image -eq $before.Image
        [pscustomobject]@{ Image = $before.Image; ParentAmi = $before.EstimatedPullTime.ToString('hh\:mm\:ss'); CachedAmi = ($after.EstimatedPullTime ?? [TimeSpan]::Zero).ToString('hh\:mm\:ss') }
    }
    Show ($rows | Format-Table -AutoSize)

    Write-Section 'After'
    Show (Get-WinPatchStatus -ClusterName demo)
}
finally {
    Stop-WinEksSimulator
}
Write-Host ("Demo finished in {0:mm\:ss} wall time." -f $wall.Elapsed)
