# The simulator's control cmdlets end to end: fault rules (AWS throttling the SDK retries, AccessDenied as the
# module's AwsAccessDenied, EKS token expiry the module re-signs through, fleet faults) and the report.
BeforeDiscovery {
    $script:controlCmdlets = @('Get-WinEksSimulatorReport', 'Add-WinEksSimulatorFault', 'Get-WinEksSimulatorFault', 'Remove-WinEksSimulatorFault')
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)
    Stop-WinEksSimulator
}

Describe 'without a simulator' {
    It '<_> says SimulatorNotRunning' -ForEach @(
        { Get-WinEksSimulatorReport }
        { Add-WinEksSimulatorFault -Service ec2 -Operation '*' -Throttle }
        { Get-WinEksSimulatorFault }
        { Remove-WinEksSimulatorFault -Id api-1 }
    ) {
        $command = $_
        $thrown = { & $command } | Should -Throw -PassThru
        $thrown.FullyQualifiedErrorId | Should -BeLike 'SimulatorNotRunning,WinEksPatch.Commands.*'
        $thrown.CategoryInfo.Category | Should -Be 'InvalidOperation'
    }
}

Describe 'fault rules and the report' {
    BeforeAll { $null = Start-WinEksSimulator -Scenario demo }
    AfterAll { Stop-WinEksSimulator }
    AfterEach { Get-WinEksSimulatorFault | Remove-WinEksSimulatorFault }

    It 'throttles DescribeAutoScalingGroups twice; the AWS SDK retries, Get-WinNodeGroup succeeds and the report counts the throttled calls' {
        $null = Get-WinEksSimulatorReport -Reset
        $rule = Add-WinEksSimulatorFault -Service autoscaling -Operation DescribeAutoScalingGroups -Throttle -Count 2
        $rule | Should -BeOfType 'WinEksPatch.Model.WinEksSimulatorFault'
        $rule.Id | Should -Match '^api-\d+$'
        $rule.Kind | Should -Be 'Api'
        $rule.Count | Should -Be 2

        $groups = Get-WinNodeGroup -ClusterName demo
        $groups.NodeGroupName | Should -Be @('demo-win-selfmanaged', 'win-managed')

        (Get-WinEksSimulatorFault -Id $rule.Id).Hits | Should -Be 2
        $report = Get-WinEksSimulatorReport
        $calls = $report.ApiCalls | Where-Object Operation -eq 'DescribeAutoScalingGroups'
        $calls | Should -BeOfType 'WinEksPatch.Model.WinEksSimulatorApiCall'
        $calls.Service | Should -Be 'autoscaling'
        $calls.Throttled | Should -Be 2
        $calls.Errors | Should -Be 2
        $calls.Count | Should -BeGreaterOrEqual 3
        $report.ThrottledApiCalls | Should -Be 2
    }

    It 'answers AccessDenied: the module reports AwsAccessDenied with category PermissionDenied' {
        $null = Add-WinEksSimulatorFault -Service autoscaling -Operation DescribeAutoScalingGroups -ErrorCode AccessDenied
        $thrown = { Get-WinNodeGroup -ClusterName demo -ErrorAction Stop } | Should -Throw -PassThru
        $thrown.FullyQualifiedErrorId | Should -Be 'AwsAccessDenied,WinEksPatch.Commands.GetWinNodeGroupCommand'
        $thrown.CategoryInfo.Category | Should -Be 'PermissionDenied'
        $thrown.Exception.Message | Should -Match 'AccessDenied'
    }

    It 'counts the API calls and Kubernetes requests of a cmdlet, by operation and by verb' {
        $null = Get-WinEksSimulatorReport -Reset
        $cluster = Get-WinEksCluster -Name demo
        $cluster.WindowsNodeCount | Should -Be 7
        $report = Get-WinEksSimulatorReport
        $report | Should -BeOfType 'WinEksPatch.Model.WinEksSimulatorReport'
        ($report.ApiCalls | Where-Object { $_.Service -eq 'eks' -and $_.Operation -eq 'DescribeCluster' }).Count | Should -BeGreaterOrEqual 1
        ($report.ApiCalls | Where-Object Operation -eq 'DescribeNodegroup').Count | Should -Be 2
        $listNodes = $report.KubernetesRequests | Where-Object { $_.Verb -eq 'list' -and $_.Resource -eq 'nodes' }
        $listNodes | Should -BeOfType 'WinEksPatch.Model.WinEksSimulatorKubernetesRequest'
        $listNodes.Count | Should -BeGreaterOrEqual 1
        $listNodes.Errors | Should -Be 0
        $report.TotalApiCalls | Should -Be ($report.ApiCalls | Measure-Object Count -Sum).Sum
        $report.Events.Count | Should -Be 0
    }

    It 'reports each node group''s lowest Ready schedulable count, and no PDB violations or deletions yet' {
        $report = Get-WinEksSimulatorReport
        $managed = $report.LowestReadyNodes | Where-Object NodeGroup -eq 'win-managed'
        $managed | Should -BeOfType 'WinEksPatch.Model.WinEksSimulatorReadyNodes'
        $managed.ClusterName | Should -Be 'demo'
        $managed.Lowest | Should -Be 3
        $managed.At | Should -BeOfType [DateTimeOffset]
        ($report.LowestReadyNodes | Where-Object NodeGroup -eq 'demo-win-selfmanaged').Lowest | Should -Be 4
        $report.PdbViolations.Count | Should -Be 0
        $report.PodsDeletedNotEvicted.Count | Should -Be 0
    }

    It 'expires the EKS token: the Kubernetes API answers 401, the module signs a new token and Get-WinEksCluster still works' {
        $null = Get-WinEksSimulatorReport -Reset
        $rule = Add-WinEksSimulatorFault -TokenExpiry
        $rule.Kind | Should -Be 'TokenExpiry'
        $rule.Count | Should -Be 1

        (Get-WinEksCluster -Name demo).WindowsNodeCount | Should -Be 7

        (Get-WinEksSimulatorFault -Id $rule.Id).Hits | Should -Be 1
        $listNodes = (Get-WinEksSimulatorReport).KubernetesRequests | Where-Object { $_.Verb -eq 'list' -and $_.Resource -eq 'nodes' }
        $listNodes.Unauthorized | Should -Be 1
        $listNodes.Count | Should -Be 2
    }

    It 'a token refused more often than the module re-signs is KubernetesUnauthorized' {
        $null = Add-WinEksSimulatorFault -TokenExpiry -Count 5
        { Get-WinEksCluster -Name demo -ErrorAction Stop } | Should -Throw -ErrorId 'KubernetesUnauthorized,WinEksPatch.Commands.GetWinEksClusterCommand'
    }

    It 'adds fleet faults for a node group, lists every rule and removes them by id through the pipeline' {
        $launch = Add-WinEksSimulatorFault -Kind LaunchFailure -NodeGroupName demo-win-selfmanaged -Count 1
        $launch.Kind | Should -Be 'LaunchFailure'
        $launch.NodeGroup | Should -Be 'demo-win-selfmanaged'
        $launch.ErrorCode | Should -Be 'InsufficientInstanceCapacity'
        $null = Add-WinEksSimulatorFault -Kind RegistersNotReady -NodeGroup 'win-*' -Probability 0.5
        $null = Add-WinEksSimulatorFault -Service ec2 -Operation 'Describe*' -LatencySeconds 2
        $all = Get-WinEksSimulatorFault
        $all.Kind | Should -Be @('Api', 'LaunchFailure', 'RegistersNotReady')
        ($all | Where-Object Kind -eq 'Api').Effect | Should -Be '+2 s simulated'
        (Get-WinEksSimulatorFault -Id $launch.Id).Id | Should -Be $launch.Id

        $all | Remove-WinEksSimulatorFault
        Get-WinEksSimulatorFault | Should -BeNullOrEmpty
    }

    It 'reports an unknown id as SimulatorFaultNotFound and removes the others' {
        $rule = Add-WinEksSimulatorFault -Service eks -Operation ListClusters -StatusCode 503
        Remove-WinEksSimulatorFault -Id 'api-999', $rule.Id -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'SimulatorFaultNotFound,WinEksPatch.Commands.RemoveWinEksSimulatorFaultCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Get-WinEksSimulatorFault | Should -BeNullOrEmpty
    }

    It 'refuses an API rule that does nothing, and -WhatIf adds nothing' {
        { Add-WinEksSimulatorFault -Service ec2 -Operation DescribeImages -ErrorAction Stop } | Should -Throw -ErrorId 'SimulatorFailed,WinEksPatch.Commands.AddWinEksSimulatorFaultCommand'
        Add-WinEksSimulatorFault -Service ec2 -Operation DescribeImages -Throttle -WhatIf | Should -BeNullOrEmpty
        Get-WinEksSimulatorFault | Should -BeNullOrEmpty
    }

    It 'shows rules and the report in tables that fit 120 columns' {
        $null = Add-WinEksSimulatorFault -Service kubernetes -Operation 'create pods/eviction' -Resource 'shop/*' -Throttle -Count 3
        $null = Add-WinEksSimulatorFault -Kind LaunchFailure -NodeGroup demo-win-selfmanaged
        $null = Get-WinNodeGroup -ClusterName demo
        $report = Get-WinEksSimulatorReport
        foreach ($view in @((Get-WinEksSimulatorFault), $report, $report.ApiCalls, $report.KubernetesRequests, $report.LowestReadyNodes)) {
            $text = $view | Format-Table | Out-String -Width 200
            $lines = $text -split "`n" | Where-Object { $_.Trim() }
            $lines.Count | Should -BeGreaterThan 2
            ($lines | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual 120
        }

        $faults = Get-WinEksSimulatorFault | Format-Table | Out-String -Width 200
        $faults | Should -Match 'kubernetes create pods/eviction \[shop/\*\]'
        $faults | Should -Match 'InsufficientInstanceCapacity'
    }
}

Describe 'a simulator with -Tls' {
    BeforeAll { $script:tls = Start-WinEksSimulator -Scenario demo -TimeScale 60 -Tls }
    AfterAll { Stop-WinEksSimulator }

    It 'serves the AWS endpoint over https with its CA; the session trusts it and Get-WinNodeGroup and Get-WinEksCluster work' {
        $tls.Endpoint | Should -Match '^https://127\.0\.0\.1:\d+$'
        $tls.KubernetesEndpoint | Should -Match '^https://127\.0\.0\.1:\d+$'
        $tls.CaCertPath | Should -Exist
        Get-Content -Raw $tls.CaCertPath | Should -Match '-----BEGIN CERTIFICATE-----'

        $null = Get-WinEksSimulatorReport -Reset
        $groups = Get-WinNodeGroup -ClusterName demo
        $groups.NodeGroupName | Should -Be @('demo-win-selfmanaged', 'win-managed')
        (Get-WinEksCluster -Name demo).WindowsNodeCount | Should -Be 7
        $report = Get-WinEksSimulatorReport
        ($report.ApiCalls | Where-Object Operation -eq 'DescribeAutoScalingGroups').Count | Should -BeGreaterOrEqual 1
        ($report.ApiCalls | Where-Object Operation -eq 'DescribeImages').Count | Should -BeGreaterOrEqual 1   # EC2 through the official AWSSDK.EC2 client
    }

    It 'is not trusted without its CA: Connect-WinEksSimulator says SimulatorCertificateUntrusted; with -CaCertPath it connects' {
        $thrown = { Connect-WinEksSimulator -Endpoint $tls.Endpoint -ErrorAction Stop } | Should -Throw -PassThru
        $thrown.FullyQualifiedErrorId | Should -Be 'SimulatorCertificateUntrusted,WinEksPatch.Commands.ConnectWinEksSimulatorCommand'
        $thrown.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $thrown.Exception.Message | Should -Match '-CaCertPath'

        $thrown = { Connect-WinEksSimulator -Endpoint $tls.Endpoint -CaCertPath $tls.KubeConfigPath -ErrorAction Stop } | Should -Throw -PassThru
        $thrown.FullyQualifiedErrorId | Should -Be 'SimulatorCaCertificateInvalid,WinEksPatch.Commands.ConnectWinEksSimulatorCommand'
        $thrown.CategoryInfo.Category | Should -Be 'InvalidArgument'

        $connected = $tls | Connect-WinEksSimulator
        $connected.Endpoint | Should -Be $tls.Endpoint
        $connected.CaCertPath | Should -Be $tls.CaCertPath
        (Get-WinNodeGroup -ClusterName demo).Count | Should -Be 2
    }

    It 'is reached by a session that attaches through WINEKSPATCH_SIMULATOR_ENDPOINT and WINEKSPATCH_SIMULATOR_CA_CERT' {
        $environment = @{
            WINEKSPATCH_SIMULATOR_ENDPOINT = $tls.Endpoint
            WINEKSPATCH_SIMULATOR_CA_CERT  = $tls.CaCertPath
            AWS_EC2_METADATA_DISABLED      = 'true'
        }
        $result = Invoke-FreshPwsh -Environment $environment -Script @"
Import-Module `$env:WINEKSPATCH_MODULE
`$groups = Get-WinNodeGroup -ClusterName demo
@{ Groups = @(`$groups.NodeGroupName); Nodes = @(Get-WinNode -ClusterName demo).Count } | ConvertTo-Json -Compress
"@
        $result.Groups | Should -Be @('demo-win-selfmanaged', 'win-managed')
        $result.Nodes | Should -Be 7
    }
}

Describe 'starting with a scenario file and fault rules' {
    BeforeAll {
        # A scenario of one's own: the demo one, moved to another region, in a file named relative to the PowerShell location.
        $bundled = Join-Path (Split-Path (Get-TestModulePath)) 'simulator/Scenarios/demo.json'
        $script:scenarioDir = Join-Path $TestDrive 'scenarios'
        $null = New-Item -ItemType Directory -Force $scenarioDir
        (Get-Content $bundled -Raw).Replace('us-west-2', 'eu-central-1') | Set-Content (Join-Path $scenarioDir 'frankfurt.json')
        $script:faultsFile = Join-Path $TestDrive 'faults.json'
        '{ "faults": [ { "service": "eks", "operation": "ListClusters", "errorCode": "AccessDeniedException", "count": 1 } ] }' | Set-Content $faultsFile
    }
    AfterEach { Stop-WinEksSimulator }

    It 'loads a scenario file by a path relative to the PowerShell location' {
        Push-Location $scenarioDir
        try { $sim = Start-WinEksSimulator -Scenario ./frankfurt.json }
        finally { Pop-Location }

        $sim.Region | Should -Be 'eu-central-1'
        $sim.Clusters | Should -Be @('demo', 'staging')
        (Get-WinEksCluster -Name demo).WindowsNodeCount | Should -Be 7
    }

    It 'has the rules of -FaultsPath in force from the first request' {
        $null = Start-WinEksSimulator -FaultsPath $faultsFile

        $rule = Get-WinEksSimulatorFault
        $rule.Operation | Should -Be 'ListClusters'
        { Get-WinEksCluster } | Should -Throw -ErrorId 'AwsAccessDenied,WinEksPatch.Commands.GetWinEksClusterCommand'
        (Get-WinEksCluster).ClusterName | Should -Be @('demo', 'staging')   # the rule answered once (-Count 1)
    }

    It 'refuses a missing faults file and a bad rule, naming them' {
        { Start-WinEksSimulator -FaultsPath (Join-Path $TestDrive 'none.json') } |
            Should -Throw -ErrorId 'SimulatorFaultsFileNotFound,WinEksPatch.Commands.StartWinEksSimulatorCommand'
        $bad = Join-Path $TestDrive 'bad-faults.json'
        '[ { "service": "eks", "operation": "ListClusters" } ]' | Set-Content $bad
        $thrown = { Start-WinEksSimulator -FaultsPath $bad } | Should -Throw -ErrorId 'SimulatorFailed,WinEksPatch.Commands.StartWinEksSimulatorCommand' -PassThru
        $thrown.Exception.Message | Should -BeLike '*bad-faults.json*bad fault rule*'
    }

    It 'runs standalone with --faults, serves until Ctrl+C (SIGINT), then exits 0 and frees its port' -Skip:$IsWindows {
        $sim = Start-TestSimulator -ExtraArguments '--faults', $faultsFile
        try {
            $result = Invoke-FreshPwsh -Environment (Get-SimulatorEnvironment $sim) -Script @'
Import-Module $env:WINEKSPATCH_MODULE
$first = try { Get-WinEksCluster; 'no error' } catch { $_.FullyQualifiedErrorId }
@{ First = $first; Second = @((Get-WinEksCluster).ClusterName) } | ConvertTo-Json -Compress
'@
            $result.First | Should -BeLike 'AwsAccessDenied,*'
            $result.Second | Should -Be @('demo', 'staging')

            [Net.Http.HttpClient]::new().GetStringAsync("$($sim.endpoint)/_sim/info").GetAwaiter().GetResult() | Should -Match ([regex]::Escape($sim.accessKeyId))
            & kill -s INT $sim.Process.Id
            $sim.Process.WaitForExit(15000) | Should -BeTrue
            $sim.Process.ExitCode | Should -Be 0
            # Its port is free again: nothing answers as this simulator there (another process may have taken the port since).
            $answer = try { [Net.Http.HttpClient]::new().GetStringAsync("$($sim.endpoint)/_sim/info").GetAwaiter().GetResult() } catch { '' }
            $answer | Should -Not -Match ([regex]::Escape($sim.accessKeyId))
        }
        finally { Stop-TestSimulator $sim }
    }
}

Describe 'help' {
    It '<_> has a synopsis, a description and at least two examples that run' -ForEach $controlCmdlets {
        $help = Get-Help $_ -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Description | Should -Not -BeNullOrEmpty
        $examples = @($help.Examples.Example)
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $examples) {
            $code = ($example.Code -join "`n")
            try {
                $null = & ([scriptblock]::Create("`$ErrorActionPreference = 'Stop'`n" + $code)) 6>$null
            }
            finally {
                Stop-WinEksSimulator
            }
        }
    }
}
