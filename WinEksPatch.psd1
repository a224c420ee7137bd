@{
    RootModule           = 'WinEksPatch.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5f0b8a4e-3c1d-4e57-9a7b-2d6c1f0e8b91'
    Author               = 'WinEksPatch contributors'
    CompanyName          = 'WinEksPatch'
    Copyright            = '(c) WinEksPatch contributors. Apache-2.0.'
    Description          = 'Patches the Windows worker nodes of Amazon EKS clusters the immutable way: builds patched, image-cached Windows AMIs with EC2 Image Builder, points node groups at them and replaces the nodes without breaking workloads.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    # Dependencies are NOT listed in RequiredAssemblies: that would load them into the default context and defeat the
    # module's own AssemblyLoadContext (see ModuleInitializer.cs).
    FormatsToProcess     = @('WinEksPatch.format.ps1xml', 'WinEksPatch.Simulator.format.ps1xml')
    TypesToProcess       = @('WinEksPatch.types.ps1xml')
    CmdletsToExport      = @(
        'Get-WinEksCluster'
        'Get-WinNodeGroup'
        'Get-WinNode'
        'Get-WinNodeAmi'
        'Get-WinPatchStatus'
        'Measure-WinContainerImage'
        'Get-WinContainerPatchStatus'
        'Get-WinImageCachePlan'
        'New-WinNodeAmi'
        'Get-WinNodeAmiFastLaunch'
        'Enable-WinNodeAmiFastLaunch'
        'Disable-WinNodeAmiFastLaunch'
        'Set-NodeGroupAmi'
        'Invoke-NodeReplacement'
        'Invoke-WinEksPatch'
        'New-WinEksFleetPlan'
        'Import-WinEksFleetPlan'
        'Export-WinEksFleetPlan'
        'Invoke-WinEksFleetPatch'
        'Watch-WinNodeGroupHealth'
        'Get-WinEksPatchIamPolicy'
        'Start-WinEksSimulator'
        'Stop-WinEksSimulator'
        'Connect-WinEksSimulator'
        'Get-WinEksSimulatorReport'
        'Add-WinEksSimulatorFault'
        'Get-WinEksSimulatorFault'
        'Remove-WinEksSimulatorFault'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('AWS', 'EKS', 'Windows', 'Kubernetes', 'Patching', 'ImageBuilder', 'PSEdition_Core', 'Linux', 'Windows', 'MacOS')
            LicenseUri = 'https://www.apache.org/licenses/LICENSE-2.0'
        }
    }
}
