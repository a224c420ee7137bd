# Least privilege proven, not claimed (#16): the simulator enforces Get-WinEksPatchIamPolicy's policy the way IAM does,
# a whole cycle succeeds under it, and every statement is needed by a step that names the action it lacks.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)

    # The policy for everything the module does on a cluster, as an admin would generate it: read from the cluster
    # (-FromCluster) by a simulator of the same scenario that enforces nothing.
    $script:policies = @{}
    foreach ($target in @(@{ Scenario = 'demo'; Cluster = 'demo' }, @{ Scenario = 'managed'; Cluster = 'prod' })) {
        $null = Start-WinEksSimulator -Scenario $target.Scenario
        try { $policies[$target.Cluster] = Get-WinEksPatchIamPolicy -Scope ReadOnly, Build, Rollout -ClusterName $target.Cluster -FromCluster -ErrorAction Stop }
        finally { Stop-WinEksSimulator }
    }
    function Get-GeneratedPolicy([string] $Cluster) { $policies[$Cluster] | ConvertFrom-Json }

    function New-PolicyFile([string[]] $WithoutSid = @(), [string] $Cluster = 'demo') {
        $policy = Get-GeneratedPolicy $Cluster
        $policy.Statement = @($policy.Statement | Where-Object Sid -notin $WithoutSid)
        $file = Join-Path $TestDrive "policy-$([guid]::NewGuid().ToString('n')).json"
        $policy | ConvertTo-Json -Depth 10 | Set-Content $file
        $file
    }

    function Get-TerminatingError([scriptblock] $Command) {
        try { $null = & $Command; $null } catch { $_ }
    }
}

Describe 'a whole cycle under the generated policy, with the simulator enforcing it' {
    BeforeAll { $null = Start-WinEksSimulator -Scenario demo -TimeScale 600 -IamPolicyPath (New-PolicyFile) }
    AfterAll { Stop-WinEksSimulator }

    It 'the assessment cmdlets read everything they need' {
        (Get-WinEksCluster -ClusterName demo -ErrorAction Stop).ClusterName | Should -Be 'demo'
        @(Get-WinNodeGroup -ClusterName demo -ErrorAction Stop).Count | Should -Be 2
        @(Get-WinNode -ClusterName demo -ErrorAction Stop).Count | Should -BeGreaterThan 0
        @(Get-WinPatchStatus -ClusterName demo -ErrorAction Stop).Count | Should -Be 2
        @(Get-WinContainerPatchStatus -ClusterName demo -ErrorAction Stop -WarningAction SilentlyContinue).Count | Should -BeGreaterThan 0
        $plan = @(Get-WinImageCachePlan -ClusterName demo -NodeGroupName demo-win-selfmanaged -ErrorAction Stop -WarningAction SilentlyContinue)
        $plan.Count | Should -BeGreaterThan 0
        (Measure-WinContainerImage -Image $plan[0].Image -ErrorAction Stop).CompressedSize | Should -BeGreaterThan 0
        (Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks -ErrorAction Stop).ImageId | Should -Match '^ami-'
    }

    It 'a failed build removes what it created (imagebuilder:Delete*), and a build succeeds' {
        $rule = Add-WinEksSimulatorFault -Service imagebuilder -Operation CreateDistributionConfiguration -ErrorCode InvalidRequestException -Message 'injected'
        try {
            $messages = [Collections.Generic.List[string]]::new()
            $failure = Get-TerminatingError { New-WinNodeAmi -ClusterName demo -WindowsVersion 2019 -Edition Core -NoWait -Confirm:$false -Verbose 4>&1 3>&1 | ForEach-Object { $messages.Add("$_") } }
        }
        finally { Remove-WinEksSimulatorFault -Id $rule.Id }
        $failure.Exception.Message | Should -BeLike '*injected*'
        $created = @($messages | Where-Object { $_ -like 'Created *' })
        $removed = @($messages | Where-Object { $_ -like 'Removed *' })
        $created.Count | Should -Be 3
        $removed.Count | Should -Be $created.Count -Because ($messages -join "`n")

        $cache = (Get-WinImageCachePlan -ClusterName demo -NodeGroupName demo-win-selfmanaged -WarningAction SilentlyContinue).Image
        $ami = New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -CacheImage $cache -Confirm:$false -WarningAction SilentlyContinue -ErrorAction Stop
        $ami.ImageId | Should -Match '^ami-'
        $script:built = $ami
    }

    It 'sets and rolls out a self-managed group (ec2:RunInstances through its template, PassRole of its node role)' {
        $report = Invoke-WinEksPatch -ClusterName demo -Force -WarningAction SilentlyContinue
        $report.Error | Should -BeNullOrEmpty
        $report.Succeeded | Should -BeTrue
        ($report.Groups | Where-Object NodeGroupName -eq 'demo-win-selfmanaged').Result | Should -Be 'Patched'
        ($report.Groups | Where-Object NodeGroupName -eq 'win-managed').Result | Should -Be 'UpToDate'
    }

    It 'refuses what the policy does not grant: another cluster is AwsAccessDenied naming eks:DescribeCluster' {
        $failure = Get-TerminatingError { Get-WinNodeGroup -ClusterName staging -ErrorAction Stop }
        $failure.FullyQualifiedErrorId | Should -BeLike 'AwsAccessDenied,*'
        $failure.CategoryInfo.Category | Should -Be 'PermissionDenied'
        $failure.Exception.Message | Should -BeLike '*not authorized to perform: eks:DescribeCluster on resource: arn:aws:eks:us-west-2:111122223333:cluster/staging*'
    }
}

