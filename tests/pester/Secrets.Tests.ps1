# Nothing secret reachable (#16): every error the module raises in the ways AWS, Kubernetes and the registries refuse
# or fail, walked object by object (as a logger or `$_.Exception | ConvertTo-Json -Depth 5` would), together with the
# verbose and debug streams, the report file and the temp folder, holds no credential, session token, EKS token,
# registry password or presigned URL.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)

    # What must never show: the simulator's secret key, an EKS token (a presigned STS URL), SigV4 query signing, a
    # session token, HTTP basic credentials, and the registry password an ECR token decodes to, in any form: the
    # simulator's ECR passwords are base64url("ecr\n<account>\n<expiry>") + "." + a MAC, and any ECR token (real ones
    # too) is base64("AWS:" + password), so it starts with QVdTO.
    $script:secretPatterns = @(
        [regex]::Escape('WinEksPatchSimulator/NotASecret/00000000'), 'k8s-aws-v1\.', 'X-Amz-Signature', 'X-Amz-Security-Token',
        'X-Amz-Credential', '\bBasic [A-Za-z0-9+/=]{8,}', 'Authorization:\s*Bearer', 'aws_session_token',
        'ZWNyCj[A-Za-z0-9_-]{8,}', 'QVdTO[A-Za-z0-9+/=]{16,}')

    # Every string reachable from an object through its public properties, fields of collections and dictionaries,
    # depth first, each object once, as far as a logger's walk goes (depth 6).
    function Get-ReachableText($Root, [int] $MaxDepth = 6) {
        $seen = [Collections.Generic.HashSet[object]]::new([Collections.Generic.ReferenceEqualityComparer]::Instance)
        $text = [Text.StringBuilder]::new()
        $walk = {
            param($value, [int] $depth)
            if ($null -eq $value -or $depth -gt $MaxDepth -or $seen.Count -gt 20000) { return }
            if ($value -is [string]) { $null = $text.AppendLine($value); return }
            $type = $value.GetType()
            if ($type.IsPrimitive -or $type.IsEnum -or $value -is [decimal] -or $value -is [datetime] -or $value -is [datetimeoffset] -or $value -is [timespan] -or
                $value -is [type] -or $value -is [Reflection.MemberInfo] -or $value -is [Reflection.Assembly] -or $value -is [Management.Automation.PSModuleInfo] -or
                $value -is [Management.Automation.CommandInfo] -or $value -is [Management.Automation.ScriptBlock] -or $value -is [Management.Automation.SessionState]) { return }
            if (-not $type.IsValueType -and -not $seen.Add($value)) { return }
            $null = $text.AppendLine("$value")
            if ($value -is [Collections.IDictionary]) { foreach ($key in @($value.Keys)) { & $walk $key ($depth + 1); & $walk $value[$key] ($depth + 1) }; return }
            if ($value -is [Collections.IEnumerable]) { foreach ($item in $value) { & $walk $item ($depth + 1) }; return }
            foreach ($property in $type.GetProperties([Reflection.BindingFlags]'Public, Instance')) {
                if ($property.GetIndexParameters().Count -gt 0) { continue }
                try { $inner = $property.GetValue($value) } catch { continue }
                & $walk $inner ($depth + 1)
            }
        }
        & $walk $Root 0
        $text.ToString()
    }

    function Assert-NoSecret([string] $Text, [string] $Where) {
        foreach ($pattern in $secretPatterns) { $Text | Should -Not -Match $pattern -Because "$Where must not hold a secret" }
    }

    # Runs a command with -Verbose and -Debug in effect; returns every error it raised (terminating or not) and what it
    # wrote to the verbose and debug streams.
    function Invoke-Provoked([scriptblock] $Command) {
        $errors = [Collections.Generic.List[object]]::new()
        $streams = [Collections.Generic.List[string]]::new()
        $VerbosePreference = 'Continue'
        $DebugPreference = 'Continue'
        try {
            & $Command 2>&1 4>&1 5>&1 3>$null | ForEach-Object {
                if ($_ -is [Management.Automation.ErrorRecord]) { $errors.Add($_) }
                elseif ($_ -is [Management.Automation.InformationalRecord]) { $streams.Add($_.Message) }
            }
        }
        catch { $errors.Add($_) }
        [pscustomobject]@{ Errors = $errors; Streams = $streams -join "`n" }
    }
}

