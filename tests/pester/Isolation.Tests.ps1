# The module loads AWSSDK.*, KubernetesClient and YamlDotNet into its own AssemblyLoadContext, so it works in a
# session that already loaded another AWSSDK.Core (every AWS.Tools user has one) or another KubernetesClient and YamlDotNet,
# in either order, and the other copies keep working too. Each case runs in a fresh pwsh against a simulator reached
# through AWS_ENDPOINT_URL.
BeforeDiscovery {
    $script:others = @('AWSSDK.Core 3.7 (AWS.Tools)', 'KubernetesClient 19 on YamlDotNet 16')
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:sim = Start-TestSimulator
    $script:env = Get-SimulatorEnvironment $sim
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }

    # Per other library: how to load it, a snippet that uses it ($otherWorks), and one that uses the module ($cluster) and
    # reports which copies are loaded where ($contexts), with the contexts expected.
    $script:cases = @{
        'AWSSDK.Core 3.7 (AWS.Tools)'          = @{
            Load      = "Add-Type -Path '$(Join-Path $packages 'awssdk.core/3.7.402/lib/netcoreapp3.1/AWSSDK.Core.dll')'"
            UseOther  = @'
$credentials = [Amazon.Runtime.BasicAWSCredentials]::new('AKIDOTHER', 'other-secret')
$otherWorks = $credentials.GetCredentials().AccessKey -eq 'AKIDOTHER' -and [Amazon.Runtime.BasicAWSCredentials].Assembly.GetName().Version.Major -eq 3
'@
            UseModule = @'
$cluster = Get-WinEksCluster -Name demo
$contexts = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'AWSSDK.Core' } |
    ForEach-Object { "AWSSDK.Core:$($_.GetName().Version.Major):$([System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name)" }
'@
            Expected  = @('AWSSDK.Core:3:Default', 'AWSSDK.Core:4:WinEksPatch')
        }
        # The module reads the simulator's kubeconfig (YamlDotNet inside KubernetesClient) and talks to its API server.
        'KubernetesClient 19 on YamlDotNet 16' = @{
            Load      = "Add-Type -Path " + ((@('yamldotnet/16.3.0/lib/net8.0/YamlDotNet.dll', 'fractions/7.3.0/lib/netstandard2.1/Fractions.dll',
                    'kubernetesclient/19.0.2/lib/net8.0/KubernetesClient.dll') | ForEach-Object { "'$(Join-Path $packages $_)'" }) -join ', ')
            UseOther  = @'
$meta = [k8s.Models.V1ObjectMeta]::new()
$meta.Name = 'other'
$yaml = [YamlDotNet.Serialization.SerializerBuilder]::new().Build().Serialize(@{ kind = 'Pod' })
$otherWorks = [k8s.KubernetesJson]::Serialize($meta) -match '"name":"other"' -and $yaml -match 'kind: Pod' -and
    [k8s.Models.V1ObjectMeta].Assembly.GetName().Version.Major -eq 19
'@
            UseModule = @"
`$cluster = Get-WinEksCluster -Name demo -KubeConfigPath '$($sim.KubeConfigPath)' -KubeContext demo
`$contexts = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -in 'KubernetesClient', 'YamlDotNet' } |
    ForEach-Object { "`$(`$_.GetName().Name):`$(`$_.GetName().Version.Major):`$([System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$_).Name)" }
"@
            Expected  = @('KubernetesClient:19:Default', 'KubernetesClient:21:WinEksPatch', 'YamlDotNet:16:Default', 'YamlDotNet:18:WinEksPatch')
        }
    }
}

AfterAll { Stop-TestSimulator $sim }

Describe 'Dependency isolation' {
    It 'works after <_> was loaded, and that keeps working' -ForEach $others {
        $case = $cases[$_]
        $result = Invoke-FreshPwsh -Environment $env -Script @"
$($case.Load)
Import-Module `$env:WINEKSPATCH_MODULE
$($case.UseModule)
$($case.UseOther)
@{ Groups = `$cluster.WindowsNodeGroups; Nodes = `$cluster.WindowsNodeCount; OtherWorks = `$otherWorks; Contexts = @(`$contexts | Sort-Object) } | ConvertTo-Json -Compress
"@
        $result.Nodes | Should -Be 7
        $result.Groups | Should -Be @('demo-win-selfmanaged', 'win-managed')
        $result.OtherWorks | Should -BeTrue
        $result.Contexts | Should -Be $case.Expected
    }

    It 'works when the module came first and <_> is loaded afterwards' -ForEach $others {
        $case = $cases[$_]
        $result = Invoke-FreshPwsh -Environment $env -Script @"
Import-Module `$env:WINEKSPATCH_MODULE
$($case.UseModule)
`$first = `$cluster.WindowsNodeCount
$($case.Load)
$($case.UseOther)
$($case.UseModule)
@{ First = `$first; Second = `$cluster.WindowsNodeCount; OtherWorks = `$otherWorks; Contexts = @(`$contexts | Sort-Object) } | ConvertTo-Json -Compress
"@
        $result.First | Should -Be 7
        $result.Second | Should -Be 7
        $result.OtherWorks | Should -BeTrue
        $result.Contexts | Should -Be $case.Expected
    }
}

Describe 'AWS.Tools session defaults' {
    It 'uses Set-AWSCredential''s and Set-DefaultAWSRegion''s session values (AWSSDK.Core 3.7 objects) after the parameters, before the environment' {
        # The environment names a region elsewhere and keys the simulator refuses: only the session values can succeed.
        $wrong = $env.Clone()
        $wrong.AWS_REGION = 'eu-west-1'
        $wrong.AWS_ACCESS_KEY_ID = 'AKIAWRONGWRONGWRONG0'
        $wrong.AWS_SECRET_ACCESS_KEY = 'wrong'
        $result = Invoke-FreshPwsh -Environment $wrong -Script @"
$($cases['AWSSDK.Core 3.7 (AWS.Tools)'].Load)
Import-Module `$env:WINEKSPATCH_MODULE
`$global:StoredAWSCredentials = [Amazon.Runtime.BasicAWSCredentials]::new('$($sim.accessKeyId)', '$($sim.secretAccessKey)')
`$global:StoredAWSRegion = '$($sim.region)'
`$withSession = (Get-WinEksCluster -Name demo).WindowsNodeCount
`$explicit = try { Get-WinEksCluster -Name demo -Credential ([Amazon.Runtime.BasicAWSCredentials]::new('AKIAWRONGWRONGWRONG0', 'wrong')) -ErrorAction Stop; 'no error' } catch { `$_.FullyQualifiedErrorId }
Remove-Variable StoredAWSCredentials, StoredAWSRegion -Scope Global
`$without = try { Get-WinEksCluster -Name demo -ErrorAction Stop; 'no error' } catch { `$_.FullyQualifiedErrorId }
@{ WithSession = `$withSession; Explicit = `$explicit; Without = `$without } | ConvertTo-Json -Compress
"@
        $result.WithSession | Should -Be 7
        $result.Explicit | Should -BeLike 'Aws*,WinEksPatch.Commands.GetWinEksClusterCommand' -Because '-Credential comes before the session credentials'
        $result.Without | Should -BeLike 'Aws*,WinEksPatch.Commands.GetWinEksClusterCommand' -Because 'the environment''s keys are wrong'
    }
}
