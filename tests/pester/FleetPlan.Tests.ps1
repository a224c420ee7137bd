# Fleet plans end to end against the simulator's fleet scenario (accounts dev, staging and prod, each with a cluster in
# us-west-2 and eu-west-1): a plan built from Get-WinEksCluster across profiles, kept as YAML or JSON, and run wave by
# wave with Invoke-WinEksFleetPatch, each target through its own account's credentials and region.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)
    $script:sim = Start-WinEksSimulator -Scenario fleet -TimeScale 600

    # Windows groups of a target behind the newest EKS AMI.
    function Get-Behind([string] $ProfileName, [string] $Region, [string] $ClusterName) {
        @(Get-WinPatchStatus -ProfileName $ProfileName -Region $Region -ClusterName $ClusterName | Where-Object MonthsBehind -gt 0)
    }
}

AfterAll { Stop-WinEksSimulator }

Describe 'a fleet plan as objects and files' {
    BeforeAll {
        $script:plan = 'dev', 'staging', 'prod' | ForEach-Object { Get-WinEksCluster -ProfileName $_ -Region us-west-2 } |
            New-WinEksFleetPlan -Name patch-tuesday -WaveBy Tag:environment -WaveOrder dev, staging, prod -SoakTime 00:10:00 -MaxSurge 2
    }

    It 'groups the clusters into waves in the order given, each target with its profile and region' {
        $plan.Waves.Name | Should -Be @('dev', 'staging', 'prod')
        $plan.Waves[2].Targets[0].Key | Should -Be 'prod/us-west-2/prod-usw2'
        $plan.Waves.SoakTime | Should -Be @([TimeSpan]'00:10:00', [TimeSpan]'00:10:00', [TimeSpan]'00:10:00')
        $plan.Rollout.MaxSurge | Should -Be '2'
    }

    It 'refuses a -WaveOrder that leaves a wave out, naming it' {
        $failure = { Get-WinEksCluster -ProfileName prod | New-WinEksFleetPlan -Name p -WaveBy ProfileName -WaveOrder dev -ErrorAction Stop } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -Be 'FleetPlanInvalid,WinEksPatch.Commands.NewWinEksFleetPlanCommand'
        $failure.Exception.Message | Should -Match 'does not place prod'
    }

    It 'writes YAML and JSON that read back as the same plan' {
        foreach ($file in 'plan.yaml', 'plan.json') {
            $path = Join-Path $TestDrive $file
            $plan | Export-WinEksFleetPlan -Path $path | Should -BeOfType System.IO.FileInfo
            $back = Import-WinEksFleetPlan -Path $path
            ($back.Waves | ForEach-Object { $_.Targets.Key }) | Should -Be ($plan.Waves | ForEach-Object { $_.Targets.Key })
            $back.Waves[0].SoakTime | Should -Be ([TimeSpan]'00:10:00')
        }
        (Get-Content (Join-Path $TestDrive 'plan.yaml') -Raw) | Should -Match '(?m)^\s*- name: staging$'
        { $plan | Export-WinEksFleetPlan -Path (Join-Path $TestDrive 'plan.yaml') -NoClobber -ErrorAction Stop } | Should -Throw -ErrorId 'ReportPathInvalid,*'
    }

    It 'names the field of a plan file it cannot use' {
        $path = Join-Path $TestDrive 'bad.yaml'
        "name: p`nwaves:`n  - name: w`n    maxConcurency: 2`n    targets: [ { region: us-west-2, clusterName: c } ]" | Set-Content $path
        $failure = { Import-WinEksFleetPlan -Path $path -ErrorAction Stop } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -Be 'FleetPlanInvalid,WinEksPatch.Commands.ImportWinEksFleetPlanCommand'
        $failure.Exception.Message | Should -Match 'waves\[0\].*maxConcurency'
    }
}

