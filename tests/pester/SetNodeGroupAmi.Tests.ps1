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

Describe 'An AMI owned by another account' {
    BeforeAll {
        $sim = Start-WinEksSimulator -Scenario (Join-Path $PSScriptRoot 'scenarios/wide.json') -TimeScale 600
        $script:group = 'wide-win-wide'
        # The newest 2022 Core AMI for 1.31 as shared by account 444455556666 (the scenario's sharedCopiesFrom), found as a
        # user would, with the AWS SDK for JavaScript.
        $caller = [pscustomobject]@{ endpoint = $sim.Endpoint; region = $sim.Region; accessKeyId = 'AKIASIMULATOR0000001'; secretAccessKey = 'WinEksPatchSimulator/NotASecret/00000000' }
        $latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
        $script:shared = (Invoke-AwsCall $caller ec2 DescribeImages @{ Owners = @('444455556666'); Filters = @(@{ Name = 'name'; Values = @("$($latest.Name)-shared") }) }).Images[0].ImageId
        $script:before = (Get-WinNodeGroup -ClusterName wide -NodeGroupName $group).LaunchTemplateVersion
    }
    AfterAll { Stop-WinEksSimulator }

    It 'is refused with AmiOwnerNotTrusted before anything changes, naming the owner and the switch that allows it' {
        $shared | Should -Match '^ami-'
        { Set-NodeGroupAmi -ClusterName wide -NodeGroupName $group -ImageId $shared -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'AmiOwnerNotTrusted,WinEksPatch.Commands.SetNodeGroupAmiCommand' -ExpectedMessage '*owned by account 444455556666, neither this account (111122223333) nor Amazon*-AllowAmiOwner 444455556666*'
        try { Invoke-WinEksPatch -ClusterName wide -ImageSource $shared -Force -OutVariable out -ErrorAction SilentlyContinue -WarningAction SilentlyContinue | Out-Null }
        catch { $failure = $_ }
        $failure.Exception.InnerException.InnerException.ErrorId | Should -Be 'AmiOwnerNotTrusted'
        $failure.CategoryInfo.Category | Should -Be 'SecurityError'
        (Get-WinNodeGroup -ClusterName wide -NodeGroupName $group).LaunchTemplateVersion | Should -Be $before
    }

    It 'is set with -AllowAmiOwner naming that account' {
        $change = Set-NodeGroupAmi -ClusterName wide -NodeGroupName $group -ImageId $shared -AllowAmiOwner 444455556666 -Force
        $change.Changed | Should -BeTrue
        $change.ImageId | Should -Be $shared
    }
}
