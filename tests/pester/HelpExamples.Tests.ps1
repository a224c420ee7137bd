# Every cmdlet has complete help, and every example in it runs as written against the simulator.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)
    $script:commands = Get-Command -Module WinEksPatch | Sort-Object Name | ForEach-Object {
        $help = Get-Help $_.Name -Full
        @{
            Name     = $_.Name
            Examples = @($help.examples.example | ForEach-Object { $_.code })
        }
    }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)
}

Describe '<Name> help' -ForEach $commands {
    It 'has a synopsis, a description, every parameter described and at least two examples' {
        $help = Get-Help $Name -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "$Name *"   # not the generated syntax line
        ($help.description.Text -join ' ') | Should -Not -BeNullOrEmpty
        foreach ($parameter in $help.parameters.parameter) {
            ($parameter.description.Text -join ' ') | Should -Not -BeNullOrEmpty -Because "-$($parameter.name) needs a description"
        }
        @($help.examples.example).Count | Should -BeGreaterOrEqual 2
    }

    It 'is complete to the last field: defaults, INPUTS, OUTPUTS, RELATED LINKS, -WhatIf/-Confirm in SYNTAX, no empty entries' {
        $help = Get-Help $Name -Full
        $command = Get-Command $Name
        foreach ($parameter in @($help.parameters.parameter | Where-Object { $_ })) {
            $parameter.name | Should -Not -BeNullOrEmpty -Because 'an empty parameter entry prints as a blank item'
            $parameter.defaultValue | Should -Not -BeNullOrEmpty -Because "-$($parameter.name) needs its default value"
        }
        if ($command.Parameters.ContainsKey('MaxSurge')) {
            ($help.parameters.parameter | Where-Object name -eq 'MaxSurge').defaultValue | Should -Be '1'
        }
        @($help.inputTypes.inputType).Count | Should -BeGreaterThan 0
        ($help.inputTypes.inputType.type.name -join ' ') | Should -Not -BeNullOrEmpty
        @($help.returnValues.returnValue).Count | Should -BeGreaterThan 0
        @($help.relatedLinks.navigationLink.linkText) | Should -Contain 'about_WinEksPatch'
        $syntax = ($help.syntax | Out-String)
        if ($command.Parameters.ContainsKey('WhatIf')) {
            $syntax | Should -Match '\[-WhatIf\]'
            $syntax | Should -Match '\[-Confirm\]'
        }
        $byName = @($command.Parameters.Values | Where-Object { $_.Attributes.ValueFromPipelineByPropertyName -contains $true } | ForEach-Object Name)
        if ($byName) {
            ($help.inputTypes.inputType.description.Text -join ' ') | Should -BeLike "*$($byName[0])*"
        }
    }

    It 'runs its examples as written' {
        # The simulator cmdlets' examples start their own simulator; the others run against a fresh one.
        $ownSimulator = $Name -in 'Start-WinEksSimulator', 'Stop-WinEksSimulator', 'Connect-WinEksSimulator'
        # Fleet plans span accounts and regions: their examples run against the fleet scenario (profiles dev, staging, prod).
        $scenario = if ($Name -like '*WinEksFleet*') { 'fleet' } else { 'demo' }
        if (-not $ownSimulator) { $null = Start-WinEksSimulator -Scenario $scenario -TimeScale 600 }
        try {
            foreach ($code in $Examples) {
                $ErrorActionPreference = 'Stop'
                { & ([scriptblock]::Create($code)) *>&1 | Out-Null } | Should -Not -Throw -Because "the example '$code' must run as written"
            }
        }
        finally { Stop-WinEksSimulator }
    }
}
