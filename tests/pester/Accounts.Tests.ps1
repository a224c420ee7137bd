# A simulator of several accounts and regions (the bundled fleet scenario) seen through the module: -ProfileName names
# one of the simulator's accounts, -Region one of its regions, and each (account, region) answers with its own clusters.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)
    $script:sim = Start-WinEksSimulator -Scenario fleet
    function Complete([string] $line) { (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText }
}

AfterAll { Stop-WinEksSimulator }

Describe 'Start-WinEksSimulator -Scenario fleet' {
    It 'names every account in each region, and writes a config file with one profile per account' {
        $sim.Accounts.Count | Should -Be 6
        ($sim.Accounts | Select-Object -ExpandProperty ProfileName -Unique) | Should -Be @('dev', 'staging', 'prod')
        ($sim.Accounts | Where-Object { $_.ProfileName -eq 'prod' -and $_.Region -eq 'eu-west-1' }).Clusters | Should -Be 'prod-euw1'
        $sim.Region | Should -Be 'us-west-2'
        $sim.Clusters | Should -Be 'dev-usw2' -Because 'the session''s default is the first account''s first region'
        $config = Get-Content $sim.ConfigFile -Raw
        foreach ($profile in 'dev', 'staging', 'prod') { $config | Should -Match "(?m)^\[profile $profile\]$" }
    }
}

Describe 'Cmdlets in one account and region at a time' {
    It 'finds each account''s cluster in each of its regions, through -ProfileName and -Region' {
        foreach ($target in $sim.Accounts) {
            $cluster = Get-WinEksCluster -ProfileName $target.ProfileName -Region $target.Region
            $cluster.ClusterName | Should -Be $target.Clusters
            $cluster.Region | Should -Be $target.Region
            $cluster.WindowsNodeGroups | Should -Be @("$($target.Clusters)-win-selfmanaged", 'win-managed')
        }
    }

    It 'uses the profile''s own region without -Region' {
        (Get-WinEksCluster -ProfileName staging).ClusterName | Should -Be 'staging-usw2'
    }

    It 'reaches the nodes of another account''s cluster with that account''s EKS token' {
        $nodes = Get-WinNode -ProfileName prod -Region eu-west-1 -ClusterName prod-euw1
        $nodes.Count | Should -Be 7 -Because 'prod-euw1 has four self-managed and three managed Windows nodes'
    }

    It 'does not find a cluster from another account or another region' {
        { Get-WinEksCluster -Name prod-usw2 -ProfileName dev -ErrorAction Stop } | Should -Throw -ErrorId 'ClusterNotFound,WinEksPatch.Commands.GetWinEksClusterCommand'
        { Get-WinEksCluster -Name prod-usw2 -ProfileName prod -Region eu-west-1 -ErrorAction Stop } | Should -Throw -ErrorId 'ClusterNotFound,WinEksPatch.Commands.GetWinEksClusterCommand'
    }

    It 'refuses a profile that is not one of the simulator''s, naming those that are' {
        $failure = { Get-WinEksCluster -ProfileName production -ErrorAction Stop } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -Be 'SimulatorSessionRealTarget,WinEksPatch.Commands.GetWinEksClusterCommand'
        $failure.Exception.Message | Should -Match 'dev, staging, prod'
    }

    It 'completes -ProfileName with the simulator''s accounts, and cluster names in the account and region on the line' {
        Complete 'Get-WinEksCluster -ProfileName ' | Should -Be @('dev', 'staging', 'prod')
        Complete 'Get-WinNodeGroup -ProfileName prod -Region eu-west-1 -ClusterName ' | Should -Be 'prod-euw1'
    }
}