Describe 'errors, streams, reports and temp files hold no secret' {
    BeforeAll {
        # A temp folder of this test's own (.NET reads TMPDIR at each call; the simulator inherits it), to see what was written.
        $script:savedTemp = $env:TMPDIR
        $script:temp = Join-Path $TestDrive 'tmp'
        $null = New-Item -ItemType Directory $temp
        $env:TMPDIR = $temp
        $policy = Join-Path $TestDrive 'deny-staging.json'
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"eks:DescribeCluster","Resource":"arn:aws:eks:*:*:cluster/staging"}]}' |
            Set-Content $policy
        $script:sim = Start-WinEksSimulator -Scenario demo -TimeScale 600 -IamPolicyPath $policy
        $ecrImage = '111122223333.dkr.ecr.us-west-2.amazonaws.com/fluentd-windows:1.17.3-ltsc2019'
    }
    AfterAll { Stop-WinEksSimulator; $env:TMPDIR = $savedTemp }

    It 'the walk finds a token three objects deep, in an inner exception''s data (so the checks below can fail)' {
        $inner = [Exception]::new('refused')
        $headers = [Collections.Generic.Dictionary[string, string]]::new()
        $headers['Authorization'] = 'Bearer k8s-aws-v1.aHR0cHM6Ly9zdHM'
        $inner.Data['request headers'] = $headers
        $record = [Management.Automation.ErrorRecord]::new([Exception]::new('outer', $inner), 'X', 'NotSpecified', $null)
        { Assert-NoSecret (Get-ReachableText $record) 'the planted record' } | Should -Throw '*k8s-aws-v1*'
        # The ECR patterns match what the simulator's ECR really hands out.
        $caller = [pscustomobject]@{ endpoint = $sim.Endpoint; region = $sim.Region; accessKeyId = 'AKIASIMULATOR0000001'; secretAccessKey = 'WinEksPatchSimulator/NotASecret/00000000' }
        $token = (Invoke-AwsCall $caller ecr GetAuthorizationToken @{}).authorizationData[0].authorizationToken
        $password = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($token)).Substring(4)
        { Assert-NoSecret "token $token" 'the ECR token' } | Should -Throw
        { Assert-NoSecret "password $password" 'the ECR password' } | Should -Throw
    }

    It '<Case>: the error and everything reachable from it, its JSON and the streams hold no secret' -ForEach @(
        @{ Case = 'IAM AccessDenied'; Id = 'AwsAccessDenied'; Setup = {}; Command = { Get-WinNodeGroup -ClusterName staging } }
        @{ Case = 'an AWS validation error'; Id = 'AwsValidationError'; Setup = { Add-WinEksSimulatorFault -Service ssm -Operation GetParameter -ErrorCode ValidationException -StatusCode 400 }
            Command = { Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks } }
        @{ Case = 'an expired EKS token'; Id = 'KubernetesUnauthorized'; Setup = { Add-WinEksSimulatorFault -TokenExpiry -Count 50 }
            Command = { Get-WinNode -ClusterName demo } }
        @{ Case = 'a Kubernetes 403'; Id = 'KubernetesApiError'; Setup = { Add-WinEksSimulatorFault -Service kubernetes -Operation 'list nodes' -StatusCode 403 -ErrorCode Forbidden }
            Command = { Get-WinNode -ClusterName demo } }
        @{ Case = 'a registry refusing the ECR credentials'; Id = 'RegistryAccessDenied'
            Setup = { Add-WinEksSimulatorFault -Service registry -Operation manifests -Resource 111122223333.dkr.ecr.us-west-2.amazonaws.com -StatusCode 401 }
            Command = { Measure-WinContainerImage -Image $ecrImage } }
    ) {
        Get-WinEksSimulatorFault | Remove-WinEksSimulatorFault
        $null = & $Setup
        try { $run = Invoke-Provoked $Command }
        finally { Get-WinEksSimulatorFault | Remove-WinEksSimulatorFault }
        $run.Errors.Count | Should -BeGreaterThan 0 -Because "$Case should fail"
        ($run.Errors | ForEach-Object { $_.FullyQualifiedErrorId }) -join ' ' | Should -Match $Id
        foreach ($record in $run.Errors) {
            Assert-NoSecret (Get-ReachableText $record) "the error record of $Case"
            Assert-NoSecret ($record.Exception | ConvertTo-Json -Depth 5 -WarningAction SilentlyContinue) "the exception of $Case as JSON"
        }
        Assert-NoSecret $run.Streams "the verbose and debug streams of $Case"
    }

    It 'a patch cycle that fails mid-rollout: the error, its report file and the streams hold no secret' {
        $reportPath = Join-Path $TestDrive 'report.json'
        $null = Add-WinEksSimulatorFault -Service kubernetes -Operation 'create pods/eviction' -StatusCode 403 -ErrorCode Forbidden
        try { $run = Invoke-Provoked { Invoke-WinEksPatch -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force -ReportPath $reportPath -DrainTimeout 00:02:00 } }
        finally { Get-WinEksSimulatorFault | Remove-WinEksSimulatorFault }
        $run.Errors.Count | Should -BeGreaterThan 0
        foreach ($record in $run.Errors) { Assert-NoSecret (Get-ReachableText $record) 'the PatchCycleFailed error' }
        Test-Path $reportPath | Should -BeTrue
        Assert-NoSecret (Get-Content $reportPath -Raw) 'the report file'
        Assert-NoSecret $run.Streams 'the verbose and debug streams of the cycle'
        $run.Streams | Should -Match 'Performing the operation "Replace' -Because 'the streams were captured'
        ($run.Errors | ForEach-Object { "$($_.Exception.Message)" }) -join "`n" | Should -Match 'evict' -Because 'the cycle failed at the eviction'
    }

    It 'the files the module wrote to the temp folder hold no secret (the simulator''s own state folder aside)' {
        [IO.Path]::GetTempPath() | Should -BeLike "$temp*" -Because 'the module writes its temp files here'
        $state = Split-Path $sim.KubeConfigPath
        $state | Should -BeLike "$temp*"
        # Regular files only: the runtime keeps its diagnostic sockets and debugger pipes there too.
        $new = @(Get-ChildItem $temp -Recurse -File | Where-Object { -not $_.FullName.StartsWith($state) -and (-not $IsLinux -or $_.UnixMode -like '-*') })
        foreach ($file in $new) {
            $text = try { [IO.File]::ReadAllText($file.FullName) } catch { '' }
            Assert-NoSecret $text $file.FullName
        }
    }
}
