# A self-managed group whose launch template names its AMI by a Systems Manager parameter (resolve:ssm:…, as Terraform
# modules and the EKS docs suggest for "always the latest EKS AMI"): EC2 resolves the alias at each launch, so status,
# plans and rollouts must read it resolved, and Set-NodeGroupAmi must say it stops following the parameter.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)
    $script:shared = Start-TestSimulator -Scenario demo -TimeScale 600
    $null = Connect-WinEksSimulator -Endpoint $shared.endpoint
    $script:group = 'demo-win-selfmanaged'
    $script:latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
    $script:parameter = '/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.31/image_id'
    (Invoke-AwsCall $shared ssm GetParameter @{ Name = $parameter }).Parameter.Value | Should -Be $latest.ImageId

    # Points the group at a new version of its template that names its AMI as resolve:ssm:$parameter; returns it.
    function Set-AliasVersion($Simulator) {
        $before = Get-WinNodeGroup -ClusterName demo -Name $group
        $created = Invoke-AwsCall $Simulator ec2 CreateLaunchTemplateVersion @{
            LaunchTemplateId = $before.LaunchTemplateId; SourceVersion = "$($before.LaunchTemplateVersion)"; LaunchTemplateData = @{ ImageId = "resolve:ssm:$parameter" } }
        $version = "$($created.LaunchTemplateVersion.VersionNumber)"
        $null = Invoke-AwsCall $Simulator auto-scaling UpdateAutoScalingGroup @{ AutoScalingGroupName = $group
            LaunchTemplate = @{ LaunchTemplateId = $before.LaunchTemplateId; Version = $version } }
        [pscustomobject]@{ OldImage = $before.ImageId; TemplateId = $before.LaunchTemplateId; Version = $version }
    }
    $alias = Set-AliasVersion $shared
    $script:oldImage = $alias.OldImage
    $script:templateId = $alias.TemplateId
    $script:aliasVersion = $alias.Version
}
AfterAll { Stop-TestSimulator $shared }

Describe 'A launch template that names its AMI as resolve:ssm:' {
    It 'is kept as the alias by EC2 and shown resolved only with ResolveAlias (the AWS SDK for JavaScript reads both)' {
        $asGiven = Invoke-AwsCall $shared ec2 DescribeLaunchTemplateVersions @{ LaunchTemplateId = $templateId; Versions = @($aliasVersion) }
        $asGiven.LaunchTemplateVersions[0].LaunchTemplateData.ImageId | Should -Be "resolve:ssm:$parameter"
        $resolved = Invoke-AwsCall $shared ec2 DescribeLaunchTemplateVersions @{ LaunchTemplateId = $templateId; Versions = @($aliasVersion); ResolveAlias = $true }
        $resolved.LaunchTemplateVersions[0].LaunchTemplateData.ImageId | Should -Be $latest.ImageId
    }

    It 'is read resolved: the group launches the AMI the parameter names, and its nodes are behind it' {
        $ng = Get-WinNodeGroup -ClusterName demo -Name $group
        $ng.ImageId | Should -Be $latest.ImageId
        $ng.LaunchTemplateVersion | Should -Be $aliasVersion
        @(Get-WinNode -ClusterName demo -NodeGroupName $group).ImageId | Sort-Object -Unique | Should -Be $oldImage
    }

    It 'Set-NodeGroupAmi -WhatIf says the new version would name the AMI itself and stop following the parameter' {
        $log = Join-Path $TestDrive 'whatif.txt'
        Start-Transcript -Path $log | Out-Null
        try { Set-NodeGroupAmi -ClusterName demo -NodeGroupName $group -ImageId $oldImage -WhatIf }
        finally { Stop-Transcript | Out-Null }
        (Get-Content $log -Raw) -replace '\s+', ' ' |
            Should -BeLike "*version $aliasVersion (which follows resolve:ssm:$parameter; the new version names $oldImage itself and no longer follows the parameter)*"
    }

    It 'is rolled out: every node is replaced by one launched from the alias, on the AMI it resolves to' {
        $results = @(Invoke-NodeReplacement -ClusterName demo -NodeGroupName $group -Force -WarningAction SilentlyContinue)
        $results.Count | Should -BeGreaterThan 0
        $results.NewImageId | Sort-Object -Unique | Should -Be $latest.ImageId
        @(Get-WinNode -ClusterName demo -NodeGroupName $group).ImageId | Sort-Object -Unique | Should -Be $latest.ImageId
        (Get-WinPatchStatus -ClusterName demo -NodeGroupName $group -ErrorAction Stop).OutdatedNodes | Should -Be 0
    }
}

