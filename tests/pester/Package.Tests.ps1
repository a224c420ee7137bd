# The package installs from a local repository with Save-PSResource into a fresh folder, and a cmdlet runs from there.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:packages = Join-Path $TestDrive 'package'
    & (Join-Path (Get-TestRepoRoot) 'tools/New-ModulePackage.ps1') -ModuleDirectory (Split-Path (Get-TestModulePath)) -OutputDirectory $packages 6>$null
}

Describe 'build.ps1 package' {
    It 'makes a .nupkg and the runbook zip' {
        (Get-ChildItem $packages -Filter 'WinEksPatch.*.nupkg').Count | Should -Be 1
        Test-Path (Join-Path $packages 'WinEksPatch.zip') | Should -BeTrue
    }

    It 'installs with Save-PSResource from a local repository and runs in a fresh pwsh' {
        $installed = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'modules')).FullName
        $result = Invoke-FreshPwsh -Script @"
`$name = 'WinEksPatchTest' + [guid]::NewGuid().ToString('N').Substring(0, 8)
Register-PSResourceRepository -Name `$name -Uri '$packages' -Trusted
try { Save-PSResource -Name WinEksPatch -Repository `$name -Path '$installed' -TrustRepository }
finally { Unregister-PSResourceRepository -Name `$name }
`$manifest = Get-ChildItem '$installed' -Recurse -Filter WinEksPatch.psd1 | Select-Object -First 1
Import-Module `$manifest.FullName
@{ Path = `$manifest.FullName; Policy = (Get-WinEksPatchIamPolicy -Scope ReadOnly | ConvertFrom-Json).Version; Commands = (Get-Command -Module WinEksPatch).Count } | ConvertTo-Json -Compress
"@
        $result.Path | Should -BeLike "$installed*"
        $result.Policy | Should -Be '2012-10-17'
        $result.Commands | Should -Be (Import-PowerShellDataFile (Get-TestModulePath)).CmdletsToExport.Count
    }
}
