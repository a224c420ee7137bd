BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    # New-WinNodeAmi ends with a terminating error when nothing more can be done: this returns it.
    function Get-TerminatingError([scriptblock] $Command) {
        try { $null = & $Command; $null } catch { $_ }
    }
    Import-Module (Get-TestModulePath)
    # 600 simulated seconds per second: a build (about 65 simulated minutes) takes seconds.
    $script:sim = Start-WinEksSimulator -Scenario demo -TimeScale 600

    # The module's own AWS clients (its engine, loaded by the cmdlets above), pointed at the simulator as the cmdlets are:
    # requests signed by the AWS SDK's pipeline, answered by the simulator's Image Builder, SSM and EC2.
    function New-ModuleAwsClients {
        $engine = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'WinEksPatch.Engine' } | Select-Object -First 1
        $options = [Activator]::CreateInstance($engine.GetType('WinEksPatch.Aws.AwsConnectionOptions', $true), [object[]]@($null, $null))
        $context = $engine.GetType('WinEksPatch.Aws.AwsContext', $true)::Resolve($options)
        [pscustomobject]@{
            Engine  = $engine
            Factory = [Activator]::CreateInstance($engine.GetType('WinEksPatch.Aws.AwsClientFactory', $true), [object[]]@($context, $null))
        }
    }
    function Wait-Task($Task) { $Task.GetAwaiter().GetResult() }
    # Every Image Builder resource the account owns (each component and recipe version, every infrastructure and
    # distribution configuration), whatever its name: POST /ListX with owner Self and no filter, following nextToken.
    function Get-ImageBuilderResource {
        $clients = New-ModuleAwsClients
        try {
            $thin = $clients.Factory.Thin($clients.Engine.GetType('WinEksPatch.Aws.Thin.ThinServiceDescriptor', $true)::ImageBuilder)
            $all = foreach ($list in @(
                    @{ Operation = 'ListComponents'; Member = 'componentVersionList' }
                    @{ Operation = 'ListImageRecipes'; Member = 'imageRecipeSummaryList' }
                    @{ Operation = 'ListInfrastructureConfigurations'; Member = 'infrastructureConfigurationSummaryList' }
                    @{ Operation = 'ListDistributionConfigurations'; Member = 'distributionConfigurationSummaryList' })) {
                $next = $null
                do {
                    $request = [Activator]::CreateInstance($clients.Engine.GetType('WinEksPatch.Aws.Thin.ThinRequest', $true), [object[]]@($list.Operation))
                    $request.HttpMethod = 'POST'
                    $request.Path = "/$($list.Operation)"
                    $request.JsonBody = (@{ owner = 'Self' } + $(if ($next) { @{ nextToken = $next } } else { @{} })) | ConvertTo-Json -Compress
                    $page = (Wait-Task $thin.SendAsync($request, [Threading.CancellationToken]::None)).Body | ConvertFrom-Json
                    $page.($list.Member).arn
                    $next = $page.nextToken
                } while ($next)
            }
            @($all | Sort-Object)
        }
        finally { $clients.Factory.Dispose() }
    }
    # Runs New-WinNodeAmi and returns what it wrote (verbose records included, as they came) and its terminating error.
    function Invoke-NewWinNodeAmi([hashtable] $Arguments) {
        $written = [Collections.Generic.List[object]]::new()
        $failure = $null
        try { New-WinNodeAmi @Arguments -Verbose 4>&1 | ForEach-Object { $written.Add($_) } } catch { $failure = $_ }
        [pscustomobject]@{
            Verbose = @($written | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            Output  = @($written | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
            Error   = $failure
        }
    }
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
        # The plan names each image to cache with the digest it will verify (the tag's, as ctr lists it) and its size on disk, as
        # Measure-WinContainerImage measures it.
        $measured = Measure-WinContainerImage -Image $webIis
        $mb = [string]::Format([cultureinfo]::InvariantCulture, '{0:N0}', $measured.Size / 1e6)
        ($verbose -join "`n") | Should -Match "cache $([regex]::Escape($webIis)) = sha256:[0-9a-f]{12}…, $mb MB on disk \(10\.0\.20348"
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

    It '-WhatIf returns the typed plan, with its properties filled, and creates nothing; the run creates exactly what it lists' {
        $iis = 'mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022'
        $null = Get-WinEksSimulatorReport -Reset
        $before = Get-ImageBuilderResource
        $written = @(New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -CacheImage $webIis, $iis -WhatIf)
        (Get-WinEksSimulatorReport).ApiCalls | Where-Object { $_.Service -eq 'imagebuilder' -and $_.Mutating } | Should -BeNullOrEmpty
        Get-ImageBuilderResource | Should -Be $before
        $written | Should -HaveCount 1
        $plan = $written[0]
        $plan | Should -BeOfType ([WinEksPatch.Model.WinNodeAmiBuildPlan])
        $plan.ClusterName | Should -Be 'demo'
        $plan.NodeGroupName | Should -Be 'demo-win-selfmanaged'
        $plan.Region | Should -Be $parent.Region
        $plan.KubernetesVersion | Should -Be $ami.KubernetesVersion
        $plan.WindowsVersion | Should -Be $ami.WindowsVersion
        $plan.Edition | Should -Be $ami.Edition
        $plan.OsBuild | Should -Be $ami.OsBuild
        $plan.ParentImageId | Should -Be $parent.ImageId
        $plan.ParentImageName | Should -Be $parent.Name
        $plan.ParentOsBuild | Should -Not -BeNullOrEmpty
        $plan.RootVolumeGiB % 5 | Should -Be 0
        $plan.RootVolumeGiB | Should -BeGreaterThan 50   # room for the images beyond the EKS AMI's 50 GiB
        foreach ($image in $webIis, $iis, 'mcr.microsoft.com/windows/servercore:ltsc2022') { $plan.CachedImages | Should -Contain $image }
        $plan.CacheImages.Image | Should -Be @($webIis, $iis)
        foreach ($image in $plan.CacheImages) {
            $image.Digest | Should -Match '^sha256:[0-9a-f]{64}$'
            $image.SizeOnDisk | Should -BeGreaterThan 0
        }
        $plan.DistributionRegions | Should -Be @($parent.Region)
        $plan.FastLaunch | Should -BeNullOrEmpty
        $plan.Resources.Kind | Should -Be @('Component', 'ImageRecipe', 'InfrastructureConfiguration', 'DistributionConfiguration')
        # Another image than the earlier builds cached: new component and recipe versions, the same build instances, and a
        # distribution of its own (other tags).
        $plan.Resources.Action | Should -Be @('CreateVersion', 'CreateVersion', 'Reuse', 'Create')
        $reused = $plan.Resources | Where-Object Action -eq Reuse
        $before | Should -Contain $reused.Arn
        ($plan.Resources | Where-Object Action -eq CreateVersion).Change | Should -Not -BeNullOrEmpty
        # Its table view fits 120 columns (rendered wider, so a view that needs more shows as a longer line).
        ($plan | Format-Table | Out-String -Width 200 -Stream | Where-Object { $_.TrimEnd().Length -gt 120 }) | Should -BeNullOrEmpty
        ($plan | Format-List | Out-String -Width 200) | Should -BeLike '*Resources*ImageRecipe WinEksPatch-demo-2022-Core: create version*'

        $run = Invoke-NewWinNodeAmi @{ ClusterName = 'demo'; NodeGroupName = 'demo-win-selfmanaged'; CacheImage = @($webIis, $iis); Confirm = $false }
        $run.Error | Should -BeNullOrEmpty
        $run.Verbose | Should -Contain $plan.ToString() -Because 'the run asks about the plan -WhatIf wrote'
        $created = @($run.Verbose | Where-Object { $_ -like 'Created *' } | ForEach-Object { $_ -replace '^Created .+ (arn:\S+)\.$', '$1' })
        $toCreate = @($plan.Resources | Where-Object Action -ne Reuse)
        $created | Should -HaveCount $toCreate.Count
        foreach ($resource in $toCreate) {
            $path = "*/$($resource.Name.ToLowerInvariant())$(if ($resource.Version) { '/' + $resource.Version })"
            @($created | Where-Object { $_ -like $path -or $_ -like "$path/*" }) | Should -HaveCount 1 -Because "$($resource.Kind) $($resource.Version) is in the plan"
        }
        # The account gained those and nothing else (a component is listed by its version ARN, created by its build's).
        $new = @(Get-ImageBuilderResource | Where-Object { $_ -notin $before })
        $new | Should -HaveCount $created.Count
        foreach ($arn in $new) { @($created | Where-Object { $_ -eq $arn -or $_ -like "$arn/*" }) | Should -HaveCount 1 }
        $recipe = $plan.Resources | Where-Object Kind -eq ImageRecipe
        $built = $run.Output | Where-Object { $_.PSObject.TypeNames[0] -eq 'WinEksPatch.Model.WinNodeAmi' }
        $built.ImageBuildVersionArn | Should -BeLike "*/$($recipe.Name.ToLowerInvariant())/$($recipe.Version)/*"
        foreach ($image in $webIis, $iis) { $built.CachedImages | Should -Contain $image }
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

    It 'refuses <Case> before anything is created, under -WhatIf too' -ForEach @(
        @{ Case = 'an image the registry does not have'; Image = '111122223333.dkr.ecr.us-west-2.amazonaws.com/shop/does-not-exist:1.0'; Id = 'ImageNotFound'; Says = '*shop/does-not-exist*' }
        @{ Case = 'a Linux-only image'; Image = 'public.ecr.aws/docker/library/busybox:1.36'; Id = 'ImageNotWindows'; Says = '*busybox:1.36 has no Windows image (platforms: linux/amd64)*' }
        @{ Case = 'an ltsc2019 image for a 2022 AMI'; Image = '111122223333.dkr.ecr.us-west-2.amazonaws.com/fluentd-windows:1.17.3-ltsc2019'; Id = 'ImageWindowsBuildMismatch'
            Says = '*fluentd-windows:1.17.3-ltsc2019 is built for Windows build 17763 (2019)*Windows Server 2022 (build 20348) cannot run it*' }
    ) {
        $null = Get-WinEksSimulatorReport -Reset
        foreach ($whatIf in $true, $false) {
            { New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -CacheImage $webIis, $Image -WhatIf:$whatIf -ErrorAction Stop } |
                Should -Throw -ErrorId "$Id,WinEksPatch.Commands.NewWinNodeAmiCommand" -ExpectedMessage "-CacheImage: $Says Nothing was created*Get-WinImageCachePlan*"
        }
        (Get-WinEksSimulatorReport).ApiCalls | Where-Object { $_.Service -eq 'imagebuilder' -and $_.Mutating } | Should -BeNullOrEmpty
    }

    It 'builds with an image of a registry this machine cannot reach (a warning), and a build that then fails gives the reason and where the logs are' {
        $unreachable = 'registry.example.com/team/app:1.0'
        $failure = Get-TerminatingError { New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -CacheImage $unreachable -WarningVariable script:warnings -WarningAction SilentlyContinue }
        ($script:warnings -join "`n") | Should -BeLike "*$unreachable could not be read from its registry here*serves no registry 'registry.example.com'*"
        $failure.FullyQualifiedErrorId | Should -Be 'ImageBuildFailed,WinEksPatch.Commands.NewWinNodeAmiCommand'
        $failure.Exception.Message | Should -BeLike "*Image pull failed*$unreachable*"
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
        @{ Case = 'a node group the cluster does not have'; Arguments = @{ NodeGroupName = 'nope' }; Id = 'NodeGroupNotFound' }
        @{ Case = 'a node group without Windows nodes'; Arguments = @{ NodeGroupName = 'linux-system' }; Id = 'NodeGroupNotWindows' }
        @{ Case = 'a Windows version other than the group''s'; Arguments = @{ NodeGroupName = 'demo-win-selfmanaged' }; Id = 'AmiWindowsBuildMismatch' }
    ) {
        $failure = Get-TerminatingError { New-WinNodeAmi -ClusterName demo -WindowsVersion 2025 -Edition Core @Arguments }
        $failure.FullyQualifiedErrorId | Should -Be "$Id,WinEksPatch.Commands.NewWinNodeAmiCommand"
    }

    It 'refuses an unknown cluster' {
        $failure = Get-TerminatingError { New-WinNodeAmi -ClusterName nope -WindowsVersion 2022 }
        $failure.FullyQualifiedErrorId | Should -Be 'ClusterNotFound,WinEksPatch.Commands.NewWinNodeAmiCommand'
        $failure.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'refuses a parent AMI that is not Windows' {
        $clients = New-ModuleAwsClients
        try {
            $linux = (Wait-Task $clients.Factory.Ssm().GetParameterAsync('/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/image_id', [Threading.CancellationToken]::None)).Value
        }
        finally { $clients.Factory.Dispose() }
        $linux | Should -Match '^ami-[0-9a-f]{17}$'
        $failure = Get-TerminatingError { New-WinNodeAmi -ClusterName demo -ParentImageId $linux }
        $failure.FullyQualifiedErrorId | Should -Be 'AmiNotWindows,WinEksPatch.Commands.NewWinNodeAmiCommand'
        $failure.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failure.Exception.Message | Should -BeLike "*$linux*not Windows*"
    }

    It 'refuses a cluster without Windows nodes when no Windows version is given' {
        $failure = Get-TerminatingError { New-WinNodeAmi -ClusterName staging }
        $failure.FullyQualifiedErrorId | Should -Be 'WindowsVersionNotDetermined,WinEksPatch.Commands.NewWinNodeAmiCommand'
        $failure.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failure.Exception.Message | Should -BeLike "*'staging' has no Windows node group*-WindowsVersion*"
    }

    It 'refuses when no EKS-optimized AMI is published for the Kubernetes and Windows versions, naming the SSM parameter' {
        # SSM answers ParameterNotFound, as it does for a name it does not have (a Kubernetes version EKS has not
        # published Windows AMIs for yet): the rule makes the simulator's SSM lack this one parameter.
        $parameter = '/aws/service/ami-windows-latest/Windows_Server-2019-English-Full-EKS_Optimized-1.31/image_id'
        $rule = Add-WinEksSimulatorFault -Service ssm -Operation GetParameter -Resource $parameter -ErrorCode ParameterNotFound
        try {
            $failure = Get-TerminatingError { New-WinNodeAmi -ClusterName demo -WindowsVersion 2019 -Edition Full }
        }
        finally { Remove-WinEksSimulatorFault -Id $rule.Id }
        $failure.FullyQualifiedErrorId | Should -Be 'EksAmiNotFound,WinEksPatch.Commands.NewWinNodeAmiCommand'
        $failure.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failure.Exception.Message | Should -BeLike "*Kubernetes 1.31 and Windows Server 2019 Full*$parameter*-ParentImageId*"
        # Without the rule the same versions resolve: the refusal came from the missing parameter, nothing else.
        $latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2019 -Edition Full -Source Eks
        $latest.ParameterName | Should -Be $parameter
    }

    It '-WhatIf creates nothing, and neither did the refused runs: the first real run creates version 1.0.0 of everything' {
        # -WhatIf writes its plan (and nothing else): none of the four resources exists yet.
        $plan = @(New-WinNodeAmi -ClusterName demo -WindowsVersion 2025 -Edition Core -CacheImage mcr.microsoft.com/windows/nanoserver:ltsc2025 -WhatIf)
        $plan | Should -HaveCount 1
        $plan[0].PSObject.TypeNames[0] | Should -Be 'WinEksPatch.Model.WinNodeAmiBuildPlan'
        $plan[0].Resources.Action | Should -Be @('Create', 'Create', 'Create', 'Create')
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

    It 'a distribution configuration under its derived name with a launch permission it does not set is never reused: ImageBuilderResourceConflict names it' {
        # The 2025 run above created the configuration; put it back as someone else would, with the same settings plus
        # launchPermission all (every AWS account could launch the patched AMI).
        $clients = New-ModuleAwsClients
        try {
            $thin = $clients.Factory.Thin($clients.Engine.GetType('WinEksPatch.Aws.Thin.ThinServiceDescriptor', $true)::ImageBuilder)
            function Send([string] $Operation, [string] $Method, [hashtable] $Query = @{}, $Body = $null) {
                $request = [Activator]::CreateInstance($clients.Engine.GetType('WinEksPatch.Aws.Thin.ThinRequest', $true), [object[]]@($Operation))
                $request.HttpMethod = $Method
                $request.Path = "/$Operation"
                foreach ($key in $Query.Keys) { $request.Parameters[$key] = $Query[$key] }
                if ($null -ne $Body) { $request.JsonBody = $Body | ConvertTo-Json -Depth 10 -Compress }
                (Wait-Task $thin.SendAsync($request, [Threading.CancellationToken]::None)).Body | ConvertFrom-Json
            }
            $arn = (Send ListDistributionConfigurations POST -Body @{}).distributionConfigurationSummaryList.arn | Where-Object { $_ -like '*winekspatch-demo-2025-core-*' }
            $arn | Should -HaveCount 1
            $definition = (Send GetDistributionConfiguration GET @{ distributionConfigurationArn = $arn }).distributionConfiguration
            $null = Send DeleteDistributionConfiguration DELETE @{ distributionConfigurationArn = $arn }
            $distributions = @($definition.distributions | ForEach-Object {
                    $_.amiDistributionConfiguration | Add-Member launchPermission ([pscustomobject]@{ userGroups = @('all') }) -PassThru | Out-Null; $_ })
            $null = Send CreateDistributionConfiguration PUT -Body ([ordered]@{ name = $definition.name; description = $definition.description
                    distributions = $distributions; clientToken = [guid]::NewGuid().ToString() })
        }
        finally { $clients.Factory.Dispose() }

        $before = Get-ImageBuilderResource
        $run = Invoke-NewWinNodeAmi @{ ClusterName = 'demo'; WindowsVersion = '2025'; Edition = 'Core'; CacheImage = 'mcr.microsoft.com/windows/nanoserver:ltsc2025'; NoWait = $true }
        $run.Error.FullyQualifiedErrorId | Should -Be 'ImageBuilderResourceConflict,WinEksPatch.Commands.NewWinNodeAmiCommand'
        $run.Error.Exception.Message | Should -BeLike "*$arn*differs from what it would create in: distributions``[``].amiDistributionConfiguration.launchPermission.userGroups (changed outside the module?)*nothing was created*"
        $run.Output | Should -BeNullOrEmpty
        Get-ImageBuilderResource | Should -Be $before
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
            while (-not ($ps.Streams.Progress | Where-Object StatusDescription -like 'BUILDING (*') -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
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
    It 'a failure part way through creating removes what the run created, newest first; run again, it succeeds' {
        $before = Get-ImageBuilderResource
        # An identity that may create everything but distribution configurations: the fourth creation fails.
        $rule = Add-WinEksSimulatorFault -Service imagebuilder -Operation CreateDistributionConfiguration -ErrorCode AccessDeniedException `
            -Message 'User is not authorized to perform: imagebuilder:CreateDistributionConfiguration'
        try {
            $run = Invoke-NewWinNodeAmi @{ ClusterName = 'demo'; WindowsVersion = '2019'; Edition = 'Core'; NoWait = $true }
        }
        finally { Remove-WinEksSimulatorFault -Id $rule.Id }
        $run.Error.FullyQualifiedErrorId | Should -Be 'AwsAccessDenied,WinEksPatch.Commands.NewWinNodeAmiCommand'
        $run.Error.Exception.Message | Should -BeLike '*CreateDistributionConfiguration*not authorized*'
        $run.Output | Should -BeNullOrEmpty
        $created = @($run.Verbose | Where-Object { $_ -like 'Created *' } | ForEach-Object { $_ -replace '^Created (.+) (arn:\S+)\.$', '$1|$2' })
        $created.Count | Should -Be 3
        ($created | ForEach-Object { ($_ -split '\|')[0] }) | Should -Be @('infrastructure configuration', 'component', 'image recipe')
        $removed = @($run.Verbose | Where-Object { $_ -like 'Removed *' } | ForEach-Object { $_ -replace '^Removed (.+) (arn:\S+) \(created by this run, which failed\)\.$', '$1|$2' })
        $removed | Should -Be @($created[2], $created[1], $created[0])
        # The account holds exactly what it held before.
        $after = Get-ImageBuilderResource
        $after | Should -Be $before
        foreach ($arn in $created | ForEach-Object { ($_ -split '\|')[1] }) { $after -join "`n" | Should -Not -BeLike "*$($arn -replace '/1$', '')*" }

        # Without the fault the same command creates the same names and versions (nothing is in the way) and starts the build.
        $again = Invoke-NewWinNodeAmi @{ ClusterName = 'demo'; WindowsVersion = '2019'; Edition = 'Core'; NoWait = $true }
        $again.Error | Should -BeNullOrEmpty
        $again.Output.Status | Should -Be 'PENDING'
        $again.Output.ImageBuildVersionArn | Should -BeLike '*/winekspatch-demo-2019-core/1.0.0/1'
        @($again.Verbose | Where-Object { $_ -like 'Created *' } | ForEach-Object { $_ -replace '^Created (.+) (arn:\S+)\.$', '$1|$2' })[0..2] | Should -Be $created
        (Get-ImageBuilderResource).Count | Should -Be ($before.Count + 4)
    }

    It 'a failure to start the build removes only the versions the run created; what existed before stays' {
        # After the 2022 builds above: their component, recipe and configurations exist and must survive.
        $before = Get-ImageBuilderResource
        $cache = @($webIis, 'mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2022')
        $rule = Add-WinEksSimulatorFault -Service imagebuilder -Operation CreateImage -ErrorCode ServiceQuotaExceededException -StatusCode 402 `
            -Message 'You have reached the quota of concurrent image builds.'
        try {
            $run = Invoke-NewWinNodeAmi @{ ClusterName = 'demo'; NodeGroupName = 'demo-win-selfmanaged'; CacheImage = $cache }
        }
        finally { Remove-WinEksSimulatorFault -Id $rule.Id }
        $run.Error.FullyQualifiedErrorId | Should -Be 'AwsServiceError,WinEksPatch.Commands.NewWinNodeAmiCommand'
        $run.Error.Exception.Message | Should -BeLike '*CreateImage*quota*'
        # The infrastructure configuration of the earlier runs is reused; a new component version, recipe version and
        # distribution configuration (other cached images, other tags) are created, then removed newest first.
        ($run.Verbose -join "`n") | Should -Match 'infrastructure configuration\s+WinEksPatch-demo-2022-Core-[0-9a-f]{8}: reuse'
        $created = @($run.Verbose | Where-Object { $_ -like 'Created *' } | ForEach-Object { $_ -replace '^Created (.+) (arn:\S+)\.$', '$1|$2' })
        ($created | ForEach-Object { ($_ -split '\|')[0] }) | Should -Be @('component', 'image recipe', 'distribution configuration')
        $removed = @($run.Verbose | Where-Object { $_ -like 'Removed *' } | ForEach-Object { $_ -replace '^Removed (.+) (arn:\S+) \(created by this run, which failed\)\.$', '$1|$2' })
        $removed | Should -Be @($created[2], $created[1], $created[0])
        Get-ImageBuilderResource | Should -Be $before

        $again = Invoke-NewWinNodeAmi @{ ClusterName = 'demo'; NodeGroupName = 'demo-win-selfmanaged'; CacheImage = $cache; WarningAction = 'SilentlyContinue' }
        $again.Error | Should -BeNullOrEmpty
        $built = $again.Output | Where-Object { $_.PSObject.TypeNames[0] -eq 'WinEksPatch.Model.WinNodeAmi' }
        $built.ImageId | Should -Match '^ami-[0-9a-f]{17}$'
        foreach ($image in $cache) { $built.CachedImages | Should -Contain $image }
    }

    It 'a build cancelled while it runs is an ImageBuildCancelled error with where the logs are' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$(Get-TestModulePath)'; try { New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -CacheImage '$webIis' } catch { `$_ }")
            $handle = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not ($building = $ps.Streams.Progress | Where-Object StatusDescription -like 'BUILDING (*' | Select-Object -First 1) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $building | Should -Not -BeNullOrEmpty
            $arn = $building.CurrentOperation
            $clients = New-ModuleAwsClients
            try { Wait-Task $clients.Factory.ImageBuilder().CancelImageCreationAsync($arn, [Threading.CancellationToken]::None) }
            finally { $clients.Factory.Dispose() }
            $failure = @($ps.EndInvoke($handle)) | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }
        }
        finally { $ps.Dispose() }
        $failure.FullyQualifiedErrorId | Should -Be 'ImageBuildCancelled,WinEksPatch.Commands.NewWinNodeAmiCommand'
        $failure.CategoryInfo.Category | Should -Be 'OperationStopped'
        $failure.Exception.Message | Should -BeLike "*$arn was cancelled*/aws/imagebuilder/WinEksPatch-demo-2022-Core*"
    }
    It 'on the simulator''s timeline, a new node from the AMI starts the cached workload sooner than a new node from the parent AMI' {
        # After 'pipes into Set-NodeGroupAmi': the self-managed group launches from the AMI; the managed group runs the parent.
        $kubectlExe = (Get-Command kubectl -CommandType Application | Select-Object -First 1).Source
        function kubectl { & $kubectlExe --kubeconfig $sim.KubeConfigPath --context demo @args }
        function Wait-Until([scriptblock] $Condition, [string] $What) {
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not (& $Condition)) {
                if ([DateTime]::UtcNow -gt $deadline) { throw "timed out waiting for $What" }
                Start-Sleep -Milliseconds 200
            }
        }
        $managed = Get-WinNodeGroup -ClusterName demo -Name win-managed
        $self = Get-WinNodeGroup -ClusterName demo -Name demo-win-selfmanaged
        $managed.ImageId | Should -Be $parent.ImageId
        $self.ImageId | Should -Be $ami.ImageId
        $old = @((Get-WinNode -ClusterName demo).NodeName)
        $replicas = [int](kubectl -n shop get deployment web-iis -o jsonpath='{.spec.replicas}')
        $old | ForEach-Object { kubectl cordon $_ | Out-Null }
        try {
            # One new node in each group, through the Auto Scaling API.
            $clients = New-ModuleAwsClients
            try {
                $autoScaling = $clients.Factory.AutoScaling()
                foreach ($group in $managed, $self) {
                    Wait-Task $autoScaling.SetDesiredCapacityAsync($group.AutoScalingGroupName, $group.DesiredSize + 1, [Threading.CancellationToken]::None)
                }
            }
            finally { $clients.Factory.Dispose() }
            Wait-Until { @(Get-WinNode -ClusterName demo | Where-Object { $_.NodeName -notin $old -and $_.Ready }).Count -eq 2 } 'two new Ready nodes'
            $new = @(Get-WinNode -ClusterName demo | Where-Object NodeName -notin $old)
            $fromParent = ($new | Where-Object ImageId -eq $parent.ImageId).NodeName
            $fromAmi = ($new | Where-Object ImageId -eq $ami.ImageId).NodeName
            $fromParent | Should -Not -BeNullOrEmpty
            $fromAmi | Should -Not -BeNullOrEmpty
            # Their DaemonSet pods first (pulls on a node take turns), then one web-iis pod on each, one node at a time.
            $fromParent, $fromAmi | ForEach-Object { kubectl cordon $_ | Out-Null }
            foreach ($node in $fromParent, $fromAmi) {
                Wait-Until { $pods = (kubectl get pods -A --field-selector "spec.nodeName=$node" -o json | ConvertFrom-Json).items; $pods.Count -gt 0 -and -not ($pods | Where-Object { $_.status.phase -ne 'Running' }) } "the DaemonSet pods on $node"
            }
            $started = @{}
            foreach ($node in $fromParent, $fromAmi) {
                kubectl uncordon $node | Out-Null
                $replicas++
                kubectl -n shop scale deployment web-iis --replicas=$replicas | Out-Null
                Wait-Until { $script:pod = (kubectl -n shop get pods -l app=web-iis --field-selector "spec.nodeName=$node" -o json | ConvertFrom-Json).items | Where-Object { $_.status.phase -eq 'Running' } | Select-Object -First 1; $script:pod } "web-iis running on $node"
                kubectl cordon $node | Out-Null
                $event = (Get-WinEksSimulatorReport).Events | Where-Object { $_.Kind -eq 'PodStarted' -and $_.PodName -eq $pod.metadata.name } | Select-Object -First 1
                $event | Should -Not -BeNullOrEmpty
                # From binding to the node (status.startTime) to running, in simulated time.
                $started[$node] = $event.At - [DateTimeOffset]$pod.status.startTime
            }
            $started[$fromAmi] | Should -BeLessThan ([TimeSpan]::FromSeconds(30))          # nothing to pull: the AMI holds the image
            $started[$fromParent] | Should -BeGreaterThan ([TimeSpan]::FromMinutes(2))     # download and extraction of its layers
            $started[$fromAmi] | Should -BeLessThan $started[$fromParent]
        }
        finally {
            $old + @($fromParent, $fromAmi) | Where-Object { $_ } | ForEach-Object { kubectl uncordon $_ | Out-Null }
        }
    }
}