Describe 'the policy read from the cluster (-FromCluster)' {
    It 'names the cluster''s account and region, the node role its self-managed group passes and its groups'' launch templates' {
        $policy = Get-GeneratedPolicy demo
        $pass = $policy.Statement | Where-Object Sid -eq 'WinEksPatchPassNodeRole'
        @($pass.Resource) | Should -Be @('arn:aws:iam::111122223333:role/demo-node-role')
        $pass.Condition.StringEquals.'iam:PassedToService' | Should -Be 'ec2.amazonaws.com'
        $null = Start-WinEksSimulator -Scenario demo
        try {
            $templates = @(Get-WinNodeGroup -ClusterName demo).LaunchTemplateId | Where-Object { $_ } | Sort-Object -Unique
            $selfManagedTemplate = (Get-WinNodeGroup -ClusterName demo -NodeGroupName demo-win-selfmanaged).LaunchTemplateId
        }
        finally { Stop-WinEksSimulator }
        $templates.Count | Should -Be 2
        $arns = @($templates | ForEach-Object { "arn:aws:ec2:us-west-2:111122223333:launch-template/$_" })
        @(($policy.Statement | Where-Object Sid -eq 'WinEksPatchRolloutTemplates').Resource | Sort-Object) | Should -Be $arns
        # Auto Scaling launches only the self-managed group's template; EKS launches the managed group's instances.
        $selfManaged = "arn:aws:ec2:us-west-2:111122223333:launch-template/$selfManagedTemplate"
        @(($policy.Statement | Where-Object Sid -eq 'WinEksPatchLaunchFromTemplates').Condition.ArnLike.'ec2:LaunchTemplate') | Should -Be @($selfManaged)
        @(($policy.Statement | Where-Object Sid -eq 'WinEksPatchReadEks').Resource) | Should -Contain 'arn:aws:eks:us-west-2:111122223333:cluster/demo'
    }

    It 'writes no policy for a cluster without Windows groups (NoWindowsNodeGroups) or one that is not there (ClusterNotFound)' {
        $null = Start-WinEksSimulator -Scenario demo
        try {
            $out = @(); $failures = @()
            foreach ($cluster in 'staging', 'nowhere') {
                try { $out += Get-WinEksPatchIamPolicy -ClusterName $cluster -FromCluster -ErrorAction Stop } catch { $failures += $_ }
            }
        }
        finally { Stop-WinEksSimulator }
        $out | Should -BeNullOrEmpty
        $failures.FullyQualifiedErrorId | Should -Be @('NoWindowsNodeGroups,WinEksPatch.Commands.GetWinEksPatchIamPolicyCommand', 'ClusterNotFound,WinEksPatch.Commands.GetWinEksPatchIamPolicyCommand')
    }
}

