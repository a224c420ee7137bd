#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Benchmarks of the built WinEksPatch module (build.ps1 bench): import, assessment at scale, rollout, image cache, simulator.
.DESCRIPTION
    Every figure is the median of several runs with min and max. Writes bench/results.json and bench/results.md (a
    markdown table with the machine it ran on) and exits non-zero naming each missed goal. Benchmarks are not tests:
    build.ps1 test never runs this.

    Import       cold (fresh `pwsh -NoProfile` process) and warm (Remove-Module + Import-Module again in the same process)
                 Import-Module WinEksPatch, against a bare `pwsh -c exit`; working set after import.
                 Goal: median cold import < 500 ms beyond the baseline.
    Assessment   Get-WinNode and Get-WinPatchStatus on 1,000 Windows nodes / 30,000 pods (the simulator's `large` scenario
                 when it ships one, else one generated here into out/bench): wall time, peak working set of the pwsh
                 process, AWS calls by operation and Kubernetes requests by verb (the module's own counters:
                 [WinEksPatch.Commands.AwsCmdlet]::LastApiCalls).
    Rollout      Invoke-NodeReplacement of 100 self-managed Windows nodes (bench/scenarios/rollout.json) at a high time scale:
                 makespan in simulated time against the ideal schedule of the same boot and drain times and limits (goal
                 <= 1.10), against EKS's own managed node group update of 100 nodes with the same limits (ratio), AWS calls per
                 replaced node (goal <= 6 mutating, <= 15 describe), throttling errors (goal 0), Kubernetes watches vs lists.
    Image cache  pod start on a new node with and without the workload images cached in the AMI: modelled per image
                 (Measure-WinContainerImage on the rollout's target AMI, turned into time with the simulator's pull model),
                 and observed: the pod starts the simulator recorded on the new nodes of Invoke-WinEksPatch runs onto the
                 latest EKS AMI and onto an AMI built with the cluster's images cached, and on the rollout's new nodes.
    Time to      from the command's start until every workload pod of the 100-node group runs on a patched node, four
    service      ways on one simulator: EKS's managed update, and Invoke-NodeReplacement onto the latest EKS AMI, onto an
                 AMI with the cluster's images cached, and onto that AMI with EC2 Fast Launch (tools/bench/time-to-service.ps1).
                 Goals: cached + Fast Launch <= 0.5 x EKS's managed update; each rollout's makespan <= 1.03 x the ideal
                 schedule of its own boots (launch -> usable) and drains.
    Simulator    requests per second it serves for describe/list calls (bounded loop, loopback only).
    Fleet        one plan of 30 clusters (3 accounts x 2 Regions, 3 waves of 10) run by the local engine and by SSM
                 Automation (-Engine SsmAutomation, the simulator running the fleet runbook): wall and simulated time, AWS
                 calls and Kubernetes requests (tools/bench/fleet.ps1). Goal: every target patched, both ways.
