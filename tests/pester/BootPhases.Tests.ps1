# Each replaced node's boot, as the module reads it from the APIs (EC2's launch time, EC2Launch's "Windows is Ready to
# use" in the console output, the node's creation and Ready condition, its pod IPs, its first workload pod), checked
# against the simulator's own timeline of the same boot; and the same rollout onto an AMI with EC2 Fast Launch.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)

    # The simulator's timeline of one node's boot (its events by kind, the earliest of each).
    function Get-BootTimeline($Report, [string] $NodeName) {
        $timeline = @{}
        foreach ($event in $Report.Events | Where-Object NodeName -eq $NodeName | Sort-Object At) {
            if (-not $timeline.ContainsKey($event.Kind)) { $timeline[$event.Kind] = $event }
        }
        $timeline
    }
    function Assert-Near([datetimeoffset] $Actual, [datetimeoffset] $Expected, [double] $Seconds, [string] $What) {
        [Math]::Abs(($Actual - $Expected).TotalSeconds) | Should -BeLessOrEqual $Seconds -Because "$What ($Actual vs the simulator's $Expected)"
    }
}

Describe 'A rollout onto the latest EKS AMI (standard Windows boot)' {
    BeforeAll {
        $null = Start-WinEksSimulator -Scenario demo -TimeScale 600
        $script:report = Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageSource EksLatest -Force -WarningAction SilentlyContinue
        $script:group = $report.Groups[0]
        $script:timeline = Get-WinEksSimulatorReport
    }
    AfterAll { Stop-WinEksSimulator }

    It 'reports each new node''s boot phase by phase, matching the simulator''s timeline of it' {
        $group.NodesReplaced | Should -BeGreaterThan 0
        foreach ($node in $group.Nodes) {
            $boot = $node.Boot
            $boot | Should -Not -BeNullOrEmpty -Because "$($node.NewNodeName) was replaced"
            $events = Get-BootTimeline $timeline $node.NewNodeName
            # Each time the module read, against the simulator's record of the same moment: the console's line and the
            # node's timestamps have second precision; the pod IPs are seen through the watch (a fast clock magnifies its delay).
            Assert-Near $boot.LaunchedAt $events['InstanceLaunched'].At 1 'launch'
            Assert-Near $boot.OsReadyAt $events['OsReady'].At 1 'Windows ready to use'
            Assert-Near $boot.RegisteredAt $events['NodeAdded'].At 1 'registered'
            Assert-Near $boot.ReadyAt $events['NodeReady'].At 1 'Ready'
            Assert-Near $boot.UsableAt $events['NodeUsable'].At 60 'pod IPs advertised'
            $events['OsReady'].Detail | Should -Be 'Sysprep specialize and OOBE'
        }
    }

    It 'has phases that follow each other and add up to the launch-to-usable time' {
        foreach ($boot in $group.Nodes.Boot) {
            $sum = $boot.OsBoot + $boot.Bootstrap + $boot.NodeReady + $boot.PodIps
            $sum | Should -Be $boot.LaunchToUsable
            $boot.OsBoot | Should -BeGreaterThan ([TimeSpan]::Zero)
            $boot.Bootstrap | Should -BeGreaterThan ([TimeSpan]::Zero)
            if ($boot.FirstPodRunningAt) { [datetimeoffset]$boot.FirstPodRunningAt | Should -BeGreaterOrEqual ([datetimeoffset]$boot.UsableAt) }
        }
    }

    It 'names when the first workload pod ran on a new node, as the simulator started it' {
        $withPod = @($group.Nodes | Where-Object { $_.Boot.FirstPodRunningAt })
        $withPod.Count | Should -BeGreaterThan 0 -Because 'the pods evicted from the old nodes land on the new ones'
        foreach ($node in $withPod) {
            $started = @($timeline.Events | Where-Object { $_.Kind -eq 'PodStarted' -and $_.NodeName -eq $node.NewNodeName -and $_.Detail -notlike 'DaemonSet/*' } | Sort-Object At)
            $started.Count | Should -BeGreaterThan 0
            Assert-Near $node.Boot.FirstPodRunningAt $started[0].At 1 'first workload pod running'
        }
    }

    It 'sums the phases up per group in the report and names the slowest' {
        $group.Boot.Nodes | Should -Be $group.NodesReplaced
        $mean = [TimeSpan]::FromTicks([long](($group.Nodes.Boot | ForEach-Object { $_.OsBoot.Ticks } | Measure-Object -Average).Average))
        [Math]::Abs(($group.Boot.OsBoot - $mean).TotalSeconds) | Should -BeLessThan 1
        $slowest = @('OsBoot', 'Bootstrap', 'NodeReady', 'PodIps', 'FirstPod') | Where-Object { $null -ne $group.Boot.$_ } |
            Sort-Object { $group.Boot.$_ } -Descending | Select-Object -First 1
        $group.Boot.SlowestPhase | Should -Be $slowest
        # The JSON report carries it too.
        ($report | ConvertTo-Json -Depth 8 | ConvertFrom-Json).Groups[0].Boot.SlowestPhase | Should -Be $slowest
    }
}

