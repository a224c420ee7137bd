# The fleet runbook (WinEksPatch-Fleet) run by the simulator's SSM Automation across accounts and Regions, as
# StartAutomationExecution with TargetLocations from a central account runs it: one child execution per account and
# Region, each patching its own clusters with the attached module, soaking them under the health gates, and rolling
# back when a gate fails; TargetLocationMaxConcurrency and MaxErrors as the rate control, and an alarm that stops it.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:packages = Join-Path $TestDrive 'package'
    & (Join-Path (Get-TestRepoRoot) 'tools/New-ModulePackage.ps1') -ModuleDirectory (Split-Path (Get-TestModulePath)) -OutputDirectory $packages 6>$null
    $script:sim = Start-TestSimulator -Scenario fleet -TimeScale 600 -ExtraArguments @(
        '--powershell', (Join-Path $PSHOME 'pwsh.dll'),
        '--document', "WinEksPatch-Fleet=$(Join-Path $packages 'WinEksPatch-Fleet.yaml')")
    Import-Module (Get-TestModulePath)
    $null = Connect-WinEksSimulator -Endpoint $sim.endpoint
    $script:account = @{}
    $sim.accounts | ForEach-Object { $account[$_.profile] = $_ }

    # Starts the fleet runbook from the dev account in us-west-2 (the central account) through the AWS SDK for .NET, waits
    # for it to end, and returns the parent, its steps and every child execution with its steps.
    function Invoke-FleetRunbook([string[]] $Targets, [hashtable[]] $Locations, [hashtable] $Parameters = @{}, [string] $StopAlarm) {
        $request = @{ Targets = $Targets; Locations = $Locations; Parameters = $Parameters; StopAlarm = $StopAlarm } | ConvertTo-Json -Depth 5 -Compress
        $central = $account['dev']
        Invoke-FreshPwsh -Environment @{ SSM_REQUEST = $request } -Script @"
`$deps = Join-Path (Split-Path `$env:WINEKSPATCH_MODULE) 'deps'
Add-Type -Path (Join-Path `$deps 'AWSSDK.Core.dll'), (Join-Path `$deps 'AWSSDK.SimpleSystemsManagement.dll')
`$in = `$env:SSM_REQUEST | ConvertFrom-Json
`$config = [Amazon.SimpleSystemsManagement.AmazonSimpleSystemsManagementConfig]@{ ServiceURL = '$($sim.endpoint)'; AuthenticationRegion = 'us-west-2'; MaxErrorRetry = 0 }
`$ssm = [Amazon.SimpleSystemsManagement.AmazonSimpleSystemsManagementClient]::new([Amazon.Runtime.BasicAWSCredentials]::new('$($central.accessKeyId)', '$($central.secretAccessKey)'), `$config)
`$start = [Amazon.SimpleSystemsManagement.Model.StartAutomationExecutionRequest]@{ DocumentName = 'WinEksPatch-Fleet' }
`$start.Parameters = [Collections.Generic.Dictionary[string, Collections.Generic.List[string]]]::new()
`$start.Parameters['Targets'] = [Collections.Generic.List[string]]@(`$in.Targets)
foreach (`$p in `$in.Parameters.PSObject.Properties) { `$start.Parameters[`$p.Name] = [Collections.Generic.List[string]]@("`$(`$p.Value)") }
`$start.TargetLocations = [Collections.Generic.List[Amazon.SimpleSystemsManagement.Model.TargetLocation]]::new()
foreach (`$l in `$in.Locations) {
    `$start.TargetLocations.Add([Amazon.SimpleSystemsManagement.Model.TargetLocation]@{ Accounts = [Collections.Generic.List[string]]@(`$l.Accounts); Regions = [Collections.Generic.List[string]]@(`$l.Regions)
        TargetLocationMaxConcurrency = `$l.MaxConcurrency; TargetLocationMaxErrors = `$l.MaxErrors })
}
if (`$in.StopAlarm) {
    `$start.AlarmConfiguration = [Amazon.SimpleSystemsManagement.Model.AlarmConfiguration]@{ Alarms = [Collections.Generic.List[Amazon.SimpleSystemsManagement.Model.Alarm]]@([Amazon.SimpleSystemsManagement.Model.Alarm]@{ Name = `$in.StopAlarm }) }
}
`$id = `$ssm.StartAutomationExecutionAsync(`$start).GetAwaiter().GetResult().AutomationExecutionId
`$deadline = [DateTime]::UtcNow.AddMinutes(8)
do {
    Start-Sleep -Milliseconds 500
    `$parent = `$ssm.GetAutomationExecutionAsync([Amazon.SimpleSystemsManagement.Model.GetAutomationExecutionRequest]@{ AutomationExecutionId = `$id }).GetAwaiter().GetResult().AutomationExecution
} until (`$parent.AutomationExecutionStatus.Value -in 'Success', 'Failed', 'Cancelled', 'TimedOut' -or [DateTime]::UtcNow -gt `$deadline)
`$children = foreach (`$step in `$parent.StepExecutions) {
    `$child = `$ssm.GetAutomationExecutionAsync([Amazon.SimpleSystemsManagement.Model.GetAutomationExecutionRequest]@{ AutomationExecutionId = `$step.Outputs['ExecutionId'][0] }).GetAwaiter().GetResult().AutomationExecution
    @{ Account = `$step.TargetLocation.Accounts[0]; Region = `$step.TargetLocation.Regions[0]; Status = `$child.AutomationExecutionStatus.Value; Start = `$step.ExecutionStartTime.ToString('o'); End = `$step.ExecutionEndTime.ToString('o')
        Steps = @(`$child.StepExecutions | ForEach-Object { @{ Name = `$_.StepName; Status = `$_.StepStatus.Value; Failure = `$_.FailureMessage } }) }
}
@{ Status = `$parent.AutomationExecutionStatus.Value; Failure = `$parent.FailureMessage; Alarms = @(`$parent.TriggeredAlarms | ForEach-Object { "`$(`$_.Name)=`$(`$_.State.Value)" }); Children = @(`$children) } | ConvertTo-Json -Depth 6 -Compress
"@
    }

    function Get-Location($Result, [string] $Profile, [string] $Region) {
        $Result.Children | Where-Object { $_.Account -eq $account[$Profile].accountId -and $_.Region -eq $Region }
    }
}

AfterAll {
    Stop-WinEksSimulator
    Stop-TestSimulator $sim
}

Describe 'the fleet runbook on the simulated SSM Automation' {
    It 'patches a wave across accounts and Regions, one child per location, at most TargetLocationMaxConcurrency at once' {
        $targets = "$($account['dev'].accountId):eu-west-1:dev-euw1:dev-euw1-win-selfmanaged", "$($account['staging'].accountId):eu-west-1:staging-euw1:staging-euw1-win-selfmanaged"
        $result = Invoke-FleetRunbook -Targets $targets -Parameters @{ SoakMinutes = 10 } -Locations @(
            @{ Accounts = @($account['dev'].accountId, $account['staging'].accountId); Regions = @('us-west-2', 'eu-west-1'); MaxConcurrency = '2'; MaxErrors = '0' })

        $result.Status | Should -Be 'Success' -Because ($result.Children | ConvertTo-Json -Depth 5)
        $result.Children.Count | Should -Be 4
        # The two locations with a target patched and soaked it; the other two had nothing to do.
        foreach ($location in @(('dev', 'eu-west-1', 'dev-euw1'), ('staging', 'eu-west-1', 'staging-euw1'))) {
            $child = Get-Location $result $location[0] $location[1]
            $child.Steps.Name | Should -Contain 'Soak'
            $status = Get-WinPatchStatus -ProfileName $location[0] -Region $location[1] -ClusterName $location[2] -NodeGroupName "$($location[2])-win-selfmanaged"
            $status.ImageId | Should -Be $status.LatestImageId -Because "$($location[2]) was patched in its own account and Region"
        }
        (Get-Location $result 'dev' 'us-west-2').Steps.Name | Should -Not -Contain 'Patch'
        (Get-WinPatchStatus -ProfileName staging -Region us-west-2 -ClusterName staging-usw2 -NodeGroupName staging-usw2-win-selfmanaged).MonthsBehind | Should -BeGreaterThan 0 -Because 'a location without a target is left alone'
        $spans = $result.Children | ForEach-Object { , @([DateTimeOffset]::Parse($_.Start), [DateTimeOffset]::Parse($_.End)) }
        $most = ($spans | ForEach-Object { $s = $_[0]; @($spans | Where-Object { $_[0] -le $s -and $s -lt $_[1] }).Count } | Measure-Object -Maximum).Maximum
        $most | Should -Be 2
    }

    It 'rolls a location back when its alarm gate fails during the soak, and starts no other location past TargetLocationMaxErrors' {
        # prod's us-west-2 newest EKS AMI trips its web tier's alarm ten minutes after one of its nodes is Ready.
        $group = 'prod-usw2-win-selfmanaged'
        $before = Get-WinPatchStatus -ProfileName prod -Region us-west-2 -ClusterName prod-usw2 -NodeGroupName $group
        $null = Add-WinEksSimulatorFault -ProfileName prod -Region us-west-2 -Kind Alarm -ImageId $before.LatestImageId -AlarmName prod-usw2-windows-5xx -AfterSeconds 600 -NodeGroupName $group
        $targets = "$($account['prod'].accountId):us-west-2:prod-usw2:$group", "$($account['prod'].accountId):eu-west-1:prod-euw1:prod-euw1-win-selfmanaged"
        $result = Invoke-FleetRunbook -Targets $targets -Parameters @{ SoakMinutes = 30; AlarmNames = '{ClusterName}-windows-5xx' } -Locations @(
            @{ Accounts = @($account['prod'].accountId); Regions = @('us-west-2', 'eu-west-1'); MaxConcurrency = '1'; MaxErrors = '0' })

        $result.Status | Should -Be 'Failed'
        $result.Children.Count | Should -Be 1 -Because 'past TargetLocationMaxErrors (0) the second location never started'
        $child = $result.Children[0]
        ($child.Steps | Where-Object Name -eq 'Soak' | Select-Object -Last 1).Failure | Should -Match 'Health gate Alarms failed on prod-usw2: prod-usw2-windows-5xx in ALARM'
        ($child.Steps | Where-Object Name -eq 'Rollback' | Select-Object -Last 1).Status | Should -Be 'Success'
        (Get-WinPatchStatus -ProfileName prod -Region us-west-2 -ClusterName prod-usw2 -NodeGroupName $group).ImageId | Should -Be $before.ImageId -Because 'the group was rolled back'
        (Get-WinPatchStatus -ProfileName prod -Region eu-west-1 -ClusterName prod-euw1 -NodeGroupName prod-euw1-win-selfmanaged).MonthsBehind | Should -BeGreaterThan 0
    }

    It 'is stopped by its CloudWatch alarm: the running location cancelled, no other started' {
        # The alarm the execution watches (in the central account) trips two minutes after a node of dev's newest AMI in
        # us-west-2 is Ready: in the middle of the first location's work.
        $group = 'dev-usw2-win-selfmanaged'
        $status = Get-WinPatchStatus -ProfileName dev -Region us-west-2 -ClusterName dev-usw2 -NodeGroupName $group
        $null = Add-WinEksSimulatorFault -ProfileName dev -Region us-west-2 -Kind Alarm -ImageId $status.LatestImageId -AlarmName dev-usw2-windows-5xx -AfterSeconds 120 -NodeGroupName $group
        $targets = "$($account['dev'].accountId):us-west-2:dev-usw2:$group", "$($account['staging'].accountId):us-west-2:staging-usw2:staging-usw2-win-selfmanaged"
        $result = Invoke-FleetRunbook -Targets $targets -Parameters @{ SoakMinutes = 60 } -StopAlarm dev-usw2-windows-5xx -Locations @(
            @{ Accounts = @($account['dev'].accountId, $account['staging'].accountId); Regions = @('us-west-2'); MaxConcurrency = '1'; MaxErrors = '1' })

        $result.Status | Should -Be 'Cancelled'
        $result.Alarms | Should -Be 'dev-usw2-windows-5xx=ALARM'
        $result.Failure | Should -Match 'dev-usw2-windows-5xx went into ALARM'
        $result.Children.Count | Should -Be 1 -Because 'the second location was never started'
        $result.Children[0].Status | Should -Be 'Cancelled'
    }
}

Describe 'Invoke-WinEksFleetPatch -Engine SsmAutomation' {
    It 'runs the same plan as the local engine, one execution per wave, and reports each target' {
        $plan = @(Get-WinEksCluster -ProfileName staging -Region us-west-2) + @(Get-WinEksCluster -ProfileName prod -Region eu-west-1) |
            ForEach-Object { $_ | Add-Member -NotePropertyName NodeGroupName -NotePropertyValue "$($_.ClusterName)-win-selfmanaged" -PassThru } |
            New-WinEksFleetPlan -Name handed -WaveBy ProfileName -WaveOrder staging, prod -SoakTime 00:10:00 -MaxSurge 2 -AlarmName '{ClusterName}-windows-5xx'
        # -WhatIf: every target Planned, and no execution started.
        $null = Get-WinEksSimulatorReport -Reset
        $planned = $plan | Invoke-WinEksFleetPatch -Engine SsmAutomation -WhatIf
        $planned.Waves.Targets.Result | Should -Be @('Planned', 'Planned')
        @((Get-WinEksSimulatorReport).ApiCalls | Where-Object Operation -eq StartAutomationExecution) | Should -BeNullOrEmpty

        $report = $plan | Invoke-WinEksFleetPatch -Engine SsmAutomation -Force -WarningAction SilentlyContinue
        $report.Result | Should -Be 'Succeeded' -Because $report.Error
        $report.Waves.AutomationExecutionId | Should -HaveCount 2
        $report.Waves.Targets.Result | Should -Be @('Succeeded', 'Succeeded')
        foreach ($target in $report.Waves.Targets) {
            $status = Get-WinPatchStatus -ProfileName $target.ProfileName -Region $target.Region -ClusterName $target.ClusterName -NodeGroupName "$($target.ClusterName)-win-selfmanaged"
            $status.ImageId | Should -Be $status.LatestImageId -Because "$($target.Key) was patched by its wave's execution"
        }
    }

    It 'stops a wave whose -StopAlarmName alarm is in ALARM: the plan fails naming it, and the next wave never starts' {
        # dev-usw2-windows-5xx (the central account's) tripped in the test above and stays in ALARM.
        $plan = @(Get-WinEksCluster -ProfileName prod -Region us-west-2) + @(Get-WinEksCluster -ProfileName staging -Region eu-west-1) |
            New-WinEksFleetPlan -Name alarmed -WaveBy ProfileName -WaveOrder prod, staging
        $failure = $null
        try { $plan | Invoke-WinEksFleetPatch -Engine SsmAutomation -StopAlarmName dev-usw2-windows-5xx -Force -OutVariable out | Out-Null } catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -Be 'FleetPlanFailed,WinEksPatch.Commands.InvokeWinEksFleetPatchCommand'
        $report = $out | Where-Object { $_ -is [WinEksPatch.WinEksFleetReport] }
        $report.Waves[0].Result | Should -Be 'Failed' -Because 'SSM cancelled it (Stopped is this session''s own stop, which a resume follows)'
        $report.Error | Should -Match 'ended Cancelled: The CloudWatch alarm dev-usw2-windows-5xx went into ALARM.*Alarms: dev-usw2-windows-5xx ALARM'
        $report.Waves[1].Targets[0].Result | Should -Be 'NotStarted'
    }

    It 'refuses a canary plan before any change, and a -StopAlarmName without the engine' {
        $plan = Get-WinEksCluster -ProfileName staging -Region eu-west-1 | New-WinEksFleetPlan -Name canary -Canary
        { $plan | Invoke-WinEksFleetPatch -Engine SsmAutomation -Force } | Should -Throw '*cannot run on SSM Automation: wave canary starts with a canary*'
        { $plan | Invoke-WinEksFleetPatch -StopAlarmName fleet-errors -Force } | Should -Throw '*-StopAlarmName goes with -Engine SsmAutomation*'
    }
}

Describe 'Watch-WinNodeGroupHealth' {
    It 'reads the gates of a cluster: healthy, or the gate that failed with its evidence; an alarm that is not there is refused' {
        $healthy = Watch-WinNodeGroupHealth -ProfileName staging -Region eu-west-1 -ClusterName staging-euw1 -For 00:05:00 -Interval 00:01:00
        ($healthy.Healthy, $healthy.FailedGate) | Should -Be @($true, $null)
        ($healthy.FinishedAt - $healthy.StartedAt) | Should -BeGreaterOrEqual ([TimeSpan]::FromMinutes(5))
        # prod-usw2's alarm tripped in the rollback test above and nothing set it back.
        $alarmed = Watch-WinNodeGroupHealth -ProfileName prod -Region us-west-2 -ClusterName prod-usw2 -AlarmName '{ClusterName}-windows-5xx'
        ($alarmed.Healthy, $alarmed.FailedGate) | Should -Be @($false, 'Alarms')
        $alarmed.Evidence | Should -Match '^prod-usw2-windows-5xx in ALARM since .*Threshold Crossed'
        { Watch-WinNodeGroupHealth -ProfileName prod -Region us-west-2 -ClusterName prod-usw2 -AlarmName no-such-alarm -ErrorAction Stop } | Should -Throw '*-AlarmName: no CloudWatch alarm no-such-alarm in us-west-2*'
    }
}

Describe 'Start-WinEksSimulator -RunbookPackage' {
    It 'refuses a folder that holds no package, naming what is missing' {
        { Start-WinEksSimulator -Scenario fleet -RunbookPackage $TestDrive } | Should -Throw "*'$TestDrive' has no WinEksPatch-Runbook.yaml, WinEksPatch-Fleet.yaml, WinEksPatch.zip*"
    }

    It 'has both runbooks, with their attachment, in every account and Region (<Source>)' -ForEach @(
        @{ Source = 'the package built with build.ps1 package'; Package = $true }
        @{ Source = 'the fleet scenario on its own: this module, packaged'; Package = $false }
    ) {
        $started = if ($Package) { Start-WinEksSimulator -Scenario fleet -RunbookPackage $packages } else { Start-WinEksSimulator -Scenario fleet }
        try {
            $prod = $started.Accounts | Where-Object ProfileName -eq prod | Select-Object -First 1
            # prod's keys, from the shared config file the simulator wrote (its output shows no secret).
            $section = ((Get-Content $started.ConfigFile -Raw) -split '\[' | Where-Object { $_ -like 'profile prod]*' })
            $key = [regex]::Match($section, 'aws_access_key_id\s*=\s*(\S+)').Groups[1].Value
            $secret = [regex]::Match($section, 'aws_secret_access_key\s*=\s*(\S+)').Groups[1].Value
            $documents = Invoke-FreshPwsh -Script @"
`$deps = Join-Path (Split-Path `$env:WINEKSPATCH_MODULE) 'deps'
Add-Type -Path (Join-Path `$deps 'AWSSDK.Core.dll'), (Join-Path `$deps 'AWSSDK.SimpleSystemsManagement.dll')
`$config = [Amazon.SimpleSystemsManagement.AmazonSimpleSystemsManagementConfig]@{ ServiceURL = '$($started.Endpoint)'; AuthenticationRegion = 'eu-west-1' }
`$ssm = [Amazon.SimpleSystemsManagement.AmazonSimpleSystemsManagementClient]::new([Amazon.Runtime.BasicAWSCredentials]::new('$key', '$secret'), `$config)
@('WinEksPatch', 'WinEksPatch-Fleet' | ForEach-Object {
    `$d = `$ssm.DescribeDocumentAsync([Amazon.SimpleSystemsManagement.Model.DescribeDocumentRequest]@{ Name = `$_ }).GetAwaiter().GetResult().Document
    @{ Name = `$d.Name; Owner = `$d.Owner; Attachments = @(`$d.AttachmentsInformation.Name) }
}) | ConvertTo-Json -Depth 4 -Compress
"@
            $documents.Name | Should -Be @('WinEksPatch', 'WinEksPatch-Fleet')
            $documents.Owner | Should -Be @($prod.AccountId, $prod.AccountId)
            $documents | ForEach-Object { $_.Attachments | Should -Be 'WinEksPatch.zip' }
        }
        finally { Stop-WinEksSimulator }
    }
}
