# Time-to-service (build.ps1 bench, part "timetoservice"; dot-sourced by tools/bench.ps1, which defines the helpers).
#
# The figure users feel: from the command's start until every workload pod of the group runs on a patched node, for the
# 100-node group of bench/scenarios/rollout.json, four ways in one simulator:
#   1. EKS's managed node group update onto the latest EKS AMI (cluster rollout-managed, maxUnavailable = $Surge)
#   2. Invoke-NodeReplacement onto the latest EKS AMI                    (cluster rollout, -MaxSurge $Surge)
#   3. Invoke-NodeReplacement onto an AMI with the cluster's images cached (New-WinNodeAmi -CacheImage, built beforehand)
#   4. the same onto a cached AMI with EC2 Fast Launch (New-WinNodeAmi -FastLaunch, snapshots for every node)
# 2-4 replace the same group one after the other, each from the fleet the one before left. The AMI builds, and the
# pre-provisioning of the Fast Launch snapshots, happen before the clock of any way starts (an AMI is prepared ahead).
# "Patched node": a Windows node created after the way's start. "Workload pod": a Windows pod not of a DaemonSet.
# Its time: the latest container start (state.running.startedAt) once every such pod runs on a patched node.
# Also the makespan of 2-4 against an ideal schedule of their own boots (launch -> usable, from each result's Boot) and
# drains on $Surge lanes: what no tool could beat with the same machines and limits.

function Get-ServiceTime($Sim, [string] $Cluster, [DateTimeOffset] $Start) {
    # The lists come back as hashtables: indexers, which give $null for a member that is not there (strict mode).
    for ($poll = 0; $poll -lt 1200; $poll++) {
        $windowsNodes = @{}
        foreach ($n in Get-KubeList $Sim $Cluster '/api/v1/nodes') {
            if ($n['metadata']['labels']['kubernetes.io/os'] -eq 'windows') { $windowsNodes[$n['metadata']['name']] = [DateTimeOffset]::Parse($n['metadata']['creationTimestamp']) }
        }
        $pods = @(Get-KubeList $Sim $Cluster '/api/v1/pods' | Where-Object {
                $_['spec']['nodeSelector'] -and $_['spec']['nodeSelector']['kubernetes.io/os'] -eq 'windows' -and
                -not (@($_['metadata']['ownerReferences']) | Where-Object { $_ -and $_['kind'] -eq 'DaemonSet' }) -and -not $_['metadata']['deletionTimestamp'] })
        $served = @($pods | Where-Object {
                $node = $_['spec']['nodeName']
                $status = @($_['status']['containerStatuses'])[0]
                $_['status']['phase'] -eq 'Running' -and $node -and $windowsNodes.ContainsKey($node) -and $windowsNodes[$node] -ge $Start -and
                $status -and $status['state']['running'] })
        if ($pods.Count -gt 0 -and $served.Count -eq $pods.Count) {
            $last = ($served | ForEach-Object { [DateTimeOffset]::Parse(@($_['status']['containerStatuses'])[0]['state']['running']['startedAt']) } |
                Measure-Object -Maximum).Maximum
            return [ordered]@{ minutes = ($last - $Start).TotalMinutes; pods = $pods.Count }
        }
        Start-Sleep -Milliseconds 250   # wall-clock poll of the simulator process while its clock runs
    }
    throw "$Cluster`: the workload pods did not all run on patched nodes"
}

