# Invoke-NodeReplacement and Invoke-WinEksPatch end to end against the simulator: the demo's self-managed group is
# four nodes on an AMI five monthly patches old. Each Describe gets its own simulator (rollouts change the world).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)

    function Start-RolloutSimulator {
        $null = Start-WinEksSimulator -Scenario demo -TimeScale 600
        $script:latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
        $null = Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageId $latest.ImageId -Force
    }
}

Describe 'Invoke-NodeReplacement plans before it acts' {
    BeforeAll { Start-RolloutSimulator }
    AfterAll { Stop-WinEksSimulator }

    It '-WhatIf writes the plan with its pre-flight and changes nothing' {
        $plan = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 2 -WhatIf -WarningVariable findings -WarningAction SilentlyContinue
        $plan.TargetImageId | Should -Be $latest.ImageId
        $plan.NodesToReplace | Should -Be 4
        $plan.Batches.Count | Should -Be 2
        $plan.CapacityFloor | Should -Be 4
        $plan.EstimatedDuration.TotalMinutes | Should -BeGreaterThan 10
        $plan.Preflight.Kind | Should -Contain 'ImageNotCached'
        $findings.Count | Should -Be $plan.Preflight.Count
        (Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged | Where-Object OsBuild -eq '10.0.20348.5020').Count | Should -Be 4
        (Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).DesiredSize | Should -Be 4
    }

    It 'refuses limits that could never make progress, and a managed group''s nodes go through EKS' {
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 0 -MaxUnavailable 0 -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'RolloutCannotProgress,WinEksPatch.Commands.InvokeNodeReplacementCommand'
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName nope -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'NodeGroupNotFound,WinEksPatch.Commands.InvokeNodeReplacementCommand'
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName linux-system -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'NodeGroupNotWindows,WinEksPatch.Commands.InvokeNodeReplacementCommand'
    }
}

Describe 'Invoke-NodeReplacement replaces every old node' {
    BeforeAll {
        Start-RolloutSimulator
        $script:before = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $script:results = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 1 -Force -WarningAction SilentlyContinue
        $script:group = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
    }
    AfterAll { Stop-WinEksSimulator }

    It 'streams one result per replaced node' {
        $results.Count | Should -Be 4
        $results | ForEach-Object {
            $_.Result | Should -Be 'Replaced'
            $_.OldImageId | Should -Be 'ami-0b178af229e4ddbf9'
            $_.NewImageId | Should -Be $latest.ImageId
            $_.NewInstanceId | Should -Match '^i-'
            $_.PodsDeleted.Count | Should -Be 0
        }
        ($results.NewInstanceId | Sort-Object -Unique).Count | Should -Be 4
        ($results | Measure-Object PodsEvicted -Sum).Sum | Should -BeGreaterThan 0
    }

    It 'leaves the group at its size on the new AMI, with nothing of the rollout left behind' {
        $group.DesiredSize | Should -Be $before.DesiredSize
        $group.MaxSize | Should -Be $before.MaxSize
        $group.NodeCount | Should -Be 4
        $group.OsBuild | Should -Be '10.0.20348.5622'
        (Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged).OsBuild | Sort-Object -Unique | Should -Be '10.0.20348.5622'
        (Get-WinPatchStatus -ClusterName demo -NodeGroupName demo-win-selfmanaged).UpToDate | Should -BeTrue
    }

    It 'is a no-op when run again' {
        Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force | Should -BeNullOrEmpty
    }
}

Describe 'Invoke-WinEksPatch' {
    BeforeAll { $null = Start-WinEksSimulator -Scenario demo -TimeScale 600 }
    AfterAll { Stop-WinEksSimulator }

    It 'patches the outdated group, leaves the current one, and writes the report as JSON' {
        $path = Join-Path $TestDrive 'report.json'
        $report = Invoke-WinEksPatch -ClusterName demo -ImageSource EksLatest -ReportPath $path -Force -WarningAction SilentlyContinue
        $report.Succeeded | Should -BeTrue
        $report.NodesReplaced | Should -Be 4
        $self = $report.Groups | Where-Object NodeGroupName -eq 'demo-win-selfmanaged'
        $self.Result | Should -Be 'Patched'
        $self.BeforeOsBuild | Should -Be '10.0.20348.5020'
        $self.AfterOsBuild | Should -Be '10.0.20348.5622'
        $self.MonthsBehind | Should -Be 5
        ($report.Groups | Where-Object NodeGroupName -eq 'win-managed').Result | Should -Be 'UpToDate'
        $report.Duration.TotalMinutes | Should -BeGreaterThan 5   # simulated time
        $json = Get-Content $path -Raw | ConvertFrom-Json
        $json.clusterName | Should -Be 'demo'
        $json.groups[0].result | Should -BeIn @('Patched', 'UpToDate')
    }

    It 'keeps to at most 6 mutating and 15 describe AWS calls per replaced node' {
        # A second cluster state: everything is current now, so run the same command on a fresh simulator instead.
        Stop-WinEksSimulator
        $null = Start-WinEksSimulator -Scenario demo -TimeScale 600
        $report = Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force -WarningAction SilentlyContinue
        $aws = $report.ApiCalls | Where-Object Service -ne 'kubernetes'
        $mutating = ($aws | Where-Object Mutating | Measure-Object Count -Sum).Sum
        $describes = ($aws | Where-Object { -not $_.Mutating } | Measure-Object Count -Sum).Sum
        $mutating / $report.NodesReplaced | Should -BeLessOrEqual 6
        $describes / $report.NodesReplaced | Should -BeLessOrEqual 15
        ($report.ApiCalls | Where-Object { $_.Service -eq 'kubernetes' -and $_.Operation -like 'watch *' }).Count | Should -BeGreaterThan 0
    }
}