Describe 'what the generated policy refuses, seen by the AWS SDK for JavaScript' {
    BeforeAll {
        $script:sim = Start-TestSimulator -Scenario demo -TimeScale 600 -ExtraArguments @('--iam-policy', (New-PolicyFile))
        $null = Connect-WinEksSimulator -Endpoint $sim.endpoint
        $script:group = Get-WinNodeGroup -ClusterName demo -NodeGroupName demo-win-selfmanaged
        $script:instance = (Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged)[0].InstanceId
        # A new version of the group's template with only its instance profile changed; the group set to a version.
        function New-VersionWithProfile([string] $InstanceProfile) {
            "$((Invoke-AwsCall $sim ec2 CreateLaunchTemplateVersion @{ LaunchTemplateId = $group.LaunchTemplateId; SourceVersion = $baseVersion
                LaunchTemplateData = @{ IamInstanceProfile = @{ Name = $InstanceProfile } } }).LaunchTemplateVersion.VersionNumber)"
        }
        function Set-GroupVersion([string] $Version) {
            Invoke-AwsCall $sim auto-scaling UpdateAutoScalingGroup @{ AutoScalingGroupName = $group.AutoScalingGroupName
                LaunchTemplate = @{ LaunchTemplateId = $group.LaunchTemplateId; Version = $Version } }
        }
        # The group launches $Latest (as many Terraform setups do): the number it resolves to now, before new versions.
        $script:baseVersion = "$((Invoke-AwsCall $sim ec2 DescribeLaunchTemplateVersions @{ LaunchTemplateId = $group.LaunchTemplateId; Versions = @($group.LaunchTemplateVersion) }).LaunchTemplateVersions[0].VersionNumber)"
    }
    AfterAll { Stop-WinEksSimulator; Stop-TestSimulator $sim }

    It 'a launch template of none of the cluster''s groups gets no new version' {
        { Invoke-AwsCall $sim ec2 CreateLaunchTemplateVersion @{ LaunchTemplateId = 'lt-0123456789abcdef0'; SourceVersion = '1'; LaunchTemplateData = @{ ImageId = 'ami-0123456789abcdef0' } } } |
            Should -Throw '*UnauthorizedOperation*'
    }

    It 'a tag key other than the module''s is refused on the cluster''s instances and groups; the module''s own is allowed' {
        { Invoke-AwsCall $sim ec2 CreateTags @{ Resources = @($instance); Tags = @(@{ Key = 'Owner'; Value = 'someone' }) } } | Should -Throw '*UnauthorizedOperation*'
        { Invoke-AwsCall $sim ec2 CreateTags @{ Resources = @($instance); Tags = @(@{ Key = 'WinEksPatch:Drain'; Value = 'test' }) } } | Should -Not -Throw
        { Invoke-AwsCall $sim auto-scaling CreateOrUpdateTags @{ Tags = @(@{ ResourceId = $group.AutoScalingGroupName; ResourceType = 'auto-scaling-group'; Key = 'Owner'; Value = 'x'; PropagateAtLaunch = $false }) } } |
            Should -Throw '*AccessDenied*'
    }

    It 'a group set to a version whose instance profile holds another role is refused iam:PassRole' {
        $version = New-VersionWithProfile 'EC2InstanceProfileForImageBuilder'
        { Set-GroupVersion $version } | Should -Throw '*iam:PassRole*role/EC2InstanceProfileForImageBuilder*'
    }

    It 'a mixed instances override''s template is checked too: its instance profile''s other role is refused iam:PassRole' {
        $version = New-VersionWithProfile 'EC2InstanceProfileForImageBuilder'
        { Invoke-AwsCall $sim auto-scaling UpdateAutoScalingGroup @{ AutoScalingGroupName = $group.AutoScalingGroupName; MixedInstancesPolicy = @{ LaunchTemplate = @{
            LaunchTemplateSpecification = @{ LaunchTemplateId = $group.LaunchTemplateId; Version = $baseVersion }
            Overrides = @(@{ InstanceType = 'm5.2xlarge'; LaunchTemplateSpecification = @{ LaunchTemplateId = $group.LaunchTemplateId; Version = $version } }) } } } } |
            Should -Throw '*iam:PassRole*role/EC2InstanceProfileForImageBuilder*'
    }

    It 'a template whose instance profile does not exist is refused by Auto Scaling, not let through unchecked' {
        $version = New-VersionWithProfile 'no-such-profile'
        { Set-GroupVersion $version } | Should -Throw '*ValidationError*Invalid IAM Instance Profile*'
        (Get-WinNodeGroup -ClusterName demo -NodeGroupName demo-win-selfmanaged).LaunchTemplateVersion | Should -Be $group.LaunchTemplateVersion
    }

    It 'an Image Builder resource that is not named as the module names its own is refused' {
        { Invoke-AwsCall $sim imagebuilder CreateComponent @{ name = 'someone-elses'; semanticVersion = '1.0.0'; platform = 'Windows'; data = 'name: x'; clientToken = [guid]::NewGuid().ToString() } } |
            Should -Throw '*AccessDenied*'
    }
}