#>
[CmdletBinding()]
param(
    [string] $ModuleDirectory = (Join-Path $PSScriptRoot '../out/WinEksPatch'),
    [string] $ResultsDirectory = (Join-Path $PSScriptRoot '../bench'),
    [ValidateRange(3, 50)] [int] $Runs = 3,
    [ValidateRange(5, 50)] [int] $ImportRuns = 7,
    [ValidateRange(1, 10)] [int] $RolloutRuns = 2,
    [double] $TimeScale = 150,
    [ValidateRange(1, 60)] [int] $RpsSeconds = 2,
    # Benchmarks to run (default: all).
    [ValidateSet('import', 'assessment', 'rollout', 'timetoservice', 'imagecache', 'simulator', 'fleet')]
    [string[]] $Only = @('import', 'assessment', 'rollout', 'timetoservice', 'imagecache', 'simulator', 'fleet'),
    [double] $FleetTimeScale = 600
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Root = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
$ModuleDirectory = (Resolve-Path $ModuleDirectory).Path
$Manifest = Join-Path $ModuleDirectory 'WinEksPatch.psd1'
$SimulatorDll = Join-Path $ModuleDirectory 'simulator/WinEksPatch.Simulator.dll'
$WorkDir = Join-Path $Root 'out/bench'
$SimClient = Join-Path $PSScriptRoot 'bench/simclient.mjs'
$PwshDll = Join-Path $PSHOME 'pwsh.dll'
New-Item -ItemType Directory -Force -Path $WorkDir, $ResultsDirectory | Out-Null

# Modelled constants of the simulator (src/WinEksPatch.Simulator/World/PodStartModel.cs), used to turn bytes into time.
$DownloadBytesPerSecond = 25e6
$ExtractBytesPerSecond = 8e6
$ContainerStartSeconds = 3

$Results = [ordered]@{}
$Misses = [System.Collections.Generic.List[string]]::new()

# ---- helpers --------------------------------------------------------------------------------------------------------

function Get-Stat([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    $n = $sorted.Count
    $median = if ($n % 2) { $sorted[[int][math]::Floor($n / 2)] } else { ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2 }
    [ordered]@{ median = [math]::Round($median, 3); min = [math]::Round($sorted[0], 3); max = [math]::Round($sorted[-1], 3); runs = $n }
}

function Invoke-Pwsh([string] $Script, [switch] $Json) {
    $file = Join-Path $WorkDir ("run-{0}.ps1" -f [guid]::NewGuid().ToString('N').Substring(0, 8))
    Set-Content -Path $file -Value $Script
    try {
        $out = & dotnet $PwshDll -NoProfile -NonInteractive -File $file 2>&1
        if ($LASTEXITCODE -ne 0) { throw "pwsh child failed ($LASTEXITCODE): $($out | Out-String)" }
        if ($Json) { return ($out | Where-Object { "$_".StartsWith('{') } | Select-Object -Last 1 | ConvertFrom-Json -AsHashtable) }
        return $out
    }
    finally { Remove-Item $file -ErrorAction SilentlyContinue }
}

function Measure-Process([string[]] $Arguments) {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    & dotnet @Arguments | Out-Null
    $sw.Stop()
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($Arguments -join ' ') failed ($LASTEXITCODE)" }
    return $sw.Elapsed.TotalMilliseconds
}

# Starts the standalone simulator (its own process, loopback ports); returns @{ Info; InfoPath; Process }.
function Start-BenchSimulator([string] $Scenario, [double] $Scale = 1) {
    $tag = [guid]::NewGuid().ToString('N').Substring(0, 8)
    $stdout = Join-Path $WorkDir "sim-$tag.json"
    $stderr = Join-Path $WorkDir "sim-$tag.err"
    $p = Start-Process dotnet -ArgumentList @($SimulatorDll, '--scenario', $Scenario, '--time-scale', $Scale.ToString([cultureinfo]::InvariantCulture),
        '--parent-pid', $PID, '--ignore-stdin') -RedirectStandardOutput $stdout -RedirectStandardError $stderr -PassThru
    $sw = [Diagnostics.Stopwatch]::StartNew()
    while ($sw.Elapsed.TotalSeconds -lt 180) {
        if ((Test-Path $stdout) -and (Get-Content $stdout -Raw) -match '\}\s*$') {
            return @{ Info = (Get-Content $stdout -Raw | ConvertFrom-Json); InfoPath = $stdout; Process = $p; StartSeconds = $sw.Elapsed.TotalSeconds }
        }
        if ($p.HasExited) { throw "simulator exited ($($p.ExitCode)): $(Get-Content $stderr -Raw)" }
        Start-Sleep -Milliseconds 100   # wall-clock wait for a child process to print its line (not simulated time)
    }
    throw "simulator did not start within 180 s"
}

function Stop-BenchSimulator($Sim) {
    if ($Sim -and -not $Sim.Process.HasExited) { Stop-Process -Id $Sim.Process.Id -ErrorAction SilentlyContinue; $Sim.Process.WaitForExit(10000) | Out-Null }
}

function Invoke-SimClient([string[]] $Arguments) {
    $out = & node $SimClient @Arguments
    if ($LASTEXITCODE -ne 0) { throw "simclient $($Arguments -join ' ') failed" }
    return ($out | Out-String | ConvertFrom-Json -AsHashtable -Depth 100)
}

function Get-KubeList($Sim, [string] $Cluster, [string] $Path) {
    $r = Invoke-SimClient @('kube', $Sim.InfoPath, "/clusters/$Cluster$Path")
    if ($r.status -ne 200) { throw "GET $Path -> $($r.status)" }
    return ($r.body | ConvertFrom-Json -AsHashtable -Depth 100).items
}

# How long each pod scheduled onto one of $Nodes took to start, from the simulator's events (Scheduled -> Started): the
# image pulls (serialized per node, as the kubelet's serializeImagePulls does) and the container start.
function Get-PodStarts($Sim, [string] $Cluster, [string[]] $Nodes) {
    $time = { param($e) [DateTimeOffset]::Parse($(if ($e['eventTime']) { $e['eventTime'] } elseif ($e['firstTimestamp']) { $e['firstTimestamp'] } else { $e['lastTimestamp'] })) }
    $images = @{}
    foreach ($pod in Get-KubeList $Sim $Cluster '/api/v1/pods') { $images["$($pod.metadata.namespace)/$($pod.metadata.name)"] = $pod.spec.containers[0].image }
    $byPod = Get-KubeList $Sim $Cluster '/api/v1/events' | Where-Object { $_.involvedObject.kind -eq 'Pod' } |
        Group-Object { "$($_.involvedObject.namespace)/$($_.involvedObject.name)" }
    foreach ($g in $byPod) {
        $scheduled = $g.Group | Where-Object { $_.reason -eq 'Scheduled' -and ($Nodes | Where-Object { $_ -and $g.Group.message -match [regex]::Escape($_) }) } | Select-Object -First 1
        $started = $g.Group | Where-Object reason -EQ 'Started' | Select-Object -First 1
        if ($scheduled -and $started) {
            [pscustomobject]@{ pod = $g.Name; image = $images[$g.Name]; seconds = ((& $time $started) - (& $time $scheduled)).TotalSeconds }
        }
    }
}

function Add-Goal([string] $Name, [bool] $Met, [string] $Detail) {
    $Results.goals += @([ordered]@{ goal = $Name; met = $Met; detail = $Detail })
    if (-not $Met) { $Misses.Add("$Name ($Detail)") }
}
$Results.goals = @()

# ---- machine --------------------------------------------------------------------------------------------------------

$memKb = (Get-Content /proc/meminfo -ErrorAction SilentlyContinue | Where-Object { $_ -like 'MemTotal:*' }) -replace '\D', ''
$os = if (Test-Path /etc/os-release) { ((Get-Content /etc/os-release | Where-Object { $_ -like 'PRETTY_NAME=*' }) -replace '^PRETTY_NAME="?|"$', '') } else { [Runtime.InteropServices.RuntimeInformation]::OSDescription }
$cpu = (Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
$Results.machine = [ordered]@{
    nproc = [Environment]::ProcessorCount
    cpu = $cpu
    memoryGiB = if ($memKb) { [math]::Round([double]$memKb / 1MB, 1) } else { $null }
    os = $os
    kernel = [Runtime.InteropServices.RuntimeInformation]::OSDescription
    dotnet = [Runtime.InteropServices.RuntimeInformation]::FrameworkDescription
    dotnetSdk = (& dotnet --version)
    pwsh = $PSVersionTable.PSVersion.ToString()
    node = (& node --version)
    date = [DateTimeOffset]::UtcNow.ToString('yyyy-MM-dd HH:mm') + ' UTC'
    commit = (& git -C $Root rev-parse --short HEAD 2>$null)
}
Write-Host ("==> bench on {0} CPU(s), {1} GiB, {2}, {3}, pwsh {4}" -f $Results.machine.nproc, $Results.machine.memoryGiB, $os, $Results.machine.dotnet, $Results.machine.pwsh)

# ---- import ---------------------------------------------------------------------------------------------------------

function Invoke-ImportBench {
    Write-Host "==> import ($ImportRuns runs)"
    $importScript = "Import-Module '$Manifest'; exit"
    # The very first import after the build (files just written; nothing of the module JIT-compiled anywhere yet).
    $first = Measure-Process @($PwshDll, '-NoProfile', '-NonInteractive', '-Command', $importScript)
    $baseline = @(); $cold = @(); $inProcCold = @(); $inProcWarm = @(); $ws = @(); $wsBase = @(); $firstCmd = @()
    $probe = @"
`$before = [Environment]::WorkingSet
`$sw = [Diagnostics.Stopwatch]::StartNew(); Import-Module '$Manifest'; `$cold = `$sw.Elapsed.TotalMilliseconds
[GC]::Collect(); `$p = [Diagnostics.Process]::GetCurrentProcess(); `$p.Refresh(); `$after = `$p.WorkingSet64
`$sw.Restart(); Stop-WinEksSimulator; `$firstCmd = `$sw.Elapsed.TotalMilliseconds
Remove-Module WinEksPatch; `$sw.Restart(); Import-Module '$Manifest'; `$warm = `$sw.Elapsed.TotalMilliseconds
@{ cold = `$cold; warm = `$warm; before = `$before; after = `$after; firstCommand = `$firstCmd } | ConvertTo-Json -Compress
"@
    for ($i = 0; $i -lt $ImportRuns; $i++) {
        $baseline += Measure-Process @($PwshDll, '-NoProfile', '-NonInteractive', '-Command', 'exit')
        $cold += Measure-Process @($PwshDll, '-NoProfile', '-NonInteractive', '-Command', $importScript)
        $r = Invoke-Pwsh $probe -Json
        $inProcCold += $r.cold; $inProcWarm += $r.warm; $ws += $r.after / 1MB; $wsBase += $r.before / 1MB; $firstCmd += $r.firstCommand
    }
    $beyond = for ($i = 0; $i -lt $ImportRuns; $i++) { $cold[$i] - $baseline[$i] }
    $Results.import = [ordered]@{
        baselineProcessMs = Get-Stat $baseline
        coldProcessMs = Get-Stat $cold
        coldBeyondBaselineMs = Get-Stat $beyond
        firstAfterBuildProcessMs = [math]::Round($first, 1)
        firstAfterBuildBeyondBaselineMs = [math]::Round($first - (Get-Stat $baseline).median, 1)
        coldImportModuleMs = Get-Stat $inProcCold
        warmImportModuleMs = Get-Stat $inProcWarm
        firstCommandMs = Get-Stat $firstCmd
        workingSetBeforeImportMiB = Get-Stat $wsBase
        workingSetAfterImportMiB = Get-Stat $ws
    }
    $m = $Results.import.coldBeyondBaselineMs.median
    Add-Goal 'import: cold Import-Module < 500 ms beyond pwsh -c exit' ($m -lt 500) ("median {0:N0} ms" -f $m)
}

# ---- assessment at scale --------------------------------------------------------------------------------------------

function New-LargeScenario([string] $Path) {
    # 10 Windows groups of 100 nodes (5 self-managed, 5 managed, 0–5 months behind), 3 Linux system nodes;
    # a Windows DaemonSet (1,000 pods) + 58 Deployments of 500 replicas (29,000 pods) + coredns: 30,002 pods.
    $groups = @()
    for ($g = 1; $g -le 5; $g++) {
        $groups += [ordered]@{ name = "win-sm-$g"; type = 'self-managed'; os = 'windows'; windowsServer = '2022'; edition = 'Core'; monthsBehind = $g
            instanceType = 'm5.4xlarge'; minSize = 100; maxSize = 120; desiredSize = 100; labels = @{ workload = 'windows' } }
        $groups += [ordered]@{ name = "win-mng-$g"; type = 'managed'; amiType = 'WINDOWS_CORE_2022_x86_64'; monthsBehind = $g - 1
            instanceType = 'm5.4xlarge'; minSize = 100; maxSize = 120; desiredSize = 100; labels = @{ workload = 'windows' } }
    }
    $groups += [ordered]@{ name = 'linux-system'; type = 'managed'; amiType = 'AL2023_x86_64_STANDARD'; monthsBehind = 0
        instanceType = 'm5.large'; minSize = 3; maxSize = 3; desiredSize = 3; labels = @{ workload = 'system' } }
    $images = @('111122223333.dkr.ecr.us-west-2.amazonaws.com/shop/web-iis:2026.06.1',
        'mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2022',
        '111122223333.dkr.ecr.us-west-2.amazonaws.com/shop/orders-api:3.4.0')
    $workloads = @(
        [ordered]@{ namespace = 'kube-system'; name = 'coredns'; kind = 'Deployment'; replicas = 2; os = 'linux'; labels = @{ 'k8s-app' = 'kube-dns' }
            containers = @(@{ name = 'coredns'; image = '602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.11.3-eksbuild.2' }) }
        [ordered]@{ namespace = 'amazon-cloudwatch'; name = 'fluent-bit-windows'; kind = 'DaemonSet'; os = 'windows'; labels = @{ 'k8s-app' = 'fluent-bit' }
            containers = @(@{ name = 'fluent-bit'; image = 'public.ecr.aws/aws-observability/aws-for-fluent-bit:windowsservercore-stable' }) }
    )
    $pdbs = @()
    for ($w = 1; $w -le 58; $w++) {
        $ns = 'team-{0:D2}' -f [int][math]::Ceiling($w / 6)
        $workloads += [ordered]@{ namespace = $ns; name = ('app-{0:D2}' -f $w); kind = 'Deployment'; replicas = 500; os = 'windows'; labels = @{ tier = 'app' }
            containers = @(@{ name = 'app'; image = $images[$w % $images.Count] }) }
        $pdbs += [ordered]@{ namespace = $ns; name = ('app-{0:D2}' -f $w); maxUnavailable = '10%'; selector = @{ app = ('app-{0:D2}' -f $w) } }
    }
    $scenario = [ordered]@{
        description = 'bench large: 1,000 Windows nodes (10 groups), about 30,000 pods (generated by tools/bench.ps1)'
        region = 'us-west-2'; accountId = '111122223333'; seed = 1000
        amiCatalog = [ordered]@{ kubernetesVersions = @('1.31'); firstMonth = '2025-12'; lastMonth = '2026-09'; windowsServers = @('2022'); editions = @('Core'); releaseLagDays = 3; linux = $true }
        containerImages = @{ include = @('container-images') }
        clusters = @([ordered]@{ name = 'large'; version = '1.31'; platformVersion = 'eks.23'; nodeGroups = $groups; workloads = $workloads; podDisruptionBudgets = $pdbs })
    }
    $scenario | ConvertTo-Json -Depth 20 | Set-Content -Path $Path
}

function Invoke-AssessmentBench {
    $shipped = Join-Path $ModuleDirectory 'simulator/Scenarios/large.json'
    if (Test-Path $shipped) { $scenario = 'large'; $source = 'simulator scenario large' }
    else {
        $scenario = Join-Path $WorkDir 'large.json'
        New-LargeScenario $scenario
        $source = 'generated by tools/bench.ps1 (out/bench/large.json)'
    }
    Write-Host "==> assessment at scale ($source, $Runs runs per command)"
    $sim = Start-BenchSimulator $scenario
    try {
        $cluster = if ($sim.Info.clusters -contains 'large') { 'large' } else { $sim.Info.clusters[0] }
        $nodes = @(Get-KubeList $sim $cluster '/api/v1/nodes')
        $windowsNodes = @($nodes | Where-Object { $_.metadata.labels['kubernetes.io/os'] -eq 'windows' }).Count
        $pods = @(Get-KubeList $sim $cluster '/api/v1/pods').Count
        $Results.assessment = [ordered]@{ scenario = $source; cluster = $cluster; windowsNodes = $windowsNodes; pods = $pods
            simulatorStartSeconds = [math]::Round($sim.StartSeconds, 1); commands = [ordered]@{} }
        foreach ($command in 'Get-WinNode', 'Get-WinPatchStatus') {
            $wall = @(); $peak = @(); $count = @(); $calls = $null
            for ($i = 0; $i -lt $Runs; $i++) {
                $r = Invoke-Pwsh -Json @"
Import-Module '$Manifest'
Connect-WinEksSimulator -Endpoint '$($sim.Info.endpoint)' | Out-Null
`$sw = [Diagnostics.Stopwatch]::StartNew()
`$out = @($command -ClusterName '$cluster')
`$ms = `$sw.Elapsed.TotalMilliseconds
`$p = [Diagnostics.Process]::GetCurrentProcess(); `$p.Refresh()
@{ ms = `$ms; count = `$out.Count; peak = `$p.PeakWorkingSet64; calls = @([WinEksPatch.Commands.AwsCmdlet]::LastApiCalls | ForEach-Object { @{ service = `$_.Service; operation = `$_.Operation; count = `$_.Count; mutating = `$_.Mutating } }) } | ConvertTo-Json -Compress -Depth 5
"@
                $wall += $r.ms; $peak += $r.peak / 1MB; $count += $r.count; $calls = $r.calls
            }
            $aws = [ordered]@{}; $kube = [ordered]@{}
            foreach ($c in $calls) {
                if ($c.service -eq 'kubernetes') { $kube[$c.operation] = $c.count } else { $aws["$($c.service) $($c.operation)"] = $c.count }
            }
            $Results.assessment.commands[$command] = [ordered]@{ wallSeconds = Get-Stat ($wall | ForEach-Object { $_ / 1000 }); peakWorkingSetMiB = Get-Stat $peak
                objects = $count[0]; awsCalls = $aws; kubernetesRequests = $kube }
            Write-Host ("    {0}: {1:N2} s median, peak {2:N0} MiB, {3} objects" -f $command, ($Results.assessment.commands[$command].wallSeconds.median), ($Results.assessment.commands[$command].peakWorkingSetMiB.median), $count[0])
        }
    }
    finally { Stop-BenchSimulator $sim }
}

