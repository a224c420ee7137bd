# -PaceToFastLaunch: a rollout onto an AMI with fewer pre-provisioned snapshots than new nodes. Unpaced, the launches
# beyond the snapshots on hand boot the standard way; paced, each launch waits for EC2 to make one, so every new node
# boots from a snapshot (as the simulator's timeline shows), and the plan says so and counts the wait.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)

    # Two snapshots kept on hand for the four nodes of demo-win-selfmanaged; EC2 makes them (and each replacement) in
    # 15-25 simulated minutes. New-WinNodeAmi emits the AMI once both are estimated on hand (one round after enabled).
    function Initialize-FewSnapshots {
        $null = Start-WinEksSimulator -Scenario demo -TimeScale 600
        $script:ami = New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -FastLaunch -FastLaunchSnapshotCount 2 -Confirm:$false -ErrorAction Stop
    }
    # How each new node's Windows came up, from the simulator's timeline (its OsReady event's detail).
    function Get-OsReadyDetails($Results) {
        $timeline = Get-WinEksSimulatorReport
        foreach ($node in $Results) {
            ($timeline.Events | Where-Object { $_.NodeName -eq $node.NewNodeName -and $_.Kind -eq 'OsReady' } | Select-Object -First 1).Detail
        }
    }
    function Get-Plan([switch] $Paced) {
        Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 2 -PaceToFastLaunch:$Paced -WhatIf -WarningAction SilentlyContinue
    }
}

Describe 'A rollout onto an AMI with fewer Fast Launch snapshots than new nodes' {
    BeforeAll {
        Initialize-FewSnapshots
        $null = Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageId $ami.ImageId -Force -WarningAction SilentlyContinue
        $script:plan = Get-Plan
        $results = @(Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 2 -Force -WarningAction SilentlyContinue)
        $script:details = @(Get-OsReadyDetails $results)
    }
    AfterAll { Stop-WinEksSimulator }

    It 'is not paced unless asked, and says that the launches beyond the snapshots boot the standard way' {
        $plan.PacedToFastLaunch | Should -BeFalse
        $plan.FastLaunchSnapshots | Should -Be 2
        ($plan.Preflight | Where-Object Kind -eq 'FastLaunch').Effect | Should -BeLike '*launches beyond those on hand boot the standard way*'
    }

    It 'boots some new nodes the standard way, once the snapshots on hand are used up' {
        $details | Should -HaveCount 4
        @($details | Where-Object { $_ -like 'restored from pre-provisioned snapshot*' }).Count | Should -BeGreaterOrEqual 1
        @($details | Where-Object { $_ -notlike 'restored from pre-provisioned snapshot*' }).Count | Should -BeGreaterOrEqual 1
    }
}

Describe 'The same rollout with -PaceToFastLaunch' {
    BeforeAll {
        Initialize-FewSnapshots
        $null = Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageId $ami.ImageId -Force -WarningAction SilentlyContinue
        $script:unpaced = Get-Plan
        $script:plan = Get-Plan -Paced
        $script:results = @(Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 2 -PaceToFastLaunch -Force -WarningAction SilentlyContinue)
        $script:details = @(Get-OsReadyDetails $results)
        $script:group = Get-WinNodeGroup -ClusterName demo -NodeGroupName demo-win-selfmanaged
    }
    AfterAll { Stop-WinEksSimulator }

    It 'plans paced, with the wait for snapshots in its estimate' {
        $plan.PacedToFastLaunch | Should -BeTrue
        ($plan.Preflight | Where-Object Kind -eq 'FastLaunch').Effect | Should -BeLike '*-PaceToFastLaunch holds the launches beyond those on hand until EC2 has made more*'
        # Two windows of two: the second waits for EC2's next round (up to 25 minutes) instead of booting the standard way.
        $plan.EstimatedDuration | Should -BeGreaterThan ([TimeSpan]::FromMinutes(25))
        $plan.Steps.InstanceId | Should -Be $unpaced.Steps.InstanceId
    }

    It 'boots every new node from a pre-provisioned snapshot' {
        $results | Should -HaveCount 4
        $details | Should -HaveCount 4
        foreach ($detail in $details) { $detail | Should -BeLike 'restored from pre-provisioned snapshot snap-*' }
    }

    It 'ends with the group whole on the new AMI and its size given back' {
        $group.DesiredSize | Should -Be 4
        @($results | Where-Object NewImageId -eq $ami.ImageId) | Should -HaveCount 4
    }
}