Describe 'Invoke-WinEksFleetPatch' {
    It '-WhatIf plans every target of every wave and changes nothing' {
        $plan = 'dev', 'prod' | ForEach-Object { Get-WinEksCluster -ProfileName $_ -Region eu-west-1 } |
            New-WinEksFleetPlan -Name eu -WaveBy ProfileName -WaveOrder dev, prod
        $report = $plan | Invoke-WinEksFleetPatch -WhatIf -WarningAction SilentlyContinue | Where-Object { $_ -is [WinEksPatch.WinEksFleetReport] }
        $report.Result | Should -Be 'Planned'
        ($report.Waves.Targets.Result | Sort-Object -Unique) | Should -Be 'Planned'
        (Get-Behind prod eu-west-1 prod-euw1).Count | Should -Be 2 -Because 'nothing was changed'
    }

    It 'a target that is not there fails the plan before any change' {
        $plan = Get-WinEksCluster -ProfileName dev -Region us-west-2 | New-WinEksFleetPlan -Name missing
        $plan.Waves[0].Targets.Add([WinEksPatch.WinEksFleetTarget]@{ ProfileName = 'prod'; Region = 'us-west-2'; ClusterName = 'no-such-cluster' })
        $failure = { $plan | Invoke-WinEksFleetPatch -Force -ErrorAction Stop } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -Be 'FleetPlanFailed,WinEksPatch.Commands.InvokeWinEksFleetPatchCommand'
        $failure.Exception.Message | Should -Match "prod/us-west-2/no-such-cluster: No EKS cluster named 'no-such-cluster'"
        (Get-Behind dev us-west-2 dev-usw2).Count | Should -Be 2 -Because 'the first target was not touched either'
    }

    It 'refuses a profile that reaches a cluster of the same name in another account than the plan names' {
        $plan = Get-WinEksCluster -ProfileName prod -Region us-west-2 | New-WinEksFleetPlan -Name wrong-account
        $plan.Waves[0].Targets[0].AccountId | Should -Be '777788889999' -Because 'New-WinEksFleetPlan takes it from the cluster''s ARN'
        $plan.Waves[0].Targets[0].AccountId = '444455556666'
        $failure = { $plan | Invoke-WinEksFleetPatch -Force -ErrorAction Stop } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -Be 'FleetPlanFailed,WinEksPatch.Commands.InvokeWinEksFleetPatchCommand'
        $failure.Exception.Message | Should -Match 'the plan names account 444455556666, and profile prod reaches the cluster in account 777788889999'
    }

    It 'patches the waves in order, two targets at once, each in its own account and region, and leaves the rest alone' {
        $dev = 'us-west-2', 'eu-west-1' | ForEach-Object { Get-WinEksCluster -ProfileName dev -Region $_ }
        $plan = @($dev) + @(Get-WinEksCluster -ProfileName staging -Region eu-west-1) |
            New-WinEksFleetPlan -Name two-waves -WaveBy ProfileName -WaveOrder dev, staging -MaxConcurrency 2 -SoakTime 00:05:00
        $reportPath = Join-Path $TestDrive 'fleet.json'
        $report = $plan | Invoke-WinEksFleetPatch -ReportPath $reportPath -Force -WarningAction SilentlyContinue

        $report.Result | Should -Be 'Succeeded'
        $report.Waves.Result | Should -Be @('Succeeded', 'Succeeded')
        foreach ($target in $report.Waves.Targets) {
            $target.Result | Should -Be 'Succeeded'
            $target.Report.Region | Should -Be $target.Region
            $target.SoakedUntil - $target.Report.FinishedAt | Should -BeGreaterOrEqual ([TimeSpan]'00:05:00')
            (Get-Behind $target.ProfileName $target.Region $target.ClusterName).Count | Should -Be 0 -Because "$($target.Key) was patched"
        }
        $dev = $report.Waves[0].Targets
        ($dev | Sort-Object StartedAt | Select-Object -Last 1).StartedAt | Should -BeLessThan ($dev | Sort-Object FinishedAt | Select-Object -First 1).FinishedAt -Because 'the two dev targets ran side by side'
        $report.Waves[1].Targets[0].StartedAt | Should -BeGreaterThan ($dev.FinishedAt | Sort-Object | Select-Object -Last 1) -Because 'staging waits for the dev wave'
        (Get-Behind prod us-west-2 prod-usw2).Count | Should -Be 2 -Because 'prod was not in the plan'
        (Get-Behind staging us-west-2 staging-usw2).Count | Should -Be 2 -Because 'only staging''s eu-west-1 cluster was'

        $saved = Get-Content $reportPath -Raw | ConvertFrom-Json
        $saved.result | Should -Be 'Succeeded'
        @($saved.waves.targets.result) | Should -Be @('Succeeded', 'Succeeded', 'Succeeded')

        # Run again from the report: nothing is patched twice.
        $again = $plan | Invoke-WinEksFleetPatch -ResumeFrom $reportPath -Force
        $again.Result | Should -Be 'Succeeded'
        ($again.Waves.Targets.Result | Sort-Object -Unique) | Should -Be 'AlreadyDone'
    }
}

