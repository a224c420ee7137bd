# The assessment cmdlets end to end against the simulator's demo scenario: a current managed Windows group, a
# self-managed Windows group five monthly patches behind, a Linux group, and a Linux-only second cluster.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)
    $null = Start-WinEksSimulator -Scenario demo
}

AfterAll { Stop-WinEksSimulator }

Describe 'Get-WinNodeGroup' {
    BeforeAll { $script:groups = Get-WinNodeGroup -ClusterName demo }

    It 'finds the managed and the self-managed Windows groups, not the Linux one' {
        $groups.NodeGroupName | Should -Be @('demo-win-selfmanaged', 'win-managed')
        ($groups | Where-Object NodeGroupName -eq 'demo-win-selfmanaged').Kind | Should -Be 'SelfManaged'
        ($groups | Where-Object NodeGroupName -eq 'win-managed').Kind | Should -Be 'Managed'
    }

    It 'reads the self-managed group''s launch template, AMI and sizes' {
        $g = $groups | Where-Object NodeGroupName -eq 'demo-win-selfmanaged'
        $g.AutoScalingGroupName | Should -Be 'demo-win-selfmanaged'
        $g.LaunchTemplateId | Should -Match '^lt-[0-9a-f]{17}$'
        $g.ImageId | Should -Be 'ami-0b178af229e4ddbf9'
        $g.AmiName | Should -BeLike 'Windows_Server-2022-English-Core-EKS_Optimized-1.31-*'
        $g.WindowsVersion | Should -Be '2022'
        $g.Edition | Should -Be 'Core'
        $g.OsBuild | Should -Be '10.0.20348.5020'
        $g.KubernetesVersion | Should -Be '1.31'
        $g.DesiredSize | Should -Be 4
        $g.NodeCount | Should -Be 4
    }

    It 'takes a managed group''s AMI and build from its nodes when EKS picks the AMI' {
        $g = $groups | Where-Object NodeGroupName -eq 'win-managed'
        $g.AmiType | Should -Be 'WINDOWS_CORE_2022_x86_64'
        $g.ImageId | Should -Be 'ami-03ae33a4ed49091ae'
        $g.OsBuild | Should -Be '10.0.20348.5622'
        $g.NodeCount | Should -Be 3
        $g.MinSize, $g.MaxSize, $g.DesiredSize | Should -Be @(2, 6, 3)
    }

    It 'reports a Linux group and an unknown group as errors and still returns the others' {
        $found = Get-WinNodeGroup -ClusterName demo -Name linux-system, nope, win-managed -ErrorVariable failures -ErrorAction SilentlyContinue
        $found.NodeGroupName | Should -Be 'win-managed'
        $failures.FullyQualifiedErrorId | Should -Be @('NodeGroupNotWindows,WinEksPatch.Commands.GetWinNodeGroupCommand', 'NodeGroupNotFound,WinEksPatch.Commands.GetWinNodeGroupCommand')
        $failures.CategoryInfo.Category | Should -Be @('InvalidArgument', 'ObjectNotFound')
    }

    It 'takes clusters from the pipeline and reports an unknown one per item' {
        $found = [pscustomobject]@{ ClusterName = 'nope' }, [pscustomobject]@{ ClusterName = 'demo' } |
            Get-WinNodeGroup -ErrorVariable failures -ErrorAction SilentlyContinue
        @($found).Count | Should -Be 2
        $failures[0].FullyQualifiedErrorId | Should -Be 'ClusterNotFound,WinEksPatch.Commands.GetWinNodeGroupCommand'
    }
}