# ---- rollout --------------------------------------------------------------------------------------------------------

$RolloutScenario = Join-Path $Root 'bench/scenarios/rollout.json'
$Surge = 10

# Ideal schedule: k = MaxSurge + MaxUnavailable lanes; node i needs its replacement booted (b_i = new instance launch ->
# its node Ready, as the simulator modelled it) and then its own drain (d_i = NodeReplacementResult.DrainDuration); a lane
# is free again once the drained node is terminated. Nodes go, in the order the rollout finished them, to the lane that is
# free first (list scheduling); the ideal makespan is when the last lane finishes. No settle time, no API latency, no batch
# barrier: the best any tool could do with the same machines, workloads and limits.
function Get-IdealMakespan([double[]] $Boot, [double[]] $Drain, [int] $Lanes) {
    $free = [double[]]::new($Lanes)
    for ($i = 0; $i -lt $Boot.Count; $i++) {
        $lane = 0
        for ($l = 1; $l -lt $Lanes; $l++) { if ($free[$l] -lt $free[$lane]) { $lane = $l } }
        $free[$lane] += $Boot[$i] + $Drain[$i]
    }
    return ($free | Measure-Object -Maximum).Maximum
}

function Invoke-RolloutRun([int] $Index) {
    $sim = Start-BenchSimulator $RolloutScenario $TimeScale
    try {
        $admin = $sim.Info.adminEndpoint
        $sm = Invoke-Pwsh -Json @"
`$ErrorActionPreference = 'Stop'
Import-Module '$Manifest'
Connect-WinEksSimulator -Endpoint '$($sim.Info.endpoint)' | Out-Null
function Now { [DateTimeOffset]::Parse((Invoke-RestMethod '$admin/clock').utcNow) }
`$ami = (Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks).ImageId
`$null = Set-NodeGroupAmi -ClusterName rollout -NodeGroupName rollout-win-rollout -ImageId `$ami -Force
`$t0 = Now
`$results = @(Invoke-NodeReplacement -ClusterName rollout -NodeGroupName rollout-win-rollout -MaxSurge $Surge -MaxUnavailable 0 -Confirm:`$false -ErrorVariable +errs -ErrorAction Continue -WarningAction SilentlyContinue |
    ForEach-Object { `$n = Now; [pscustomobject]@{ old = `$_.OldInstanceId; newInstance = `$_.NewInstanceId; newNode = `$_.NewNodeName; drain = `$_.DrainDuration.TotalSeconds; result = "`$(`$_.Result)"; doneAt = (`$n - `$t0).TotalSeconds } })
`$t1 = Now
`$calls = @([WinEksPatch.Commands.AwsCmdlet]::LastApiCalls | ForEach-Object { @{ service = `$_.Service; operation = `$_.Operation; count = `$_.Count; mutating = `$_.Mutating } })
@{ ami = `$ami; t0 = `$t0.ToString('o'); seconds = (`$t1 - `$t0).TotalSeconds; results = `$results; calls = `$calls; errors = @(`$errs | ForEach-Object { "`$(`$_.FullyQualifiedErrorId): `$_" }) } | ConvertTo-Json -Compress -Depth 6
"@
        # Boot durations of the new nodes as the simulator modelled them: instance launch -> node Ready.
        $launch = @{}
        $ids = @($sm.results | ForEach-Object { $_.newInstance } | Where-Object { $_ })
        for ($i = 0; $i -lt $ids.Count; $i += 50) {
            $q = 'Action=DescribeInstances&Version=2016-11-15' + (-join ($ids[$i..([math]::Min($i + 49, $ids.Count - 1))] | ForEach-Object -Begin { $n = 0 } -Process { $n++; "&InstanceId.$n=$_" }))
            $xml = [xml](Invoke-SimClient @('aws', $sim.InfoPath, 'ec2', 'POST', '/', $q)).body
            foreach ($x in $xml.GetElementsByTagName('item') | Where-Object { $_['instanceId'] -and $_['launchTime'] }) {
                $launch[$x['instanceId'].InnerText] = [DateTimeOffset]::Parse($x['launchTime'].InnerText)
            }
        }
        $readyAt = @{}
        foreach ($n in Get-KubeList $sim 'rollout' '/api/v1/nodes') {
            $cond = $n.status.conditions | Where-Object { $_.type -eq 'Ready' -and $_.status -eq 'True' }
            if ($cond) { $readyAt[$n.metadata.name] = [DateTimeOffset]::Parse($cond.lastTransitionTime) }
        }
        $boots = @(); $drains = @()
        foreach ($r in $sm.results | Sort-Object doneAt) {
            if ($r.newInstance -and $launch.ContainsKey($r.newInstance) -and $readyAt.ContainsKey($r.newNode)) {
                $boots += ($readyAt[$r.newNode] - $launch[$r.newInstance]).TotalSeconds
                $drains += [double]$r.drain
            }
        }
        # Pod starts the simulator recorded on the new nodes (Scheduled -> Started events): no image cached but pause/servercore.
        $podStarts = @(Get-PodStarts $sim 'rollout' @($sm.results | ForEach-Object { $_.newNode } | Where-Object { $_ }) | ForEach-Object { $_.seconds })

        # The same fleet as an EKS managed node group, the same limits: maxUnavailable = $Surge (EKS surges max(2 x zones, maxUnavailable)).
        $cfg = Invoke-SimClient @('aws', $sim.InfoPath, 'eks', 'POST', '/clusters/rollout-managed/node-groups/win-managed/update-config',
            (@{ updateConfig = @{ maxUnavailable = $Surge } } | ConvertTo-Json -Compress), 'application/json')
        if ($cfg.status -ne 200) { throw "UpdateNodegroupConfig: $($cfg.status) $($cfg.body)" }
        $updateId = ($cfg.body | ConvertFrom-Json).update.id
        for ($w = 0; $w -lt 600; $w++) {
            $u = Invoke-SimClient @('aws', $sim.InfoPath, 'eks', 'GET', "/clusters/rollout-managed/updates/$($updateId)?nodegroupName=win-managed")
            if ((($u.body | ConvertFrom-Json).update.status) -ne 'InProgress') { break }
            Start-Sleep -Milliseconds 100   # wall-clock poll of another process
        }
        $mng = Invoke-Pwsh -Json @"
`$ErrorActionPreference = 'Stop'
Import-Module '$Manifest'
Connect-WinEksSimulator -Endpoint '$($sim.Info.endpoint)' | Out-Null
function Now { [DateTimeOffset]::Parse((Invoke-RestMethod '$admin/clock').utcNow) }
`$t0 = Now
`$n = @(Invoke-NodeReplacement -ClusterName rollout-managed -NodeGroupName win-managed -Confirm:`$false -WarningAction SilentlyContinue).Count
`$t1 = Now
@{ seconds = (`$t1 - `$t0).TotalSeconds; replaced = `$n } | ConvertTo-Json -Compress
"@
        $report = $null
        try { $report = Invoke-RestMethod "$admin/report" -ErrorAction Stop } catch { $report = $null }
        return @{ sm = $sm; boots = $boots; drains = $drains; podStarts = $podStarts; managed = $mng; simReport = $report }
    }
    finally { Stop-BenchSimulator $sim }
}

