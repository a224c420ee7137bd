# The SSM Automation runbook: its document follows the Automation schema (schemaVersion 0.3) and its script body,
# run as aws:executeScript would (InputPayload in the environment, the attachment in the working directory), patches
# the simulated cluster in rounds that each stop before the step limit and continue where the last one stopped.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:packages = Join-Path $TestDrive 'package'
    & (Join-Path (Get-TestRepoRoot) 'tools/New-ModulePackage.ps1') -ModuleDirectory (Split-Path (Get-TestModulePath)) -OutputDirectory $packages 6>$null
    Add-Type -Path (Join-Path (Split-Path (Get-TestModulePath)) 'deps/YamlDotNet.dll')
    $yaml = Get-Content (Join-Path $packages 'WinEksPatch-Runbook.yaml') -Raw
    $script:document = [YamlDotNet.Serialization.DeserializerBuilder]::new().Build().Deserialize([System.IO.StringReader]::new($yaml))
    $script:steps = $document['mainSteps']

    function Get-Step([string] $Name) { $steps | Where-Object { $_['name'] -eq $Name } }

    # The steps Automation runs before the patch step for these parameter values: aws:branch choices on Boolean
    # parameters (the only kind the document uses), then nextStep or the following step.
    function Get-PathToPatch([hashtable] $Parameters) {
        $path = @()
        $index = 0
        while ($index -lt $steps.Count) {
            $step = $steps[$index]
            $path += $step['name']
            if ($step['name'] -eq 'Patch') { return $path }
            $next = $step['nextStep']
            if ($step['action'] -eq 'aws:branch') {
                $next = $step['inputs']['Default']
                foreach ($choice in $step['inputs']['Choices']) {
                    $variable = $choice['Variable'] -replace '^\{\{\s*(\w+)\s*\}\}$', '$1'
                    if ($Parameters.ContainsKey($variable) -and [bool]::Parse("$($choice['BooleanEquals'])") -eq $Parameters[$variable]) { $next = $choice['NextStep']; break }
                }
            }
            $index = if ($next) { [array]::IndexOf(@($steps | ForEach-Object { $_['name'] }), $next) } else { $index + 1 }
        }
        throw "no path to Patch: $($path -join ' > ')"
    }
}

Describe 'The runbook document' {
    It 'is an Automation document of schema 0.3 whose parameters have valid types' {
        $document['schemaVersion'] | Should -Be '0.3'
        foreach ($p in $document['parameters'].Values) { $p['type'] | Should -BeIn @('String', 'StringList', 'Boolean', 'Integer', 'MapList', 'StringMap', 'AWS::EC2::Image::Id') }
        $document['parameters'].Keys | Should -Contain 'ClusterName'
    }

    It 'uses only Automation actions, with unique step names and branch targets that exist' {
        $names = $steps | ForEach-Object { $_['name'] }
        ($names | Sort-Object -Unique).Count | Should -Be $names.Count
        $steps | ForEach-Object { $_['action'] | Should -BeIn @('aws:branch', 'aws:approve', 'aws:executeScript', 'aws:sleep') }
        foreach ($branch in $steps | Where-Object { $_['action'] -eq 'aws:branch' }) {
            $branch['inputs']['Default'] | Should -BeIn $names
            $branch['inputs']['Choices'] | ForEach-Object { $_['NextStep'] | Should -BeIn $names }
        }
        $steps | Where-Object { $_['nextStep'] } | ForEach-Object { $_['nextStep'] | Should -BeIn $names }
    }

    It 'runs PowerShell 7.4 with the module zip attached, its checksum filled in, and only declared parameters' {
        $patch = Get-Step Patch
        $patch['inputs']['Runtime'] | Should -Be 'PowerShell 7.4'
        [int]$patch['timeoutSeconds'] | Should -BeLessOrEqual 600
        $patch['inputs']['Attachment'] | Should -Be 'WinEksPatch.zip'
        $document['files']['WinEksPatch.zip']['checksums']['sha256'] | Should -Be (Get-FileHash (Join-Path $packages 'WinEksPatch.zip') -Algorithm SHA256).Hash.ToLowerInvariant()
        $referenced = [regex]::Matches(($patch['inputs']['InputPayload'].Values -join ' '), '\{\{\s*(\w+)\s*\}\}') | ForEach-Object { $_.Groups[1].Value }
        $referenced | ForEach-Object { $_ | Should -BeIn $document['parameters'].Keys }
    }
}