function Invoke-TimeToServiceRun {
    $sim = Start-BenchSimulator $RolloutScenario $TimeScale
    try {
        $admin = $sim.Info.adminEndpoint
        $simNow = { [DateTimeOffset]::Parse((Invoke-RestMethod "$admin/clock").utcNow) }
        $prelude = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$Manifest'
Connect-WinEksSimulator -Endpoint '$($sim.Info.endpoint)' | Out-Null
function Now { [DateTimeOffset]::Parse((Invoke-RestMethod '$admin/clock').utcNow) }
"@
        # The AMIs, ahead of time: cached (the images the group's pods run), and cached with Fast Launch (a snapshot per node).
        $amis = Invoke-Pwsh -Json ($prelude + @"
`$cache = @((Get-WinImageCachePlan -ClusterName rollout -NodeGroupName rollout-win-rollout -WarningAction SilentlyContinue).Image)
`$cached = New-WinNodeAmi -ClusterName rollout -NodeGroupName rollout-win-rollout -CacheImage `$cache -Confirm:`$false -WarningAction SilentlyContinue
`$fast = New-WinNodeAmi -ClusterName rollout -NodeGroupName rollout-win-rollout -CacheImage `$cache -FastLaunch -FastLaunchSnapshotCount 100 -FastLaunchMaxParallelLaunches 40 -Confirm:`$false -WarningAction SilentlyContinue
@{ eks = (Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks).ImageId; cached = `$cached.ImageId; fast = `$fast.ImageId; fastState = `$fast.FastLaunchState; cache = `$cache } | ConvertTo-Json -Compress
"@)
        # New-WinNodeAmi -FastLaunch emits the AMI once its snapshots are estimated on hand (100 at 40 at a time: three
        # rounds of at most 25 minutes), so every launch of way 4 finds one.

        # 1. EKS's managed update (the simulator's EKS runs it; Invoke-NodeReplacement starts and follows it).
        $cfg = Invoke-SimClient @('aws', $sim.InfoPath, 'eks', 'POST', '/clusters/rollout-managed/node-groups/win-managed/update-config',
            (@{ updateConfig = @{ maxUnavailable = $Surge } } | ConvertTo-Json -Compress), 'application/json')
        if ($cfg.status -ne 200) { throw "UpdateNodegroupConfig: $($cfg.status) $($cfg.body)" }
        $updateId = ($cfg.body | ConvertFrom-Json).update.id
        for ($w = 0; $w -lt 600 -and ((Invoke-SimClient @('aws', $sim.InfoPath, 'eks', 'GET', "/clusters/rollout-managed/updates/$($updateId)?nodegroupName=win-managed")).body | ConvertFrom-Json).update.status -eq 'InProgress'; $w++) {
            Start-Sleep -Milliseconds 100
        }
        $t0 = & $simNow
        $null = Invoke-Pwsh -Json ($prelude + "`$n = @(Invoke-NodeReplacement -ClusterName rollout-managed -NodeGroupName win-managed -Confirm:`$false -WarningAction SilentlyContinue).Count; @{ n = `$n } | ConvertTo-Json -Compress")
        $ways = [ordered]@{ eksManagedUpdate = Get-ServiceTime $sim 'rollout-managed' $t0 }

        # 2-4. Our rollout onto each AMI.
        foreach ($way in @(@{ Name = 'rolloutEksAmi'; Ami = $amis.eks }, @{ Name = 'rolloutCachedAmi'; Ami = $amis.cached }, @{ Name = 'rolloutCachedFastLaunch'; Ami = $amis.fast })) {
            $t0 = & $simNow
            $run = Invoke-Pwsh -Json ($prelude + @"
`$null = Set-NodeGroupAmi -ClusterName rollout -NodeGroupName rollout-win-rollout -ImageId '$($way.Ami)' -Force
`$t0 = Now
`$results = @(Invoke-NodeReplacement -ClusterName rollout -NodeGroupName rollout-win-rollout -MaxSurge $Surge -MaxUnavailable 0 -Confirm:`$false -WarningAction SilentlyContinue |
    ForEach-Object { `$n = Now; @{ done = (`$n - `$t0).TotalSeconds; drain = `$_.DrainDuration.TotalSeconds; boot = `$_.Boot.LaunchToUsable.TotalSeconds; osBoot = `$_.Boot.OsBoot.TotalSeconds } })
`$t1 = Now
@{ results = `$results; start = `$t0.ToString('o'); end = `$t1.ToString('o') } | ConvertTo-Json -Compress -Depth 4
"@)
            $service = Get-ServiceTime $sim 'rollout' $t0
            $done = @($run['results'] | Sort-Object { $_['done'] })
            # The rollout's makespan: the command's start to its end (not the PowerShell process's start-up, nor
            # Set-NodeGroupAmi before it), and where it goes beyond the ideal, from the simulator's timeline: the reads and
            # the plan before the first launch, and the wait at the end for the last old nodes to go (their instances shut
            # down and their nodes are deleted; the rollout returns once they are gone).
            $start = [DateTimeOffset]::Parse($run['start']); $end = [DateTimeOffset]::Parse($run['end'])
            $makespan = ($end - $start).TotalSeconds
            $ideal = Get-IdealMakespan @($done | ForEach-Object { [double]$_['boot'] }) @($done | ForEach-Object { [double]$_['drain'] }) $Surge
            $events = @((Invoke-RestMethod "$admin/report").events | Where-Object { [DateTimeOffset]$_.at -ge $start -and $_.cluster -eq 'rollout' })
            $firstLaunch = ($events | Where-Object kind -eq 'InstanceLaunched' | ForEach-Object { [DateTimeOffset]$_.at } | Measure-Object -Minimum).Minimum
            $lastCordon = ($events | Where-Object kind -eq 'NodeCordoned' | ForEach-Object { [DateTimeOffset]$_.at } | Measure-Object -Maximum).Maximum
            $service['makespanMinutes'] = $makespan / 60
            $service['idealMinutes'] = $ideal / 60
            $service['makespanVsIdeal'] = $makespan / $ideal
            $service['beforeFirstLaunchSeconds'] = ($firstLaunch - $start).TotalSeconds
            $service['afterLastCordonSeconds'] = ($end - $lastCordon).TotalSeconds
            $service['bootSeconds'] = Get-Stat @($done | ForEach-Object { [double]$_['boot'] })
            $service['osBootSeconds'] = Get-Stat @($done | ForEach-Object { [double]$_['osBoot'] })
            $ways[$way.Name] = $service
        }
        return @{ ways = $ways; amis = $amis }
    }
    finally { Stop-BenchSimulator $sim }
}

