# A self-managed group whose mixed instances policy gives an instance type a launch template of its own (the 'managed'
# scenario's prod-win-mixed, changed here the way Terraform would): Set-NodeGroupAmi moves that template too, and a
# rollout refuses to start while it still launches another AMI.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)
    $script:shared = Start-TestSimulator -Scenario managed -TimeScale 600
    $null = Connect-WinEksSimulator -Endpoint $shared.endpoint
    $script:latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
    $script:group = 'prod-win-mixed'
    function Get-Asg { (Invoke-AwsCall $shared auto-scaling DescribeAutoScalingGroups @{ AutoScalingGroupNames = @($group) }).AutoScalingGroups[0] }

    # m5.2xlarge launches from version 1 of the group's own template; then someone points the policy's template (only)
    # at a version with the latest AMI.
    $ng = Get-WinNodeGroup -ClusterName prod -Name $group
    $script:templateId = $ng.LaunchTemplateId
    $version = Invoke-AwsCall $shared ec2 CreateLaunchTemplateVersion @{ LaunchTemplateId = $templateId; SourceVersion = '1'; LaunchTemplateData = @{ ImageId = $latest.ImageId } }
    $null = Invoke-AwsCall $shared auto-scaling UpdateAutoScalingGroup @{ AutoScalingGroupName = $group; MixedInstancesPolicy = @{ LaunchTemplate = @{
        LaunchTemplateSpecification = @{ LaunchTemplateId = $templateId; Version = "$($version.LaunchTemplateVersion.VersionNumber)" }
        Overrides = @(@{ InstanceType = 'm5.2xlarge'; LaunchTemplateSpecification = @{ LaunchTemplateId = $templateId; Version = '1' } }, @{ InstanceType = 'm5.xlarge' }) } } }
}
AfterAll { Stop-TestSimulator $shared }

Describe 'A mixed instances policy whose override has a launch template of its own' {
    It 'refuses a rollout while that template launches another AMI, before any change' {
        $null = Invoke-RestMethod -Method Post -Uri "$($shared.endpoint)/_sim/report/reset"
        { Invoke-NodeReplacement -ClusterName prod -NodeGroupName $group -Force -ErrorAction Stop -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'LaunchTemplateOverrideNotOnTarget,WinEksPatch.Commands.InvokeNodeReplacementCommand' `
                -ExpectedMessage "*launches m5.2xlarge from launch template $templateId version 1, whose AMI is ami-*, not $($latest.ImageId)*Nothing was changed*Set-NodeGroupAmi*"
        $calls = (Invoke-RestMethod "$($shared.endpoint)/_sim/report").apiCalls
        @($calls | Where-Object { $_.operation -in 'SetDesiredCapacity', 'UpdateAutoScalingGroup', 'SuspendProcesses', 'CreateOrUpdateTags', 'TerminateInstanceInAutoScalingGroup' }) |
            Should -BeNullOrEmpty
    }

    It 'Set-NodeGroupAmi gives the override''s template a new version with the AMI, and the rollout then puts every node on it' {
        $change = Set-NodeGroupAmi -ClusterName prod -NodeGroupName $group -ImageId $latest.ImageId -Force
        $change.Changed | Should -BeTrue
        $change.OverrideLaunchTemplates | Should -HaveCount 1
        $asg = Get-Asg
        $override = $asg.MixedInstancesPolicy.LaunchTemplate.Overrides | Where-Object InstanceType -eq 'm5.2xlarge'
        "$($override.LaunchTemplateSpecification.LaunchTemplateId):$($override.LaunchTemplateSpecification.Version)" | Should -Be $change.OverrideLaunchTemplates[0]
        ($asg.MixedInstancesPolicy.LaunchTemplate.Overrides | Where-Object InstanceType -eq 'm5.xlarge').LaunchTemplateSpecification | Should -BeNullOrEmpty
        $versions = (Invoke-AwsCall $shared ec2 DescribeLaunchTemplateVersions @{ LaunchTemplateId = $templateId; Versions = @($override.LaunchTemplateSpecification.Version) }).LaunchTemplateVersions
        $versions[0].LaunchTemplateData.ImageId | Should -Be $latest.ImageId

        $results = @(Invoke-NodeReplacement -ClusterName prod -NodeGroupName $group -Force -WarningAction SilentlyContinue)
        $results.Count | Should -Be 2
        $nodes = @(Get-WinNode -ClusterName prod -NodeGroupName $group)
        $nodes.ImageId | Sort-Object -Unique | Should -Be $latest.ImageId
        $nodes.InstanceType | Sort-Object -Unique | Should -Be 'm5.2xlarge'
    }
}
