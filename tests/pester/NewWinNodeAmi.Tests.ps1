BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    # New-WinNodeAmi ends with a terminating error when nothing more can be done: this returns it.
    function Get-TerminatingError([scriptblock] $Command) {
        try { $null = & $Command; $null } catch { $_ }
    }
    Import-Module (Get-TestModulePath)
    # 600 simulated seconds per second: a build (about 65 simulated minutes) takes seconds.
    $null = Start-WinEksSimulator -Scenario demo -TimeScale 600
    $script:webIis = '111122223333.dkr.ecr.us-west-2.amazonaws.com/shop/web-iis:2026.06.1'
    $script:parent = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2022 -Edition Core -Source Eks
}

AfterAll { Stop-WinEksSimulator }

Describe 'New-WinNodeAmi' {
    It 'builds an AMI through the real phases: newest patch level, the images cached and recorded in its tags' {
        $out = New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -CacheImage $webIis -Verbose 4>&1
        $verbose = @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $script:ami = $out | Where-Object { $_.PSObject.TypeNames[0] -eq 'WinEksPatch.Model.WinNodeAmi' }
        $phases = $verbose | Where-Object { $_ -like 'Image build status:*' } | ForEach-Object { $_ -replace '^Image build status: ', '' }
        $phases | Should -Be @('PENDING', 'CREATING', 'BUILDING', 'TESTING', 'DISTRIBUTING', 'INTEGRATING', 'AVAILABLE')
        $ami.ImageId | Should -Match '^ami-[0-9a-f]{17}$'
        $ami.ImageId | Should -Not -Be $parent.ImageId
        $ami.OsBuild | Should -Be $parent.OsBuild           # the newest 2022 patch of the calendar
        $ami.KubernetesVersion | Should -Be '1.31'
        $ami.WindowsVersion | Should -Be '2022'
        $ami.Edition | Should -Be 'Core'
        $ami.CachedImages | Should -Contain $webIis
        $ami.CachedImages | Should -Contain 'mcr.microsoft.com/windows/servercore:ltsc2022'
        $ami.CachedImages | Should -Contain 'mcr.microsoft.com/oss/kubernetes/pause:3.9'   # kept from the parent
        $ami.ImageBuildVersionArn | Should -Match '^arn:aws:imagebuilder:us-west-2:111122223333:image/winekspatch-demo-2022-core/'
        $ami.BuildDuration | Should -BeGreaterThan ([TimeSpan]::FromMinutes(60))
        $ami.Name | Should -BeLike 'WinEksPatch-demo-2022-Core-k8s-1.31-*'
        $listed = Get-WinNodeAmi -Source ImageBuilder -KubernetesVersion 1.31 -WindowsVersion 2022 | Where-Object ImageId -eq $ami.ImageId
        $listed.CachedImages | Should -Contain $webIis
        $listed.OsBuild | Should -Be $parent.OsBuild
    }

    It 'is idempotent: the same inputs reuse every resource and start only a new image' {
        $out = New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -CacheImage $webIis -Verbose 4>&1
        $verbose = @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message) -join "`n"
        $again = $out | Where-Object { $_.PSObject.TypeNames[0] -eq 'WinEksPatch.Model.WinNodeAmi' }
        $verbose | Should -Match 'component\s+WinEksPatch-demo-2022-Core-image-cache: reuse arn:\S+-image-cache/1\.0\.0/1'
        $verbose | Should -Match 'image recipe\s+WinEksPatch-demo-2022-Core: reuse arn:\S+/winekspatch-demo-2022-core/1\.0\.0'
        $verbose | Should -Match 'infrastructure configuration\s+WinEksPatch-demo-2022-Core-[0-9a-f]{8}: reuse'
        $verbose | Should -Match 'distribution configuration\s+WinEksPatch-demo-2022-Core-[0-9a-f]{8}: reuse'
        $verbose | Should -Not -Match 'Created '
        $again.ImageId | Should -Not -Be $ami.ImageId
        $again.ImageBuildVersionArn | Should -BeLike '*/winekspatch-demo-2022-core/1.0.0/2'
    }

    It 'takes the images of Get-WinImageCachePlan from the pipeline (one AMI for all of them)' {
        $plan = @(Get-WinImageCachePlan -ClusterName demo | Select-Object -First 2)
        $plan.Count | Should -Be 2
        $out = Get-WinImageCachePlan -ClusterName demo | Select-Object -First 2 | New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -WarningAction SilentlyContinue
        @($out).Count | Should -Be 1
        foreach ($image in $plan.Image) {
            $out.CachedImages | Should -Contain $image
        }
    }

    It 'new nodes from the AMI start the cached workload faster than nodes from the parent AMI' {
        $onParent = Measure-WinContainerImage -Image $webIis -ImageId $parent.ImageId
        $onNew = Measure-WinContainerImage -Image $webIis -ImageId $ami.ImageId
        $onParent.DownloadSize | Should -BeGreaterThan 0
        $onParent.ExtractSize | Should -BeGreaterThan 0
        $onNew.DownloadSize | Should -Be 0
        $onNew.ExtractSize | Should -Be 0
    }

    It 'pipes into Set-NodeGroupAmi' {
        $change = $ami | Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force
        $change.Changed | Should -BeTrue
        $change.ImageId | Should -Be $ami.ImageId
        (Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged).ImageId | Should -Be $ami.ImageId
    }

    It 'fails the build for an image the registry does not have, with the reason and where the logs are' {
        $missing = '111122223333.dkr.ecr.us-west-2.amazonaws.com/shop/does-not-exist:1.0'
        $failure = Get-TerminatingError { New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -CacheImage $missing -WarningVariable script:warnings -WarningAction SilentlyContinue }
        ($script:warnings -join "`n") | Should -BeLike "*$missing*could not be read*"
        $failure.FullyQualifiedErrorId | Should -Be 'ImageBuildFailed,WinEksPatch.Commands.NewWinNodeAmiCommand'
        $failure.Exception.Message | Should -BeLike "*Image pull failed*$missing*"
        $failure.Exception.Message | Should -BeLike '*/aws/imagebuilder/WinEksPatch-demo-2022-Core*'
    }

    It 'refuses <Case> before anything is created' -ForEach @(
        @{ Case = 'a reference that breaks out of a quoted string'; Arguments = @{ CacheImage = @('mcr.microsoft.com/windows/nanoserver:ltsc2025', "nginx'; Remove-Item C:\ -Recurse; '") }; Id = 'InvalidImageReference' }
        @{ Case = 'a command substitution'; Arguments = @{ CacheImage = @('nginx:$(whoami)') }; Id = 'InvalidImageReference' }
        @{ Case = 'a line break'; Arguments = @{ CacheImage = @("nginx`nStop-Computer") }; Id = 'InvalidImageReference' }
        @{ Case = 'a malformed reference'; Arguments = @{ CacheImage = @('Nginx:') }; Id = 'InvalidImageReference' }
        @{ Case = 'an instance profile that does not exist'; Arguments = @{ InstanceProfileName = 'NoSuchProfile' }; Id = 'InstanceProfileNotFound' }
        @{ Case = 'a subnet that does not exist'; Arguments = @{ SubnetId = 'subnet-0000000000000dead' }; Id = 'SubnetNotFound' }
        @{ Case = 'a parent AMI not in the region'; Arguments = @{ ParentImageId = 'ami-00000000000000000' }; Id = 'AmiNotFound' }
        @{ Case = 'an unknown extra component'; Arguments = @{ Component = 'arn:aws:imagebuilder:us-west-2:111122223333:component/nope/1.0.0/1' }; Id = 'ComponentNotFound' }
    ) {
        $failure = Get-TerminatingError { New-WinNodeAmi -ClusterName demo -WindowsVersion 2025 -Edition Core @Arguments }
        $failure.FullyQualifiedErrorId | Should -Be "$Id,WinEksPatch.Commands.NewWinNodeAmiCommand"
    }

    It 'refuses an unknown cluster' {
        $failure = Get-TerminatingError { New-WinNodeAmi -ClusterName nope -WindowsVersion 2022 }
        $failure.FullyQualifiedErrorId | Should -Be 'ClusterNotFound,WinEksPatch.Commands.NewWinNodeAmiCommand'
        $failure.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It '-WhatIf creates nothing, and neither did the refused runs: the first real run creates version 1.0.0 of everything' {
        New-WinNodeAmi -ClusterName demo -WindowsVersion 2025 -Edition Core -CacheImage mcr.microsoft.com/windows/nanoserver:ltsc2025 -WhatIf | Should -BeNullOrEmpty
        $out = New-WinNodeAmi -ClusterName demo -WindowsVersion 2025 -Edition Core -CacheImage mcr.microsoft.com/windows/nanoserver:ltsc2025 -NoWait -Verbose 4>&1
        $verbose = @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message) -join "`n"
        $verbose | Should -Match 'Created infrastructure configuration '
        $verbose | Should -Match 'Created component arn:\S+/winekspatch-demo-2025-core-image-cache/1\.0\.0/1\.'
        $verbose | Should -Match 'Created image recipe arn:\S+/winekspatch-demo-2025-core/1\.0\.0\.'
        $verbose | Should -Match 'Created distribution configuration '
        $build = $out | Where-Object { $_.PSObject.TypeNames[0] -eq 'WinEksPatch.Model.WinNodeAmiBuild' }
        $build.Status | Should -Be 'PENDING'
        $build.ImageBuildVersionArn | Should -BeLike '*/winekspatch-demo-2025-core/1.0.0/1'
    }

    It 'Ctrl+C stops waiting, leaves the build running and says how to follow or cancel it' {
        # PowerShell refuses stream writes once a pipeline is stopping, so the warning goes to the host: capture it there.
        if (-not ('WinEksPatchTests.WarningCaptureHost' -as [type])) {
            Add-Type -TypeDefinition @'
using System; using System.Collections.Generic; using System.Collections.ObjectModel; using System.Globalization;
using System.Management.Automation; using System.Management.Automation.Host; using System.Security;
namespace WinEksPatchTests {
    public sealed class WarningCaptureHost : PSHost {
        private readonly Guid _id = Guid.NewGuid();
        public readonly WarningCaptureUI Captured = new WarningCaptureUI();
        public override CultureInfo CurrentCulture { get { return CultureInfo.InvariantCulture; } }
        public override CultureInfo CurrentUICulture { get { return CultureInfo.InvariantCulture; } }
        public override Guid InstanceId { get { return _id; } }
        public override string Name { get { return "WarningCapture"; } }
        public override PSHostUserInterface UI { get { return Captured; } }
        public override Version Version { get { return new Version(1, 0); } }
        public override void EnterNestedPrompt() { }
        public override void ExitNestedPrompt() { }
        public override void NotifyBeginApplication() { }
        public override void NotifyEndApplication() { }
        public override void SetShouldExit(int exitCode) { }
    }
    public sealed class WarningCaptureUI : PSHostUserInterface {
        public readonly System.Collections.Concurrent.ConcurrentQueue<string> Warnings = new System.Collections.Concurrent.ConcurrentQueue<string>();
        public override PSHostRawUserInterface RawUI { get { return null; } }
        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) { throw new NotSupportedException(); }
        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice) { return defaultChoice; }
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) { return null; }
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) { return null; }
        public override string ReadLine() { return ""; }
        public override SecureString ReadLineAsSecureString() { return new SecureString(); }
        public override void Write(string value) { }
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) { }
        public override void WriteDebugLine(string message) { }
        public override void WriteErrorLine(string value) { }
        public override void WriteLine(string value) { }
        public override void WriteProgress(long sourceId, ProgressRecord record) { }
        public override void WriteVerboseLine(string message) { }
        public override void WriteWarningLine(string message) { Warnings.Enqueue(message); }
    }
}
'@
        }
        $captureHost = [WinEksPatchTests.WarningCaptureHost]::new()
        $runspace = [runspacefactory]::CreateRunspace($captureHost)
        $runspace.Open()
        $ps = [powershell]::Create()
        $ps.Runspace = $runspace
        try {
            $null = $ps.AddScript("Import-Module '$(Get-TestModulePath)'; New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -CacheImage '$webIis'")
            $handle = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not ($ps.Streams.Progress | Where-Object StatusDescription -eq 'BUILDING') -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $ps.Stop()
            { $ps.EndInvoke($handle) } | Should -Throw '*stopped*'
            $warning = @($captureHost.Captured.Warnings) -join "`n"
            $warning | Should -BeLike '*the image build goes on: arn:aws:imagebuilder:us-west-2:111122223333:image/winekspatch-demo-2022-core/*'
            $warning | Should -BeLike '*aws imagebuilder get-image --image-build-version-arn arn:aws:imagebuilder:*'
            $warning | Should -BeLike '*aws imagebuilder cancel-image-creation --image-build-version-arn arn:aws:imagebuilder:*'
            # The build goes on: it completes and its AMI appears.
            $arn = [regex]::Match($warning, 'arn:aws:imagebuilder:[^\s:]+:\d{12}:image/[a-z0-9-]+/\d+\.\d+\.\d+/\d+').Value
            $arn | Should -Not -BeNullOrEmpty
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not (Get-WinNodeAmi -Source ImageBuilder | Where-Object ImageBuildVersionArn -eq $arn) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
            Get-WinNodeAmi -Source ImageBuilder | Where-Object ImageBuildVersionArn -eq $arn | Should -Not -BeNullOrEmpty
        }
        finally { $ps.Dispose(); $runspace.Dispose() }
    }
}