Describe 'a bad AMI that only the health gates catch' {
    It 'is caught in the canary: one node replaced and rolled back, the gate and the evidence named, the rest untouched' {
        # The newest EKS AMI of staging's us-west-2 self-managed group is bad: its nodes boot, join and turn Ready, and
        # half an hour later they turn NotReady. The rollout itself succeeds; only the soak sees it.
        $group = 'staging-usw2-win-selfmanaged'
        $status = Get-WinPatchStatus -ProfileName staging -Region us-west-2 -ClusterName staging-usw2 -NodeGroupName $group
        $bad = $status.LatestImageId
        $null = Add-WinEksSimulatorFault -ProfileName staging -Region us-west-2 -Kind NodeFails -ImageId $bad -AfterSeconds 1800 -NodeGroupName $group

        $plan = 'staging', 'prod' | ForEach-Object { Get-WinEksCluster -ProfileName $_ -Region us-west-2 } |
            ForEach-Object { $_ | Add-Member -NotePropertyName NodeGroupName -NotePropertyValue "$($_.ClusterName)-win-selfmanaged" -PassThru } |
            New-WinEksFleetPlan -Name gated -WaveBy ProfileName -WaveOrder staging, prod -SoakTime 01:00:00 -MaxSurge 3 -Canary
        $failure = $null
        try { $plan | Invoke-WinEksFleetPatch -Force -WarningAction SilentlyContinue -OutVariable out | Out-Null } catch { $failure = $_ }

        $failure.FullyQualifiedErrorId | Should -Be 'FleetPlanFailed,WinEksPatch.Commands.InvokeWinEksFleetPatchCommand'
        $report = $out | Where-Object { $_ -is [WinEksPatch.WinEksFleetReport] }
        $report.Result | Should -Be 'Failed'
        $staging = $report.Waves[0].Targets[0]
        $staging.CanaryReport.Succeeded | Should -BeTrue -Because "the canary's rollout itself went through, its node Ready ($($staging.Error))"
        $staging.CanaryReport.NodesReplaced | Should -Be 1 -Because 'a canary is one node'
        $staging.FailedGate | Should -Be 'NodesReady'
        $staging.Error | Should -Match '^the canary''s NodesReady gate failed'
        $staging.GateEvidence | Should -Match 'NotReady'
        $staging.Result | Should -Be 'RolledBack' -Because "the group goes back to the AMI it ran ($($staging.Error))"
        (Get-WinPatchStatus -ProfileName staging -Region us-west-2 -ClusterName staging-usw2 -NodeGroupName $group).ImageId | Should -Be $status.ImageId

        $report.Waves[1].Result | Should -Be 'NotStarted'
        $report.Waves[1].Targets[0].Result | Should -Be 'NotStarted'
        @((Get-WinEksSimulatorReport -ProfileName prod -Region us-west-2).ApiCalls | Where-Object Mutating).Count | Should -Be 0 -Because 'prod was never touched'
    }

    It 'trips a CloudWatch alarm that the alarm gate reads: caught in the canary and rolled back, and no target starts while it is in ALARM' {
        # The same group, back on its earlier AMI after the test above. Now its newest AMI breaks the workloads in a way
        # Kubernetes does not see: the web tier's 5XX alarm goes into ALARM ten minutes after a node of it turns Ready.
        $group = 'staging-usw2-win-selfmanaged'
        $status = Get-WinPatchStatus -ProfileName staging -Region us-west-2 -ClusterName staging-usw2 -NodeGroupName $group
        $status.ImageId | Should -Not -Be $status.LatestImageId -Because 'the group must be behind for the canary to have work'
        Get-WinEksSimulatorFault -ProfileName staging -Region us-west-2 | Remove-WinEksSimulatorFault -ProfileName staging -Region us-west-2
        $null = Add-WinEksSimulatorFault -ProfileName staging -Region us-west-2 -Kind Alarm -ImageId $status.LatestImageId -AlarmName staging-usw2-windows-5xx -AfterSeconds 600 -NodeGroupName $group

        $plan = Get-WinEksCluster -ProfileName staging -Region us-west-2 |
            Add-Member -NotePropertyName NodeGroupName -NotePropertyValue $group -PassThru |
            New-WinEksFleetPlan -Name alarmed -SoakTime 00:30:00 -MaxSurge 3 -Canary -AlarmName '{ClusterName}-windows-5xx'
        $plan.Waves[0].Gates.Alarms | Should -Be '{ClusterName}-windows-5xx'
        $failure = $null
        try { $plan | Invoke-WinEksFleetPatch -Force -WarningAction SilentlyContinue -OutVariable out | Out-Null } catch { $failure = $_ }

        $failure.FullyQualifiedErrorId | Should -Be 'FleetPlanFailed,WinEksPatch.Commands.InvokeWinEksFleetPatchCommand'
        $target = ($out | Where-Object { $_ -is [WinEksPatch.WinEksFleetReport] }).Waves[0].Targets[0]
        $target.CanaryReport.NodesReplaced | Should -Be 1
        $target.FailedGate | Should -Be 'Alarms' -Because "nothing Kubernetes shows is wrong ($($target.Error))"
        $target.GateEvidence | Should -Match '^staging-usw2-windows-5xx in ALARM since \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ: Threshold Crossed'
        $target.Result | Should -Be 'RolledBack' -Because $target.Error
        (Get-WinPatchStatus -ProfileName staging -Region us-west-2 -ClusterName staging-usw2 -NodeGroupName $group).ImageId | Should -Be $status.ImageId

        # The alarm stays in ALARM (nobody set it back): a second run does not start the target, and changes nothing.
        $null = Get-WinEksSimulatorReport -ProfileName staging -Region us-west-2 -Reset
        $again = $null
        try { $plan | Invoke-WinEksFleetPatch -Force -WarningAction SilentlyContinue -OutVariable second | Out-Null } catch { $again = $_ }
        $again | Should -Not -BeNullOrEmpty
        $retry = ($second | Where-Object { $_ -is [WinEksPatch.WinEksFleetReport] }).Waves[0].Targets[0]
        ($retry.Result, $retry.FailedGate) | Should -Be @('Failed', 'Alarms')
        $retry.Error | Should -Match '^Not started, nothing changed: the Alarms gate failed: staging-usw2-windows-5xx in ALARM'
        @((Get-WinEksSimulatorReport -ProfileName staging -Region us-west-2).ApiCalls | Where-Object Mutating).Count | Should -Be 0
    }
}