function Invoke-RolloutBench {
    Write-Host "==> rollout (100 self-managed Windows nodes, -MaxSurge $Surge -MaxUnavailable 0, time scale $TimeScale, $RolloutRuns run(s))"
    $runs = @()
    for ($i = 1; $i -le $RolloutRuns; $i++) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $runs += Invoke-RolloutRun $i
        Write-Host ("    run {0}: {1:N0} s wall" -f $i, $sw.Elapsed.TotalSeconds)
    }
    $makespan = @(); $command = @(); $ideal = @(); $ratio = @(); $managed = @(); $vsManaged = @(); $mutPerNode = @(); $descPerNode = @()
    $errors = 0; $throttle = 0; $throttleAnswered = 0; $replaced = @(); $boot = @(); $drain = @(); $watches = @(); $lists = @()
    $calls = $null
    foreach ($r in $runs) {
        $done = @($r.sm.results | Where-Object { $_.result -like 'Replaced*' })
        $replaced += $done.Count
        $last = ($r.sm.results | Measure-Object -Property doneAt -Maximum).Maximum
        $makespan += $last / 60
        $command += $r.sm.seconds / 60
        $idealSeconds = Get-IdealMakespan $r.boots $r.drains $Surge
        $ideal += $idealSeconds / 60
        $ratio += $last / $idealSeconds
        $managed += $r.managed.seconds / 60
        $vsManaged += $r.sm.seconds / $r.managed.seconds
        $boot += $r.boots; $drain += $r.drains
        $aws = @($r.sm.calls | Where-Object service -NE 'kubernetes')
        $n = [math]::Max(1, $done.Count)
        $mutPerNode += (($aws | Where-Object mutating | Measure-Object -Property count -Sum).Sum) / $n
        $descPerNode += (($aws | Where-Object { -not $_.mutating } | Measure-Object -Property count -Sum).Sum) / $n
        $k = @($r.sm.calls | Where-Object service -EQ 'kubernetes')
        $watches += ($k | Where-Object { $_.operation -like 'watch *' } | Measure-Object -Property count -Sum).Sum
        $lists += ($k | Where-Object { $_.operation -like 'list *' } | Measure-Object -Property count -Sum).Sum
        $errors += @($r.sm.errors).Count
        $throttle += @($r.sm.errors | Where-Object { $_ -match 'Throttl|TooManyRequests|Rate exceeded|RequestLimitExceeded' }).Count
        # Throttled answers the SDK retried never reach the error stream: the simulator counts every one it gave.
        if ($r.simReport) {
            $throttleAnswered += [int](@(@($r.simReport.apiCalls) + @($r.simReport.kubernetesRequests)) | Measure-Object -Property throttled -Sum).Sum
        }
        $calls = $r.sm.calls
    }
    $aws = [ordered]@{}; $kube = [ordered]@{}
    foreach ($c in $calls) { if ($c.service -eq 'kubernetes') { $kube[$c.operation] = $c.count } else { $aws["$($c.service) $($c.operation)"] = $c.count } }
    $starts = @($runs | ForEach-Object { $_.podStarts })
    $Results.rollout = [ordered]@{
        nodes = 100; maxSurge = $Surge; maxUnavailable = 0; timeScale = $TimeScale; runs = $RolloutRuns
        replacedPerRun = $replaced
        makespanMinutes = Get-Stat $makespan
        commandMinutes = Get-Stat $command
        idealMinutes = Get-Stat $ideal
        makespanVsIdeal = Get-Stat $ratio
        idealFormula = "list schedule of (boot_i + drain_i) on MaxSurge+MaxUnavailable = $Surge lanes; boot_i = new instance launchTime -> node Ready (simulator), drain_i = DrainDuration"
        bootSeconds = Get-Stat $boot
        drainSeconds = Get-Stat $drain
        eksManagedUpdateMinutes = Get-Stat $managed
        vsEksManagedUpdate = Get-Stat $vsManaged
        awsMutatingPerNode = Get-Stat $mutPerNode
        awsDescribePerNode = Get-Stat $descPerNode
        errors = $errors
        throttlingErrors = $throttle
        throttledAnswers = $throttleAnswered
        kubernetesWatches = Get-Stat $watches
        kubernetesLists = Get-Stat $lists
        awsCallsLastRun = $aws
        kubernetesRequestsLastRun = $kube
        observedPodStartSecondsOnNewNodes = if ($starts.Count) { Get-Stat $starts } else { $null }
        simulatorReport = $runs[-1].simReport
    }
    $R = $Results.rollout
    Write-Host ("    makespan {0:N1} min, ideal {1:N1} min (x{2:N2}); EKS managed {3:N1} min (x{4:N2}); {5:N1} mutating + {6:N1} describe AWS calls per node" -f `
        $R.makespanMinutes.median, $R.idealMinutes.median, $R.makespanVsIdeal.median, $R.eksManagedUpdateMinutes.median, $R.vsEksManagedUpdate.median, $R.awsMutatingPerNode.median, $R.awsDescribePerNode.median)
    Add-Goal 'rollout: makespan <= 1.10 x ideal schedule' ($R.makespanVsIdeal.median -le 1.10) ("x{0:N3}" -f $R.makespanVsIdeal.median)
    Add-Goal 'rollout: <= 6 mutating AWS calls per replaced node' ($R.awsMutatingPerNode.median -le 6) ("{0:N2}" -f $R.awsMutatingPerNode.median)
    Add-Goal 'rollout: <= 15 describe AWS calls per replaced node' ($R.awsDescribePerNode.median -le 15) ("{0:N2}" -f $R.awsDescribePerNode.median)
    Add-Goal 'rollout: zero throttling (errors, and throttled answers retried)' ($throttle -eq 0 -and $throttleAnswered -eq 0) ("$throttle errors, $throttleAnswered throttled answers")
    Add-Goal 'rollout: every node replaced' (@($replaced | Where-Object { $_ -ne 100 }).Count -eq 0) ("replaced per run: $($replaced -join ', ')")
}

# ---- image cache ----------------------------------------------------------------------------------------------------

function Invoke-ImageCacheBench {
    Write-Host "==> image cache (pod start on a new node, $Runs runs)"
    $sim = Start-BenchSimulator $RolloutScenario
    try {
        $images = @('111122223333.dkr.ecr.us-west-2.amazonaws.com/shop/web-iis:2026.06.1',
            'mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2022',
            'public.ecr.aws/aws-observability/aws-for-fluent-bit:windowsservercore-stable')
        $rows = @{}
        for ($i = 0; $i -lt $Runs; $i++) {
            $r = Invoke-Pwsh -Json @"
`$ErrorActionPreference = 'Stop'
Import-Module '$Manifest'
Connect-WinEksSimulator -Endpoint '$($sim.Info.endpoint)' | Out-Null
`$ami = (Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks).ImageId
`$sw = [Diagnostics.Stopwatch]::StartNew()
`$m = @(Measure-WinContainerImage -Image $(($images | ForEach-Object { "'$_'" }) -join ',') -ImageId `$ami)
@{ ms = `$sw.Elapsed.TotalMilliseconds; ami = `$ami; images = @(`$m | ForEach-Object { @{ image = `$_.Image; download = `$_.DownloadSize; extract = `$_.ExtractSize; size = `$_.Size; shared = `$_.SharedSize } }) } | ConvertTo-Json -Compress -Depth 5
"@
            foreach ($m in $r.images) {
                if (-not $rows.ContainsKey($m.image)) { $rows[$m.image] = [ordered]@{ image = $m.image; downloadBytes = $m.download; extractBytes = $m.extract; measureMs = @() } }
                $rows[$m.image].measureMs += $r.ms
            }
            $ami = $r.ami
        }
        $list = foreach ($row in $rows.Values) {
            $without = $row.downloadBytes / $DownloadBytesPerSecond + [double]$row.extractBytes / $ExtractBytesPerSecond + $ContainerStartSeconds
            [ordered]@{ image = $row.image; downloadMB = [math]::Round($row.downloadBytes / 1e6, 1); extractMB = [math]::Round([double]$row.extractBytes / 1e6, 1)
                podStartWithoutCacheSeconds = [math]::Round($without, 1); podStartWithCacheSeconds = $ContainerStartSeconds
                speedup = [math]::Round($without / $ContainerStartSeconds, 1); measureSeconds = Get-Stat ($row.measureMs | ForEach-Object { $_ / 1000 }) }
        }
        $Results.imageCache = [ordered]@{ parentAmi = $ami; model = "download / 25 MB/s + extract / 8 MB/s + 3 s (PodStartModel); cached in the AMI: 3 s"; images = @($list) }
        foreach ($l in $list) { Write-Host ("    {0}: {1:N0} s without cache, {2} s with" -f $l.image, $l.podStartWithoutCacheSeconds, $l.podStartWithCacheSeconds) }
    }
    finally { Stop-BenchSimulator $sim }

    # Observed: the demo's self-managed group patched by Invoke-WinEksPatch onto the latest EKS AMI (caches only the Windows
    # base images) and onto an AMI built with the cluster's images cached (-ImageSource Build -CacheImagesFromCluster);
    # the pod starts the simulator recorded on the new nodes.
    $Results.imageCache.observed = [ordered]@{}
    foreach ($source in 'EksLatest', 'Build') {
        $starts = @(); $byImage = @{}
        for ($i = 0; $i -lt $Runs; $i++) {
            $sim = Start-BenchSimulator 'demo' 600
            try {
                $cache = if ($source -eq 'Build') { '-CacheImagesFromCluster' } else { '' }
                $r = Invoke-Pwsh -Json @"
`$ErrorActionPreference = 'Stop'
Import-Module '$Manifest'
Connect-WinEksSimulator -Endpoint '$($sim.Info.endpoint)' | Out-Null
`$report = Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageSource $source $cache -Force -WarningAction SilentlyContinue
@{ nodes = @(`$report.Groups.Nodes | ForEach-Object { `$_.NewNodeName }); ami = `$report.Groups[0].AfterImageId } | ConvertTo-Json -Compress
"@
                foreach ($p in Get-PodStarts $sim 'demo' @($r.nodes)) {
                    $starts += $p.seconds
                    $image = if ($p.image) { $p.image } else { '(pod deleted since)' }
                    if (-not $byImage.ContainsKey($image)) { $byImage[$image] = @() }
                    $byImage[$image] += $p.seconds
                }
            }
            finally { Stop-BenchSimulator $sim }
        }
        $Results.imageCache.observed[$source] = [ordered]@{ podStartSeconds = Get-Stat $starts
            byImage = [ordered]@{} }
        foreach ($image in $byImage.Keys | Sort-Object) { $Results.imageCache.observed[$source].byImage[$image] = Get-Stat $byImage[$image] }
        Write-Host ("    observed on new nodes, {0}: {1:N0} s median pod start ({2} pods)" -f $source, (Get-Stat $starts).median, $starts.Count)
    }
}

# ---- simulator ------------------------------------------------------------------------------------------------------

function Invoke-SimulatorBench {
    Write-Host "==> simulator requests per second ($Runs runs x $RpsSeconds s per request kind, concurrency 4, loopback)"
    $sim = Start-BenchSimulator $RolloutScenario
    try {
        $all = @()
        for ($i = 0; $i -lt $Runs; $i++) { $all += , @(Invoke-SimClient @('rps', $sim.InfoPath, 'rollout', $RpsSeconds, 4)) }
        $Results.simulator = [ordered]@{ scenario = 'bench/scenarios/rollout.json (cluster rollout: 102 nodes, 402 pods)'; concurrency = 4; requests = @() }
        foreach ($kind in $all[0].request) {
            $rates = @($all | ForEach-Object { $_ | Where-Object request -EQ $kind } | ForEach-Object { $_.perSecond })
            $errs = ($all | ForEach-Object { $_ | Where-Object request -EQ $kind } | Measure-Object -Property errors -Sum).Sum
            $bytes = ($all[0] | Where-Object request -EQ $kind).responseBytes
            $Results.simulator.requests += [ordered]@{ request = $kind; perSecond = Get-Stat $rates; responseKB = [math]::Round($bytes / 1KB, 1); errors = $errs }
            Write-Host ("    {0,-40} {1,8:N0}/s" -f $kind, (Get-Stat $rates).median)
        }
    }
    finally { Stop-BenchSimulator $sim }
}

# ---- run ------------------------------------------------------------------------------------------------------------

$total = [Diagnostics.Stopwatch]::StartNew()
if ($Only -contains 'import') { Invoke-ImportBench }
if ($Only -contains 'assessment') { Invoke-AssessmentBench }
if ($Only -contains 'rollout') { Invoke-RolloutBench }
if ($Only -contains 'timetoservice') { . (Join-Path $PSScriptRoot 'bench/time-to-service.ps1'); Invoke-TimeToServiceBench }
if ($Only -contains 'imagecache') { Invoke-ImageCacheBench }
if ($Only -contains 'simulator') { Invoke-SimulatorBench }
if ($Only -contains 'fleet') { . (Join-Path $PSScriptRoot 'bench/fleet.ps1'); Invoke-FleetBench }
$Results.benchSeconds = [math]::Round($total.Elapsed.TotalSeconds, 0)

# ---- report ---------------------------------------------------------------------------------------------------------

function F($s, [string] $unit = '', [string] $fmt = 'N0') { if ($null -eq $s) { return '–' }; "{0}{3} ({1}–{2})" -f $s.median.ToString($fmt), $s.min.ToString($fmt), $s.max.ToString($fmt), $unit }
$md = [System.Collections.Generic.List[string]]::new()
$m = $Results.machine
$md.Add("Machine: $($m.nproc) CPU ($($m.cpu)), $($m.memoryGiB) GiB, $($m.os), $($m.dotnet) (SDK $($m.dotnetSdk)), pwsh $($m.pwsh), node $($m.node); $($m.date), commit $($m.commit). Median (min–max).")
$md.Add('')
$md.Add('| benchmark | figure | result | goal |')
$md.Add('|---|---|---|---|')
if ($Results.Contains('import')) {
    $i = $Results.import
    $md.Add("| import | ``pwsh -NoProfile -c exit`` (baseline) | $(F $i.baselineProcessMs ' ms') | |")
    $md.Add("| import | cold: fresh ``pwsh`` + ``Import-Module WinEksPatch``, beyond the baseline | $(F $i.coldBeyondBaselineMs ' ms') | < 500 ms |")
    $md.Add("| import | first import after the build, beyond the baseline | $($i.firstAfterBuildBeyondBaselineMs.ToString('N0')) ms (1 run) | |")
    $md.Add("| import | ``Import-Module`` inside the process: cold / warm (after ``Remove-Module``) | $(F $i.coldImportModuleMs ' ms') / $(F $i.warmImportModuleMs ' ms' 'N1') | |")
    $md.Add("| import | first command after import (``Stop-WinEksSimulator``: loads the engine) | $(F $i.firstCommandMs ' ms') | |")
    $md.Add("| import | working set before / after import | $(F $i.workingSetBeforeImportMiB ' MiB') / $(F $i.workingSetAfterImportMiB ' MiB') | |")
}
if ($Results.Contains('assessment')) {
    $a = $Results.assessment
    foreach ($c in $a.commands.Keys) {
        $x = $a.commands[$c]
        $awsText = ($x.awsCalls.GetEnumerator() | ForEach-Object { "$($_.Key) $($_.Value)" }) -join ', '
        $kText = ($x.kubernetesRequests.GetEnumerator() | ForEach-Object { "$($_.Key) $($_.Value)" }) -join ', '
        $md.Add("| assessment ($($a.windowsNodes) Windows nodes, $($a.pods) pods) | ``$c`` wall time (fresh process, incl. engine load) | $(F $x.wallSeconds ' s' 'N2') | |")
        $md.Add("| assessment | ``$c`` peak working set | $(F $x.peakWorkingSetMiB ' MiB') | |")
        $md.Add("| assessment | ``$c`` AWS calls / Kubernetes requests | $awsText / $kText | |")
    }
}
if ($Results.Contains('rollout')) {
    $r = $Results.rollout
    $md.Add("| rollout (100 self-managed nodes, MaxSurge $($r.maxSurge), x$($r.timeScale) clock, $($r.runs) runs) | makespan (simulated) | $(F $r.makespanMinutes ' min' 'N1') | |")
    $md.Add("| rollout | ideal schedule of the same boots and drains | $(F $r.idealMinutes ' min' 'N1') | |")
    $md.Add("| rollout | makespan / ideal | $(F $r.makespanVsIdeal '' 'N3') | ≤ 1.10 |")
    $md.Add("| rollout | boot (launch → Ready) / drain per node | $(F $r.bootSeconds ' s') / $(F $r.drainSeconds ' s') | |")
    $md.Add("| rollout | EKS managed node group update of 100 nodes (maxUnavailable $($r.maxSurge)) | $(F $r.eksManagedUpdateMinutes ' min' 'N1') | |")
    $md.Add("| rollout | Invoke-NodeReplacement / EKS managed update (whole command) | $(F $r.vsEksManagedUpdate '' 'N2') | |")
    $md.Add("| rollout | AWS calls per replaced node: mutating / describe | $(F $r.awsMutatingPerNode '' 'N2') / $(F $r.awsDescribePerNode '' 'N2') | ≤ 6 / ≤ 15 |")
    $md.Add("| rollout | throttling: errors in the module's error stream / throttled answers the simulator gave (SDK retries) | $($r.throttlingErrors) / $($r.throttledAnswers) | 0 |")
    $md.Add("| rollout | Kubernetes watches / lists | $(F $r.kubernetesWatches) / $(F $r.kubernetesLists) | |")
}
if ($Results.Contains('timeToService')) {
    $t = $Results.timeToService
    $labels = [ordered]@{ eksManagedUpdate = "EKS's managed node group update onto the latest EKS AMI"; rolloutEksAmi = 'Invoke-NodeReplacement onto the latest EKS AMI'
        rolloutCachedAmi = "onto an AMI with the cluster's images cached"; rolloutCachedFastLaunch = 'onto a cached AMI with EC2 Fast Launch' }
    foreach ($name in $labels.Keys) {
        $w = $t.ways[$name]
        $extra = if ($w.Contains('makespanVsIdeal')) { "; makespan $(F $w.makespanMinutes ' min' 'N1') = $(F $w.makespanVsIdeal '' 'N3') x ideal (of it: $(F $w.beforeFirstLaunchSeconds ' s' 'N0') before the first launch, $(F $w.afterLastCordonSeconds ' s' 'N0') after the last cordon); boot to usable $(F $w.bootSeconds ' s')" } else { '' }
        $goal = if ($name -eq 'rolloutCachedFastLaunch') { '≤ 0.5 x EKS; ≤ 1.03 x ideal' } elseif ($w.Contains('makespanVsIdeal')) { '≤ 1.03 x ideal' } else { '' }
        $md.Add("| time to service (100 nodes, x$($t.timeScale) clock, $($t.runs) runs) | $($labels[$name]) | $(F $w.minutes ' min' 'N1') (x$(F $w.vsEksManagedUpdate '' 'N2') of EKS)$extra | $goal |")
    }
}
if ($Results.Contains('imageCache')) {
    foreach ($l in $Results.imageCache.images) {
        $md.Add("| image cache | pod start on a new node, ``$($l.image)``: not cached ($($l.downloadMB) MB down, $($l.extractMB) MB extracted) / cached in the AMI | $($l.podStartWithoutCacheSeconds) s / $($l.podStartWithCacheSeconds) s | |")
    }
    if ($Results.imageCache.Contains('observed')) {
        $o = $Results.imageCache.observed
        $md.Add("| image cache | pod starts on the new nodes of a simulated Invoke-WinEksPatch (demo's self-managed group, $Runs runs each): latest EKS AMI / AMI built with the cluster's images cached | $(F $o.EksLatest.podStartSeconds ' s') / $(F $o.Build.podStartSeconds ' s') | |")
        foreach ($image in $o.EksLatest.byImage.Keys) {
            $with = if ($o.Build.byImage.Contains($image)) { F $o.Build.byImage[$image] ' s' } else { '–' }
            $md.Add("| image cache | the same, ``$image`` | $(F $o.EksLatest.byImage[$image] ' s') / $with | |")
        }
    }
    if ($Results.Contains('rollout') -and $Results.rollout.observedPodStartSecondsOnNewNodes) {
        $md.Add("| image cache | pod starts the simulator recorded on the rollout's new nodes (nothing extra cached) | $(F $Results.rollout.observedPodStartSecondsOnNewNodes ' s') | |")
    }
}
if ($Results.Contains('fleet')) {
    $f = $Results.fleet
    foreach ($engine in 'Local', 'SsmAutomation') {
        if (-not $f.Contains($engine)) { continue }
        $x = $f[$engine]
        $label = if ($engine -eq 'Local') { 'local engine (one session)' } else { 'SSM Automation (fleet runbook, one execution per wave)' }
        $figures = '{0:N0} s wall, {1:N0} min simulated; {2:N0} AWS calls ({3:N0} SSM), {4:N0} Kubernetes requests' -f $x.wallSeconds, $x.simulatedMinutes, $x.awsCalls, $x.ssmCalls, $x.kubernetesRequests
        $md.Add("| fleet ($($f.clusters) clusters, $($f.waves) waves of $($f.maxConcurrency), $($f.soakMinutes) min soak, x$($f.timeScale) clock) | $label | $($x.result): $($x.succeeded)/$($x.targets) targets; $figures | every target patched |")
    }
}
if ($Results.Contains('simulator')) {
    foreach ($s in $Results.simulator.requests) {
        $md.Add("| simulator | $($s.request) ($($s.responseKB) KB) | $(F $s.perSecond ' /s') | |")
    }
}
$md.Add('')
$md.Add("Whole bench: $($Results.benchSeconds) s. Goals missed: $(if ($Misses.Count) { $Misses -join '; ' } else { 'none' }).")

$Results.missedGoals = @($Misses)
$Results | ConvertTo-Json -Depth 20 | Set-Content (Join-Path $ResultsDirectory 'results.json')
$md | Set-Content (Join-Path $ResultsDirectory 'results.md')
$md | Write-Host
if ($Misses.Count -gt 0) {
    foreach ($miss in $Misses) { Write-Host "MISSED GOAL: $miss" }
    exit 1
}
