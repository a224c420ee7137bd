# Rollouts wider than the demo's four nodes (tests/pester/scenarios/wide.json: ten self-managed Windows nodes three
# patches behind, percentage budgets): -MaxUnavailable above 0, percentage limits, and a stopped rollout resumed with a
# window smaller than the group, each judged by the simulator's own report.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)
    $script:group = 'wide-win-wide'
    $script:kubectlExe = (Get-Command kubectl -CommandType Application | Select-Object -First 1).Source

    function Start-WideSimulator {
        $script:sim = Start-WinEksSimulator -Scenario (Join-Path $PSScriptRoot 'scenarios/wide.json') -TimeScale 600
        $script:latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
        $null = Set-NodeGroupAmi -ClusterName wide -NodeGroupName $group -ImageId $latest.ImageId -Force
        $null = Get-WinEksSimulatorReport -Reset
    }
    function kubectl { & $kubectlExe --kubeconfig $sim.KubeConfigPath --context wide @args }

    # A rollout in a runspace of its own in this process (same module, same simulator), so that it can be stopped as
    # Ctrl+C stops a pipeline and its progress records read: they say the order it takes nodes in.
    function Start-WideRollout([string] $Limits) {
        $runspace = [runspacefactory]::CreateRunspace(); $runspace.Open()
        $ps = [powershell]::Create(); $ps.Runspace = $runspace
        $null = $ps.AddScript("Import-Module '$(Get-TestModulePath)'; Invoke-NodeReplacement -ClusterName wide -NodeGroupName $group $Limits " +
            "-Confirm:`$false -Verbose -WarningAction SilentlyContinue")
        [pscustomobject]@{ PowerShell = $ps; Runspace = $runspace; Handle = $ps.BeginInvoke() }
    }

    # The order a run took nodes in, from its progress records ("node N of M: i-...").
    function Get-StartOrder($rollout) {
        @($rollout.PowerShell.Streams.Progress | Where-Object StatusDescription -match '^node \d+ of \d+: (i-[0-9a-f]+)' |
            ForEach-Object { $_.StatusDescription -replace '^node \d+ of \d+: (i-[0-9a-f]+).*$', '$1' } | Select-Object -Unique)
    }

    # The most old nodes cordoned and not yet gone at any one time, from the simulator's event log.
    function Get-MostInProgress($events) {
        $inProgress = 0; $most = 0
        foreach ($e in $events | Sort-Object At) {
            if ($e.Kind -eq 'NodeCordoned') { $inProgress++ } elseif ($e.Kind -eq 'NodeRemoved') { $inProgress-- }
            $most = [Math]::Max($most, $inProgress)
        }
        $most
    }

    # Every old node the report shows removed was cordoned first; the group kept its floor and no budget was violated.
    function Assert-SafeRollout($report, [int] $Floor) {
        $report.PdbViolations | Should -BeNullOrEmpty
        $report.PodsDeletedNotEvicted | Should -BeNullOrEmpty
        ($report.LowestReadyNodes | Where-Object NodeGroup -eq $group).Lowest | Should -BeGreaterOrEqual $Floor
        $cordoned = @($report.Events | Where-Object Kind -eq 'NodeCordoned').Node
        @($report.Events | Where-Object { $_.Kind -eq 'NodeRemoved' -and $_.NodeGroup -eq $group }).Node | ForEach-Object { $cordoned | Should -Contain $_ }
    }
}

Describe 'Percentage limits on a ten-node group' {
    BeforeAll {
        Start-WideSimulator
        kubectl scale deployment payments -n shop --replicas=2 | Out-Null   # so that no drain here waits on a lone replica
    }
    AfterAll { Stop-WinEksSimulator }

    It 'are resolved as Kubernetes resolves them (surge rounded up, unavailable down), in the plan: <Surge> / <Unavailable>' -ForEach @(
        @{ Surge = '25%'; Unavailable = '25%'; ExpectedSurge = 3; ExpectedUnavailable = 2; Floor = 8 }
        @{ Surge = '0'; Unavailable = '10%'; ExpectedSurge = 0; ExpectedUnavailable = 1; Floor = 9 }
        @{ Surge = '100%'; Unavailable = '0'; ExpectedSurge = 10; ExpectedUnavailable = 0; Floor = 10 }
    ) {
        $plan = Invoke-NodeReplacement -ClusterName wide -NodeGroupName $group -MaxSurge $Surge -MaxUnavailable $Unavailable -WhatIf -WarningAction SilentlyContinue
        ($plan.MaxSurge, $plan.MaxUnavailable, $plan.CapacityFloor) | Should -Be @($ExpectedSurge, $ExpectedUnavailable, $Floor)
        $plan.NodesToReplace | Should -Be 10
        $plan.Window | Should -Be ([Math]::Max(1, $ExpectedSurge + $ExpectedUnavailable))
        # The first window starts at once; every later step once the step a window before it is done.
        ($plan.Steps | ForEach-Object { "$($_.AfterStep)" }) | Should -Be (1..10 | ForEach-Object { $_ -gt $plan.Window ? "$($_ - $plan.Window)" : '' })
    }

    It 'runs the plan -WhatIf showed, MaxSurge + MaxUnavailable nodes at once with -MaxSurge 10% -MaxUnavailable 20%, never below the floor or past a budget' {
        $plan = Invoke-NodeReplacement -ClusterName wide -NodeGroupName $group -MaxSurge 10% -MaxUnavailable 20% -WhatIf -WarningAction SilentlyContinue
        $rollout = Start-WideRollout '-MaxSurge 10% -MaxUnavailable 20%'
        try {
            $results = @($rollout.PowerShell.EndInvoke($rollout.Handle))
            $errors = @($rollout.PowerShell.Streams.Error)   # read before Dispose, which empties the error stream
            $order = @(Get-StartOrder $rollout)
        }
        finally { $rollout.PowerShell.Dispose(); $rollout.Runspace.Dispose() }
        $errors | Should -BeNullOrEmpty
        $order | Should -Be $plan.Steps.InstanceId -Because 'the run takes the nodes in the order of the plan'
        @($results).Count | Should -Be 10
        @($results | Where-Object Result -ne 'Replaced') | Should -BeNullOrEmpty
        $report = Get-WinEksSimulatorReport
        Assert-SafeRollout $report -Floor 8
        # One surge node and two unavailable: up to three old nodes in progress at once, which a one-at-a-time rollout never reaches.
        Get-MostInProgress @($report.Events | Where-Object { $_.NodeGroup -eq $group -or $_.Kind -eq 'NodeCordoned' }) | Should -Be 3
        @($report.Events | Where-Object { $_.Kind -eq 'NodeAdded' -and $_.NodeGroup -eq $group }).Count | Should -Be 10
        $final = Get-WinNodeGroup -ClusterName wide -Name $group
        ($final.DesiredSize, $final.NodeCount, $final.RolloutInProgress) | Should -Be @(10, 10, $false)
        (Get-WinPatchStatus -ClusterName wide -NodeGroupName $group).OutdatedNodes | Should -Be 0
    }
}