function Invoke-TimeToServiceBench {
    Write-Host "==> time-to-service (100 Windows nodes, four ways, time scale $TimeScale, $RolloutRuns run(s))"
    $runs = @()
    for ($i = 1; $i -le $RolloutRuns; $i++) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $runs += Invoke-TimeToServiceRun
        Write-Host ("    run {0}: {1:N0} s wall" -f $i, $sw.Elapsed.TotalSeconds)
    }
    $Results.timeToService = [ordered]@{ nodes = 100; maxSurge = $Surge; timeScale = $TimeScale; runs = $RolloutRuns; fastLaunchState = $runs[-1].amis.fastState
        cachedImages = $runs[-1].amis.cache; ways = [ordered]@{} }
    foreach ($name in $runs[0].ways.Keys) {
        $w = [ordered]@{ minutes = Get-Stat @($runs | ForEach-Object { $_.ways[$name].minutes }) }
        if ($runs[0].ways[$name].Contains('makespanVsIdeal')) {
            foreach ($k in 'makespanMinutes', 'idealMinutes', 'makespanVsIdeal', 'beforeFirstLaunchSeconds', 'afterLastCordonSeconds') { $w[$k] = Get-Stat @($runs | ForEach-Object { $_.ways[$name][$k] }) }
            $w["bootSeconds"] = $runs[-1].ways[$name]["bootSeconds"]
            $w["osBootSeconds"] = $runs[-1].ways[$name]["osBootSeconds"]
        }
        $w["vsEksManagedUpdate"] = Get-Stat @($runs | ForEach-Object { $_.ways[$name].minutes / $_.ways.eksManagedUpdate.minutes })
        $Results.timeToService.ways[$name] = $w
        Write-Host ("    {0}: {1:N1} min to service (x{2:N2} of EKS's managed update){3}" -f $name, $w.minutes.median, $w.vsEksManagedUpdate.median,
            $(if ($w.Contains('makespanVsIdeal')) { ", makespan x{0:N3} of ideal" -f $w.makespanVsIdeal.median } else { '' }))
    }
    $T = $Results.timeToService.ways
    Add-Goal 'time-to-service: cached AMI with Fast Launch <= 0.5 x EKS managed update' ($T.rolloutCachedFastLaunch.vsEksManagedUpdate.median -le 0.5) ("x{0:N3}" -f $T.rolloutCachedFastLaunch.vsEksManagedUpdate.median)
    foreach ($name in 'rolloutEksAmi', 'rolloutCachedAmi', 'rolloutCachedFastLaunch') {
        Add-Goal "time-to-service: $name makespan <= 1.03 x ideal (boot to usable, drain)" ($T[$name].makespanVsIdeal.median -le 1.03) ("x{0:N3}" -f $T[$name].makespanVsIdeal.median)
    }
}