Describe 'The approval option' {
    It 'asks for approval only when RequireApproval is true, after checking there is someone to ask' {
        Get-PathToPatch @{ RequireApproval = $false } | Should -Be @('ChooseApproval', 'Begin', 'Patch')
        Get-PathToPatch @{ RequireApproval = $true } | Should -Be @('ChooseApproval', 'CheckApprovers', 'Approve', 'Begin', 'Patch')
        $approve = Get-Step Approve
        $approve['inputs']['Approvers'] | Should -Be '{{ Approvers }}'
        [int]$approve['inputs']['MinRequiredApprovals'] | Should -Be 1
        $approve['onFailure'] | Should -Be 'Abort'   # a rejection stops the runbook before the patch step
        $approve['inputs']['Message'] | Should -Match '\{\{ ClusterName \}\}'
    }

    It 'stops before anything changes when nobody may approve, and lets named approvers through' -ForEach @(
        @{ Approvers = @(); Refused = $true }
        @{ Approvers = @('  '); Refused = $true }
        @{ Approvers = @('arn:aws:iam::111122223333:role/PatchApprovers', 'alice'); Refused = $false }
    ) {
        $check = Join-Path $TestDrive 'check.ps1'
        Set-Content $check "`$result = & { $((Get-Step CheckApprovers)['inputs']['Script']) }`n`$result | ConvertTo-Json -Compress"
        $payload = @{ Approvers = $Approvers } | ConvertTo-Json -Compress
        if ($Refused) {
            { Invoke-FreshPwsh -Environment @{ InputPayload = $payload } -Script "& '$check'" } | Should -Throw '*Approvers is empty*'
        }
        else {
            (Invoke-FreshPwsh -Environment @{ InputPayload = $payload } -Script "& '$check'").Approvers | Should -Be 2
        }
    }
}

