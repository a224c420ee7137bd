# What an admin's first week runs into when nobody watches (#15): a rehearsal against the simulator that never reaches
# AWS, changes that ask first, and Invoke-WinEksPatch outcomes that are true for a scheduled task (`pwsh -File`, its exit
# code and its report file).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)

    # The process group of a process (Linux: the fifth field of /proc/<pid>/stat).
    function Get-ProcessGroup([int] $Id) { [int]((Get-Content "/proc/$Id/stat" -Raw) -replace '^\d+ \(.*\) ', '').Split(' ')[2] }

    # A scheduled task: `pwsh -NoProfile -NonInteractive -File <script>` attached to this session's simulator through the
    # environment, as a rehearsal of a script written for AWS runs. Returns its exit code and what it printed.
    function Invoke-ScheduledScript([string] $Body, [string[]] $Arguments = @()) {
        $file = Join-Path $TestDrive "task-$([guid]::NewGuid().ToString('n')).ps1"
        "Import-Module '$(Get-TestModulePath)'`n$Body" | Set-Content $file
        $saved = $env:WINEKSPATCH_SIMULATOR_ENDPOINT
        $env:WINEKSPATCH_SIMULATOR_ENDPOINT = $script:endpoint
        try { $output = & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -File $file @Arguments 2>&1 }
        finally { $env:WINEKSPATCH_SIMULATOR_ENDPOINT = $saved }
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($output | ForEach-Object { "$_" }) -join "`n" }
    }

    function Get-MutatingCalls { @((Get-WinEksSimulatorReport).ApiCalls | Where-Object Mutating) }
}