Describe 'resolving an alias is the caller''s ssm:GetParameters, and the policy read from the cluster grants it' {
    BeforeAll {
        $script:policy = Get-WinEksPatchIamPolicy -ClusterName demo -FromCluster -WarningAction SilentlyContinue | ConvertFrom-Json
        $script:parameterArn = "arn:aws:ssm:us-west-2::parameter$parameter"
        function Start-Enforced([object] $Policy) {
            $file = Join-Path $TestDrive "policy-$([guid]::NewGuid().ToString('n')).json"
            $Policy | ConvertTo-Json -Depth 10 | Set-Content $file
            $sim = Start-TestSimulator -Scenario demo -ExtraArguments @('--iam-policy', $file)
            $null = Connect-WinEksSimulator -Endpoint $sim.endpoint
            $null = Set-AliasVersion $sim
            $sim
        }
    }
    AfterEach { Stop-WinEksSimulator; if ($enforced) { Stop-TestSimulator $enforced } }
    AfterAll { $null = Connect-WinEksSimulator -Endpoint $shared.endpoint }

    It 'names the alias''s parameter, and under it the group is read with the alias resolved' {
        @(($policy.Statement | Where-Object Sid -eq 'WinEksPatchResolveTemplateAliases').Resource) | Should -Be @($parameterArn)
        $script:enforced = Start-Enforced $policy
        (Get-WinNodeGroup -ClusterName demo -Name $group -ErrorAction Stop).ImageId | Should -Be $latest.ImageId
    }

    It 'without ssm:GetParameters, neither a read with the alias resolved nor setting a group to it is allowed' {
        $narrowed = $policy | ConvertTo-Json -Depth 10 | ConvertFrom-Json
        $narrowed.Statement = @($narrowed.Statement | Where-Object Sid -ne 'WinEksPatchResolveTemplateAliases')
        foreach ($statement in $narrowed.Statement) { $statement.Action = @($statement.Action | Where-Object { $_ -ne 'ssm:GetParameters' }) }
        $file = Join-Path $TestDrive 'no-get-parameters.json'
        $narrowed | ConvertTo-Json -Depth 10 | Set-Content $file
        $script:enforced = Start-TestSimulator -Scenario demo -ExtraArguments @('--iam-policy', $file)
        $refusal = "*not authorized to perform: ssm:GetParameters on resource: $parameterArn*"
        $created = Invoke-AwsCall $enforced ec2 CreateLaunchTemplateVersion @{ LaunchTemplateId = $templateId; SourceVersion = '1'; LaunchTemplateData = @{ ImageId = "resolve:ssm:$parameter" } }
        $version = "$($created.LaunchTemplateVersion.VersionNumber)"
        { Invoke-AwsCall $enforced ec2 DescribeLaunchTemplateVersions @{ LaunchTemplateId = $templateId; Versions = @($version); ResolveAlias = $true } } | Should -Throw $refusal
        (Invoke-AwsCall $enforced ec2 DescribeLaunchTemplateVersions @{ LaunchTemplateId = $templateId; Versions = @($version) }).LaunchTemplateVersions[0].LaunchTemplateData.ImageId |
            Should -Be "resolve:ssm:$parameter"
        { Invoke-AwsCall $enforced auto-scaling UpdateAutoScalingGroup @{ AutoScalingGroupName = $group; LaunchTemplate = @{ LaunchTemplateId = $templateId; Version = $version } } } |
            Should -Throw $refusal
    }
}