Describe 'a run killed mid-plan' {
    It 'resumes from its report: what finished is not patched again, the target it was in finishes' {
        $plan = 'eu-west-1', 'us-west-2' | ForEach-Object { Get-WinEksCluster -ProfileName prod -Region $_ } |
            ForEach-Object { $_ | Add-Member -NotePropertyName NodeGroupName -NotePropertyValue "$($_.ClusterName)-win-selfmanaged" -PassThru } |
            New-WinEksFleetPlan -Name killed -SoakTime 00:05:00 -MaxSurge 4
        $planPath = Join-Path $TestDrive 'killed.yaml'
        $reportPath = Join-Path $TestDrive 'killed-report.json'
        $null = $plan | Export-WinEksFleetPlan -Path $planPath

        # A scheduled task runs the plan, attached to this session's simulator through the environment; it is killed once
        # its second target has started. (Attached that way, the run once signed its EKS tokens on the wall clock: 401s.)
        $script = Join-Path $TestDrive 'run-plan.ps1'
        "Import-Module '$(Get-TestModulePath)'; Invoke-WinEksFleetPatch -Path '$planPath' -ReportPath '$reportPath' -Force -WarningAction SilentlyContinue | Out-Null" | Set-Content $script
        $start = [Diagnostics.ProcessStartInfo]::new('dotnet')
        foreach ($a in (Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-File', $script) { $start.ArgumentList.Add($a) }
        $start.Environment['WINEKSPATCH_SIMULATOR_ENDPOINT'] = $sim.Endpoint
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $task = [Diagnostics.Process]::Start($start)
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(120)
            do {
                Start-Sleep -Milliseconds 50
                $saved = if (Test-Path $reportPath) { try { Get-Content $reportPath -Raw | ConvertFrom-Json } catch { $null } }
            } until (($saved -and $saved.waves[0].targets[1].result -eq 'Running') -or $task.HasExited -or [DateTime]::UtcNow -gt $deadline)
            # (Its stderr is read only if it has ended: reading it sooner would wait for the end.)
            if ($task.HasExited) { throw "the run ended before its second target started: $($task.StandardError.ReadToEnd() -replace '\e\[[0-9;]*m', '')" }
            $task.Kill($true)
            $task.WaitForExit(10000) | Should -BeTrue
        }
        finally { if (-not $task.HasExited) { $task.Kill($true) } }

        $saved = Get-Content $reportPath -Raw | ConvertFrom-Json
        @($saved.waves[0].targets.result) | Should -Be @('Succeeded', 'Running') -Because 'the report the killed run left is whole'

        $report = Invoke-WinEksFleetPatch -Path $planPath -ResumeFrom $reportPath -ReportPath $reportPath -Force -WarningAction SilentlyContinue
        $report.Result | Should -Be 'Succeeded'
        @($report.Waves[0].Targets.Result) | Should -Be @('AlreadyDone', 'Succeeded')
        foreach ($target in $report.Waves[0].Targets) {
            $group = "$($target.ClusterName)-win-selfmanaged"
            (Get-WinPatchStatus -ProfileName prod -Region $target.Region -ClusterName $target.ClusterName -NodeGroupName $group).MonthsBehind | Should -Be 0
        }
        $group = Get-WinNodeGroup -ProfileName prod -Region us-west-2 -ClusterName prod-usw2 -NodeGroupName prod-usw2-win-selfmanaged
        $group.NodeCount | Should -Be $group.DesiredSize -Because 'no node was launched twice'
    }
}