Describe 'a rehearsal fails closed' {
    BeforeEach { $script:sim = Start-WinEksSimulator -Scenario demo }
    AfterEach { Stop-WinEksSimulator }

    It 'runs the simulator in a process group of its own, and it ignores the SIGINT of a Ctrl+C' -Skip:(-not $IsLinux) {
        Get-ProcessGroup $sim.ProcessId | Should -Not -Be (Get-ProcessGroup $PID) -Because "the terminal's Ctrl+C goes to the console's process group"
        kill -INT $sim.ProcessId
        Start-Sleep -Milliseconds 1500
        Get-Process -Id $sim.ProcessId -ErrorAction SilentlyContinue | Should -Not -BeNullOrEmpty
        (Get-WinEksCluster -Name demo).ClusterName | Should -Be 'demo'
    }

    It 'a simulator stopped from outside makes every cmdlet fail with SimulatorGone, with no request to any other host' {
        # Anything that fell through to the SDK's default chain would go to eks.us-west-2.amazonaws.com through this proxy.
        $proxy = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $proxy.Start()
        $saved = @{ HTTPS_PROXY = $env:HTTPS_PROXY; HTTP_PROXY = $env:HTTP_PROXY; NO_PROXY = $env:NO_PROXY; POWERSHELL_UPDATECHECK = $env:POWERSHELL_UPDATECHECK; POWERSHELL_TELEMETRY_OPTOUT = $env:POWERSHELL_TELEMETRY_OPTOUT; AWS_REGION = $env:AWS_REGION; AWS_ACCESS_KEY_ID = $env:AWS_ACCESS_KEY_ID; AWS_SECRET_ACCESS_KEY = $env:AWS_SECRET_ACCESS_KEY }
        try {
            $env:HTTPS_PROXY = $env:HTTP_PROXY = "http://127.0.0.1:$($proxy.LocalEndpoint.Port)"
            $env:NO_PROXY = '127.0.0.1,localhost'   # the simulator itself is reached directly
            $env:POWERSHELL_UPDATECHECK = 'Off'; $env:POWERSHELL_TELEMETRY_OPTOUT = '1'   # pwsh's own calls home
            $env:AWS_REGION = 'us-west-2'; $env:AWS_ACCESS_KEY_ID = 'AKIAREALLOOKING00000'; $env:AWS_SECRET_ACCESS_KEY = 'real-looking-secret'
            $result = Invoke-FreshPwsh -Script @'
Import-Module $env:WINEKSPATCH_MODULE
$sim = Start-WinEksSimulator -Scenario demo
$process = Get-Process -Id $sim.ProcessId
Stop-Process -Id $sim.ProcessId -Force
$null = $process.WaitForExit(10000)
$errors = foreach ($command in { Get-WinEksCluster -Name demo }, { Get-WinNodeGroup -ClusterName demo }, { Get-WinEksSimulatorReport }) {
    try { & $command -ErrorAction Stop | Out-Null; 'no error' } catch { "$($_.FullyQualifiedErrorId)|$($_.CategoryInfo.Category)|$($_.Exception.Message)" }
}
@{ errors = @($errors) } | ConvertTo-Json -Compress
'@
        }
        finally {
            foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
            # What reached the proxy, by the host each client asked it to CONNECT to.
            $reached = @(while ($proxy.Pending()) {
                    $client = $proxy.AcceptTcpClient()
                    $client.ReceiveTimeout = 2000
                    try { [IO.StreamReader]::new($client.GetStream()).ReadLine() } catch { 'unreadable' } finally { $client.Dispose() }
                })
            $proxy.Stop()
        }
        $result.errors | Should -HaveCount 3
        foreach ($e in $result.errors) {
            $id, $category, $message = $e -split '\|', 3
            $id | Should -BeLike 'SimulatorGone,*'
            $category | Should -Be 'ConnectionError'
            $message | Should -BeLike '*has exited*will not fall back to AWS*Stop-WinEksSimulator*'
        }
        $reached | Should -BeNullOrEmpty -Because 'nothing may leave this machine for real AWS (or anywhere)'
    }

    It 'a Start-WinEksSimulator that fails leaves the session on the simulator it had' {
        { Start-WinEksSimulator -Scenario no-such-scenario -ErrorAction Stop } | Should -Throw -ErrorId 'SimulatorFailed,*'
        Get-Process -Id $sim.ProcessId -ErrorAction SilentlyContinue | Should -Not -BeNullOrEmpty
        (Get-WinEksCluster -Name demo).ClusterName | Should -Be 'demo'
        (Get-WinEksSimulatorReport).ApiCalls | Should -Not -BeNullOrEmpty
    }

    It 'refuses -ProfileName and a kubeconfig context of another cluster while the simulator is in use' {
        { Get-WinEksCluster -Name demo -ProfileName prod -ErrorAction Stop } |
            Should -Throw -ErrorId 'SimulatorSessionRealTarget,WinEksPatch.Commands.GetWinEksClusterCommand' -ExpectedMessage '*would reach real AWS*Stop-WinEksSimulator*'
        $kubeconfig = Join-Path $TestDrive 'prod-kubeconfig'
        @'
apiVersion: v1
kind: Config
clusters: [ { name: prod, cluster: { server: "https://ABCDEF.gr7.us-west-2.eks.amazonaws.com", insecure-skip-tls-verify: true } } ]
users: [ { name: admin, user: { token: not-a-real-token } } ]
contexts: [ { name: prod, context: { cluster: prod, user: admin } } ]
current-context: prod
'@ | Set-Content $kubeconfig
        { Get-WinNode -ClusterName demo -KubeConfigPath $kubeconfig -ErrorAction Stop } |
            Should -Throw -ErrorId 'SimulatorSessionRealTarget,WinEksPatch.Commands.GetWinNodeCommand' -ExpectedMessage "*points at https://ABCDEF.gr7.us-west-2.eks.amazonaws.com*not at the simulator*"
        # The simulator's own kubeconfig is fine.
        @(Get-WinNode -ClusterName demo -KubeConfigPath $sim.KubeConfigPath -KubeContext demo).Count | Should -BeGreaterThan 0
    }

    It 'the fault and report cmdlets use a simulator attached through WINEKSPATCH_SIMULATOR_ENDPOINT' {
        $result = Invoke-FreshPwsh -Environment @{ WINEKSPATCH_SIMULATOR_ENDPOINT = $sim.Endpoint } -Script @'
Import-Module $env:WINEKSPATCH_MODULE
$rule = Add-WinEksSimulatorFault -Service ec2 -Operation DescribeImages -Throttle -Count 1
@{ id = $rule.Id; calls = @((Get-WinEksSimulatorReport).ApiCalls).Count } | ConvertTo-Json -Compress
'@
        $result.id | Should -Not -BeNullOrEmpty
        (Get-WinEksSimulatorFault).Id | Should -Contain $result.id
    }
}

