# Image cost and container patch status end to end: the module's registry client against the simulator's OCI
# registries (anonymous MCR, bearer-token public.ecr.aws, ECR with GetAuthorizationToken) and catalogue.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-TestModulePath)
    $null = Start-WinEksSimulator -Scenario demo
    $script:fluentd = '111122223333.dkr.ecr.us-west-2.amazonaws.com/fluentd-windows:1.17.3-ltsc2019'
}

AfterAll { Stop-WinEksSimulator }

Describe 'Measure-WinContainerImage' {
    It 'reproduces the EKS best-practices guide: 533.05 MB in ECR, 6.96 GB on disk' {
        $m = Measure-WinContainerImage -Image $fluentd
        $m.CompressedSize | Should -Be 533050000
        $m.CompressedSizeText | Should -Be '533.05 MB'
        $m.Size | Should -Be 6960000000
        $m.SizeText | Should -Be '6.96 GB'
        $m.OsVersion | Should -BeLike '10.0.17763.*'
        $m.ForeignCompressedSize | Should -BeGreaterThan 0   # the servercore base comes from MCR
    }

    It 'on an AMI caching the same servercore base: 5.74 GB shared, 1.2 GB added' {
        $base = Get-WinNodeAmi -All -KubernetesVersion 1.31 -WindowsVersion 2019 -Edition Core -Source Eks |
            Where-Object { $_.CachedImages -contains "mcr.microsoft.com/windows/servercore:$((Measure-WinContainerImage -Image $fluentd).OsVersion)" }
        $m = Measure-WinContainerImage -Image $fluentd -ImageId $base.ImageId
        $m.SharedSize | Should -Be 5740000000
        $m.ExtractSize | Should -Be 1220000000
        $m.DownloadSize | Should -Be 533050000
        $m.Target | Should -Be $base.ImageId
    }

    It 'on the latest AMI the base has moved on: only the release-wide base layer is shared' {
        $latest = Get-WinNodeAmi -KubernetesVersion 1.31 -WindowsVersion 2019 -Edition Core -Source Eks
        $m = Measure-WinContainerImage -Image $fluentd -ImageId $latest.ImageId
        $m.SharedSize | Should -BeLessThan 5740000000
        $m.SharedSize | Should -BeGreaterThan 0
        $m.ExtractSize | Should -BeGreaterThan 1220000000
    }

    It 'says what a push to another repository uploads' {
        (Measure-WinContainerImage -Image $fluentd -Repository 111122223333.dkr.ecr.us-west-2.amazonaws.com/fluentd-windows).PushSize | Should -Be 0
        (Measure-WinContainerImage -Image $fluentd -Repository 111122223333.dkr.ecr.us-west-2.amazonaws.com/shop/web-iis).PushSize | Should -Be 533050000
    }

    It 'resolves a multi-OS manifest list to the Windows build of the target' {
        (Measure-WinContainerImage -Image mcr.microsoft.com/windows/servercore:ltsc2022).OsVersion | Should -BeLike '10.0.20348.*'
        (Measure-WinContainerImage -Image mcr.microsoft.com/oss/kubernetes/pause:3.9 -ImageId ami-03ae33a4ed49091ae).OsVersion | Should -BeLike '10.0.20348.*'
    }

    It 'rejects an unsafe reference with InvalidImageReference and still measures the others' {
        $found = Measure-WinContainerImage -Image 'nginx;calc', 'mcr.microsoft.com/windows/nanoserver:ltsc2022', 'mcr.microsoft.com/windows/nope:1' -ErrorVariable failures -ErrorAction SilentlyContinue
        @($found).Count | Should -Be 1
        $failures.FullyQualifiedErrorId | Should -Be @('InvalidImageReference,WinEksPatch.Commands.MeasureWinContainerImageCommand', 'ImageNotFound,WinEksPatch.Commands.MeasureWinContainerImageCommand')
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'reports a registry that refuses the credentials as RegistryAccessDenied, without the password, and measures the others' {
        $rule = Add-WinEksSimulatorFault -Service registry -Operation manifests -Resource 111122223333.dkr.ecr.us-west-2.amazonaws.com -StatusCode 401
        $null = Get-WinEksSimulatorReport -Reset
        try {
            $found = Measure-WinContainerImage -Image $fluentd, 'mcr.microsoft.com/windows/nanoserver:ltsc2022' -ErrorVariable failures -ErrorAction SilentlyContinue
        }
        finally { $rule | Remove-WinEksSimulatorFault }

        $found.Image | Should -Be 'mcr.microsoft.com/windows/nanoserver:ltsc2022'
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'RegistryAccessDenied,WinEksPatch.Commands.MeasureWinContainerImageCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
        $failures[0].Exception.Message | Should -BeLike '*111122223333.dkr.ecr.us-west-2.amazonaws.com*'
        (Get-WinEksSimulatorReport).ApiCalls | Where-Object Operation -eq 'GetAuthorizationToken' | Should -Not -BeNullOrEmpty   # it had credentials to refuse
        $failures[0].Exception.Message | Should -Not -Match 'Basic |[A-Za-z0-9+/]{40,}'                                         # and says nothing of them
    }

    It 'reports a Linux-only image as ImageNotWindows' {
        Measure-WinContainerImage -Image public.ecr.aws/docker/library/busybox:1.36 -ErrorVariable failures -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $failures[0].FullyQualifiedErrorId | Should -Be 'ImageNotWindows,WinEksPatch.Commands.MeasureWinContainerImageCommand'
        $failures[0].Exception.Message | Should -BeLike '*linux/amd64*'
    }
}

Describe 'Measure-WinContainerImage -NodeName' {
    It 'counts what the node''s pods pulled as present: an image they run downloads nothing there, unlike on a fresh node of its AMI' {
        $running = Get-WinContainerPatchStatus -ClusterName demo | Where-Object Image -like '*/shop/web-iis:*' | Select-Object -First 1
        $node = Get-WinNode -ClusterName demo | Where-Object NodeName -eq $running.NodeName

        $onNode = Measure-WinContainerImage -Image $running.Image -ClusterName demo -NodeName $node.NodeName
        $onAmi = Measure-WinContainerImage -Image $running.Image -ImageId $node.ImageId

        $onNode.Target | Should -Be $node.NodeName
        $onNode.DownloadSize | Should -Be 0
        $onNode.ExtractSize | Should -Be 0
        $onNode.SharedSize | Should -Be $onNode.Size
        $onAmi.DownloadSize | Should -BeGreaterThan 0
        $onAmi.SharedSize | Should -BeLessThan $onNode.SharedSize
    }

    It 'reports a node the cluster does not have as NodeNotFound' {
        $thrown = { Measure-WinContainerImage -Image mcr.microsoft.com/windows/servercore:ltsc2022 -ClusterName demo -NodeName ip-10-9-9-9.us-west-2.compute.internal -ErrorAction Stop } |
            Should -Throw -PassThru
        $thrown.FullyQualifiedErrorId | Should -Be 'NodeNotFound,WinEksPatch.Commands.MeasureWinContainerImageCommand'
        $thrown.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $thrown.Exception.Message | Should -BeLike '*ip-10-9-9-9*'
    }
}

Describe 'Get-WinContainerPatchStatus' {
    BeforeAll { $script:status = Get-WinContainerPatchStatus -ClusterName demo }

    It 'lists every Windows container with the image and host builds' {
        $status.Count | Should -Be (Get-WinNode -ClusterName demo | Measure-Object PodCount -Sum).Sum
        $status | ForEach-Object { $_.ImageOsVersion | Should -Match '^10\.0\.\d+\.\d+$'; $_.NodeOsBuild | Should -Match '^10\.0\.\d+\.\d+$' }
    }

    It 'flags the image built for Windows Server 2019 as incompatible with the 2022 hosts' {
        $orders = $status | Where-Object { $_.PodName -like 'orders-api*' }
        $orders | Should -Not -BeNullOrEmpty
        $orders | ForEach-Object { $_.Compatible | Should -BeFalse; $_.ImageOsVersion | Should -BeLike '10.0.17763.*'; $_.MonthsBehind | Should -BeNullOrEmpty }
    }

    It 'counts monthly patches between an older base and the host' {
        $web = $status | Where-Object { $_.PodName -like 'web-iis*' -and $_.NodeOsBuild -eq '10.0.20348.5622' } | Select-Object -First 1
        $web.Compatible | Should -BeTrue
        $web.MonthsBehind | Should -BeGreaterThan 0
    }

    It 'filters by namespace' {
        (Get-WinContainerPatchStatus -ClusterName demo -Namespace shop).Namespace | Sort-Object -Unique | Should -Be 'shop'
    }
}

Describe 'Get-WinImageCachePlan' {
    It 'ranks the images in use by bytes saved per round of new nodes and pipes into -CacheImage' {
        $plan = Get-WinImageCachePlan -ClusterName demo
        $plan.Count | Should -BeGreaterThan 1
        $plan.SavedBytes | Should -Be ($plan.SavedBytes | Sort-Object -Descending)
        $plan | ForEach-Object { $_.Pods | Should -BeGreaterThan 0; $_.EstimatedPullTime.TotalSeconds | Should -BeGreaterThan 0 }
        $plan[0].Image | Should -Not -BeNullOrEmpty
        # Bytes saved = what each new node of a group would pull and extract, times the pods that run it there.
        $plan | Where-Object { $_.NodeGroups.Count -eq 1 } | ForEach-Object { $_.SavedBytes | Should -Be (($_.DownloadSize + $_.ExtractSize) * $_.Pods) }
    }

    It 'leaves out an image built for another Windows build than the hosts, and says why' {
        $plan = Get-WinImageCachePlan -ClusterName demo -WarningVariable warnings -WarningAction SilentlyContinue
        $plan.Image | Should -Not -Contain '111122223333.dkr.ecr.us-west-2.amazonaws.com/shop/orders-api:3.4.0'
        $plan.Image | Should -Contain '111122223333.dkr.ecr.us-west-2.amazonaws.com/shop/web-iis:2026.06.1'
        @($warnings).Count | Should -Be 1
        "$($warnings[0])" | Should -BeLike '*shop/orders-api:3.4.0 is built for Windows 10.0.17763.*demo-win-selfmanaged (hosts 20348)*cannot start there with process isolation*'
    }
}
