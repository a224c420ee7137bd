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