Describe 'changes ask first' {
    BeforeAll {
        $null = Start-WinEksSimulator -Scenario managed
        $script:latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
    }
    AfterAll { Stop-WinEksSimulator }

    It 'Set-NodeGroupAmi on a managed group asks before it starts EKS''s update (this host cannot answer, so nothing changes)' {
        $before = Get-WinNodeGroup -ClusterName prod -Name win-custom
        { Set-NodeGroupAmi -ClusterName prod -NodeGroupName win-custom -ImageId $latest.ImageId -ErrorAction Stop } | Should -Throw '*NonInteractive mode*'
        (Get-WinNodeGroup -ClusterName prod -Name win-custom).LaunchTemplateVersion | Should -Be $before.LaunchTemplateVersion
        Get-MutatingCalls | Should -BeNullOrEmpty
    }

    It 'says which AMI, which template and how many nodes EKS will replace; -Force answers it' {
        $before = Get-WinNodeGroup -ClusterName prod -Name win-custom
        $change = Set-NodeGroupAmi -ClusterName prod -NodeGroupName win-custom -ImageId $latest.ImageId -Force -Verbose 4>&1
        $said = ($change | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) -join "`n"
        $said | Should -BeLike "*Launch $($latest.ImageId)*new version of launch template $($before.LaunchTemplateId) from version $($before.LaunchTemplateVersion)*UpdateNodegroupVersion*all $($before.NodeCount) node(s) of the group are replaced*"
        ($change | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).UpdateId | Should -Not -BeNullOrEmpty
    }
}