Describe 'A rollout stopped mid-drain and resumed, with a window of two on ten nodes' {
    BeforeAll {
        Start-WideSimulator
        function Start-Rollout { Start-WideRollout '-MaxSurge 1 -MaxUnavailable 1 -DrainTimeout 10:00:00' }
    }
    AfterAll { Stop-WinEksSimulator }

    It 'takes the half-drained nodes first when re-run, launches nothing twice and terminates each old instance once, after its drain' {
        $rollout = Start-Rollout
        try {
            # The single payments replica (budget minAvailable 1) holds its node's drain: stop there, as Ctrl+C would.
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            while (-not ($rollout.PowerShell.Streams.Verbose.Message -match 'blocked by PodDisruptionBudget payments') -and -not $rollout.Handle.IsCompleted -and [DateTime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 50
            }
            $rollout.Handle.IsCompleted | Should -BeFalse -Because 'the payments node''s drain should hold the rollout'
            $rollout.PowerShell.Stop()
            $firstOrder = @(Get-StartOrder $rollout)
        }
        finally { $rollout.PowerShell.Dispose(); $rollout.Runspace.Dispose() }

        $halfDone = @(Get-WinNode -ClusterName wide -NodeGroupName $group | Where-Object { -not $_.Schedulable -and $_.ImageId -ne $latest.ImageId }).InstanceId
        $halfDone.Count | Should -BeGreaterThan 0
        $left = @(Get-WinNode -ClusterName wide -NodeGroupName $group | Where-Object ImageId -ne $latest.ImageId).InstanceId
        $left.Count | Should -BeGreaterThan $halfDone.Count -Because 'untouched old nodes remain besides the half-drained ones, so the order matters'
        (Get-WinNodeGroup -ClusterName wide -Name $group).RolloutInProgress | Should -BeTrue

        kubectl scale deployment payments -n shop --replicas=2 | Out-Null   # the budget allows the drain once the new replica is Ready
        $again = Start-Rollout
        try {
            $results = @($again.PowerShell.EndInvoke($again.Handle))
            $errors = @($again.PowerShell.Streams.Error)   # read before Dispose, which empties the error stream
            $order = @(Get-StartOrder $again)
        }
        finally { $again.PowerShell.Dispose(); $again.Runspace.Dispose() }
        $errors | Should -BeNullOrEmpty
        $order[0..($halfDone.Count - 1)] | Sort-Object | Should -Be ($halfDone | Sort-Object) -Because 'a resumed rollout finishes what it had started first'
        $order | Sort-Object | Should -Be ($left | Sort-Object)
        $results.OldInstanceId | Sort-Object | Should -Be ($left | Sort-Object)

        $report = Get-WinEksSimulatorReport
        Assert-SafeRollout $report -Floor 9
        # Over both runs: each of the ten old instances terminated once, one launch for each, no second surge.
        (($report.ApiCalls | Where-Object Operation -eq 'TerminateInstanceInAutoScalingGroup').Count | Measure-Object -Sum).Sum | Should -Be 10
        @($report.Events | Where-Object { $_.Kind -eq 'NodeAdded' -and $_.NodeGroup -eq $group }).Count | Should -Be 10
        @($firstOrder + $order | Sort-Object -Unique).Count | Should -Be 10 -Because 'the two runs between them took every old node'
        $final = Get-WinNodeGroup -ClusterName wide -Name $group
        ($final.DesiredSize, $final.NodeCount, $final.RolloutInProgress) | Should -Be @(10, 10, $false)
        @($final.SuspendedProcesses).Count | Should -Be 0
    }
}