Describe 'The runbook script against the simulator' {
    BeforeAll {
        $script:sim = Start-TestSimulator -TimeScale 600
        # The patch step's InputPayload, as Automation fills it in; StartedAt is the Begin step's output.
        function New-Payload([DateTimeOffset] $StartedAt = [DateTimeOffset]::UtcNow, [int] $MaxDurationMinutes = 360) {
            @{ ClusterName = 'demo'; NodeGroupNames = @('demo-win-selfmanaged'); ImageSource = 'EksLatest'; MaxSurge = '1'; MaxUnavailable = '0'
                OverridePodDisruptionBudget = $false; BlockedNodeAction = 'Stop'; StartedAt = $StartedAt.ToString('o'); MaxDurationMinutes = "$MaxDurationMinutes" } |
                ConvertTo-Json -Compress
        }
        # Runs the patch step's script once, as aws:executeScript would, in a folder holding $Zip as the attachment.
        # $Temp: the temp folder the round sees (default: one of its own).
        function Invoke-PatchRound([string] $Payload, [string] $Zip = (Join-Path $packages 'WinEksPatch.zip'), [string] $StepSeconds = '2', [string] $Temp) {
            $work = New-Item -ItemType Directory -Path (Join-Path $TestDrive "round-$([guid]::NewGuid().ToString('n'))")
            Copy-Item $Zip (Join-Path $work 'WinEksPatch.zip')
            $body = Join-Path $work 'step.ps1'
            Set-Content $body "`$result = & { $((Get-Step Patch)['inputs']['Script']) }`n`$result | ConvertTo-Json -Compress"
            $temp = if ($Temp) { $Temp } else { (New-Item -ItemType Directory -Path (Join-Path $work 'tmp')).FullName }
            $environment = (Get-SimulatorEnvironment $sim) + @{ WINEKSPATCH_SIMULATOR_ENDPOINT = $sim.endpoint; InputPayload = $Payload; WINEKSPATCH_STEP_SECONDS = $StepSeconds
                TMPDIR = $temp; TMP = $temp; TEMP = $temp }
            # A failed step's message as Automation records it: the exception's text, not the console's wrapped rendering.
            Invoke-FreshPwsh -Environment $environment -Script "Set-Location '$work'; try { & '$body' } catch { [Console]::Out.WriteLine('STEP FAILED: ' + `$_.Exception.Message); exit 1 }"
        }
    }
    AfterAll { Stop-TestSimulator $sim }

    It 'patches in rounds: InProgress when stopped at the step budget, then Succeeded' {
        $payload = New-Payload
        $null = Invoke-RestMethod -Method Post -Uri "$($sim.endpoint)/_sim/report/reset"
        # A module planted where the runbook used to expand its attachment (and reuse whatever was there) is never run.
        $temp = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'tmp')).FullName
        $planted = New-Item -ItemType Directory -Path (Join-Path $temp 'winekspatch-modules/WinEksPatch') -Force
        Set-Content (Join-Path $planted 'WinEksPatch.psd1') "@{ ModuleVersion = '9.9.9'; RootModule = 'planted.psm1' }"
        Set-Content (Join-Path $planted 'planted.psm1') "throw 'the planted module ran'"
        $statuses = @()
        # The cap only stops a runaway loop: on a loaded machine a round's 2 s budget is mostly pwsh start-up.
        for ($round = 0; $round -lt 100; $round++) {
            $result = Invoke-PatchRound $payload -Temp $temp
            $statuses += $result.Status
            if ($result.Status -ne 'InProgress') { break }
        }
        $statuses[0] | Should -Be 'InProgress'
        $statuses[-1] | Should -Be 'Succeeded'
        # The round that finishes the rollout may be stopped at its budget after the last change and before it reports;
        # the next round then finds the group up to date. Either way the work is judged by the simulator below.
        $result.Groups | Should -BeIn @('demo-win-selfmanaged: Patched', 'demo-win-selfmanaged: UpToDate')
        # Each round expanded the attachment into a folder of its own and removed it.
        @(Get-ChildItem $temp -Directory -Filter 'winekspatch-*' | Where-Object Name -ne 'winekspatch-modules') | Should -BeNullOrEmpty
        # What the simulator saw over every interrupted round: one launch per old node, no budget violated, no pod
        # deleted, capacity never below the group's size, and no lease left behind.
        $report = Invoke-RestMethod "$($sim.endpoint)/_sim/report"
        @($report.events | Where-Object { $_.kind -eq 'NodeAdded' -and $_.nodeGroup -eq 'demo-win-selfmanaged' }).Count | Should -Be 4
        @($report.pdbViolations).Count | Should -Be 0
        ($report.lowestReadyNodes | Where-Object nodeGroup -eq 'demo-win-selfmanaged').lowest | Should -BeGreaterOrEqual 4
        $kubectl = (Get-Command kubectl -CommandType Application | Select-Object -First 1).Source
        & $kubectl --kubeconfig $sim.kubeConfigPath --context demo get leases -n kube-system -o name | Should -BeNullOrEmpty
    }

    It 'refuses an attachment whose SHA-256 is not the one it was built with, before anything runs' {
        $tampered = Join-Path $TestDrive 'tampered.zip'
        Copy-Item (Join-Path $packages 'WinEksPatch.zip') $tampered
        [IO.File]::AppendAllText($tampered, ' ')
        $null = Invoke-RestMethod -Method Post -Uri "$($sim.endpoint)/_sim/report/reset"
        { Invoke-PatchRound (New-Payload) -Zip $tampered } | Should -Throw '*STEP FAILED: The attachment WinEksPatch.zip has SHA-256 * not the * this runbook was built with: it is not run.*'
        @((Invoke-RestMethod "$($sim.endpoint)/_sim/report").apiCalls) | Should -BeNullOrEmpty
    }

    It 'ends its rounds at MaxDurationMinutes with the run failed and what held it up named, instead of looping' {
        # Past the limit before a round starts: nothing runs.
        { Invoke-PatchRound (New-Payload -StartedAt ([DateTimeOffset]::UtcNow.AddMinutes(-61)) -MaxDurationMinutes 60) } |
            Should -Throw '*STEP FAILED: WinEksPatch stopped: the rollout did not finish within MaxDurationMinutes (60) of its first round; the previous round''s Warnings name what held it up.*'
        # The limit falls inside a round: the round stops there and fails, naming what it warned of. (The group and its
        # nodes go back to an older AMI first, so the round has work to do.)
        Import-Module (Get-TestModulePath)
        $null = Connect-WinEksSimulator -Endpoint $sim.endpoint
        try {
            $current = (Get-WinNodeGroup -ClusterName demo -NodeGroupName demo-win-selfmanaged).ImageId
            $older = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks -All | Where-Object ImageId -ne $current |
                Sort-Object CreationDate | Select-Object -Last 1
            $null = Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -ImageId $older.ImageId -Force
            # The nodes must run it too: a group whose nodes already run the latest AMI is patched in a moment.
            $null = Invoke-NodeReplacement -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force -WarningAction SilentlyContinue
            @(Get-WinNode -ClusterName demo -NodeGroupName demo-win-selfmanaged).ImageId | Sort-Object -Unique | Should -Be $older.ImageId
        }
        finally { Stop-WinEksSimulator }   # lets go of an attached simulator; the test process owns it
        # 12 s left (a loaded machine's pwsh start must not use them all up), on a clock at real speed for them, so the
        # rollout cannot finish in the round.
        $null = Invoke-RestMethod -Method Post -Uri "$($sim.endpoint)/_sim/clock/scale?value=1"
        try {
            { Invoke-PatchRound (New-Payload -StartedAt ([DateTimeOffset]::UtcNow.AddMinutes(-60).AddSeconds(12)) -MaxDurationMinutes 60) -StepSeconds 300 } |
                Should -Throw '*STEP FAILED: WinEksPatch stopped: the rollout did not finish within MaxDurationMinutes (60). Held up by: *'
        }
        finally { $null = Invoke-RestMethod -Method Post -Uri "$($sim.endpoint)/_sim/clock/scale?value=600" }
    }

    It 'passes OverridePodDisruptionBudget to the cmdlet only when the runbook is told, and never by -Force' {
        $script = (Get-Step Patch)['inputs']['Script']
        $script | Should -Match '-eq ''True''\) \{ \$arguments\.OverridePodDisruptionBudget = \$true \}'
        $script | Should -Not -Match 'WarningAction SilentlyContinue\s*$'
        (Get-Step Patch)['inputs']['InputPayload']['OverridePodDisruptionBudget'] | Should -Be '{{ OverridePodDisruptionBudget }}'
        $document['parameters']['OverridePodDisruptionBudget']['default'] | Should -Be 'false'
    }
}
