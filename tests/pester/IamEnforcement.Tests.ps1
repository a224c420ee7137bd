# Least privilege proven, not claimed (#16): the simulator enforces Get-WinEksPatchIamPolicy's policy the way IAM does,
# a whole cycle succeeds under it, and every statement is needed by a step that names the action it lacks.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)

    # The policy for everything the module does on the demo cluster, as an admin would generate it.
    function Get-GeneratedPolicy([string] $Cluster) {
        Get-WinEksPatchIamPolicy -Scope ReadOnly, Build, Rollout -ClusterName $Cluster -AccountId 111122223333 -Region us-west-2 -NodeRoleName "$Cluster-node-role" |
            ConvertFrom-Json
    }

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
            @{ Sid = 'WinEksPatchBuildLookups'; Step = { New-WinNodeAmi -ClusterName demo -WindowsVersion 2019 -Edition Core -NoWait -Confirm:$false -ErrorAction Stop } }
            @{ Sid = 'WinEksPatchPassBuildRole'; Step = { New-WinNodeAmi -ClusterName demo -WindowsVersion 2019 -Edition Core -NoWait -Confirm:$false -ErrorAction Stop } }
            @{ Sid = 'WinEksPatchRolloutGroups'; Step = { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force } }
            @{ Sid = 'WinEksPatchRolloutGroupState'; Step = { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force } }
            @{ Sid = 'WinEksPatchRolloutTemplates'; Step = { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force } }
            @{ Sid = 'WinEksPatchLaunchFromTemplates'; Step = { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force } }
            @{ Sid = 'WinEksPatchRolloutDrainMarks'; Step = { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force } }
            @{ Sid = 'WinEksPatchPassNodeRole'; Step = { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force } }
            @{ Sid = 'WinEksPatchRolloutManagedGroups'; Scenario = 'managed'; Cluster = 'prod'; Step = { Invoke-WinEksPatch -ClusterName prod -NodeGroupName win-eks -Force } }
        )
    }

    It 'has a step for each statement the policy has' {
        $sids = ((Get-WinEksPatchIamPolicy -ClusterName demo -AccountId 111122223333 -Region us-west-2 -NodeRoleName demo-node-role) | ConvertFrom-Json).Statement.Sid
        @($sids | Sort-Object) | Should -Be @($cases.Sid | Sort-Object)
    }

    It 'without <Sid>, a step fails with AwsAccessDenied naming one of its actions' -ForEach $cases {
        $cluster = if ($Cluster) { $Cluster } else { 'demo' }
        $file = New-PolicyFile -WithoutSid $Sid -Cluster $cluster
        $actions = @((Get-GeneratedPolicy $cluster).Statement | Where-Object Sid -eq $Sid | ForEach-Object Action)
        $null = Start-WinEksSimulator -Scenario $(if ($Scenario) { $Scenario } else { 'demo' }) -TimeScale 600 -IamPolicyPath $file
        try { $failure = Get-TerminatingError { & $Step 3>$null } }
        finally { Stop-WinEksSimulator }
        $failure | Should -Not -BeNullOrEmpty -Because "without $Sid the step should fail"
        "$($failure.FullyQualifiedErrorId) $($failure.Exception.Message)" | Should -Match 'AwsAccessDenied'
        $named = [regex]::Match($failure.Exception.Message, 'not authorized to perform: (\S+) on resource').Groups[1].Value
        $named | Should -BeIn $actions -Because $failure.Exception.Message
    }
}
