# EC2 Fast Launch of an AMI that exists, against the simulator's EC2 (EnableFastLaunch, DescribeFastLaunchImages,
# DisableFastLaunch on the query protocol) through the AWS SDK for .NET.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)
    function Get-TerminatingError([scriptblock] $Command) {
        try { $null = & $Command; $null } catch { $_ }
    }
    # 600 simulated seconds per second: a build (about 65 simulated minutes) and Fast Launch's set-up take seconds.
    $null = Start-WinEksSimulator -Scenario demo -TimeScale 600
    $script:ami = New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -Confirm:$false -ErrorAction Stop
}

AfterAll { Stop-WinEksSimulator }

Describe 'Enable-WinNodeAmiFastLaunch' {
    It '-WhatIf shows the snapshots, their storage and the region''s parallel launches, and changes nothing' {
        # "What if:" lines go to the host, so a transcript is what sees them.
        $log = Join-Path $TestDrive 'whatif.txt'
        Start-Transcript -Path $log | Out-Null
        try { $out = $ami | Enable-WinNodeAmiFastLaunch -TargetSnapshotCount 8 -MaxParallelLaunches 7 -WhatIf }
        finally { Stop-Transcript | Out-Null }
        $whatIf = Get-Content $log -Raw
        $out | Should -BeNullOrEmpty
        $whatIf | Should -Match '8 on hand, up to 400 GiB of EBS snapshot storage \(8 × the 50 GiB root volume\)'
        $whatIf | Should -Match '0 used by 0 other AMI\(s\) \+ 7 = 7 of 40'
        @(Get-WinNodeAmiFastLaunch -ImageId $ami.ImageId) | Should -HaveCount 0
    }

    It 'enables Fast Launch on a built AMI, waits until EC2 reports it enabled, and Get-WinNodeAmiFastLaunch reads it back' {
        $started = (Get-WinEksSimulatorReport).Now
        $enabled = $ami | Enable-WinNodeAmiFastLaunch -TargetSnapshotCount 8 -MaxParallelLaunches 7 -ErrorAction Stop
        $enabled.State | Should -Be 'enabled'
        $enabled.ImageId | Should -Be $ami.ImageId
        $enabled.TargetSnapshotCount | Should -Be 8
        $enabled.MaxParallelLaunches | Should -Be 7
        $enabled.SnapshotStorageGiB | Should -Be 400
        # It waited on EC2's set-up (a minute or two, simulated), not returned at "enabling".
        ([datetimeoffset]$enabled.StateTransitionTime) | Should -BeGreaterThan ([datetimeoffset]$started)
        # And then until the snapshots are on hand: 8 made 7 at a time is two rounds of 25 minutes at most after "enabled".
        ([datetimeoffset]$enabled.SnapshotsReadyBy) | Should -Be ([datetimeoffset]$enabled.StateTransitionTime).AddMinutes(50)
        ([datetimeoffset](Get-WinEksSimulatorReport).Now) | Should -BeGreaterOrEqual ([datetimeoffset]$enabled.SnapshotsReadyBy)
        $enabled.EstimatedSnapshotsOnHand | Should -Be 8

        $read = Get-WinNodeAmiFastLaunch
        @($read) | Should -HaveCount 1
        $read.State | Should -Be 'enabled'
        $read.ImageId | Should -Be $ami.ImageId
        # The table view fits 120 columns.
        ($read | Format-Table | Out-String -Width 120 -Stream | Where-Object { $_.Length -gt 120 }) | Should -BeNullOrEmpty
    }

    It 'refuses an AMI the region does not have (AmiNotFound) before any change' {
        $failure = Get-TerminatingError { Enable-WinNodeAmiFastLaunch -ImageId ami-0000000000000dead -ErrorAction Stop }
        $failure.FullyQualifiedErrorId | Should -BeLike 'AmiNotFound,*'
        $failure.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'refuses parallel launches beyond the region''s quota with FastLaunchQuotaExceeded, before any change' {
        $second = New-WinNodeAmi -ClusterName demo -WindowsVersion 2019 -Edition Core -Confirm:$false -ErrorAction Stop
        $failure = Get-TerminatingError { $second | Enable-WinNodeAmiFastLaunch -MaxParallelLaunches 34 -ErrorAction Stop }
        $failure.FullyQualifiedErrorId | Should -BeLike 'FastLaunchQuotaExceeded,*'
        $failure.Exception.Message | Should -BeLike '*already use 7 of the 40*lower it to 33 or less*'
        @(Get-WinNodeAmiFastLaunch -ImageId $second.ImageId) | Should -HaveCount 0
    }
}

Describe 'Disable-WinNodeAmiFastLaunch' {
    It 'turns Fast Launch off (disabling), and the AMI leaves the list once EC2 is done; a second one is FastLaunchNotEnabled' {
        $disabled = Get-WinNodeAmiFastLaunch -ImageId $ami.ImageId | Disable-WinNodeAmiFastLaunch -ErrorAction Stop
        $disabled.State | Should -Be 'disabling'
        # EC2 removes the snapshots in a few simulated minutes (a second or so here).
        $deadline = [datetime]::UtcNow.AddSeconds(30)
        while (@(Get-WinNodeAmiFastLaunch -ImageId $ami.ImageId).Count -gt 0 -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
        @(Get-WinNodeAmiFastLaunch -ImageId $ami.ImageId) | Should -HaveCount 0

        $failure = Get-TerminatingError { Disable-WinNodeAmiFastLaunch -ImageId $ami.ImageId -ErrorAction Stop }
        $failure.FullyQualifiedErrorId | Should -BeLike 'FastLaunchNotEnabled,*'
        (Get-WinNodeAmi -Source ImageBuilder | Where-Object ImageId -eq $ami.ImageId) | Should -Not -BeNullOrEmpty -Because 'the AMI itself stays'
    }
}

Describe 'New-WinNodeAmi -FastLaunch' {
    It 'plans Fast Launch with the build (snapshots sized to the group), builds, and emits the AMI once EC2 reports it enabled' {
        $group = Get-WinNodeGroup -ClusterName demo -NodeGroupName demo-win-selfmanaged
        $expected = [Math]::Max(5, [Math]::Max($group.NodeCount, $group.DesiredSize))
        $log = Join-Path $TestDrive 'build-whatif.txt'
        Start-Transcript -Path $log | Out-Null
        try { $plan = New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -FastLaunch -FastLaunchMaxParallelLaunches 8 -WhatIf }
        finally { Stop-Transcript | Out-Null }
        $whatIf = Get-Content $log -Raw
        $whatIf | Should -Match 'EC2 Fast Launch \(Image Builder enables it on the AMI it distributes\)'
        $whatIf | Should -Match "$expected on hand, up to $($expected * 50) GiB"
        $whatIf | Should -Match '\+ 8 = 8 of 40'
        # The plan -WhatIf writes carries the same settings.
        $plan.FastLaunch.TargetSnapshotCount | Should -Be $expected
        $plan.FastLaunch.MaxParallelLaunches | Should -Be 8
        $plan.FastLaunch.StorageGiB | Should -Be ($expected * $plan.RootVolumeGiB)
        ($plan.FastLaunch.QuotaLines -join "`n") | Should -Match '\+ 8 = 8 of 40'

        function Get-EnableCalls { [long](@((Get-WinEksSimulatorReport).ApiCalls | Where-Object Operation -eq 'EnableFastLaunch' | ForEach-Object Count) | Measure-Object -Sum).Sum }
        $enablesBefore = Get-EnableCalls
        $ami = New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -FastLaunch -FastLaunchMaxParallelLaunches 8 -Confirm:$false -ErrorAction Stop
        $ami.FastLaunchState | Should -Be 'enabled'
        Get-EnableCalls | Should -Be $enablesBefore -Because 'Image Builder turned it on with the distribution, not a call of ours'
        # Emitted once the snapshots are estimated on hand, not at "enabled": 8 at a time, 25 minutes each at most.
        $ready = Get-WinNodeAmiFastLaunch -ImageId $ami.ImageId
        ([datetimeoffset](Get-WinEksSimulatorReport).Now) | Should -BeGreaterOrEqual ([datetimeoffset]$ready.SnapshotsReadyBy)
        $ready.EstimatedSnapshotsOnHand | Should -Be $expected
        $state = Get-WinNodeAmiFastLaunch -ImageId $ami.ImageId
        $state.State | Should -Be 'enabled'
        $state.TargetSnapshotCount | Should -Be $expected
        $state.MaxParallelLaunches | Should -Be 8
    }

    It 'is refused by Invoke-WinEksPatch unless the AMI is built (-ImageSource Build), before any change' {
        $before = Get-WinNodeGroup -ClusterName demo -NodeGroupName demo-win-selfmanaged
        $failure = Get-TerminatingError { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageSource EksLatest -FastLaunch -Force }
        $failure.FullyQualifiedErrorId | Should -BeLike 'InvalidImageSource,*'
        (Get-WinNodeGroup -ClusterName demo -NodeGroupName demo-win-selfmanaged).LaunchTemplateVersion | Should -Be $before.LaunchTemplateVersion
    }
}

Describe 'Invoke-WinEksPatch -ImageSource Build -FastLaunch' {
    BeforeAll {
        Stop-WinEksSimulator
        $null = Start-WinEksSimulator -Scenario demo -TimeScale 600
    }

    It '-WhatIf plans the rollout with the snapshots the AMI will have, shorter than with standard boots' {
        function Get-Plan([switch] $FastLaunch) {
            Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageSource Build -FastLaunch:$FastLaunch -WhatIf -WarningAction SilentlyContinue |
                Where-Object { $_.PSObject.TypeNames[0] -eq 'WinEksPatch.Model.NodeReplacementPlan' }
        }
        $fast = Get-Plan -FastLaunch
        $standard = Get-Plan
        # As New-WinNodeAmi counts them: one per node of the group (the larger of its node count and desired size), at least 5.
        $group = Get-WinNodeGroup -ClusterName demo -NodeGroupName demo-win-selfmanaged
        $fast.FastLaunchSnapshots | Should -Be ([Math]::Max(5, [Math]::Max($group.NodeCount, $group.DesiredSize)))
        ($fast.Preflight | Where-Object Kind -eq 'FastLaunch').Effect | Should -BeLike '*every new node can boot from one*'
        $standard.FastLaunchSnapshots | Should -BeNullOrEmpty
        $fast.EstimatedDuration | Should -BeLessThan $standard.EstimatedDuration
    }

    It 'builds the AMI with Fast Launch, waits until its snapshots are on hand, and every new node boots from one' {
        $report = Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageSource Build -FastLaunch -Force -WarningVariable warned -WarningAction SilentlyContinue
        $group = $report.Groups[0]
        $group.Result | Should -Be 'Patched'
        $group.AfterImageId | Should -Be $group.TargetImageId
        (Get-WinNodeAmiFastLaunch -ImageId $group.TargetImageId).State | Should -Be 'enabled'
        # The pre-flight names the snapshots against the launches (as a warning while it runs).
        ($warned -join "`n") | Should -BeLike "*FastLaunch $($group.TargetImageId): EC2 Fast Launch is enabled*pre-provisioned snapshot(s) on hand*every new node can boot from one*"
        $group.Boot.Nodes | Should -Be $group.NodesReplaced
        $timeline = Get-WinEksSimulatorReport
        foreach ($node in $group.Nodes) {
            ($timeline.Events | Where-Object { $_.NodeName -eq $node.NewNodeName -and $_.Kind -eq 'OsReady' } | Select-Object -First 1).Detail |
                Should -BeLike 'restored from pre-provisioned snapshot snap-*'
        }
    }
}