Describe 'Get-WinNode' {
    BeforeAll { $script:nodes = Get-WinNode -ClusterName demo }

    It 'joins every Windows node with its instance, AMI and pods' {
        $nodes.Count | Should -Be 7
        $nodes | ForEach-Object {
            $_.InstanceId | Should -Match '^i-[0-9a-f]{17}$'
            $_.ImageId | Should -Match '^ami-'
            $_.AmiCreationDate | Should -Not -BeNullOrEmpty
            $_.Ready | Should -BeTrue
            $_.Schedulable | Should -BeTrue
            $_.PodCount | Should -BeGreaterThan 0
            $_.Age.TotalDays | Should -BeGreaterThan 0
        }
    }

    It 'takes the OS build from kernelVersion, per group' {
        ($nodes | Where-Object NodeGroupName -eq 'demo-win-selfmanaged').OsBuild | Sort-Object -Unique | Should -Be '10.0.20348.5020'
        ($nodes | Where-Object NodeGroupName -eq 'win-managed').OsBuild | Sort-Object -Unique | Should -Be '10.0.20348.5622'
    }

    It 'reads the 7 nodes of both groups in batches: one call per API and one LIST per kind, never one per node' {
        $null = Get-WinEksSimulatorReport -Reset
        @(Get-WinNode -ClusterName demo).Count | Should -Be 7
        $report = Get-WinEksSimulatorReport
        foreach ($operation in 'DescribeInstances', 'DescribeImages') {
            ($report.ApiCalls | Where-Object Operation -eq $operation).Count | Should -Be 1 -Because "$operation is batched"
        }
        foreach ($kind in 'nodes', 'pods') {
            ($report.KubernetesRequests | Where-Object { $_.Verb -eq 'list' -and $_.Resource -eq $kind }).Count | Should -Be 1 -Because "one LIST of $kind"
        }
        ($report.KubernetesRequests | Where-Object Verb -eq 'get').Count | Should -Be 0 -Because 'no per-object GET'
    }

    It 'filters by node group from the pipeline' {
        $selected = Get-WinNodeGroup -ClusterName demo -Name win-managed | Get-WinNode
        $selected.Count | Should -Be 3
        $selected.NodeGroupName | Sort-Object -Unique | Should -Be 'win-managed'
    }
}

Describe 'Get-WinNodeAmi' {
    It 'gives the one EKS-optimized AMI for a Kubernetes version, Windows version and edition' {
        $ami = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
        $ami.ImageId | Should -Be 'ami-03ae33a4ed49091ae'
        $ami.OsBuild | Should -Be '10.0.20348.5622'
        $ami.ParameterName | Should -Be '/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.31/image_id'
        $ami.CachedImages | Should -Contain 'mcr.microsoft.com/windows/servercore:10.0.20348.5622'
    }

    It 'lists every EKS-optimized Windows AMI without filters' {
        $all = Get-WinNodeAmi -Source Eks
        $all.Count | Should -Be 18
        ($all.WindowsVersion | Sort-Object -Unique) | Should -Be @('2019', '2022', '2025')
        ($all.KubernetesVersion | Sort-Object -Unique) | Should -Be @('1.30', '1.31', '1.32')
    }
}

Describe 'Get-WinPatchStatus' {
    BeforeAll { $script:status = Get-WinPatchStatus -ClusterName demo }

    It 'finds the self-managed group five monthly patches behind with every node outdated' {
        $s = $status | Where-Object NodeGroupName -eq 'demo-win-selfmanaged'
        $s.OsBuild | Should -Be '10.0.20348.5020'
        $s.LatestOsBuild | Should -Be '10.0.20348.5622'
        $s.LatestImageId | Should -Be 'ami-03ae33a4ed49091ae'
        $s.MonthsBehind | Should -Be 5
        $s.OutdatedNodes | Should -Be 4
        $s.UpToDate | Should -BeFalse
        $s.OldestNode | Should -Not -BeNullOrEmpty
    }

    It 'finds the managed group up to date' {
        $s = $status | Where-Object NodeGroupName -eq 'win-managed'
        $s.MonthsBehind | Should -Be 0
        $s.OutdatedNodes | Should -Be 0
        $s.UpToDate | Should -BeTrue
    }
}

Describe 'table views' {
    It '<Name> fits 120 columns' -ForEach @(
        @{ Name = 'Get-WinEksCluster'; Command = { Get-WinEksCluster } }
        @{ Name = 'Get-WinNodeGroup'; Command = { Get-WinNodeGroup -ClusterName demo } }
        @{ Name = 'Get-WinNode'; Command = { Get-WinNode -ClusterName demo } }
        @{ Name = 'Get-WinNodeAmi'; Command = { Get-WinNodeAmi -KubernetesVersion 1.31 } }
        @{ Name = 'Get-WinPatchStatus'; Command = { Get-WinPatchStatus -ClusterName demo } }
        @{ Name = 'Get-WinContainerPatchStatus'; Command = { Get-WinContainerPatchStatus -ClusterName demo } }
        @{ Name = 'Get-WinImageCachePlan'; Command = { Get-WinImageCachePlan -ClusterName demo 3>$null } }
        @{ Name = 'Measure-WinContainerImage'; Command = { Measure-WinContainerImage -Image 111122223333.dkr.ecr.us-west-2.amazonaws.com/fluentd-windows:1.17.3-ltsc2019 } }
    ) {
        # Rendered wider than a terminal would, so a view that needs more than 120 columns shows up as a longer line.
        $lines = (& $Command | Format-Table | Out-String -Width 250) -split "`n" | Where-Object { $_.Trim() }
        $lines.Count | Should -BeGreaterThan 2
        ($lines | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual 120
    }
}
