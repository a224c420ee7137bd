BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)
    $null = Start-WinEksSimulator -Scenario demo
    function Complete([string] $line) { (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText }
}

AfterAll { Stop-WinEksSimulator }

Describe 'Tab completion from the (simulated) account' {
    It 'completes cluster names' { Complete 'Get-WinNodeGroup -ClusterName ' | Should -Be @('demo', 'staging') }
    It 'completes the Windows node groups of the cluster on the line' { Complete 'Invoke-NodeReplacement -ClusterName demo -NodeGroupName ' | Should -Be @('demo-win-selfmanaged', 'win-managed') }
    It 'completes node names by prefix' {
        $nodes = Complete 'Measure-WinContainerImage -Image x -ClusterName demo -NodeName ip-'
        $nodes.Count | Should -Be 7
    }
    It 'completes AMI ids' { Complete 'Set-NodeGroupAmi -ClusterName demo -NodeGroupName x -ImageId ami-03ae' | Should -Be 'ami-03ae33a4ed49091ae' }
    It 'returns nothing rather than an error without a cluster on the line' { Complete 'Get-WinNode -NodeGroupName ' | Should -BeNullOrEmpty }
}

Describe 'Tab completion from this machine (AWS.Tools habits)' {
    It 'completes -Region with the regions the AWS SDK knows' {
        Complete 'Get-WinEksCluster -Region us-we' | Should -Be @('us-west-1', 'us-west-2')
        Complete 'Get-WinEksPatchIamPolicy -ClusterName x -AccountId 111122223333 -Region eu-central-' | Should -Contain 'eu-central-1'
    }

    It 'completes -ProfileName with the profiles of the shared config and credentials files' {
        $config = Join-Path $TestDrive 'config'
        $credentials = Join-Path $TestDrive 'credentials'
        "[profile ops-admin]`nregion = us-west-2`n[profile ops-readonly]`nregion = us-west-2`n" | Set-Content $config
        "[build]`naws_access_key_id = AKIAEXAMPLE000000000`naws_secret_access_key = example`n" | Set-Content $credentials
        # A fresh process: the AWS SDK reads where the shared files are once per process.
        $result = Invoke-FreshPwsh -Environment @{ AWS_CONFIG_FILE = $config; AWS_SHARED_CREDENTIALS_FILE = $credentials } -Script @'
Import-Module $env:WINEKSPATCH_MODULE
function Complete([string] $line) { (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText }
@{ Ops = @(Complete 'Get-WinNodeGroup -ClusterName demo -ProfileName ops'); Build = @(Complete 'Get-WinNodeGroup -ClusterName demo -ProfileName bu') } | ConvertTo-Json -Compress
'@
        $result.Ops | Should -Be @('ops-admin', 'ops-readonly')
        $result.Build | Should -Be @('build')
    }

    It 'completes -KubeContext with the contexts of the -KubeConfigPath on the line' {
        $kubeconfig = Join-Path $TestDrive 'kubeconfig'
        @'
apiVersion: v1
kind: Config
clusters: [ { name: c, cluster: { server: "https://127.0.0.1:1" } } ]
users: [ { name: u, user: { token: t } } ]
contexts: [ { name: prod-admin, context: { cluster: c, user: u } }, { name: prod-readonly, context: { cluster: c, user: u } }, { name: dev, context: { cluster: c, user: u } } ]
current-context: dev
'@ | Set-Content $kubeconfig
        Complete "Get-WinNode -ClusterName demo -KubeConfigPath '$kubeconfig' -KubeContext prod" | Should -Be @('prod-admin', 'prod-readonly')
    }

    It 'completes -Scenario with the bundled scenarios and -ImageSource with the sources and AMI ids' {
        Complete 'Start-WinEksSimulator -Scenario ' | Should -Be @('demo', 'fleet', 'large', 'managed')
        Complete 'Invoke-WinEksPatch -ClusterName demo -ImageSource ' | Select-Object -First 2 | Should -Be @('EksLatest', 'Build')
        Complete 'Invoke-WinEksPatch -ClusterName demo -ImageSource ami-03ae' | Should -Be 'ami-03ae33a4ed49091ae'
    }

    It 'completes New-WinNodeAmi''s -ClusterName and -NodeGroupName from the account' {
        Complete 'New-WinNodeAmi -ClusterName ' | Should -Be @('demo', 'staging')
        Complete 'New-WinNodeAmi -ClusterName demo -NodeGroupName ' | Should -Be @('demo-win-selfmanaged', 'win-managed')
    }
}