Describe 'A rollout onto an AMI with EC2 Fast Launch' {
    BeforeAll {
        $null = Start-WinEksSimulator -Scenario demo -TimeScale 600
        $script:ami = New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -FastLaunch -FastLaunchSnapshotCount 10 -FastLaunchMaxParallelLaunches 10 -Confirm:$false -ErrorAction Stop
        # EC2 does not say when the snapshots are ready: let the simulated pre-provisioning (at most 25 minutes a round,
        # ten at a time) finish: 4 s here are 40 simulated minutes.
        Start-Sleep -Seconds 4
        function Get-Plan([string] $Source) {
            Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageSource $Source -WhatIf -WarningAction SilentlyContinue |
                Where-Object { $_.PSObject.TypeNames[0] -eq 'WinEksPatch.Model.NodeReplacementPlan' }
        }
        $script:fastPlan = Get-Plan $ami.ImageId
        $script:standardPlan = Get-Plan 'EksLatest'
        $script:report = Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageSource $ami.ImageId -Force -WarningAction SilentlyContinue
        $script:group = $report.Groups[0]
        $script:timeline = Get-WinEksSimulatorReport
    }
    AfterAll { Stop-WinEksSimulator }

    It 'plans with the snapshots on hand against the launches, and estimates the rollout shorter than with standard boots' {
        $fastPlan.FastLaunchSnapshots | Should -Be 10
        $finding = $fastPlan.Preflight | Where-Object Kind -eq 'FastLaunch'
        $finding.Subject | Should -Be $ami.ImageId
        $finding.Effect | Should -BeLike "*up to 10 pre-provisioned snapshot(s) on hand*for $($fastPlan.NodesToReplace) launch(es), $($fastPlan.Window) at a time; every new node can boot from one*"
        $standardPlan.FastLaunchSnapshots | Should -BeNullOrEmpty
        @($standardPlan.Preflight | Where-Object Kind -eq 'FastLaunch') | Should -HaveCount 0
        $fastPlan.NodesToReplace | Should -Be $standardPlan.NodesToReplace
        $fastPlan.EstimatedDuration | Should -BeLessThan $standardPlan.EstimatedDuration
    }

    It 'boots the new nodes from pre-provisioned snapshots (the simulator''s timeline) in a fraction of the standard OS boot' {
        $group.NodesReplaced | Should -BeGreaterThan 0
        foreach ($node in $group.Nodes) {
            $events = Get-BootTimeline $timeline $node.NewNodeName
            $events['OsReady'].Detail | Should -BeLike 'restored from pre-provisioned snapshot snap-*'
            Assert-Near $node.Boot.OsReadyAt $events['OsReady'].At 1 'Windows ready to use'
            # Standard: EC2 start (25-45 s) + specialize and OOBE (170-290 s); restored: EC2 start + 20-45 s.
            $node.Boot.OsBoot | Should -BeLessThan ([TimeSpan]::FromSeconds(95))
        }
        $group.Boot.SlowestPhase | Should -Not -Be 'OsBoot'
    }
}