Describe 'image pulls from ECR are authorized too' {
    BeforeAll {
        $file = Join-Path $TestDrive 'deny-pulls.json'
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"ecr:BatchGetImage","Resource":"arn:aws:ecr:us-west-2:111122223333:repository/fluentd-windows"}]}' |
            Set-Content $file
        $null = Start-WinEksSimulator -Scenario demo -IamPolicyPath $file
    }
    AfterAll { Stop-WinEksSimulator }

    It 'a manifest of a repository the identity may not pull from is RegistryAccessDenied naming ecr:BatchGetImage; another repository is read' {
        $failure = Get-TerminatingError { Measure-WinContainerImage -Image 111122223333.dkr.ecr.us-west-2.amazonaws.com/fluentd-windows:1.17.3-ltsc2019 -ErrorAction Stop }
        $failure.FullyQualifiedErrorId | Should -BeLike 'RegistryAccessDenied,*'
        $failure.Exception.Message | Should -BeLike '*403*not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-west-2:111122223333:repository/fluentd-windows*'
        $other = (Get-WinImageCachePlan -ClusterName demo -WarningAction SilentlyContinue).Image | Where-Object { $_ -like '111122223333.dkr.ecr.*' -and $_ -notlike '*/fluentd-windows:*' } | Select-Object -First 1
        $other | Should -Not -BeNullOrEmpty
        (Measure-WinContainerImage -Image $other -ErrorAction Stop).CompressedSize | Should -BeGreaterThan 0
    }
}

Describe 'EC2 Fast Launch with a launch template under the generated policy' {
    It 'is allowed, and is AwsAccessDenied on the launch template once the statement names images only' -ForEach @(
        @{ ImagesOnly = $false }, @{ ImagesOnly = $true }
    ) {
        $policy = Get-GeneratedPolicy demo
        if ($ImagesOnly) {
            $statement = $policy.Statement | Where-Object Sid -eq 'WinEksPatchFastLaunch'
            $statement.Resource = @($statement.Resource | Where-Object { $_ -like '*:image/*' })
        }
        $file = Join-Path $TestDrive "policy-$([guid]::NewGuid().ToString('n')).json"
        $policy | ConvertTo-Json -Depth 10 | Set-Content $file
        $null = Start-WinEksSimulator -Scenario demo -TimeScale 600 -IamPolicyPath $file
        try {
            $template = (Get-WinNodeGroup -ClusterName demo -NodeGroupName demo-win-selfmanaged).LaunchTemplateId
            $ami = New-WinNodeAmi -ClusterName demo -WindowsVersion 2019 -Edition Core -Confirm:$false -ErrorAction Stop
            $failure = Get-TerminatingError { $ami | Enable-WinNodeAmiFastLaunch -LaunchTemplateId $template -NoWait -ErrorAction Stop }
        }
        finally { Stop-WinEksSimulator }
        if ($ImagesOnly) {
            $failure.FullyQualifiedErrorId | Should -BeLike 'AwsAccessDenied,*'
            $failure.Exception.Message | Should -BeLike "*not authorized to perform: ec2:EnableFastLaunch on resource: arn:aws:ec2:us-west-2:*:launch-template/$template*"
        }
        else {
            $failure | Should -BeNullOrEmpty
        }
    }
}

Describe 'managed groups under the generated policy' {
    BeforeAll { $null = Start-WinEksSimulator -Scenario managed -TimeScale 600 -IamPolicyPath (New-PolicyFile -Cluster prod) }
    AfterAll { Stop-WinEksSimulator }

    It 'patches a CUSTOM managed group (its launch template, then EKS''s update) and one on an EKS AMI type' {
        $report = Invoke-WinEksPatch -ClusterName prod -NodeGroupName win-custom, win-eks -Force -WarningAction SilentlyContinue
        $report.Error | Should -BeNullOrEmpty
        $report.Groups.Result | Should -Be @('Patched', 'Patched')
    }
}

