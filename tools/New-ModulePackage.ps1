#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Packages the built module: a .nupkg for Install-PSResource/Save-PSResource from a (local) repository, and the zip the
    SSM Automation runbook attaches.
.DESCRIPTION
    Publishes out/WinEksPatch to a temporary local PSResourceGet repository (file-based, so nothing leaves the machine),
    which writes WinEksPatch.<version>.nupkg; copies it to -OutputDirectory next to WinEksPatch.zip (the module folder,
    zipped, for runbook attachments), WinEksPatch-Runbook.yaml (the SSM Automation runbook for one cluster) and
    WinEksPatch-Fleet.yaml (the fleet runbook for TargetLocations), each with the zip's checksum.
    The temporary repository is unregistered again.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDirectory,
    [Parameter(Mandatory)] [string] $OutputDirectory
)

$ErrorActionPreference = 'Stop'
New-Item -ItemType Directory -Force -Path $OutputDirectory | Out-Null
$feed = Join-Path ([IO.Path]::GetTempPath()) ("winekspatch-feed-" + [guid]::NewGuid().ToString('N'))
$name = 'WinEksPatchBuild' + [guid]::NewGuid().ToString('N').Substring(0, 8)
New-Item -ItemType Directory -Path $feed | Out-Null
try {
    Register-PSResourceRepository -Name $name -Uri $feed -Trusted
    Publish-PSResource -Path $ModuleDirectory -Repository $name
    $nupkg = Get-ChildItem $feed -Filter 'WinEksPatch.*.nupkg' | Select-Object -First 1
    Copy-Item $nupkg.FullName $OutputDirectory -Force
}
finally {
    Unregister-PSResourceRepository -Name $name -ErrorAction SilentlyContinue
    Remove-Item $feed -Recurse -Force -ErrorAction SilentlyContinue
}

$zip = Join-Path $OutputDirectory 'WinEksPatch.zip'
Compress-Archive -Path $ModuleDirectory -DestinationPath $zip -Force

# The runbook names its attachment's checksum; write it with this zip's.
$hash = (Get-FileHash $zip -Algorithm SHA256).Hash.ToLowerInvariant()
foreach ($name in 'WinEksPatch-Runbook.yaml', 'WinEksPatch-Fleet.yaml') {
    $runbook = Get-Content (Join-Path $PSScriptRoot "../module/runbook/$name") -Raw
    Set-Content (Join-Path $OutputDirectory $name) ($runbook.Replace('__WINEKSPATCH_ZIP_SHA256__', $hash)) -NoNewline
}
Get-ChildItem $OutputDirectory | ForEach-Object { Write-Host "    $($_.Name) ($([math]::Round($_.Length / 1MB, 1)) MB)" }
