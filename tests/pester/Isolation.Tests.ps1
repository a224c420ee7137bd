# The module loads AWSSDK.*, KubernetesClient and YamlDotNet into its own AssemblyLoadContext, so it works in a
# session that already loaded another AWSSDK.Core (every AWS.Tools user has one), in either order, and the other
# copy keeps working too. Each case runs in a fresh pwsh against a simulator reached through AWS_ENDPOINT_URL.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:sim = Start-TestSimulator
    $script:env = Get-SimulatorEnvironment $sim
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $script:otherCore = Join-Path $packages 'awssdk.core/3.7.402/lib/netcoreapp3.1/AWSSDK.Core.dll'
}

AfterAll { Stop-TestSimulator $sim }

Describe 'Dependency isolation' {
    BeforeAll {
        # The snippets below report what both copies of AWSSDK.Core did.
        $script:useOther = @'
$other = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'AWSSDK.Core' -and $_.GetName().Version.Major -eq 3 }
$credentials = [Amazon.Runtime.BasicAWSCredentials]::new('AKIDOTHER', 'other-secret')
$otherWorks = $credentials.GetCredentials().AccessKey -eq 'AKIDOTHER' -and [Amazon.Runtime.BasicAWSCredentials].Assembly.GetName().Version.Major -eq 3
'@
        $script:useModule = @'
$cluster = Get-WinEksCluster -Name demo
$contexts = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'AWSSDK.Core' } |
    ForEach-Object { "$($_.GetName().Version.Major):$([System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name)" }
'@
    }

    It 'works after AWS.Tools'' AWSSDK.Core 3.7 was loaded, and 3.7 keeps working' {
        $result = Invoke-FreshPwsh -Environment $env -Script @"
Add-Type -Path '$otherCore'
Import-Module `$env:WINEKSPATCH_MODULE
$useModule
$useOther
@{ Groups = `$cluster.WindowsNodeGroups; Nodes = `$cluster.WindowsNodeCount; OtherWorks = `$otherWorks; Contexts = @(`$contexts | Sort-Object) } | ConvertTo-Json -Compress
"@
        $result.Nodes | Should -Be 7
        $result.Groups | Should -Be @('demo-win-selfmanaged', 'win-managed')
        $result.OtherWorks | Should -BeTrue
        $result.Contexts | Should -Be @('3:Default', '4:WinEksPatch')
    }

    It 'works when the module came first and AWSSDK.Core 3.7 is loaded afterwards' {
        $result = Invoke-FreshPwsh -Environment $env -Script @"
Import-Module `$env:WINEKSPATCH_MODULE
$useModule
`$first = `$cluster.WindowsNodeCount
Add-Type -Path '$otherCore'
$useOther
$useModule
@{ First = `$first; Second = `$cluster.WindowsNodeCount; OtherWorks = `$otherWorks; Contexts = @(`$contexts | Sort-Object) } | ConvertTo-Json -Compress
"@
        $result.First | Should -Be 7
        $result.Second | Should -Be 7
        $result.OtherWorks | Should -BeTrue
        $result.Contexts | Should -Be @('3:Default', '4:WinEksPatch')
    }
}
