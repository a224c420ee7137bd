# Invoke-NodeReplacement and Invoke-WinEksPatch end to end against the simulator: the demo's self-managed group is
# four nodes on an AMI five monthly patches old. Each Describe gets its own simulator (rollouts change the world).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)

    function Start-RolloutSimulator {
        $script:sim = Start-WinEksSimulator -Scenario demo -TimeScale 600
        $script:latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
        $null = Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageId $latest.ImageId -Force
    }

    # A simulator of its own process (Start-TestSimulator), for tests in which the AWS SDK for JavaScript plays someone
    # else (Invoke-AwsCall): this session connects to it and the demo's self-managed group is pointed at the latest EKS AMI.
    function Start-SharedRolloutSimulator {
        $shared = Start-TestSimulator -TimeScale 600
        $null = Connect-WinEksSimulator -Endpoint $shared.endpoint
        $script:sim = [pscustomobject]@{ KubeConfigPath = $shared.kubeConfigPath }
        $script:latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
        $null = Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageId $latest.ImageId -Force
        $shared
    }

    # A rollout of the demo's self-managed group in a runspace of its own in this process, so that it can be stopped as
    # Ctrl+C stops a pipeline and watched through its streams meanwhile; with -Endpoint it attaches to that simulator first.
    function Start-RunspaceRollout([string] $Arguments, [string] $Endpoint) {
        $runspace = [runspacefactory]::CreateRunspace(); $runspace.Open()
        $ps = [powershell]::Create(); $ps.Runspace = $runspace
        $connect = $Endpoint ? "`$null = Connect-WinEksSimulator -Endpoint '$Endpoint'; " : ''
        $null = $ps.AddScript("Import-Module '$(Get-TestModulePath)'; $connect" +
            "Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged $Arguments -Confirm:`$false -Verbose")
        [pscustomobject]@{ PowerShell = $ps; Runspace = $runspace; Handle = $ps.BeginInvoke() }
    }

    # Waits (up to 120 s) until the rollout says the payments budget holds a drain; returns those messages.
    # (Not ... | Where-Object on the open stream: enumerating a running pipeline's PSDataCollection blocks until it ends.)
    function Wait-PaymentsBlocked($rollout) {
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        while (-not ($rollout.PowerShell.Streams.Verbose.Message -match 'blocked by PodDisruptionBudget payments') -and -not $rollout.Handle.IsCompleted -and
            [DateTime]::UtcNow -lt $deadline) {
            Start-Sleep -Milliseconds 50
        }
        @($rollout.PowerShell.Streams.Verbose.Message -match 'blocked by PodDisruptionBudget payments')
    }

    $script:kubectlExe = (Get-Command kubectl -CommandType Application | Select-Object -First 1).Source
    function kubectl { & $kubectlExe --kubeconfig $sim.KubeConfigPath --context demo @args }

    # Puts the single payments replica (PDB minAvailable 1) on a self-managed node, so that node's drain is blocked:
    # cordon the managed nodes, delete the pod so its ReplicaSet recreates it there, uncordon. Returns that node.
    function Move-PaymentsToSelfManaged {
        $managed = (Get-WinNode -ClusterName demo -NodeGroupName win-managed).NodeName
        $managed | ForEach-Object { kubectl cordon $_ | Out-Null }
        kubectl delete pod -n shop -l app=payments --wait=false | Out-Null
        $deadline = (Get-Date).AddSeconds(60)
        do {
            Start-Sleep -Milliseconds 500
            $placed = @(kubectl get pods -n shop -l app=payments -o 'jsonpath={range .items[*]}{.spec.nodeName} {.status.phase}{"\n"}{end}')
        } until (($placed -match 'Running') -or (Get-Date) -gt $deadline)
        $managed | ForEach-Object { kubectl uncordon $_ | Out-Null }
        @($placed -match 'Running')[0].Split(' ')[0]
    }
}

