# Managed node groups end to end against the simulator's 'managed' scenario: cluster prod has a CUSTOM group
# (win-custom, 3 nodes two monthly patches behind) and a group on an EKS AMI type (win-eks); cluster legacy has a
# group whose single ledger replica is guarded by a budget that allows no eviction, so EKS's drain can never finish.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)
    $script:sim = Start-WinEksSimulator -Scenario managed -TimeScale 600
    $script:latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
}

AfterAll { Stop-WinEksSimulator }

Describe 'A CUSTOM managed node group moves to a new AMI through its launch template and EKS' {
    BeforeAll {
        $script:before = Get-WinNodeGroup -ClusterName prod -Name win-custom
        $script:oldNodes = Get-WinNode -ClusterName prod -NodeGroupName win-custom
        $script:noop = Invoke-NodeReplacement -ClusterName prod -NodeGroupName win-custom -Force
        $script:change = Set-NodeGroupAmi -ClusterName prod -NodeGroupName win-custom -ImageId $latest.ImageId -Force
        $script:results = Invoke-NodeReplacement -ClusterName prod -NodeGroupName win-custom -Force -WarningAction SilentlyContinue -Verbose 4>&1
        $script:verbose = @($results | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $script:results = @($results | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
    }

    It 'starts as a CUSTOM group behind the latest patch, and Invoke-NodeReplacement has nothing to do before its AMI changes' {
        $before.AmiType | Should -Be 'CUSTOM'
        $before.OsBuild | Should -Not -Be $latest.OsBuild
        $oldNodes.Count | Should -Be 3
        $noop | Should -BeNullOrEmpty
    }

    It 'Set-NodeGroupAmi makes a new launch template version and starts EKS''s update with it' {
        $change.Kind | Should -Be 'Managed'
        $change.Changed | Should -BeTrue
        $change.PreviousImageId | Should -Be $before.ImageId
        $change.ImageId | Should -Be $latest.ImageId
        [int]$change.LaunchTemplateVersion | Should -Be ([int]$before.LaunchTemplateVersion + 1)
        $change.UpdateId | Should -Match '^[0-9a-f-]{36}$'
    }

    It 'Invoke-NodeReplacement follows that update and streams one result per old node' {
        $verbose | Should -Contain "prod/win-custom: following EKS update $($change.UpdateId) already in progress."
        $results.Count | Should -Be $oldNodes.Count
        ($results.OldNodeName | Sort-Object) | Should -Be ($oldNodes.NodeName | Sort-Object)
        $results | ForEach-Object {
            $_.Result | Should -Be 'Replaced'
            $_.OldImageId | Should -Be $before.ImageId
            $_.NewImageId | Should -Be $latest.ImageId
            $_.NewInstanceId | Should -BeNullOrEmpty        # EKS pairs no new node with an old one
            $_.DrainDuration | Should -BeNullOrEmpty
        }
    }

    It 'leaves every node of the group on the new AMI, at its size, with no budget violated' {
        $after = Get-WinNodeGroup -ClusterName prod -Name win-custom
        $after.DesiredSize | Should -Be $before.DesiredSize
        $nodes = Get-WinNode -ClusterName prod -NodeGroupName win-custom | Where-Object Ready
        $nodes.Count | Should -Be $before.DesiredSize
        $nodes.ImageId | Sort-Object -Unique | Should -Be $latest.ImageId
        $nodes.NodeName | Where-Object { $_ -in $oldNodes.NodeName } | Should -BeNullOrEmpty
        @((Get-WinEksSimulatorReport).PdbViolations).Count | Should -Be 0
    }

    It 'is a no-op once the group runs its AMI, without reading the group''s update history' {
        Invoke-NodeReplacement -ClusterName prod -NodeGroupName win-custom -Force | Should -BeNullOrEmpty
        [WinEksPatch.Commands.AwsCmdlet]::LastApiCalls | Where-Object Operation -in 'ListUpdates', 'DescribeUpdate' | Should -BeNullOrEmpty
    }
}

Describe 'A managed node group on an EKS AMI type' {
    It 'refuses an AMI of its own, and -WhatIf plans the update to the latest EKS release' {
        { Set-NodeGroupAmi -ClusterName prod -NodeGroupName win-eks -ImageId $latest.ImageId -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'ManagedNodeGroupNotCustom,WinEksPatch.Commands.SetNodeGroupAmiCommand'
        $plan = Invoke-NodeReplacement -ClusterName prod -NodeGroupName win-eks -MaxSurge 3 -WhatIf -WarningVariable warnings -WarningAction SilentlyContinue
        $plan.TargetImageId | Should -Be $latest.ImageId
        $plan.NodesToReplace | Should -Be 2
        $plan.MaxUnavailable | Should -Be 1                    # the group's own updateConfig, not -MaxSurge
        $plan.Window | Should -Be 1                            # EKS's maxUnavailable at a time
        ($plan.Steps | ForEach-Object { "$($_.AfterStep)" }) | Should -Be @('', '1')
        $warnings[0] | Should -Match '-MaxSurge, -MaxUnavailable, -DrainTimeout, -ReadyTimeout, -MinReadyTime, -BlockedNodeAction and -PaceToFastLaunch apply to self-managed groups only'
        (Get-WinNodeGroup -ClusterName prod -Name win-eks).OsBuild | Should -Not -Be $latest.OsBuild
    }
}

Describe 'A self-managed group that launches through a MixedInstancesPolicy' {
    BeforeAll {
        $script:mixedBefore = Get-WinNodeGroup -ClusterName prod -Name prod-win-mixed
        $script:mixedChange = Set-NodeGroupAmi -ClusterName prod -NodeGroupName prod-win-mixed -ImageId $latest.ImageId -Force
        $script:mixedResults = @(Invoke-NodeReplacement -ClusterName prod -NodeGroupName prod-win-mixed -MaxSurge 2 -Force -WarningAction SilentlyContinue)
    }

    It 'moves the policy''s launch template to a new numbered version (the simulator refuses a plain LaunchTemplate for such a group)' {
        $mixedChange.Kind | Should -Be 'SelfManaged'
        $mixedChange.Changed | Should -BeTrue
        $mixedBefore.LaunchTemplateVersion | Should -Be '$Latest'
        $mixedChange.LaunchTemplateVersion | Should -Be '2'
        (Get-WinNodeGroup -ClusterName prod -Name prod-win-mixed).LaunchTemplateVersion | Should -Be '2'
    }

    It 'replaces its nodes onto the new AMI' {
        $mixedResults.Count | Should -Be 2
        $mixedResults.Result | Sort-Object -Unique | Should -Be 'Replaced'
        $mixedResults.NewInstanceId | ForEach-Object { $_ | Should -Match '^i-' }
        (Get-WinNode -ClusterName prod -NodeGroupName prod-win-mixed).ImageId | Sort-Object -Unique | Should -Be $latest.ImageId
    }
}

Describe 'When a budget holds EKS''s drain' {
    BeforeAll {
        $script:ledger = (Get-WinNode -ClusterName legacy -NodeGroupName win-legacy)
        $script:caught = $null
        try {
            Invoke-NodeReplacement -ClusterName legacy -NodeGroupName win-legacy -Force:$false -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue -ErrorAction Stop | Out-Null
        } catch { $script:caught = $_ }
    }

    It 'the pre-flight says the budget will stall EKS''s drain into PodEvictionFailure' {
        $warnings | Where-Object { $_ -like 'PodDisruptionBudget billing/ledger: allows no disruption now*PodEvictionFailure*' } | Should -Not -BeNullOrEmpty
    }

    It 'names the blocking pod and budget while EKS waits' {
        $warnings | Where-Object { $_ -match "^EKS's drain of win-legacy is held by pod billing/ledger-\S+ on ip-\S+ \(PodDisruptionBudget billing/ledger: 1 healthy, 1 needed\)" } |
            Should -Not -BeNullOrEmpty
    }

    It 'fails with PodEvictionFailure, naming the pod and budget, and no pod is evicted past its budget' {
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -Be 'ManagedUpdateFailed,WinEksPatch.Commands.InvokeNodeReplacementCommand'
        $caught.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $caught.Exception.Message | Should -Match 'ended Failed: PodEvictionFailure: Reached max retries'
        $caught.Exception.Message | Should -Match 'What blocked the drain: pod billing/ledger-\S+ on ip-\S+ \(PodDisruptionBudget billing/ledger'
        @((Get-WinEksSimulatorReport).PdbViolations | Where-Object Cluster -eq 'legacy').Count | Should -Be 0
    }
}
