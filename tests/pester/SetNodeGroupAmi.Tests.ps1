BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)
    $null = Start-WinEksSimulator -Scenario demo
    $script:latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
}

AfterAll { Stop-WinEksSimulator }

Describe 'Set-NodeGroupAmi' {
    It '-WhatIf changes nothing' {
        $before = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageId $latest.ImageId -WhatIf | Should -BeNullOrEmpty
        $after = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $after.ImageId | Should -Be $before.ImageId
        $after.LaunchTemplateVersion | Should -Be $before.LaunchTemplateVersion
    }

    It 'moves a self-managed group to a new numbered launch template version with only the AMI changed' {
        $change = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged | Set-NodeGroupAmi -ImageId $latest.ImageId -Force
        $change.Changed | Should -BeTrue
        $change.PreviousImageId | Should -Be 'ami-0b178af229e4ddbf9'
        $change.ImageId | Should -Be $latest.ImageId
        $change.LaunchTemplateVersion | Should -Match '^\d+$'
        $group = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $group.ImageId | Should -Be $latest.ImageId
        $group.LaunchTemplateVersion | Should -Be $change.LaunchTemplateVersion   # the ASG names the number, never $Latest
    }

    It 'is idempotent: the same AMI again changes nothing' {
        $again = Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageId $latest.ImageId -Force
        $again.Changed | Should -BeFalse
    }

    It 'goes back with the previous AMI, through yet another version' {
        $back = Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageId ami-0b178af229e4ddbf9 -Force
        $back.Changed | Should -BeTrue
        [int]$back.LaunchTemplateVersion | Should -BeGreaterThan 2
        (Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).ImageId | Should -Be 'ami-0b178af229e4ddbf9'
    }

    It 'refuses <Case> before changing anything' -ForEach @(
        @{ Case = 'an AMI of another Kubernetes version'; Query = @{ KubernetesVersion = '1.30'; WindowsVersion = '2022'; Edition = 'Core' }; Id = 'AmiKubernetesVersionMismatch' }
        @{ Case = 'an AMI of another Windows build'; Query = @{ KubernetesVersion = '1.31'; WindowsVersion = '2019'; Edition = 'Core' }; Id = 'AmiWindowsBuildMismatch' }
    ) {
        $ami = Get-WinNodeAmi @Query -Source Eks
        $before = (Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).LaunchTemplateVersion
        Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageId $ami.ImageId -Force -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be "$Id,WinEksPatch.Commands.SetNodeGroupAmiCommand"
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        (Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).LaunchTemplateVersion | Should -Be $before
    }

    It 'refuses an AMI that does not exist, a Linux AMI, a Linux group and an unknown group' {
        $cases = @(
            @{ Group = 'demo-win-selfmanaged'; Ami = 'ami-00000000000000000'; Id = 'AmiNotFound' }
            @{ Group = 'linux-system'; Ami = $latest.ImageId; Id = 'NodeGroupNotWindows' }
            @{ Group = 'nope'; Ami = $latest.ImageId; Id = 'NodeGroupNotFound' }
        )
        foreach ($case in $cases) {
            Set-NodeGroupAmi -ClusterName demo -NodeGroupName $case.Group -ImageId $case.Ami -Force -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures[0].FullyQualifiedErrorId | Should -Be "$($case.Id),WinEksPatch.Commands.SetNodeGroupAmiCommand"
        }
    }

    It 'explains why a managed group on an EKS AMI type cannot take a custom AMI' {
        Set-NodeGroupAmi -ClusterName demo -NodeGroupName win-managed -ImageId $latest.ImageId -Force -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'ManagedNodeGroupNotCustom,WinEksPatch.Commands.SetNodeGroupAmiCommand'
        $failures[0].Exception.Message | Should -BeLike '*CUSTOM*'
    }
}
