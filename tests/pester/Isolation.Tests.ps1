# The module loads AWSSDK.*, KubernetesClient and YamlDotNet into its own AssemblyLoadContext, so it works in a
# session that already loaded another AWSSDK.Core (every AWS.Tools user has one) or another KubernetesClient and YamlDotNet,
# in either order, and the other copies keep working too. Each case runs in a fresh pwsh against a simulator reached
# through AWS_ENDPOINT_URL.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:sim = Start-TestSimulator
    $script:env = Get-SimulatorEnvironment $sim
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $script:otherCore = Join-Path $packages 'awssdk.core/3.7.402/lib/netcoreapp3.1/AWSSDK.Core.dll'
    # What another Kubernetes module may have loaded: KubernetesClient 19 on YamlDotNet 16 (the module ships 21 on 18).
    $script:otherYaml = Join-Path $packages 'yamldotnet/16.3.0/lib/net8.0/YamlDotNet.dll'
    $script:otherKube = Join-Path $packages 'kubernetesclient/19.0.2/lib/net8.0/KubernetesClient.dll'
    $script:otherFractions = Join-Path $packages 'fractions/7.3.0/lib/netstandard2.1/Fractions.dll'
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

    Context 'beside another KubernetesClient and YamlDotNet' {
        BeforeAll {
            # Both copies parse YAML and build Kubernetes objects; the module's reads the simulator's kubeconfig (YamlDotNet
            # inside KubernetesClient) and talks to its API server.
            $script:useOtherKube = @'
$meta = [k8s.Models.V1ObjectMeta]::new()
$meta.Name = 'other'
$yaml = [YamlDotNet.Serialization.SerializerBuilder]::new().Build().Serialize(@{ kind = 'Pod' })
$otherKubeWorks = [k8s.KubernetesJson]::Serialize($meta) -match '"name":"other"' -and $yaml -match 'kind: Pod' -and
    [k8s.Models.V1ObjectMeta].Assembly.GetName().Version.Major -eq 19
'@
            $script:useModuleKube = @"
`$cluster = Get-WinEksCluster -Name demo -KubeConfigPath '$($sim.KubeConfigPath)' -KubeContext demo
`$kubeContexts = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -in 'KubernetesClient', 'YamlDotNet' } |
    ForEach-Object { "`$(`$_.GetName().Name):`$(`$_.GetName().Version.Major):`$([System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$_).Name)" }
"@
            $script:expectedKube = @('KubernetesClient:19:Default', 'KubernetesClient:21:WinEksPatch', 'YamlDotNet:16:Default', 'YamlDotNet:18:WinEksPatch')
        }

        It 'works after they were loaded, and they keep working' {
            $result = Invoke-FreshPwsh -Environment $env -Script @"
Add-Type -Path '$otherYaml', '$otherFractions', '$otherKube'
Import-Module `$env:WINEKSPATCH_MODULE
$useModuleKube
$useOtherKube
@{ Nodes = `$cluster.WindowsNodeCount; OtherWorks = `$otherKubeWorks; Contexts = @(`$kubeContexts | Sort-Object) } | ConvertTo-Json -Compress
"@
            $result.Nodes | Should -Be 7
            $result.OtherWorks | Should -BeTrue
            $result.Contexts | Should -Be $expectedKube
        }

        It 'works when the module came first and they are loaded afterwards' {
            $result = Invoke-FreshPwsh -Environment $env -Script @"
Import-Module `$env:WINEKSPATCH_MODULE
$useModuleKube
`$first = `$cluster.WindowsNodeCount
Add-Type -Path '$otherYaml', '$otherFractions', '$otherKube'
$useOtherKube
$useModuleKube
@{ First = `$first; Second = `$cluster.WindowsNodeCount; OtherWorks = `$otherKubeWorks; Contexts = @(`$kubeContexts | Sort-Object) } | ConvertTo-Json -Compress
"@
            $result.First | Should -Be 7
            $result.Second | Should -Be 7
            $result.OtherWorks | Should -BeTrue
            $result.Contexts | Should -Be $expectedKube
        }
    }
}