Describe 'Invoke-NodeReplacement plans before it acts' {
    BeforeAll { Start-RolloutSimulator }
    AfterAll { Stop-WinEksSimulator }

    It '-WhatIf writes the plan with its pre-flight and changes nothing' {
        $plan = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 2 -WhatIf -WarningVariable findings -WarningAction SilentlyContinue
        $plan.TargetImageId | Should -Be $latest.ImageId
        $plan.NodesToReplace | Should -Be 4
        # The sliding window as it will run: two old nodes in progress at once, the third once the first is done.
        $plan.Window | Should -Be 2
        $plan.Steps.Step | Should -Be @(1, 2, 3, 4)
        ($plan.Steps | ForEach-Object { "$($_.AfterStep)" }) | Should -Be @('', '', '1', '2')
        $plan.Steps.InstanceId | Sort-Object | Should -Be ((Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged).InstanceId | Sort-Object)
        $plan.Steps[0].Reason | Should -BeLike 'oldest first (launched *)'
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

    It 'refuses a limit above the group''s size, a percentage above 100 and a timeout that is not positive, before any change' {
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxUnavailable 10000 -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidRolloutLimit,WinEksPatch.Commands.InvokeNodeReplacementCommand' -ExpectedMessage '*more than the 4 node(s) of demo-win-selfmanaged*100% means all*'
        # A percentage above 100, a huge count and a timeout that is not positive fail when PowerShell binds them, with the range.
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 250% -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,WinEksPatch.Commands.InvokeNodeReplacementCommand' -ExpectedMessage "*'MaxSurge'*'250%' is not a rollout limit*count from 0 to 10,000*percentage of the group from 0% to 100%*"
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxUnavailable 99999999999 -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,WinEksPatch.Commands.InvokeNodeReplacementCommand' -ExpectedMessage "*'MaxUnavailable'*count from 0 to 10,000*"
        { Invoke-WinEksPatch -ClusterName demo -DrainTimeout '-00:05:00' -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,WinEksPatch.Commands.InvokeWinEksPatchCommand' -ExpectedMessage "*'DrainTimeout'*from 00:00:01 to 7.00:00:00*"
        # A bare number is ticks to PowerShell (3 µs: every new instance would be "not ready"), a string of one is days.
        { Invoke-WinEksPatch -ClusterName demo -ReadyTimeout 30 -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,WinEksPatch.Commands.InvokeWinEksPatchCommand' -ExpectedMessage "*'ReadyTimeout'*(30 ticks of 100 ns: a bare number is read as ticks)*"
        { Invoke-WinEksPatch -ClusterName demo -ReadyTimeout '30' -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,WinEksPatch.Commands.InvokeWinEksPatchCommand' -ExpectedMessage "*'ReadyTimeout'*30.00:00:00 is not a timeout*"
        $group = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $group.DesiredSize | Should -Be 4
        $group.RolloutInProgress | Should -BeFalse
        (Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged | Where-Object { -not $_.Schedulable }) | Should -BeNullOrEmpty
    }
}

Describe 'Invoke-NodeReplacement replaces every old node' {
    BeforeAll {
        Start-RolloutSimulator
        $script:before = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $all = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 1 -Force -WarningAction SilentlyContinue -Verbose 4>&1
        $script:results = @($all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        $script:verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $script:group = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $script:report = Get-WinEksSimulatorReport
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

    It 'counts a new node only once its pod IPs are advertised, so Windows capacity never dips below the floor' {
        # The simulator counts a Windows node only with its pod IPs: draining on Ready alone would take it to 3.
        ($report.LowestReadyNodes | Where-Object NodeGroup -eq 'demo-win-selfmanaged').Lowest | Should -BeGreaterOrEqual 4
        @($report.PdbViolations).Count | Should -Be 0
        $verbose | Should -Contain 'New nodes count once Ready, schedulable and offering vpc.amazonaws.com/PrivateIPv4Address, as the nodes they replace do.'
    }

    It 'leaves the group at its size on the new AMI, with nothing of the rollout left behind' {
        $group.DesiredSize | Should -Be $before.DesiredSize
        $group.MaxSize | Should -Be $before.MaxSize
        $group.NodeCount | Should -Be 4
        $group.ImageOsBuild | Should -Be '10.0.20348.5622'
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

    It '-WhatIf writes the plan of every step, reports the groups Planned and changes nothing (<Source>)' -ForEach @(
        @{ Source = 'EksLatest'; Step = '*new version of launch template*' }
        @{ Source = 'Build'; Step = '*Build a Windows AMI for cluster ''demo''*' }
    ) {
        $before = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        # "What if:" lines go to the host, so a transcript is what sees them.
        $log = Join-Path $TestDrive "whatif-$Source.txt"
        Start-Transcript -Path $log | Out-Null
        try { $out = Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageSource $Source -WhatIf -WarningAction SilentlyContinue }
        finally { Stop-Transcript | Out-Null }
        $whatIf = Get-Content $log -Raw
        $plans = @($out | Where-Object { $_.PSObject.TypeNames[0] -eq 'WinEksPatch.Model.NodeReplacementPlan' })
        $report = $out | Where-Object { $_.PSObject.TypeNames[0] -eq 'WinEksPatch.Model.WinEksPatchReport' }

        $whatIf | Should -BeLike $Step
        $plans.Count | Should -Be 1
        $plans[0].NodesToReplace | Should -Be 4
        $plans[0].CapacityFloor | Should -Be 4
        $plans[0].TargetImageId | Should -Be $(if ($Source -eq 'Build') { '(the AMI New-WinNodeAmi builds)' } else { (Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks).ImageId })
        $report.Succeeded | Should -BeTrue
        $report.Groups.Result | Should -Be 'Planned'
        $after = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $after.ImageId | Should -Be $before.ImageId
        $after.LaunchTemplateVersion | Should -Be $before.LaunchTemplateVersion
        $after.DesiredSize | Should -Be $before.DesiredSize
        Get-WinNodeAmi -Source ImageBuilder | Should -BeNullOrEmpty
    }

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

Describe 'A PodDisruptionBudget that allows no disruption' {
    BeforeAll {
        Start-RolloutSimulator
        $script:paymentsNode = Move-PaymentsToSelfManaged
    }
    AfterAll { Stop-WinEksSimulator }

    It 'stops the rollout at -DrainTimeout, names the pod and budget, uncordons the node and keeps capacity' {
        $paymentsNode | Should -Not -BeNullOrEmpty
        $results = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 4 -DrainTimeout 00:30:00 -Force:$false -Confirm:$false `
            -ErrorVariable failures -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'DrainTimeout,WinEksPatch.Commands.InvokeNodeReplacementCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $failures[0].Exception.Message | Should -BeLike '*shop/payments-*PodDisruptionBudget payments*'
        $timedOut = $results | Where-Object Result -eq 'DrainTimedOut'
        $timedOut.OldNodeName | Should -Be $paymentsNode
        (Get-WinNode -ClusterName demo | Where-Object NodeName -eq $paymentsNode).Schedulable | Should -BeTrue
        ($results | Where-Object Result -eq 'Replaced').Count | Should -Be 3   # the others of the batch went through
    }

    It 'Invoke-WinEksPatch -Force, as unattended runs use it, deletes nothing: the group fails naming the budget' {
        $null = Get-WinEksSimulatorReport -Reset
        # The report is written before the terminating PatchCycleFailed: -OutVariable keeps it.
        try { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -DrainTimeout 00:30:00 -Force -OutVariable out `
                -ErrorAction SilentlyContinue -WarningAction SilentlyContinue | Out-Null }
        catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -Be 'PatchCycleFailed,WinEksPatch.Commands.InvokeWinEksPatchCommand'
        $group = $out[-1].Groups | Where-Object NodeGroupName -eq 'demo-win-selfmanaged'
        $group.Result | Should -Be 'Failed'
        $group.Error | Should -BeLike 'DrainTimeout:*PodDisruptionBudget payments*'
        $group.Error | Should -BeLike "*$paymentsNode) uncordoned and kept (its drain timed out)*"
        $group.PodsDeleted | Should -BeNullOrEmpty
        $sim = Get-WinEksSimulatorReport
        @($sim.PodsDeletedNotEvicted).Count | Should -Be 0
        @($sim.PdbViolations).Count | Should -Be 0
        (Get-WinNode -ClusterName demo | Where-Object NodeName -eq $paymentsNode).Schedulable | Should -BeTrue
    }

    It 'Invoke-WinEksPatch -OverridePodDisruptionBudget deletes what is still blocked after the timeout, and its report names the pod, the blocker and the group''s calls' {
        $report = Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -DrainTimeout 00:30:00 -OverridePodDisruptionBudget -Force -WarningAction SilentlyContinue
        $group = $report.Groups | Where-Object NodeGroupName -eq 'demo-win-selfmanaged'
        $forced = $group.Nodes | Where-Object Result -eq 'ReplacedPodsDeleted'
        $forced.OldNodeName | Should -Be $paymentsNode
        $forced.PodsDeleted | Should -BeLike 'shop/payments-*'
        $forced.Blockers | Should -BeLike '*PodDisruptionBudget payments*'
        $group.Result | Should -Be 'Patched'
        $group.PodsDeleted | Should -BeLike 'shop/payments-*'
        $group.Blockers | Should -BeLike '*PodDisruptionBudget payments*'
        # The group's own calls: the rollout's evictions and its one termination; the assessment before it is the run's only.
        ($group.ApiCalls | Where-Object Operation -eq 'create pods/eviction').Count | Should -BeGreaterThan 0
        ($group.ApiCalls | Where-Object Operation -eq 'TerminateInstanceInAutoScalingGroup').Count | Should -Be 1
        ($report.ApiCalls | Measure-Object Count -Sum).Sum | Should -BeGreaterThan ($group.ApiCalls | Measure-Object Count -Sum).Sum
        (Get-WinPatchStatus -ClusterName demo -NodeGroupName demo-win-selfmanaged).OutdatedNodes | Should -Be 0
    }
}

Describe 'A node that will not drain, with -BlockedNodeAction Skip' {
    BeforeAll {
        Start-RolloutSimulator
        $script:paymentsNode = Move-PaymentsToSelfManaged
        $null = Get-WinEksSimulatorReport -Reset
    }
    AfterAll { Stop-WinEksSimulator }

    It 'is left cordoned and labelled with its replacement kept, the others are replaced, and the run ends with an error naming it' {
        $results = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 1 -DrainTimeout 00:30:00 -BlockedNodeAction Skip -Force `
            -ErrorVariable failures -ErrorAction SilentlyContinue -WarningVariable warned -WarningAction SilentlyContinue
        $failures.FullyQualifiedErrorId | Should -Be 'NodesLeftBlocked,WinEksPatch.Commands.InvokeNodeReplacementCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ResourceBusy'
        $failures[0].Exception.Message | Should -BeLike "*1 old node(s) could not be drained*$paymentsNode (i-*): its drain did not finish within 00:30:00: blocked by shop/payments-*PodDisruptionBudget payments*"
        ($results | Where-Object Result -eq 'Replaced').Count | Should -Be 3
        $blocked = $results | Where-Object Result -eq 'DrainBlocked'
        $blocked.OldNodeName | Should -Be $paymentsNode
        $blocked.Blockers | Should -BeLike '*PodDisruptionBudget payments*'
        ($warned -join "`n") | Should -BeLike "*$paymentsNode (i-*) is left cordoned and labelled winekspatch.io/drain-status=blocked*"

        kubectl get node $paymentsNode -o 'jsonpath={.spec.unschedulable} {.metadata.labels.winekspatch\.io/drain-status}' | Should -Be 'true blocked'
        $group = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $group.DesiredSize | Should -Be 5                 # the blocked node's replacement is kept
        $group.RolloutInProgress | Should -BeTrue         # the state stays for the re-run
        @($group.SuspendedProcesses).Count | Should -Be 0 # but nothing is left suspended meanwhile
        $report = Get-WinEksSimulatorReport
        ($report.LowestReadyNodes | Where-Object NodeGroup -eq 'demo-win-selfmanaged').Lowest | Should -BeGreaterOrEqual 4
        @($report.PdbViolations).Count | Should -Be 0
        @($report.PodsDeletedNotEvicted).Count | Should -Be 0
    }

    It 'is drained first and its capacity given back when the same command runs again once the budget allows it' {
        kubectl scale deployment payments -n shop --replicas=2 | Out-Null
        $results = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 1 -DrainTimeout 00:30:00 -BlockedNodeAction Skip -Force -WarningAction SilentlyContinue
        $results.OldNodeName | Should -Be $paymentsNode
        $results.Result | Should -Be 'Replaced'
        $group = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $group.DesiredSize | Should -Be 4
        $group.NodeCount | Should -Be 4
        $group.RolloutInProgress | Should -BeFalse
        (Get-WinPatchStatus -ClusterName demo -NodeGroupName demo-win-selfmanaged).OutdatedNodes | Should -Be 0
        @((Get-WinEksSimulatorReport).Events | Where-Object { $_.Kind -eq 'NodeAdded' -and $_.NodeGroup -eq 'demo-win-selfmanaged' }).Count | Should -Be 4
    }
}

Describe 'A drain blocked by a PodDisruptionBudget, stopped with Ctrl+C' {
    BeforeAll {
        Start-RolloutSimulator
        $script:paymentsNode = Move-PaymentsToSelfManaged
        # The rollout runs in this process (same module, same simulator), in a runspace of its own.
        function Start-Rollout { Start-RunspaceRollout '-MaxSurge 4 -DrainTimeout 10:00:00 -WarningAction SilentlyContinue' }
        # The setup's own kubectl delete of the payments pod is a budget violation: count from here on.
        $null = Get-WinEksSimulatorReport -Reset
    }
    AfterAll { Stop-WinEksSimulator }

    It 'a second run on the same group is refused while the first holds its lease, and -WhatIf says the group is busy' {
        $rollout = Start-Rollout
        try {
            @(Wait-PaymentsBlocked $rollout).Count | Should -BeGreaterThan 0 -Because 'the payments node''s drain should be blocked and say so'
            $leases = @(kubectl get leases -n kube-system --no-headers)
            $leases | Should -HaveCount 1
            $leases[0] | Should -Match "^winekspatch-demo-win-selfmanaged\s+$([regex]::Escape([Environment]::MachineName))_[0-9a-f]{12}\s"
            # The first run is quiet once its three other nodes are terminated and only the payments drain waits.
            $writes = { ((Get-WinEksSimulatorReport).ApiCalls | Where-Object { $_.Operation -in 'SetDesiredCapacity', 'TerminateInstanceInAutoScalingGroup', 'CreateOrUpdateTags', 'SuspendProcesses' } |
                Measure-Object Count -Sum).Sum }
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (@((Get-WinEksSimulatorReport).ApiCalls | Where-Object Operation -eq 'TerminateInstanceInAutoScalingGroup' | ForEach-Object Count) -lt 3 -and [DateTime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 100
            }
            $before = & $writes

            { Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force -ErrorAction Stop -WarningAction SilentlyContinue } |
                Should -Throw -ErrorId 'NodeGroupBusy,WinEksPatch.Commands.InvokeNodeReplacementCommand' -ExpectedMessage "*is being rolled out by $([Environment]::UserName)@$([Environment]::MachineName) (process $PID, run *"
            try { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force -OutVariable out -ErrorAction SilentlyContinue -WarningAction SilentlyContinue | Out-Null }
            catch { $failure = $_ }
            $failure.FullyQualifiedErrorId | Should -Be 'PatchCycleFailed,WinEksPatch.Commands.InvokeWinEksPatchCommand'
            $out[-1].Groups[0].Result | Should -Be 'Failed'
            $out[-1].Groups[0].Error | Should -BeLike 'NodeGroupBusy:*'
            $null = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -WhatIf -WarningVariable whatIfWarnings -WarningAction SilentlyContinue
            ($whatIfWarnings -join "`n") | Should -BeLike '*is being rolled out by*'
            & $writes | Should -Be $before -Because 'the refused runs change nothing'

            $rollout.PowerShell.Stop()
            { $rollout.PowerShell.EndInvoke($rollout.Handle) } | Should -Throw '*stopped*'
            # Ctrl+C says what each touched node is left as, and how to resume.
            ($rollout.PowerShell.Streams.Warning -join "`n") | Should -BeLike "*demo/demo-win-selfmanaged: the rollout stopped.*$paymentsNode*Run the same command again to continue where it stopped.*"
        }
        finally { $rollout.PowerShell.Dispose(); $rollout.Runspace.Dispose() }
        kubectl get leases -n kube-system -o name | Should -BeNullOrEmpty -Because 'a stopped run releases its lease'
    }

    It 'Ctrl+C mid-drain leaves the rollout resumable: the node cordoned, the group still marked and suspended' {
        (Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged | Where-Object NodeName -EQ $paymentsNode).Schedulable | Should -BeFalse
        $group = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $group.RolloutInProgress | Should -BeTrue
        $group.SuspendedProcesses | Should -Contain 'AZRebalance'
    }

    It 'the re-run names the budget again, and once a replica is Ready elsewhere the drain goes through without -Force' {
        $rollout = Start-Rollout
        try {
            @(Wait-PaymentsBlocked $rollout).Count | Should -BeGreaterThan 0 -Because 'the re-run should resume the blocked drain first'
            kubectl scale deployment payments -n shop --replicas=2 | Out-Null
            $results = @($rollout.PowerShell.EndInvoke($rollout.Handle))
            $rollout.PowerShell.Streams.Error | Should -BeNullOrEmpty
        }
        finally { $rollout.PowerShell.Dispose(); $rollout.Runspace.Dispose() }

        $payments = $results | Where-Object OldNodeName -EQ $paymentsNode
        $payments.Result | Should -Be 'Replaced'
        $payments.PodsDeleted.Count | Should -Be 0
        $results.Result | Should -Not -Contain 'ReplacedPodsDeleted'
        $report = Get-WinEksSimulatorReport
        $report.PdbViolations | ForEach-Object { "$($_.Cause) $($_.Namespace)/$($_.PodName) at $($_.At)" } | Should -BeNullOrEmpty
        @($report.PodsDeletedNotEvicted).Count | Should -Be 0
        # Over both runs exactly one new node per old one, and the group whole again on the new AMI.
        @($report.Events | Where-Object { $_.Kind -eq 'NodeAdded' -and $_.NodeGroup -eq 'demo-win-selfmanaged' }).Count | Should -Be 4
        ($report.LowestReadyNodes | Where-Object NodeGroup -eq 'demo-win-selfmanaged').Lowest | Should -BeGreaterOrEqual 4
        $group = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $group.RolloutInProgress | Should -BeFalse
        @($group.SuspendedProcesses).Count | Should -Be 0
        $group.DesiredSize | Should -Be 4
        (Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged).OsBuild | Sort-Object -Unique | Should -Be '10.0.20348.5622'
    }
}

Describe 'A blocked drain cut into runs keeps the deadline it had when it began' {
    BeforeAll {
        Start-RolloutSimulator
        $script:paymentsNode = Move-PaymentsToSelfManaged
    }
    AfterAll { Stop-WinEksSimulator }

    It 'the next run (a runbook''s next round, a re-run after Ctrl+C) times out at the first run''s deadline, not at a fresh one' {
        $rollout = Start-RunspaceRollout '-MaxSurge 4 -DrainTimeout 00:30:00 -WarningAction SilentlyContinue'
        try {
            @(Wait-PaymentsBlocked $rollout).Count | Should -BeGreaterThan 0
            # About 15 of the drain's 30 simulated minutes pass (1.5 s at 600 times), then the run is stopped.
            Start-Sleep -Milliseconds 1500
            $rollout.PowerShell.Stop()
        }
        finally { $rollout.PowerShell.Dispose(); $rollout.Runspace.Dispose() }

        $started = [DateTimeOffset]::Parse((Invoke-RestMethod "$($sim.Endpoint)/_sim/clock").utcNow)
        $out = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 4 -DrainTimeout 00:30:00 -Force `
            -ErrorVariable failures -ErrorAction SilentlyContinue -WarningAction SilentlyContinue -Verbose 4>&1
        $ended = [DateTimeOffset]::Parse((Invoke-RestMethod "$($sim.Endpoint)/_sim/clock").utcNow)

        $failures[0].FullyQualifiedErrorId | Should -Be 'DrainTimeout,WinEksPatch.Commands.InvokeNodeReplacementCommand'
        $failures[0].Exception.Message | Should -BeLike '*PodDisruptionBudget payments*'
        ($ended - $started).TotalMinutes | Should -BeLessThan 25 -Because 'the drain had what was left of its 30 minutes, not a fresh 30'
        ($out | Where-Object { $_ -is [Management.Automation.VerboseRecord] }).Message |
            Should -Contain ($out.Message -like "${paymentsNode}: its drain began at * in an earlier run; 00:*:* of the drain timeout (00:30:00) is left." | Select-Object -First 1)
        (Get-WinNode -ClusterName demo | Where-Object NodeName -eq $paymentsNode).Schedulable | Should -BeTrue
    }
}

Describe 'A replacement that never becomes Ready' {
    BeforeAll { Start-RolloutSimulator }
    AfterAll { Stop-WinEksSimulator }

    It 'stops before draining anything with the cause quoted; a re-run finishes once the cause is gone' {
        $rule = Invoke-RestMethod -Method Post -Uri "$($sim.Endpoint)/_sim/fleet/faults" -ContentType 'application/json' `
            -Body (@{ kind = 'launch-failure'; group = 'demo-win-selfmanaged'; count = 1000; errorCode = 'InsufficientInstanceCapacity' } | ConvertTo-Json)
        $results = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -ReadyTimeout 00:20:00 -Force `
            -ErrorVariable failures -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'ReplacementNotReady,WinEksPatch.Commands.InvokeNodeReplacementCommand'
        $failures[0].Exception.Message | Should -BeLike '*do not have sufficient m5.2xlarge capacity*'
        $results | Should -BeNullOrEmpty
        $nodes = Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged
        $nodes.Count | Should -Be 4
        $nodes | ForEach-Object { $_.Schedulable | Should -BeTrue; $_.OsBuild | Should -Be '10.0.20348.5020' }

        Invoke-RestMethod -Method Delete -Uri "$($sim.Endpoint)/_sim/fleet/faults/$($rule.id)" | Out-Null
        $again = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force -WarningAction SilentlyContinue
        $again.Count | Should -Be 4
        $group = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $group.DesiredSize | Should -Be 4
        $group.NodeCount | Should -Be 4
    }
}

Describe 'Someone else acting on the group mid-rollout' {
    BeforeAll {
        # The JavaScript SDK plays the other party (Terraform removing the state tag, an operator raising desired capacity)
        # while the rollout runs in a runspace of this process.
        $script:shared = Start-SharedRolloutSimulator
        $script:paymentsNode = Move-PaymentsToSelfManaged
        $null = Invoke-RestMethod -Method Post -Uri "$($shared.endpoint)/_sim/report/reset"
    }
    AfterAll { Stop-TestSimulator $shared }

    It 'keeps desired capacity someone raised and puts back the state tag someone removed: no second surge, nothing killed undrained' {
        $rollout = Start-RunspaceRollout '-MaxSurge 1 -DrainTimeout 10:00:00' $shared.endpoint
        $ps = $rollout.PowerShell; $runspace = $rollout.Runspace; $handle = $rollout.Handle
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(120)
            # The payments node cordoned: its drain has started, and its budget holds it.
            while ((kubectl get node $paymentsNode -o 'jsonpath={.spec.unschedulable}') -ne 'true' -and -not $handle.IsCompleted -and [DateTime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 50
            }
            # (Not $ps.Streams.Error | ...: enumerating an open PSDataCollection blocks until the pipeline ends.)
            $handle.IsCompleted | Should -BeFalse -Because 'the rollout should be held by the payments budget'
            $surged = (Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).DesiredSize
            $null = Invoke-AwsCall $shared auto-scaling DeleteTags @{ Tags = @(@{ ResourceId = 'demo-win-selfmanaged'; ResourceType = 'auto-scaling-group'; Key = 'WinEksPatch:Rollout' }) }
            $null = Invoke-AwsCall $shared auto-scaling SetDesiredCapacity @{ AutoScalingGroupName = 'demo-win-selfmanaged'; DesiredCapacity = $surged + 1 }
            kubectl scale deployment payments -n shop --replicas=2 | Out-Null   # the budget allows the drain now
            $results = @($ps.EndInvoke($handle))
            # Read before Dispose, which empties the streams.
            $errors = @($ps.Streams.Error)
            $warnings = $ps.Streams.Warning.Message -join "`n"
        }
        finally { $ps.Dispose(); $runspace.Dispose() }

        $errors | Should -BeNullOrEmpty
        $results.Count | Should -Be 4
        $warnings | Should -BeLike '*its WinEksPatch:Rollout tag was removed by someone else during the rollout*put it back*'
        $warnings | Should -BeLike '*desired capacity is 5, not the 4 it had before the rollout (changed by someone else during the rollout); it was kept*'
        $group = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $group.DesiredSize | Should -Be 5
        $group.RolloutInProgress | Should -BeFalse
        @($group.SuspendedProcesses).Count | Should -Be 0
        # The operator's extra instance registers in its own time: wait for it before counting the nodes added.
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ((Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).NodeCount -lt 5 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
        $report = Invoke-RestMethod "$($shared.endpoint)/_sim/report"
        # Exactly the four old instances terminated, each after its cordon; one launch per old node plus the one the
        # operator asked for (no second surge); capacity never below the group's size.
        ($report.apiCalls | Where-Object operation -eq 'TerminateInstanceInAutoScalingGroup').count | Should -Be 4
        $removed = @($report.events | Where-Object { $_.kind -eq 'NodeRemoved' -and $_.nodeGroup -eq 'demo-win-selfmanaged' })
        $removed.Count | Should -Be 4
        $cordoned = @($report.events | Where-Object { $_.kind -eq 'NodeCordoned' }).node
        $removed.node | ForEach-Object { $cordoned | Should -Contain $_ }
        @($report.events | Where-Object { $_.kind -eq 'NodeAdded' -and $_.nodeGroup -eq 'demo-win-selfmanaged' }).Count | Should -Be 5
        ($report.lowestReadyNodes | Where-Object nodeGroup -eq 'demo-win-selfmanaged').lowest | Should -BeGreaterOrEqual 4
        @($report.pdbViolations).Count | Should -Be 0
    }

    It 'refuses a state tag that cannot describe the group, before any change' {
        $null = Invoke-AwsCall $shared auto-scaling CreateOrUpdateTags @{ Tags = @(@{ ResourceId = 'demo-win-selfmanaged'; ResourceType = 'auto-scaling-group'
            Key = 'WinEksPatch:Rollout'; Value = 'target=ami-0123456789abcdef0;desired=9;max=9;suspended=Launch'; PropagateAtLaunch = $false }) }
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force -ErrorAction Stop -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'RolloutStateInvalid,WinEksPatch.Commands.InvokeNodeReplacementCommand' -ExpectedMessage '*desired=9 is above the group''s desired capacity now (5)*never suspends (Launch)*Nothing was changed*'
        (Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).DesiredSize | Should -Be 5
    }
}

Describe 'The world moving away from the plan mid-rollout' {
    BeforeAll {
        $script:shared = Start-SharedRolloutSimulator
        $script:paymentsNode = Move-PaymentsToSelfManaged
    }
    AfterAll { Stop-TestSimulator $shared }

    It 'goes on without an old instance someone else terminated, and stops before its next step when someone lowers desired capacity' {
        $plan = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 1 -WhatIf -WarningAction SilentlyContinue
        $rollout = Start-RunspaceRollout '-MaxSurge 1 -DrainTimeout 10:00:00' $shared.endpoint
        $ps = $rollout.PowerShell; $runspace = $rollout.Runspace; $handle = $rollout.Handle
        try {
            @(Wait-PaymentsBlocked $rollout).Count | Should -BeGreaterThan 0 -Because 'the payments budget should hold the rollout'
            # Someone else terminates an old instance whose turn has not come (a scale-in, a Spot interruption) ...
            $paymentsInstance = (Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged | Where-Object NodeName -eq $paymentsNode).InstanceId
            $gone = $plan.Steps | Where-Object { $_.InstanceId -ne $paymentsInstance } | Select-Object -Last 1
            $null = Invoke-AwsCall $shared auto-scaling TerminateInstanceInAutoScalingGroup @{ InstanceId = $gone.InstanceId; ShouldDecrementDesiredCapacity = $false }
            # ... and lowers desired capacity under the rollout, so Auto Scaling picks an instance to terminate itself.
            $surged = (Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).DesiredSize
            $null = Invoke-AwsCall $shared auto-scaling SetDesiredCapacity @{ AutoScalingGroupName = 'demo-win-selfmanaged'; DesiredCapacity = $surged - 1 }
            kubectl scale deployment payments -n shop --replicas=2 | Out-Null   # the drain goes through: the run reaches its next step
            $null = $ps.EndInvoke($handle)
            # Read before Dispose, which empties the streams.
            $failure = @($ps.Streams.Error)[0]
            $warnings = $ps.Streams.Warning.Message -join "`n"
        }
        finally { $ps.Dispose(); $runspace.Dispose() }

        "$failure" | Should -BeLike "*desired capacity is $($surged - 1), below the $surged this rollout set: someone else lowered it*stopped there, before its next step*run the same command again*"
        $warnings | Should -BeLike "*step $($gone.Step) of the plan, $($gone.InstanceId)*is no longer an old instance in service*goes on with the next step*"
        (Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).RolloutInProgress | Should -BeTrue -Because 'a re-run continues from the state tag'

        # Once nothing fights over the size, the same command finishes.
        Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 1 -Force -WarningAction SilentlyContinue | Out-Null
        (Get-WinPatchStatus -ClusterName demo -NodeGroupName demo-win-selfmanaged).OutdatedNodes | Should -Be 0
        (Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).RolloutInProgress | Should -BeFalse
    }
}

Describe 'A Spot group with Capacity Rebalancing' {
    BeforeAll {
        $script:shared = Start-SharedRolloutSimulator
        $null = Invoke-AwsCall $shared auto-scaling UpdateAutoScalingGroup @{ AutoScalingGroupName = 'demo-win-selfmanaged'; CapacityRebalance = $true }
        $script:paymentsNode = Move-PaymentsToSelfManaged
        function Get-Group { (Invoke-AwsCall $shared auto-scaling DescribeAutoScalingGroups @{ AutoScalingGroupNames = @('demo-win-selfmanaged') }).AutoScalingGroups[0] }
    }
    AfterAll { Stop-TestSimulator $shared }

    It 'has it turned off for the rollout, so a rebalance recommendation cannot terminate an old node nobody drained, and back on at the end' {
        $plan = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 1 -WhatIf -WarningAction SilentlyContinue
        ($plan.Preflight | Where-Object Kind -eq 'CapacityRebalance').Effect | Should -BeLike '*turned off for the rollout and back on at its end*'
        $null = Invoke-RestMethod -Method Post -Uri "$($shared.endpoint)/_sim/report/reset"
        $rollout = Start-RunspaceRollout '-MaxSurge 1 -DrainTimeout 10:00:00 -WarningAction SilentlyContinue' $shared.endpoint
        $ps = $rollout.PowerShell; $runspace = $rollout.Runspace; $handle = $rollout.Handle
        try {
            @(Wait-PaymentsBlocked $rollout).Count | Should -BeGreaterThan 0 -Because 'the payments budget should hold the rollout'
            $during = Get-Group
            $during.CapacityRebalance | Should -BeFalse
            ($during.Tags | Where-Object Key -eq 'WinEksPatch:Rollout').Value | Should -BeLike '*;rebalance=paused*'
            # EC2 flags an old Spot instance whose turn has not come: with Capacity Rebalancing on, Auto Scaling would replace it now, undrained.
            $atRisk = (Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged | Where-Object { $_.Schedulable -and $_.ImageId -ne $latest.ImageId } | Select-Object -First 1)
            (Invoke-RestMethod -Method Post -Uri "$($shared.endpoint)/_sim/fleet/instances/$($atRisk.InstanceId)/rebalance-recommendation").replacing | Should -BeFalse
            kubectl scale deployment payments -n shop --replicas=2 | Out-Null
            $results = @($ps.EndInvoke($handle))
            $errors = @($ps.Streams.Error)
        }
        finally { $ps.Dispose(); $runspace.Dispose() }

        $errors | Should -BeNullOrEmpty
        $results.OldInstanceId | Should -Contain $atRisk.InstanceId
        $after = Get-Group
        $after.CapacityRebalance | Should -BeTrue
        $after.Tags.Key | Should -Not -Contain 'WinEksPatch:Rollout'
        $report = Invoke-RestMethod "$($shared.endpoint)/_sim/report"
        $cordoned = @($report.events | Where-Object kind -eq 'NodeCordoned').node
        @($report.events | Where-Object { $_.kind -eq 'NodeRemoved' -and $_.nodeGroup -eq 'demo-win-selfmanaged' }).node | ForEach-Object { $cordoned | Should -Contain $_ }
        $cordoned | Should -Contain $atRisk.NodeName
        @($report.pdbViolations).Count | Should -Be 0
    }
}

Describe 'An old instance in Standby' {
    BeforeAll {
        $script:shared = Start-SharedRolloutSimulator
        $script:standby, $script:protected = (Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged | Select-Object -First 2).InstanceId
        $null = Invoke-AwsCall $shared auto-scaling EnterStandby @{ AutoScalingGroupName = 'demo-win-selfmanaged'; InstanceIds = @($standby); ShouldDecrementDesiredCapacity = $true }
        # Scale-in protection keeps Auto Scaling's own scale-in away from an instance, not TerminateInstanceInAutoScalingGroup.
        $null = Invoke-AwsCall $shared auto-scaling SetInstanceProtection @{ AutoScalingGroupName = 'demo-win-selfmanaged'; InstanceIds = @($protected); ProtectedFromScaleIn = $true }
    }
    AfterAll { Stop-TestSimulator $shared }

    It 'is refused before anything changes, naming it, instead of being left on the old AMI under a group called patched' {
        $null = Invoke-RestMethod -Method Post -Uri "$($shared.endpoint)/_sim/report/reset"
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force -ErrorAction Stop -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'NodeGroupInstancesOutOfService,WinEksPatch.Commands.InvokeNodeReplacementCommand' -ExpectedMessage "*instances $standby (Standby) are in the group but out of service*Nothing was changed*"
        $calls = (Invoke-RestMethod "$($shared.endpoint)/_sim/report").apiCalls
        @($calls | Where-Object { $_.operation -in 'SetDesiredCapacity', 'SuspendProcesses', 'CreateOrUpdateTags', 'TerminateInstanceInAutoScalingGroup' }) | Should -BeNullOrEmpty
        kubectl get leases -n kube-system -o name | Should -BeNullOrEmpty
    }

    It 'rolls the group once the instance is back in service, the one protected from scale-in included' {
        $null = Invoke-AwsCall $shared auto-scaling ExitStandby @{ AutoScalingGroupName = 'demo-win-selfmanaged'; InstanceIds = @($standby) }
        $results = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force -WarningAction SilentlyContinue
        $results.OldInstanceId | Should -Contain $standby
        ($results | Where-Object OldInstanceId -eq $protected).Result | Should -Be 'Replaced'
        (Get-WinPatchStatus -ClusterName demo -NodeGroupName demo-win-selfmanaged).OutdatedNodes | Should -Be 0
    }
}

Describe 'The group''s own replacement machinery: an instance refresh, lifecycle hooks' {
    BeforeAll {
        $script:shared = Start-SharedRolloutSimulator
        $script:group = 'demo-win-selfmanaged'
    }
    AfterAll { Stop-TestSimulator $shared }

    It 'refuses a rollout while an instance refresh runs, before any change, in the plan and in the run' {
        # Paused (its process suspended) so that it replaces nothing while the test runs, however slow the machine: it is
        # still in progress, and still refuses a rollout.
        $null = Invoke-AwsCall $shared auto-scaling SuspendProcesses @{ AutoScalingGroupName = $group; ScalingProcesses = @('InstanceRefresh') }
        $refresh = Invoke-AwsCall $shared auto-scaling StartInstanceRefresh @{ AutoScalingGroupName = $group; Preferences = @{ MinHealthyPercentage = 100 } }
        $null = Invoke-RestMethod -Method Post -Uri "$($shared.endpoint)/_sim/report/reset"
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName $group -WhatIf -ErrorAction Stop -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'InstanceRefreshInProgress,WinEksPatch.Commands.InvokeNodeReplacementCommand'
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName $group -Force -ErrorAction Stop -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'InstanceRefreshInProgress,WinEksPatch.Commands.InvokeNodeReplacementCommand' `
                -ExpectedMessage "*instance refresh $($refresh.InstanceRefreshId) is *Nothing was changed*cancel-instance-refresh*"
        $calls = (Invoke-RestMethod "$($shared.endpoint)/_sim/report").apiCalls
        @($calls | Where-Object { $_.operation -in 'SetDesiredCapacity', 'UpdateAutoScalingGroup', 'SuspendProcesses', 'CreateOrUpdateTags', 'TerminateInstanceInAutoScalingGroup', 'CreateTags' }) |
            Should -BeNullOrEmpty
        kubectl get leases -n kube-system -o name | Should -BeNullOrEmpty
        $null = Invoke-AwsCall $shared auto-scaling CancelInstanceRefresh @{ AutoScalingGroupName = $group }
        $null = Invoke-AwsCall $shared auto-scaling ResumeProcesses @{ AutoScalingGroupName = $group; ScalingProcesses = @('InstanceRefresh') }
    }

    It 'waits for a termination hook to let each drained instance go, naming it, and for a launch hook''s instances to be usable' {
        # The Node Termination Handler's hook with nobody answering: each terminated instance waits its whole heartbeat
        # timeout (an hour, longer than -ReadyTimeout) before it goes. A launch hook holds new instances 5 minutes.
        $null = Invoke-AwsCall $shared auto-scaling PutLifecycleHook @{ AutoScalingGroupName = $group; LifecycleHookName = 'nth-drain'
            LifecycleTransition = 'autoscaling:EC2_INSTANCE_TERMINATING'; HeartbeatTimeout = 3600 }
        $null = Invoke-AwsCall $shared auto-scaling PutLifecycleHook @{ AutoScalingGroupName = $group; LifecycleHookName = 'warm-up'
            LifecycleTransition = 'autoscaling:EC2_INSTANCE_LAUNCHING'; HeartbeatTimeout = 300; DefaultResult = 'CONTINUE' }
        $deadline = [DateTime]::UtcNow.AddSeconds(60)   # the refresh's cancel takes effect
        while ((Invoke-AwsCall $shared auto-scaling DescribeInstanceRefreshes @{ AutoScalingGroupName = $group }).InstanceRefreshes[0].Status -ne 'Cancelled' -and
            [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
        $plan = Invoke-NodeReplacement -ClusterName demo -NodeGroupName $group -WhatIf -WarningAction SilentlyContinue
        ($plan.Preflight | Where-Object Kind -eq 'LifecycleHook').Subject | Sort-Object | Should -Be @('nth-drain', 'warm-up')
        ($plan.Preflight | Where-Object Subject -eq 'nth-drain').Effect | Should -BeLike '*waits in Terminating:Wait until the hook is completed, or up to 60 min (then ABANDON)*'
        $old = @(Get-WinNode -ClusterName demo -NodeGroupName $group | Where-Object ImageId -ne $latest.ImageId).InstanceId
        $old.Count | Should -Be 4 -Because 'the paused refresh replaced nothing'

        $null = Invoke-RestMethod -Method Post -Uri "$($shared.endpoint)/_sim/report/reset"
        $results = Invoke-NodeReplacement -ClusterName demo -NodeGroupName $group -Force -Verbose -WarningAction SilentlyContinue 4>&1
        $verbose = ($results | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n"
        @($results | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).Count | Should -Be $old.Count
        $verbose | Should -BeLike '*waiting for lifecycle hook(s) nth-drain to let *go (up to 01:00:00)*'
        # When the command returns, the old instances are gone, not waiting on the hook: what comes next sees the new fleet.
        $nodes = @(Get-WinNode -ClusterName demo -NodeGroupName $group)
        $nodes.Count | Should -Be 4
        $nodes.InstanceId | ForEach-Object { $old | Should -Not -Contain $_ }
        $members = (Invoke-AwsCall $shared auto-scaling DescribeAutoScalingGroups @{ AutoScalingGroupNames = @($group) }).AutoScalingGroups[0].Instances
        @($members | Where-Object InstanceId -in $old) | Should -BeNullOrEmpty
        $report = Invoke-RestMethod "$($shared.endpoint)/_sim/report"
        @($report.pdbViolations).Count | Should -Be 0
        ($report.lowestReadyNodes | Where-Object nodeGroup -eq $group).lowest | Should -BeGreaterOrEqual 4
    }
}

Describe 'A warm pool' {
    BeforeAll {
        # The pool is filled while the group still launches the old AMI; then the group is pointed at the latest one.
        $script:shared = Start-TestSimulator -TimeScale 600
        $null = Connect-WinEksSimulator -Endpoint $shared.endpoint
        $script:sim = [pscustomobject]@{ KubeConfigPath = $shared.kubeConfigPath }
        $script:group = 'demo-win-selfmanaged'
        function Wait-Warmed {
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            do {
                Start-Sleep -Milliseconds 200
                $pool = (Invoke-AwsCall $shared auto-scaling DescribeWarmPool @{ AutoScalingGroupName = $group }).Instances
            } until ((@($pool).Count -gt 0 -and -not ($pool | Where-Object LifecycleState -ne 'Warmed:Stopped')) -or [DateTime]::UtcNow -gt $deadline)
            @($pool)
        }
        $null = Invoke-AwsCall $shared auto-scaling PutWarmPool @{ AutoScalingGroupName = $group; MinSize = 2; PoolState = 'Stopped' }
        $script:oldWarm = (Wait-Warmed).InstanceId
        $script:latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
        $null = Set-NodeGroupAmi -ClusterName demo -NodeGroupName $group -ImageId $latest.ImageId -Force
    }
    AfterAll { Stop-TestSimulator $shared }

    It 'of instances on the old AMI is refused before any change, naming them, since a surge would take them first' {
        $oldWarm.Count | Should -BeGreaterThan 0
        $null = Invoke-RestMethod -Method Post -Uri "$($shared.endpoint)/_sim/report/reset"
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName $group -WhatIf -ErrorAction Stop -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'WarmPoolInstancesOutdated,WinEksPatch.Commands.InvokeNodeReplacementCommand'
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName $group -Force -ErrorAction Stop -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'WarmPoolInstancesOutdated,WinEksPatch.Commands.InvokeNodeReplacementCommand' `
                -ExpectedMessage "*warm pool holds $($oldWarm.Count) instance(s) launched from another AMI than $($latest.ImageId): $($oldWarm[0]) *Nothing was changed*delete-warm-pool*"
        $calls = (Invoke-RestMethod "$($shared.endpoint)/_sim/report").apiCalls
        @($calls | Where-Object { $_.operation -in 'SetDesiredCapacity', 'UpdateAutoScalingGroup', 'SuspendProcesses', 'CreateOrUpdateTags', 'TerminateInstanceInAutoScalingGroup', 'CreateTags' }) |
            Should -BeNullOrEmpty
    }

    It 'refilled from the new launch template serves the surges, and every node and warm instance ends on the target AMI' {
        $null = Invoke-AwsCall $shared auto-scaling DeleteWarmPool @{ AutoScalingGroupName = $group; ForceDelete = $true }
        $null = Invoke-AwsCall $shared auto-scaling PutWarmPool @{ AutoScalingGroupName = $group; MinSize = 2; PoolState = 'Stopped' }
        $null = Wait-Warmed
        $results = Invoke-NodeReplacement -ClusterName demo -NodeGroupName $group -Force -WarningAction SilentlyContinue -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed | Should -BeNullOrEmpty
        @($results).Count | Should -Be 4
        $activities = (Invoke-AwsCall $shared auto-scaling DescribeScalingActivities @{ AutoScalingGroupName = $group; MaxRecords = 100 }).Activities
        @($activities | Where-Object Description -like 'Launching a new EC2 instance from warm pool: *').Count | Should -BeGreaterThan 0
        (Get-WinNode -ClusterName demo -NodeGroupName $group).ImageId | Sort-Object -Unique | Should -Be $latest.ImageId
        $warm = @((Invoke-AwsCall $shared auto-scaling DescribeWarmPool @{ AutoScalingGroupName = $group }).Instances.InstanceId)
        $warm.Count | Should -BeGreaterThan 0
        (Invoke-AwsCall $shared ec2 DescribeInstances @{ InstanceIds = $warm }).Reservations.Instances.ImageId | Sort-Object -Unique | Should -Be $latest.ImageId
        # The same command finds nothing to do, the warm pool included.
        Invoke-NodeReplacement -ClusterName demo -NodeGroupName $group -Force -WarningAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'A pod under two PodDisruptionBudgets' {
    BeforeAll {
        Start-RolloutSimulator
        # A second budget over the web-iis pods: the eviction API refuses to evict a pod that two budgets select.
        kubectl create pdb web-iis-canary -n shop --selector=app=web-iis --max-unavailable=1 | Out-Null
        $selfManaged = (Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged).NodeName
        $script:webNodes = @(kubectl get pods -n shop -l app=web-iis -o 'jsonpath={range .items[*]}{.spec.nodeName}{"\n"}{end}' |
            Where-Object { $_ -in $selfManaged } | Sort-Object -Unique)
    }
    AfterAll { Stop-WinEksSimulator }

    It 'is named in the plan and refused before any change while a blocked node stops the rollout' {
        $webNodes.Count | Should -BeGreaterThan 0 -Because 'the demo places web-iis pods on self-managed nodes'
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -WhatIf -ErrorAction Stop -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'MultiplePodDisruptionBudgets,WinEksPatch.Commands.InvokeNodeReplacementCommand'
        $null = Get-WinEksSimulatorReport -Reset
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force -ErrorAction Stop -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'MultiplePodDisruptionBudgets,WinEksPatch.Commands.InvokeNodeReplacementCommand' `
                -ExpectedMessage '*shop/web-iis-*is selected by 2 PodDisruptionBudgets (shop/web-iis, shop/web-iis-canary)*Nothing was changed*-BlockedNodeAction Skip*'
        @((Get-WinEksSimulatorReport).ApiCalls | Where-Object { $_.Operation -in 'SetDesiredCapacity', 'UpdateAutoScalingGroup', 'SuspendProcesses', 'CreateOrUpdateTags', 'CreateTags' }) |
            Should -BeNullOrEmpty
        (Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).DesiredSize | Should -Be 4
    }

    It 'with -BlockedNodeAction Skip, leaves the nodes of those pods cordoned and labelled and replaces every other node' {
        $results = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -BlockedNodeAction Skip -Force `
            -ErrorVariable failures -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'NodesLeftBlocked,WinEksPatch.Commands.InvokeNodeReplacementCommand'
        @($results | Where-Object Result -eq 'DrainBlocked').OldNodeName | Sort-Object | Should -Be $webNodes
        @($results | Where-Object Result -eq 'Replaced').Count | Should -Be (4 - $webNodes.Count)
        foreach ($node in $webNodes) {
            kubectl get node $node -o 'jsonpath={.spec.unschedulable} {.metadata.labels.winekspatch\.io/drain-status}' | Should -Be 'true blocked'
        }
        $report = Get-WinEksSimulatorReport
        $report.PdbViolations | Should -BeNullOrEmpty
        $report.PodsDeletedNotEvicted | Should -BeNullOrEmpty
        ($report.LowestReadyNodes | Where-Object NodeGroup -eq 'demo-win-selfmanaged').Lowest | Should -BeGreaterOrEqual 4
    }
}

Describe 'An old instance being detached' {
    BeforeAll {
        # At the real clock: Detaching lasts 30 s, long enough to run into it.
        $script:shared = Start-TestSimulator -TimeScale 1
        $null = Connect-WinEksSimulator -Endpoint $shared.endpoint
        $latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
        $null = Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageId $latest.ImageId -Force
        $script:detaching = (Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged | Select-Object -First 1).InstanceId
    }
    AfterAll { Stop-TestSimulator $shared }

    It 'is refused before anything changes, naming it' {
        $null = Invoke-AwsCall $shared auto-scaling DetachInstances @{ AutoScalingGroupName = 'demo-win-selfmanaged'; InstanceIds = @($detaching); ShouldDecrementDesiredCapacity = $true }
        $null = Invoke-RestMethod -Method Post -Uri "$($shared.endpoint)/_sim/report/reset"
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force -ErrorAction Stop -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'NodeGroupInstancesOutOfService,WinEksPatch.Commands.InvokeNodeReplacementCommand' -ExpectedMessage "*instances $detaching (Detaching) are in the group but out of service*Nothing was changed*"
        $calls = (Invoke-RestMethod "$($shared.endpoint)/_sim/report").apiCalls
        @($calls | Where-Object { $_.operation -in 'SetDesiredCapacity', 'SuspendProcesses', 'CreateOrUpdateTags', 'TerminateInstanceInAutoScalingGroup' }) | Should -BeNullOrEmpty
    }
}

Describe 'A replacement instance that never registers' {
    BeforeAll { Start-RolloutSimulator }
    AfterAll { Stop-WinEksSimulator }

    It 'is named and terminated after -ReadyTimeout instead of holding the surge, so a re-run finishes without waiting for it' {
        $null = Add-WinEksSimulatorFault -Kind NeverRegisters -NodeGroupName demo-win-selfmanaged -Count 1
        $results = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -ReadyTimeout 00:20:00 -Force `
            -ErrorVariable failures -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'ReplacementNotReady,WinEksPatch.Commands.InvokeNodeReplacementCommand'
        $failures[0].Exception.Message -match 'were terminated, so none holds a surge slot and a re-run launches fresh ones: (i-[0-9a-f]+) \(launched [^,]+, never registered as a node\)' |
            Should -BeTrue -Because $failures[0].Exception.Message
        $stuck = $Matches[1]
        $results | Should -BeNullOrEmpty
        (Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).DesiredSize | Should -Be 4   # the surge given back with the stuck instance

        # The cause is gone (the fault was for one launch): the same command finishes, within one -ReadyTimeout.
        $again = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -ReadyTimeout 00:20:00 -Force -WarningAction SilentlyContinue
        $again.Count | Should -Be 4
        $again.NewInstanceId | Should -Not -Contain $stuck
        $group = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $group.DesiredSize | Should -Be 4
        $group.NodeCount | Should -Be 4
        ($report = Get-WinEksSimulatorReport).PdbViolations | Should -BeNullOrEmpty
        ($report.LowestReadyNodes | Where-Object NodeGroup -eq 'demo-win-selfmanaged').Lowest | Should -BeGreaterOrEqual 4
    }
}

Describe 'A launch template that names an AMI that does not exist' {
    BeforeAll {
        $script:shared = Start-TestSimulator -TimeScale 600
        $null = Connect-WinEksSimulator -Endpoint $shared.endpoint
        # Someone (Terraform, a colleague) points the group at a launch template version whose AMI is gone.
        $group = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $version = Invoke-AwsCall $shared ec2 CreateLaunchTemplateVersion @{
            LaunchTemplateId = $group.LaunchTemplateId; SourceVersion = "$($group.LaunchTemplateVersion)"; LaunchTemplateData = @{ ImageId = 'ami-0123456789abcdef0' } }
        $null = Invoke-AwsCall $shared auto-scaling UpdateAutoScalingGroup @{
            AutoScalingGroupName = 'demo-win-selfmanaged'; LaunchTemplate = @{ LaunchTemplateId = $group.LaunchTemplateId; Version = "$($version.LaunchTemplateVersion.VersionNumber)" } }
    }
    AfterAll { Stop-TestSimulator $shared }

    It 'is refused before anything changes, in the plan and in the run' {
        $null = Invoke-RestMethod -Method Post -Uri "$($shared.endpoint)/_sim/report/reset"
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -WhatIf -ErrorAction Stop -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'AmiNotFound,WinEksPatch.Commands.InvokeNodeReplacementCommand'
        { Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force -ErrorAction Stop -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'AmiNotFound,WinEksPatch.Commands.InvokeNodeReplacementCommand' -ExpectedMessage '*names ami-0123456789abcdef0, which EC2 does not know*Nothing was changed*'
        $calls = (Invoke-RestMethod "$($shared.endpoint)/_sim/report").apiCalls
        @($calls | Where-Object { $_.operation -in 'SetDesiredCapacity', 'UpdateAutoScalingGroup', 'SuspendProcesses', 'CreateOrUpdateTags', 'TerminateInstanceInAutoScalingGroup' }) |
            Should -BeNullOrEmpty
        $group = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $group.DesiredSize | Should -Be 4
        $group.RolloutInProgress | Should -BeFalse
    }
}

Describe 'An old node whose kubelet stopped' {
    BeforeAll { Start-RolloutSimulator }
    AfterAll { Stop-WinEksSimulator }

    It 'is replaced first, its pods counted as gone once their grace period is over, as kubectl drain does' {
        $lost = Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged | Sort-Object PodCount -Descending | Select-Object -First 1
        $stopped = Invoke-RestMethod -Method Post -Uri "$($sim.Endpoint)/_sim/fleet/nodes/demo/$($lost.NodeName)/kubelet" -ContentType 'application/json' -Body '{"running": false}'
        $stopped.ready | Should -BeFalse
        kubectl get node $lost.NodeName -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' | Should -Be 'Unknown'

        $all = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force -WarningAction SilentlyContinue -Verbose 4>&1
        $results = @($all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        $verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $results.Count | Should -Be 4
        $results | ForEach-Object { $_.Result | Should -Be 'Replaced' }
        $results[0].OldNodeName | Should -Be $lost.NodeName     # it serves nothing: replacing it first costs no capacity
        $results[0].PodsEvicted | Should -BeGreaterThan 0
        ($verbose -join "`n") | Should -BeLike "*$($lost.NodeName): *its node is NotReady, so no kubelet will confirm that it stopped*counted as gone*"
        (Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged).OsBuild | Sort-Object -Unique | Should -Be '10.0.20348.5622'
        @((Get-WinEksSimulatorReport).PdbViolations).Count | Should -Be 0
    }
}

Describe 'A replacement that turns Ready without its pod IPs' {
    BeforeAll { Start-RolloutSimulator }
    AfterAll { Stop-WinEksSimulator }

    It 'is not counted: the rollout stops before draining anything and says what the new node lacks and why' {
        $null = Add-WinEksSimulatorFault -Kind RegistersWithoutPodIps -NodeGroupName demo-win-selfmanaged -Count 1
        $results = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -ReadyTimeout 00:20:00 -Force `
            -ErrorVariable failures -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'ReplacementNotReady,WinEksPatch.Commands.InvokeNodeReplacementCommand'
        $failures[0].Exception.Message | Should -BeLike '*Ready nodes without vpc.amazonaws.com/PrivateIPv4Address, which the old nodes offer: ip-*enable-windows-ipam*'
        $failures[0].Exception.Message | Should -BeLike '*were terminated*(launched *, registered as ip-*, Ready but without vpc.amazonaws.com/PrivateIPv4Address)*'
        $results | Should -BeNullOrEmpty
        $old = Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged | Where-Object OsBuild -EQ '10.0.20348.5020'
        $old.Count | Should -Be 4
        $old | ForEach-Object { $_.Schedulable | Should -BeTrue }
        (Get-WinEksSimulatorReport).PdbViolations | Should -BeNullOrEmpty
    }
}

Describe 'A rollout killed mid-drain' {
    BeforeAll {
        # A simulator of its own process, shared by the rollout we kill and the one that finishes it; each pwsh connects
        # to it (Connect-WinEksSimulator) so that its clock is the simulator's.
        $script:shared = Start-TestSimulator -TimeScale 60
        $script:connect = "Import-Module '$(Get-TestModulePath)'; `$null = Connect-WinEksSimulator -Endpoint '$($shared.endpoint)'"
        $script:kubectlExe = (Get-Command kubectl -CommandType Application | Select-Object -First 1).Source
        function kc { & $kubectlExe --kubeconfig $shared.kubeConfigPath --context demo @args }
        $prepare = Invoke-FreshPwsh -Script @"
$connect
`$latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
`$null = Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageId `$latest.ImageId -Force
@{ Max = (Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).MaxSize; Managed = @((Get-WinNode -ClusterName demo -NodeGroupName win-managed).NodeName) } | ConvertTo-Json -Compress
"@
        $script:originalMax = $prepare.Max
        # Pin the single payments replica (PDB minAvailable 1) to the self-managed group so one drain hangs.
        $prepare.Managed | ForEach-Object { kc cordon $_ | Out-Null }
        kc delete pod -n shop -l app=payments --wait=false | Out-Null
        $deadline = (Get-Date).AddSeconds(60)
        do { Start-Sleep -Milliseconds 500; $placed = @(kc get pods -n shop -l app=payments -o 'jsonpath={range .items[*]}{.spec.nodeName} {.status.phase}{"\n"}{end}') }
        until (($placed -match 'Running') -or (Get-Date) -gt $deadline)
        $prepare.Managed | ForEach-Object { kc uncordon $_ | Out-Null }
    }
    AfterAll { Stop-TestSimulator $shared }

    It 'continues where it was when re-run: nothing launched twice, the cordoned node drained, sizes and processes restored' {
        # 1. Start the rollout in its own pwsh and kill it while a node is cordoned and draining.
        $start = [Diagnostics.ProcessStartInfo]::new('dotnet')
        $command = "$connect; Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 4 -DrainTimeout 01:00:00 -Confirm:`$false"
        foreach ($a in @((Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-Command', $command)) { $start.ArgumentList.Add($a) }
        $start.RedirectStandardOutput = $true; $start.RedirectStandardError = $true
        $rollout = [Diagnostics.Process]::Start($start)
        $deadline = (Get-Date).AddSeconds(120)
        do { Start-Sleep -Milliseconds 500; $cordoned = @(@(kc get nodes -o 'jsonpath={range .items[?(@.spec.unschedulable==true)]}{.metadata.name}{"\n"}{end}') -ne '') }
        until ($cordoned.Count -gt 0 -or (Get-Date) -gt $deadline -or $rollout.HasExited)
        $why = if ($rollout.HasExited) { $rollout.StandardError.ReadToEnd() + $rollout.StandardOutput.ReadToEnd() } else { '' }
        $cordoned.Count | Should -BeGreaterThan 0 -Because "the rollout should be draining when it is killed $why"
        Start-Sleep -Seconds 2
        $rollout.Kill($true); $rollout.WaitForExit()

        # 2. The interrupted state is visible; the same command (with -OverridePodDisruptionBudget for the PDB that never
        #    allows) finishes it, taking over at once the lease of the killed process (same host, process gone).
        $result = Invoke-FreshPwsh -Script @"
$connect
`$during = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
`$results = @(Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 4 -DrainTimeout 00:30:00 -OverridePodDisruptionBudget -Force -WarningAction SilentlyContinue)
`$after = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
`$nodes = @(Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged)
`$added = @((Get-WinEksSimulatorReport).Events | Where-Object { `$_.Kind -eq 'NodeAdded' -and `$_.NodeGroup -eq 'demo-win-selfmanaged' }).Count
@{
    Added = `$added
    DuringRollout = `$during.RolloutInProgress; DuringSuspended = @(`$during.SuspendedProcesses); DuringDesired = `$during.DesiredSize
    Replaced = `$results.Count; Forced = @(`$results | Where-Object Result -eq 'ReplacedPodsDeleted').Count
    Desired = `$after.DesiredSize; Max = `$after.MaxSize; Suspended = @(`$after.SuspendedProcesses); InProgress = `$after.RolloutInProgress
    Nodes = `$nodes.Count; Builds = @(`$nodes.OsBuild | Sort-Object -Unique); Unschedulable = @(`$nodes | Where-Object { -not `$_.Schedulable }).Count
} | ConvertTo-Json -Compress
"@
        $result.DuringRollout | Should -BeTrue
        $result.DuringSuspended | Should -Contain 'AZRebalance'
        $result.DuringDesired | Should -BeGreaterThan 4       # the killed run's surge (shrinking as old nodes went)...
        $result.DuringDesired | Should -BeLessOrEqual 8
        $result.Added | Should -Be 4                           # ...and over both runs exactly one new node per old one
        $result.Replaced | Should -BeGreaterThan 0
        $result.Forced | Should -Be 1                          # the payments node, its pod deleted after the timeout
        $result.Desired | Should -Be 4
        $result.Max | Should -Be $originalMax
        $result.Suspended.Count | Should -Be 0
        $result.InProgress | Should -BeFalse
        $result.Nodes | Should -Be 4
        $result.Builds | Should -Be '10.0.20348.5622'
        $result.Unschedulable | Should -Be 0
    }
}

Describe 'A rollout through throttling, 5xx storms and an expiring EKS token' {
    BeforeAll { Start-RolloutSimulator }
    AfterAll { Stop-WinEksSimulator }

    It 'finishes with zero PDB violations and capacity never below the floor' {
        $null = Get-WinEksSimulatorReport -Reset
        $null = Add-WinEksSimulatorFault -Service autoscaling -Operation '*' -Throttle -Probability 0.15 -Seed 7
        $null = Add-WinEksSimulatorFault -Service ec2 -Operation 'Describe*' -StatusCode 503 -ErrorCode ServiceUnavailable -Probability 0.1 -Seed 11
        $null = Add-WinEksSimulatorFault -Service kubernetes -Operation 'create pods/eviction' -Throttle -Probability 0.3 -Seed 13
        $null = Add-WinEksSimulatorFault -TokenExpiry -Count 1
        $results = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 2 -Force -WarningAction SilentlyContinue
        $results.Count | Should -Be 4
        $results | ForEach-Object { $_.Result | Should -Be 'Replaced' }
        $report = Get-WinEksSimulatorReport
        ($report.ApiCalls | Measure-Object Throttled -Sum).Sum | Should -BeGreaterThan 0          # the storm happened
        ($report.KubernetesRequests | Measure-Object Unauthorized -Sum).Sum | Should -Be 1       # the token was refused once, then re-signed
        @($report.PdbViolations).Count | Should -Be 0
        @($report.PodsDeletedNotEvicted).Count | Should -Be 0
        ($report.LowestReadyNodes | Where-Object NodeGroup -eq 'demo-win-selfmanaged').Lowest | Should -BeGreaterOrEqual 4
        (Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).ImageOsBuild | Should -Be '10.0.20348.5622'
    }
}

Describe 'Invoke-WinEksPatch unattended' {
    BeforeAll { $script:shared = Start-TestSimulator -TimeScale 600 }
    AfterAll { Stop-TestSimulator $shared }

    It 'exits non-zero from pwsh -File when a group fails, after writing the report' {
        $script = Join-Path $TestDrive 'patch.ps1'
        $report = Join-Path $TestDrive 'report.json'
        # An AMI of another Windows build: Set-NodeGroupAmi refuses it, so the group fails.
        Set-Content $script @"
`$ErrorActionPreference = 'Stop'   # as a scheduled task or runbook sets it
Import-Module '$(Get-TestModulePath)'
`$null = Connect-WinEksSimulator -Endpoint '$($shared.endpoint)'
`$wrong = (Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2019 -Edition Core -Source Eks).ImageId
Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged, win-managed -ImageSource `$wrong -ReportPath '$report' -Force -WarningAction SilentlyContinue
'@ready'
"@
        $output = & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -File $script 2>&1
        $LASTEXITCODE | Should -Not -Be 0
        ($output -join "`n") | Should -Not -Match '@ready'
        $json = Get-Content $report -Raw | ConvertFrom-Json
        $json.groups[0].nodeGroupName | Should -Be 'demo-win-selfmanaged'
        $json.groups[0].result | Should -Be 'Failed'
        $json.groups[0].error | Should -BeLike 'AmiWindowsBuildMismatch*'
        # It stops at the first group that fails: the next one is not touched.
        $json.groups[1].nodeGroupName | Should -Be 'win-managed'
        $json.groups[1].result | Should -Be 'NotAttempted'
        $json.groups[1].apiCalls | Should -BeNullOrEmpty
    }

    It 'leaves a group declined at the confirmation prompt untouched: NotAttempted, no error, exit code 0' {
        $script = Join-Path $TestDrive 'decline.ps1'
        Set-Content $script @"
`$ErrorActionPreference = 'Stop'
Import-Module '$(Get-TestModulePath)'
`$null = Connect-WinEksSimulator -Endpoint '$($shared.endpoint)'
`$before = (Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).LaunchTemplateVersion
`$report = Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Confirm -WarningAction SilentlyContinue
`$after = (Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).LaunchTemplateVersion
@{ Result = "`$(`$report.Groups.Result)"; Succeeded = `$report.Succeeded; Before = `$before; After = `$after } | ConvertTo-Json -Compress
"@
        # The console host reads the answer to the prompt from standard input: No.
        $output = 'N' | & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -File $script 2>&1
        $LASTEXITCODE | Should -Be 0
        ($output -join "`n") | Should -BeLike '*Performing the operation "Launch ami-*'
        $result = ($output | Where-Object { "$_" -match '^\{' } | Select-Object -Last 1) | ConvertFrom-Json
        $result.Result | Should -Be 'NotAttempted'
        $result.Succeeded | Should -BeFalse   # the group is not patched, though nothing failed
        $result.After | Should -Be $result.Before
    }
}
