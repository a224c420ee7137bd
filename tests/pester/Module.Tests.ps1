BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:manifest = Import-PowerShellDataFile (Get-TestModulePath)
}

Describe 'Module manifest' {
    It 'is for PowerShell 7.4+ Core only' {
        $manifest.CompatiblePSEditions | Should -Be @('Core')
        $manifest.PowerShellVersion | Should -Be '7.4'
    }

    It 'exports cmdlets explicitly and no functions, aliases or variables' {
        $manifest.CmdletsToExport | Should -Not -Contain '*'
        $manifest.CmdletsToExport | Should -Contain 'Get-WinEksCluster'
        $manifest.FunctionsToExport.Count | Should -Be 0
        $manifest.AliasesToExport.Count | Should -Be 0
        $manifest.VariablesToExport.Count | Should -Be 0
    }

    It 'keeps its dependencies out of RequiredAssemblies (they load in the module''s own context)' {
        $manifest.ContainsKey('RequiredAssemblies') | Should -BeFalse
        Test-Path (Join-Path (Split-Path (Get-TestModulePath)) 'deps/AWSSDK.Core.dll') | Should -BeTrue
        Test-Path (Join-Path (Split-Path (Get-TestModulePath)) 'AWSSDK.Core.dll') | Should -BeFalse
    }

    It 'exports exactly the cmdlets its manifest lists' {
        $result = Invoke-FreshPwsh -Script @'
Import-Module $env:WINEKSPATCH_MODULE
ConvertTo-Json -Compress -InputObject @((Get-Command -Module WinEksPatch).Name | Sort-Object)
'@
        @($result) | Should -Be @($manifest.CmdletsToExport | Sort-Object)
    }
}

Describe 'Format views' {
    BeforeAll { Import-Module (Get-TestModulePath) }

    It 'every output type, and the report''s per-group entries, have a table view and a list view with the details' {
        $types = @((Get-Command -Module WinEksPatch).OutputType.Name | Where-Object { $_ -like 'WinEksPatch.Model.*' } | Sort-Object -Unique) +
            'WinEksPatch.Model.WinEksPatchGroupReport'
        $types.Count | Should -BeGreaterThan 15
        foreach ($type in $types) {
            $controls = (Get-FormatData -TypeName $type).FormatViewDefinition.Control | ForEach-Object { $_.GetType().Name }
            $controls | Should -Contain 'TableControl' -Because "$type needs a table view"
            $controls | Should -Contain 'ListControl' -Because "$type needs a list view"
        }
    }
}

Describe 'about_WinEksPatch' {
    BeforeAll { Import-Module (Get-TestModulePath) }

    It 'tells the monthly workflow, the safety guarantees and the simulator' {
        $about = Get-Help about_WinEksPatch | Out-String
        foreach ($section in 'THE MONTHLY JOB', 'SAFETY', 'THE SIMULATOR', 'CONNECTING') { $about | Should -Match "(?m)^$section\s*$" }
        $about | Should -Match '-Force skips prompts and nothing else'
        $about | Should -Match 'PodDisruptionBudgets are never violated unless -OverridePodDisruptionBudget'
        $about | Should -Match 'One run per node group at a time'
        $about | Should -Match 'Start-WinEksSimulator -Scenario demo'
    }

    It 'about_WinEksPatch_Unattended has the exit-code contract of scheduled tasks and runbooks' {
        $about = Get-Help about_WinEksPatch_Unattended | Out-String
        foreach ($section in 'THE SCRIPT', 'PROMPTS', 'CHECKED BEFORE THE FIRST CHANGE', 'THE REPORT', 'EXIT CODES', 'REHEARSALS') { $about | Should -Match "(?m)^$section\s*$" }
        $about | Should -Match 'PatchCycleFailed ends the script as the throw statement does'
        $about | Should -Match 'exits 1, with or without'
    }
}

Describe 'Bad input gets a specific error naming the parameter' {
    It '<Case>' -ForEach @(
        @{ Case = 'a malformed region'; Arguments = '-Region nowhere'; Id = 'InvalidRegion'; Category = 'InvalidArgument'; Says = '-Region:' }
        @{ Case = 'a missing profile'; Arguments = '-ProfileName no-such-profile -Region us-west-2'; Id = 'ProfileNotFound'; Category = 'InvalidArgument'; Says = '-ProfileName:' }
        @{ Case = 'no credentials anywhere'; Arguments = '-Region us-west-2'; Id = 'NoCredentials'; Category = 'AuthenticationError'; Says = 'no AWS credentials' }
    ) {
        $result = Invoke-FreshPwsh -Script @"
Import-Module `$env:WINEKSPATCH_MODULE
try { Get-WinEksCluster $Arguments; @{ Id = 'none' } | ConvertTo-Json -Compress }
catch { @{ Id = `$_.FullyQualifiedErrorId; Category = "`$(`$_.CategoryInfo.Category)"; Message = `$_.Exception.Message } | ConvertTo-Json -Compress }
"@ -Environment @{
            AWS_ACCESS_KEY_ID = $null; AWS_SECRET_ACCESS_KEY = $null; AWS_SESSION_TOKEN = $null; AWS_PROFILE = $null
            AWS_CONFIG_FILE = '/nonexistent/config'; AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials'
            AWS_EC2_METADATA_DISABLED = 'true'; AWS_WEB_IDENTITY_TOKEN_FILE = $null
            AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = $null; AWS_CONTAINER_CREDENTIALS_FULL_URI = $null
            AWS_ENDPOINT_URL = 'http://127.0.0.1:9'
        }
        $result.Id | Should -Be "$Id,WinEksPatch.Commands.GetWinEksClusterCommand"
        $result.Category | Should -Be $Category
        $result.Message | Should -BeLike "*$Says*"
    }
}
