# Get-WinEksCluster end to end: the module's real AWS SDK clients and KubernetesClient against the simulator
# (SigV4-checked AWS endpoint, TLS Kubernetes endpoint that accepts only valid EKS tokens).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)
    $script:sim = Start-WinEksSimulator -Scenario demo
}

AfterAll { Stop-WinEksSimulator }

Describe 'Get-WinEksCluster against the simulator' {
    It 'lists every cluster of the region with its Windows footprint' {
        $clusters = Get-WinEksCluster | Sort-Object ClusterName
        $clusters.ClusterName | Should -Be @('demo', 'staging')
        $demo = $clusters[0]
        $demo.KubernetesVersion | Should -Be '1.31'
        $demo.Status | Should -Be 'ACTIVE'
        $demo.Region | Should -Be 'us-west-2'
        $demo.Endpoint | Should -BeLike 'https://127.0.0.1:*/clusters/demo'
        $demo.WindowsNodeGroups | Should -Be @('demo-win-selfmanaged', 'win-managed')
        $demo.WindowsNodeCount | Should -Be 7
        $clusters[1].WindowsNodeCount | Should -Be 0
        $clusters[1].WindowsNodeGroups.Count | Should -Be 0
    }

    It 'takes names from the pipeline and reports an unknown one as ClusterNotFound while the others still come' {
        $found = 'nope', 'demo' | Get-WinEksCluster -ErrorVariable failures -ErrorAction SilentlyContinue
        $found.ClusterName | Should -Be 'demo'
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'ClusterNotFound,WinEksPatch.Commands.GetWinEksClusterCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].TargetObject | Should -Be 'nope'
    }

    It 'connects with a kubeconfig context instead of an EKS token' {
        $cluster = Get-WinEksCluster -Name demo -KubeConfigPath $sim.KubeConfigPath -KubeContext demo
        $cluster.WindowsNodeCount | Should -Be 7
    }

    It 'takes a -KubeConfigPath relative to the PowerShell location, which is not the process''s directory' {
        Push-Location (Split-Path $sim.KubeConfigPath)
        try { $cluster = Get-WinEksCluster -Name demo -KubeConfigPath (Join-Path . (Split-Path $sim.KubeConfigPath -Leaf)) -KubeContext demo }
        finally { Pop-Location }
        [Environment]::CurrentDirectory | Should -Not -Be (Split-Path $sim.KubeConfigPath)
        $cluster.WindowsNodeCount | Should -Be 7
    }

    It 'names -KubeContext when the kubeconfig lacks it' {
        { Get-WinEksCluster -Name demo -KubeConfigPath $sim.KubeConfigPath -KubeContext prod } |
            Should -Throw -ErrorId 'KubeContextNotFound,WinEksPatch.Commands.GetWinEksClusterCommand'
    }

    It 'names -KubeConfigPath when the file does not exist' {
        { Get-WinEksCluster -Name demo -KubeConfigPath (Join-Path $TestDrive 'missing') } |
            Should -Throw -ErrorId 'KubeConfigNotFound,WinEksPatch.Commands.GetWinEksClusterCommand'
    }

    It 'binds its output by property name to the next cmdlet' {
        $ami = Get-WinEksCluster -Name demo | Get-WinNodeAmi -WindowsVersion 2022 -Edition Core
        $ami.KubernetesVersion | Should -Be '1.31'
        $ami.ImageId | Should -Match '^ami-[0-9a-f]{17}$'
    }
}

Describe 'An EKS endpoint that refuses the token' {
    It 'is KubernetesUnauthorized, after one re-signed retry, when the clocks disagree by more than 15 minutes' {
        # The module signs with the wall clock here (environment mode, not Start-WinEksSimulator); moving the
        # simulator's clock 20 minutes ahead makes every token it receives look expired.
        $other = Start-TestSimulator
        try {
            Invoke-RestMethod -Method Post -Uri "$($other.adminEndpoint)/clock/advance?seconds=1200" | Out-Null
            $result = Invoke-FreshPwsh -Environment (Get-SimulatorEnvironment $other) -Script @'
Import-Module $env:WINEKSPATCH_MODULE
Get-WinEksCluster -Name demo -ErrorAction SilentlyContinue -ErrorVariable failures | Out-Null
@{ Id = $failures[0].FullyQualifiedErrorId; Category = "$($failures[0].CategoryInfo.Category)"; Message = $failures[0].Exception.Message } | ConvertTo-Json -Compress
'@
            $result.Id | Should -Be 'KubernetesUnauthorized,WinEksPatch.Commands.GetWinEksClusterCommand'
            $result.Category | Should -Be 'AuthenticationError'
            $result.Message | Should -Not -Match 'k8s-aws-v1'
        }
        finally { Stop-TestSimulator $other }
    }
}