Describe 'Invoke-WinEksPatch outcomes a scheduled task can trust' {
    BeforeAll {
        $sim = Start-WinEksSimulator -Scenario demo -TimeScale 120
        $script:endpoint = $sim.Endpoint
        $script:task = 'Invoke-WinEksPatch -ClusterName demo -NodeGroupName $args[0] -ReportPath $args[1] -Force -WarningAction SilentlyContinue | Out-Null; "the script went on"'
    }
    AfterAll { Stop-WinEksSimulator }

    It '<Case>: fails before any change, exits 1 and still writes the report' -ForEach @(
        @{ Case = 'a misspelt group'; Group = 'demo-win-selfmanagd'; Id = 'NodeGroupNotFound'; Says = "*no node group 'demo-win-selfmanagd'*its Windows node groups: demo-win-selfmanaged, win-managed*Nothing was changed*" }
        @{ Case = 'a Linux group'; Group = 'linux-system'; Id = 'NodeGroupNotWindows'; Says = "*'linux-system'*runs no Windows nodes*Nothing was changed*" }
    ) {
        $null = Get-WinEksSimulatorReport -Reset
        $reportPath = Join-Path $TestDrive "$Group/report.json"
        $run = Invoke-ScheduledScript $task @($Group, $reportPath)
        $run.ExitCode | Should -Be 1 -Because $run.Output
        $run.Output | Should -Not -BeLike '*the script went on*'
        $run.Output | Should -BeLike '*The patch cycle of demo did not start*'
        $report = Get-Content $reportPath -Raw | ConvertFrom-Json
        $report.succeeded | Should -BeFalse
        $report.error | Should -BeLike "$($Id): $Says"
        $report.groups | Should -BeNullOrEmpty
        Get-MutatingCalls | Should -BeNullOrEmpty
    }

    It 'a -ReportPath that cannot be written is ReportPathInvalid before any change' {
        $null = Get-WinEksSimulatorReport -Reset
        $file = Join-Path $TestDrive 'a-file'
        'x' | Set-Content $file
        { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -ReportPath (Join-Path $file 'report.json') -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'ReportPathInvalid,WinEksPatch.Commands.InvokeWinEksPatchCommand' -ExpectedMessage '*cannot be written*Nothing was changed*'
        Get-MutatingCalls | Should -BeNullOrEmpty
    }

    It 'a failure ends the cycle with PatchCycleFailed in the cause''s category, with or without $ErrorActionPreference' {
        { Invoke-WinEksPatch -ClusterName demo -NodeGroupName nope -Force -ErrorAction SilentlyContinue } | Should -Throw -ErrorId 'PatchCycleFailed,WinEksPatch.Commands.InvokeWinEksPatchCommand'
        try { Invoke-WinEksPatch -ClusterName demo -NodeGroupName nope -Force -OutVariable out | Out-Null } catch { $failure = $_ }
        $failure.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failure.Exception.InnerException.InnerException.ErrorId | Should -Be 'NodeGroupNotFound' -Because 'the cause is the inner exception'
        $out[-1].Succeeded | Should -BeFalse -Because 'the report is emitted before the error'
    }

    It 'creates the report''s folder, exits 0 once the group is patched, and reports what the nodes run after' {
        $reportPath = Join-Path $TestDrive 'reports/2026-12/patch.json'
        $run = Invoke-ScheduledScript $task @('demo-win-selfmanaged', $reportPath)
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Output | Should -BeLike '*the script went on*'
        $report = Get-Content $reportPath -Raw | ConvertFrom-Json
        $report.succeeded | Should -BeTrue
        $group = $report.groups | Where-Object nodeGroupName -eq 'demo-win-selfmanaged'
        $group.result | Should -Be 'Patched'
        $nodes = @(Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged)
        $group.afterImageId | Should -Be $group.targetImageId
        $group.nodesOnTarget | Should -Be $nodes.Count
        $group.nodeCount | Should -Be $nodes.Count
        $group.afterOsBuild | Should -Be (($nodes.OsBuild | Sort-Object { [version]$_ }) | Select-Object -First 1)
        $group.beforeImageId | Should -Not -Be $group.afterImageId
    }
}

Describe 'pipelines by property name' {
    BeforeAll { $null = Start-WinEksSimulator -Scenario demo }
    AfterAll { Stop-WinEksSimulator }

    It 'Get-WinPatchStatus | Where-Object | Invoke-WinEksPatch -WhatIf plans exactly the groups that passed the filter' {
        $out = @(Get-WinPatchStatus -ClusterName demo | Where-Object NodeGroupName -eq 'demo-win-selfmanaged' | Invoke-WinEksPatch -WhatIf -WarningAction SilentlyContinue)
        $reports = @($out | Where-Object { $_.PSObject.TypeNames[0] -eq 'WinEksPatch.Model.WinEksPatchReport' })
        $reports | Should -HaveCount 1
        $reports[0].Groups.NodeGroupName | Should -Be @('demo-win-selfmanaged')
        $reports[0].Groups[0].Result | Should -Be 'Planned'
        @($out | Where-Object { $_.PSObject.TypeNames[0] -eq 'WinEksPatch.Model.NodeReplacementPlan' }).NodeGroupName | Should -Be @('demo-win-selfmanaged')
    }

    It 'Get-WinNodeGroup | Invoke-WinEksPatch makes one cycle of the cluster with exactly the piped groups' {
        $groups = @(Get-WinNodeGroup -ClusterName demo)
        $groups.Count | Should -BeGreaterThan 1
        $reports = @($groups | Invoke-WinEksPatch -WhatIf -WarningAction SilentlyContinue | Where-Object { $_.PSObject.TypeNames[0] -eq 'WinEksPatch.Model.WinEksPatchReport' })
        $reports | Should -HaveCount 1
        $reports[0].Groups.NodeGroupName | Should -Be $groups.NodeGroupName
    }

    It 'Get-WinNodeGroup | Get-WinImageCachePlan plans the piped group only' {
        $piped = @(Get-WinNodeGroup -ClusterName demo -NodeGroupName win-managed | Get-WinImageCachePlan -WarningAction SilentlyContinue)
        $named = @(Get-WinImageCachePlan -ClusterName demo -NodeGroupName win-managed -WarningAction SilentlyContinue)
        $all = @(Get-WinImageCachePlan -ClusterName demo -WarningAction SilentlyContinue)
        $piped.Image | Should -Be $named.Image
        ($piped | Measure-Object Pods -Sum).Sum | Should -BeLessThan ($all | Measure-Object Pods -Sum).Sum
    }

    It 'Get-WinNodeGroup | New-WinNodeAmi builds for the piped group; two groups in one build are refused before anything is created' {
        $null = Get-WinEksSimulatorReport -Reset
        { Get-WinNodeGroup -ClusterName demo -NodeGroupName demo-win-selfmanaged | New-WinNodeAmi -WhatIf -ErrorAction Stop } | Should -Not -Throw
        { Get-WinNodeGroup -ClusterName demo | New-WinNodeAmi -WhatIf -ErrorAction Stop } |
            Should -Throw -ErrorId 'PipelineTargetsDiffer,WinEksPatch.Commands.NewWinNodeAmiCommand' -ExpectedMessage '*node groups demo-win-selfmanaged, win-managed*run it once for each*'
        (Get-WinEksSimulatorReport).ApiCalls | Where-Object { $_.Service -eq 'imagebuilder' -and $_.Mutating } | Should -BeNullOrEmpty
    }

    It 'one name per concept: -NodeGroupName everywhere, the old names as aliases' {
        foreach ($command in 'Get-WinNodeGroup', 'Get-WinNode', 'Get-WinPatchStatus', 'Get-WinImageCachePlan', 'Invoke-WinEksPatch', 'Invoke-NodeReplacement', 'Set-NodeGroupAmi', 'New-WinNodeAmi', 'Add-WinEksSimulatorFault') {
            (Get-Command $command).Parameters.Keys | Should -Contain 'NodeGroupName' -Because $command
        }
        (Get-Command Get-WinNodeGroup).Parameters['NodeGroupName'].Aliases | Should -Contain 'Name'
        (Get-Command Add-WinEksSimulatorFault).Parameters['NodeGroupName'].Aliases | Should -Contain 'NodeGroup'
        (Get-WinNodeGroup -ClusterName demo -Name win-managed).NodeGroupName | Should -Be 'win-managed'
        # OsBuild is what nodes run; a group's build is its AMI's, ImageOsBuild (OsBuild remains its alias).
        $group = Get-WinNodeGroup -ClusterName demo -NodeGroupName win-managed
        $group.ImageOsBuild | Should -Not -BeNullOrEmpty
        $group.OsBuild | Should -Be $group.ImageOsBuild
        ($group | Format-Table | Out-String) | Should -Match 'ImageOsBuild'
    }
}

Describe 'say why, early' {
    BeforeAll { $null = Start-WinEksSimulator -Scenario demo }
    AfterAll { Stop-WinEksSimulator }

    It 'Invoke-NodeReplacement on a group that already runs its AMI warns and names the next step, under -WhatIf too' {
        foreach ($whatIf in $true, $false) {
            $out = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -WhatIf:$whatIf -Force -WarningVariable warned -WarningAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            ($warned -join "`n") | Should -BeLike '*every instance already runs ami-*nothing to replace*Set-NodeGroupAmi*Invoke-WinEksPatch*'
        }
    }

    It 'Get-WinNodeAmi for a Kubernetes version nobody publishes says so and names the versions there are' {
        $out = Get-WinNodeAmi -KubernetesVersion 9.99 -WindowsVersion 2022 -Edition Core -WarningVariable warned -WarningAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        ($warned -join "`n") | Should -BeLike '*No AMI of Eks or ImageBuilder matches Kubernetes 9.99, Windows Server 2022, Core in us-west-2*published here for Kubernetes 1.*'
    }

    It '-Verbose names each AWS and Kubernetes call with its outcome and duration; -Debug adds request ids' {
        $verbose = @(Get-WinPatchStatus -ClusterName demo -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $verbose | Should -Contain ($verbose | Where-Object { $_ -match '^AWS eks DescribeCluster \(us-west-2\): 200 in \d+ ms$' } | Select-Object -First 1)
        @($verbose | Where-Object { $_ -match '^AWS ssm GetParametersByPath \(us-west-2\): 200 in \d+ ms$' }).Count | Should -BeGreaterThan 0
        @($verbose | Where-Object { $_ -match '^Kubernetes list nodes \(/.*/api/v1/nodes\): 200 in \d+ ms$' }).Count | Should -BeGreaterThan 0
        $debug = @(Get-WinNode -ClusterName demo -Debug 5>&1 | Where-Object { $_ -is [System.Management.Automation.DebugRecord] } | ForEach-Object Message)
        @($debug | Where-Object { $_ -match '^AWS eks DescribeCluster: request id [0-9a-f-]{36}$' }).Count | Should -BeGreaterThan 0
        @($debug | Where-Object { $_ -match '^Kubernetes list pods: request id \S+$' }).Count | Should -BeGreaterThan 0
        # Without -Verbose nothing of it is written.
        @(Get-WinPatchStatus -ClusterName demo 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) | Should -BeNullOrEmpty
    }
}

Describe 'output a person reads' {
    BeforeAll {
        $null = Start-WinEksSimulator -Scenario demo
        $latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
        $null = Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageId $latest.ImageId -Force
    }
    AfterAll { Stop-WinEksSimulator }

    It 'default tables fit 120 columns and cut no name: node names lose only their region suffix, lists wrap' {
        $nodes = @(Get-WinNode -ClusterName demo)
        foreach ($table in ($nodes | Format-Table | Out-String -Width 120), (Get-WinEksCluster | Format-Table | Out-String -Width 120)) {
            $table -split "`n" | Where-Object { $_.TrimEnd().Length -gt 120 } | Should -BeNullOrEmpty
            $table | Should -Not -Match '…'
        }
        $table = $nodes | Format-Table | Out-String -Width 120
        foreach ($node in $nodes) {
            $table | Should -Match ([regex]::Escape(($node.NodeName -split '\.')[0]))
            $table | Should -Match ([regex]::Escape($node.NodeGroupName))
        }
        $nodes[0].NodeName | Should -Match '\.compute\.internal$' -Because 'the object keeps the full name'
        (Get-WinEksCluster | Format-Table | Out-String -Width 120) | Should -Match 'win-managed'
    }

    It 'nested records print as text, not as record syntax' {
        $plan = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 1 -WhatIf -WarningAction SilentlyContinue |
            Where-Object { $_.PSObject.TypeNames[0] -eq 'WinEksPatch.Model.NodeReplacementPlan' }
        $plan.Preflight | Should -Not -BeNullOrEmpty
        ($plan.Preflight -join "`n") | Should -Not -Match 'PreflightFinding \{'
        ($plan.Preflight -join "`n") | Should -Match ('(?m)^' + [regex]::Escape(($plan.Preflight | Select-Object -First 1).Kind) + ': ')
        ($plan | Format-List | Out-String) | Should -Not -Match 'PreflightFinding \{'
        $size = Measure-WinContainerImage -Image mcr.microsoft.com/windows/servercore:ltsc2022
        ($size.Layers -join "`n") | Should -Match '^sha256:[0-9a-f]{12}… [\d.,]+ MB compressed, [\d.,]+ MB on disk'
        ($size | Format-List | Out-String) | Should -Not -Match 'WinImageLayer \{'
    }
}

Describe 'output a file or a spreadsheet keeps' {
    BeforeAll {
        $null = Start-WinEksSimulator -Scenario demo -TimeScale 240
        # One object of each kind the module emits, a patch cycle's report and its replaced nodes among them.
        $latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
        $null = Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageId $latest.ImageId -Force
        $plan = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 1 -WhatIf -WarningAction SilentlyContinue |
            Where-Object { $_.PSObject.TypeNames[0] -eq 'WinEksPatch.Model.NodeReplacementPlan' }
        $report = Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force -WarningAction SilentlyContinue
        $script:emitted = @(
            $report; $report.Groups; $report.Groups.Nodes; $plan
            Get-WinEksCluster; Get-WinNodeGroup -ClusterName demo; Get-WinNode -ClusterName demo; Get-WinPatchStatus -ClusterName demo
            Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
        ) | Where-Object { $null -ne $_ }

        # Each property of an object, with the value a script reads and the value the .NET object holds.
        function Get-EmittedProperty($Object) {
            $Object.PSObject.Properties | Where-Object { $_.MemberType -in 'Property', 'AliasProperty', 'ScriptProperty' -and $_.IsGettable } |
                ForEach-Object { [pscustomobject]@{ Name = $_.Name; Value = $_.Value } }
        }
    }
    AfterAll { Stop-WinEksSimulator }

    It 'emits every kind of object the test reads (so the checks below see them all)' {
        $types = $emitted | ForEach-Object { $_.GetType().Name } | Sort-Object -Unique
        foreach ($type in 'WinEksPatchReport', 'WinEksPatchGroupReport', 'NodeReplacementResult', 'NodeReplacementPlan', 'WinEksCluster',
            'WinNodeGroup', 'WinNode', 'WinPatchStatus', 'WinNodeAmi') { $types | Should -Contain $type }
        @($report.Groups.Nodes).Count | Should -BeGreaterThan 0 -Because 'the cycle replaced nodes'
    }

    It 'ConvertTo-Json writes every named value by its name, never as a number' {
        foreach ($object in $emitted) {
            $json = $object | ConvertTo-Json -Depth 1 -WarningAction SilentlyContinue | ConvertFrom-Json
            foreach ($property in Get-EmittedProperty $object) {
                if ($null -eq $property.Value -or $property.Value -is [System.Collections.IEnumerable]) { continue }
                $numeric = $property.Value.GetType() -in [int], [long], [double], [decimal], [single], [byte], [int16], [uint32], [uint64]
                if ($numeric) { continue }
                $written = $json.($property.Name)
                ($written -is [long] -or $written -is [int] -or $written -is [double]) |
                    Should -BeFalse -Because "$($object.GetType().Name).$($property.Name) is $($property.Value), not a number"
            }
        }
        $report.Groups[0] | ConvertTo-Json -Depth 1 -WarningAction SilentlyContinue | Should -Match '"Result": "Patched"'
        (Get-WinNodeGroup -ClusterName demo | ConvertTo-Json -WarningAction SilentlyContinue | ConvertFrom-Json).Kind | Sort-Object -Unique |
            Should -Be @('Managed', 'SelfManaged')
    }

    It 'Export-Csv writes each list as its items joined by "; ", never a type name' {
        $lists = 0
        foreach ($object in $emitted) {
            $row = $object | ConvertTo-Csv | ConvertFrom-Csv
            foreach ($property in Get-EmittedProperty $object) {
                $cell = $row.($property.Name)
                $cell | Should -Not -Match '^System\.|`\d\[|^WinEksPatch\.' -Because "$($object.GetType().Name).$($property.Name) should be text a person reads"
                if ($property.Value -is [System.Collections.IEnumerable] -and $property.Value -isnot [string]) {
                    $lists++
                    $cell | Should -Be ((@($property.Value) | ForEach-Object { "$_" }) -join '; ') -Because "$($object.GetType().Name).$($property.Name)"
                }
            }
        }
        $lists | Should -BeGreaterThan 10
        ($report.Groups | ConvertTo-Csv | ConvertFrom-Csv).Nodes | Should -Match '^i-\w+ -> i-\w+ \(Replaced\)(; |$)'
    }

    It 'the lists stay lists to a script: counted, indexed and piped item by item' {
        $cluster = Get-WinEksCluster | Select-Object -First 1
        $cluster.WindowsNodeGroups.Count | Should -BeGreaterThan 1
        @($cluster.WindowsNodeGroups | Where-Object { $_ -eq 'win-managed' }) | Should -HaveCount 1
        ($report.Groups[0] | ConvertTo-Json -Depth 3 | ConvertFrom-Json).Nodes.Count | Should -Be @($report.Groups[0].Nodes).Count
    }
}

Describe 'output types a script can name' {
    BeforeAll { Import-Module (Get-TestModulePath) }

    It 'resolves every cmdlet''s output type by its full name and by WinEksPatch.<Name>' {
        $outputs = Get-Command -Module WinEksPatch | ForEach-Object { $_.OutputType.Name } | Where-Object { $_ -like 'WinEksPatch.*' } | Sort-Object -Unique
        $outputs | Should -Not -BeNullOrEmpty
        foreach ($name in $outputs) {
            ($name -as [type]) | Should -Not -BeNullOrEmpty -Because "[$name] should resolve"
            ("WinEksPatch.$($name.Split('.')[-1])" -as [type]).FullName | Should -Be $name
        }
        [WinEksPatch.NodeGroupKind]::SelfManaged | Should -Be 'SelfManaged'
    }
}

Describe 'progress a person follows' {
    BeforeAll {
        $sim = Start-WinEksSimulator -Scenario demo -TimeScale 120
        $latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
        $null = Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageId $latest.ImageId -Force
    }
    AfterAll { Stop-WinEksSimulator }

    It 'the rollout''s bars carry percent complete, the phase, the elapsed time and an estimate of what remains' {
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$(Get-TestModulePath)'; Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -MaxSurge 2 -Force -WarningAction SilentlyContinue")
            $results = @($ps.Invoke())
            $progress = @($ps.Streams.Progress)
        }
        finally { $ps.Dispose() }
        $results.Count | Should -Be 4
        $group = @($progress | Where-Object ParentActivityId -eq -1 | Where-Object Activity -like 'Replacing nodes of demo/demo-win-selfmanaged*')
        $group | Should -Not -BeNullOrEmpty
        @($group | Where-Object { $_.PercentComplete -gt 0 -and $_.PercentComplete -lt 100 }) | Should -Not -BeNullOrEmpty
        @($group | Where-Object { $_.StatusDescription -match '^node \d+ of 4: i-[0-9a-f]+ \((\d+h\d\dm|\d+m\d\ds|\d+s) elapsed\)$' }) | Should -Not -BeNullOrEmpty
        @($group | Where-Object SecondsRemaining -gt 0) | Should -Not -BeNullOrEmpty
        $nodes = @($progress | Where-Object ParentActivityId -ne -1)
        ($nodes.StatusDescription -join "`n") | Should -Match '(?m)^draining \((\d+h\d\dm|\d+m\d\ds|\d+s) elapsed\)'
    }
}