Describe 'every statement of the generated policy is needed' {
    BeforeDiscovery {
        # For each statement: the scenario, and a step that needs it (it fails with AwsAccessDenied naming one of the
        # statement's actions once the statement is removed).
        $script:cases = @(
            @{ Sid = 'WinEksPatchReadEks'; Step = { Get-WinNodeGroup -ClusterName demo -ErrorAction Stop } }
            @{ Sid = 'WinEksPatchRead'; Step = { Get-WinNode -ClusterName demo -ErrorAction Stop } }
            @{ Sid = 'WinEksPatchReadEksOptimizedAmis'; Step = { Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks -ErrorAction Stop } }
            @{ Sid = 'WinEksPatchBuildAmis'; Step = { New-WinNodeAmi -ClusterName demo -WindowsVersion 2019 -Edition Core -NoWait -Confirm:$false -ErrorAction Stop } }
            @{ Sid = 'WinEksPatchBuildAmazonComponents'; Step = { New-WinNodeAmi -ClusterName demo -WindowsVersion 2019 -Edition Core -NoWait -Confirm:$false -ErrorAction Stop } }
            @{ Sid = 'WinEksPatchBuildLookups'; Step = { New-WinNodeAmi -ClusterName demo -WindowsVersion 2019 -Edition Core -NoWait -Confirm:$false -ErrorAction Stop } }
            @{ Sid = 'WinEksPatchFastLaunch'; Step = { New-WinNodeAmi -ClusterName demo -WindowsVersion 2019 -Edition Core -Confirm:$false -ErrorAction Stop | Enable-WinNodeAmiFastLaunch -NoWait -ErrorAction Stop } }
            # The account's first EnableFastLaunch: EC2 creates its service-linked role on the caller's permission.
            @{ Sid = 'WinEksPatchFastLaunchServiceRole'; Step = { New-WinNodeAmi -ClusterName demo -WindowsVersion 2019 -Edition Core -Confirm:$false -ErrorAction Stop | Enable-WinNodeAmiFastLaunch -NoWait -ErrorAction Stop } }
            @{ Sid = 'WinEksPatchPassBuildRole'; Step = { New-WinNodeAmi -ClusterName demo -WindowsVersion 2019 -Edition Core -NoWait -Confirm:$false -ErrorAction Stop } }
            @{ Sid = 'WinEksPatchRolloutGroups'; Step = { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force } }
            @{ Sid = 'WinEksPatchRolloutGroupState'; Step = { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force } }
            @{ Sid = 'WinEksPatchRolloutTemplates'; Step = { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force } }
            @{ Sid = 'WinEksPatchLaunchFromTemplates'; Step = { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force } }
            # Reading the new nodes' boot is never a reason to fail a rollout: without it, the rollout warns naming the action.
            @{ Sid = 'WinEksPatchReadBootConsole'; Warns = $true; Step = { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force } }
            @{ Sid = 'WinEksPatchRolloutDrainMarks'; Step = { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force } }
            @{ Sid = 'WinEksPatchPassNodeRole'; Step = { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force } }
            @{ Sid = 'WinEksPatchRolloutManagedGroups'; Scenario = 'managed'; Cluster = 'prod'; Step = { Invoke-WinEksPatch -ClusterName prod -NodeGroupName win-eks -Force } }
        )
    }

    It 'has a step for each statement the policy has' {
        $sids = @((Get-GeneratedPolicy demo).Statement.Sid) + @((Get-GeneratedPolicy prod).Statement.Sid) | Sort-Object -Unique
        @($sids) | Should -Be @($cases.Sid | Sort-Object)
    }

    It 'without <Sid>, a step fails with AwsAccessDenied (or, where it can go on, warns) naming one of its actions' -ForEach $cases {
        $cluster = if ($Cluster) { $Cluster } else { 'demo' }
        $file = New-PolicyFile -WithoutSid $Sid -Cluster $cluster
        $actions = @((Get-GeneratedPolicy $cluster).Statement | Where-Object Sid -eq $Sid | ForEach-Object Action)
        $null = Start-WinEksSimulator -Scenario $(if ($Scenario) { $Scenario } else { 'demo' }) -TimeScale 600 -IamPolicyPath $file
        try {
            $warnings = [Collections.Generic.List[string]]::new()
            $failure = Get-TerminatingError { & $Step 3>&1 | Where-Object { $_ -is [Management.Automation.WarningRecord] } | ForEach-Object { $warnings.Add($_.Message) } }
        }
        finally { Stop-WinEksSimulator }
        if ($Warns) {
            $failure | Should -BeNullOrEmpty -Because 'the step goes on without it'
            $message = @($warnings | Where-Object { $_ -match 'not authorized to perform' })[0]
        }
        else {
            $failure | Should -Not -BeNullOrEmpty -Because "without $Sid the step should fail"
            "$($failure.FullyQualifiedErrorId) $($failure.Exception.Message)" | Should -Match 'AwsAccessDenied'
            $message = $failure.Exception.Message
        }
        $named = [regex]::Match($message, 'not authorized to perform: (\S+) on resource').Groups[1].Value
        $named | Should -BeIn $actions -Because $message
    }
}
