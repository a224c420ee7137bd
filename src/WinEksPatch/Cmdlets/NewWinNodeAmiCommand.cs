using System.Management.Automation;
using WinEksPatch.Windows;
using WinEksPatch.Workflows;
using WinEksPatch.Workflows.AmiBuild;

namespace WinEksPatch.Commands;

/// <summary>
/// <para type="synopsis">Builds a patched, image-cached Windows AMI for a cluster's nodes with EC2 Image Builder.</para>
/// <para type="description">The parent is the latest EKS-optimized Windows AMI for the cluster's Kubernetes version and the
/// node group's Windows version and edition (SSM public parameter), or -ParentImageId. The recipe runs Amazon's
/// update-windows, then an image-cache component generated for the cluster: it refreshes servercore and nanoserver of the
/// host's release to the newest patch, pulls every -CacheImage into containerd's k8s.io namespace with ctr (ECR images with
/// a password the build instance's role obtains, never logged), verifies each digest against what the registry said when
/// the component was generated, and records the list. The AMI is tagged with the cluster, Kubernetes and Windows versions,
/// edition, OS build and the cached images (WinEksPatch:CachedImages:1..n), which Measure-WinContainerImage and
/// Set-NodeGroupAmi read.</para>
/// <para type="description">Image Builder resources are ensured under stable names derived from the cluster, Windows
/// version and edition (WinEksPatch-demo-2022-Core...): the component and the recipe get a new semantic version only when
/// their content changes; the infrastructure configuration (IMDSv2 required, instance terminated on failure) and the
/// distribution configuration carry a hash of their settings in their names. Running the command again with the same
/// inputs creates nothing but the new image.</para>
/// <para type="description">Every input is checked, and every resource planned read-only, before anything is created. Error
/// ids: ClusterNotFound; NodeGroupNotFound and NodeGroupNotWindows (-NodeGroupName); WindowsVersionNotDetermined (no
/// -WindowsVersion and the cluster has no Windows group or two Windows versions, or the group's or -ParentImageId's version
/// cannot be read; it is never guessed from other groups); AmiWindowsBuildMismatch (-WindowsVersion differs from the group's
/// or the parent's); EksAmiNotFound (no EKS-optimized Windows AMI for the Kubernetes and Windows versions: the SSM parameter
/// named in the message is missing or names an AMI that is gone; pass -ParentImageId); AmiNotFound and AmiNotWindows
/// (-ParentImageId); InvalidImageReference, ImageNotFound, ImageNotWindows, ImageWindowsBuildMismatch (naming the image's
/// build and the nodes') and CacheListTooLong (-CacheImage: every image is resolved in its registry first, under -WhatIf
/// too, and the plan lists each with its digest and size on disk; a registry this machine cannot reach is only a
/// warning, since the build instance may reach it); ComponentNotFound (-Component);
/// ImageBuilderResourceConflict (a configuration under the derived name has other settings); InstanceProfileNotFound and
/// SubnetNotFound (the infrastructure configuration is created first, so nothing else exists yet); ImageBuildFailed and
/// ImageBuildCancelled (with the reason and the CloudWatch Logs group); AwsAccessDenied, AwsThrottled, AwsServiceError and
/// the other Aws* ids for a failed AWS call.</para>
/// <para type="description">-ClusterName and -NodeGroupName bind by property name too (Get-WinNodeGroup | New-WinNodeAmi);
/// one build is for one cluster and at most one group, so a pipeline that brings more is refused before anything is
/// created (PipelineTargetsDiffer).</para>
/// <para type="description">Clean-up: when a creation fails part way (an AWS error, Ctrl+C, anything else), the command
/// deletes what this run created, newest first (distribution configuration, recipe, component, infrastructure
/// configuration), then reports the original error; -Verbose lists each removed resource. Resources that existed before the
/// run are never deleted. A deletion that fails is a warning naming what is left; the original error stands. Once a build
/// has started, its resources stay (a FAILED or CANCELLED build keeps them for the next run to reuse).</para>
/// <para type="description">The command waits for the build (polling GetImage) with a progress bar through PENDING,
/// CREATING, BUILDING, TESTING, DISTRIBUTING, INTEGRATING and AVAILABLE, and emits the AMI as a WinNodeAmi that pipes into
/// Set-NodeGroupAmi; with -NoWait it emits the started build (WinNodeAmiBuild). Ctrl+C stops waiting, not the build, and
/// says how to follow or cancel it. A FAILED or CANCELLED build is an error with Image Builder's reason and where the logs
/// are.</para>
/// <para type="description">-WhatIf changes nothing: it prints the plan as the What if: text and writes it to the pipeline as a
/// WinNodeAmiBuildPlan: the cluster, Kubernetes and Windows versions, edition and the OS build the AMI will have, the parent
/// AMI (ParentImageId, ParentImageName, ParentOsBuild), RootVolumeGiB, CachedImages, CacheImages (each -CacheImage with the
/// digest the build verifies and its size on disk), DistributionRegions, Resources (component, image recipe, infrastructure
/// and distribution configuration, each with its Action: Create, CreateVersion or Reuse, its Version, the Arn of what is
/// reused, and the Change that makes a new version) and, with -FastLaunch, FastLaunch (snapshots, parallel launches, launch
/// template, storage and the region's quota lines). A run without -WhatIf executes that same plan: it creates exactly the
/// resources it lists, with the versions it lists, and reuses the ARNs it lists; nothing is planned again between the
/// confirmation and the creations.</para>
/// <para type="description">-FastLaunch turns on EC2 Fast Launch for the AMI in this region through the distribution
/// configuration (Image Builder enables it when it distributes the AMI): new nodes then boot from snapshots taken after
/// Sysprep's specialize and OOBE phases. The snapshots kept on hand default to the rollout the AMI prepares (one per node of
/// -NodeGroupName, at least 5). The plan shows them, their storage and the region's parallel launches against the quota,
/// all checked before anything is created (FastLaunchQuotaExceeded). The AMI is emitted once EC2 reports Fast Launch
/// enabled (FastLaunchState) and its snapshots are estimated on hand: EC2 reports no ready count, so the wait is the rounds
/// of -FastLaunchMaxParallelLaunches, 25 minutes each at most, from the time it turned enabled, up to the target
/// (-FastLaunchNoSnapshotWait emits it at enabled). A Fast Launch that fails to enable (or stops being enabled while the
/// snapshots are made) is FastLaunchFailed with EC2's reason, and the AMI, which was built, stays usable.</para>
/// </summary>
/// <example>
///   <code>New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -CacheImage 111122223333.dkr.ecr.us-west-2.amazonaws.com/shop/web-iis:2026.06.1 -WhatIf</code>
///   <para>Shows the parent AMI and the Image Builder resources a build for the self-managed group would create or reuse, and
///   writes that plan (WinNodeAmiBuildPlan); `| Select-Object -ExpandProperty Resources` lists each resource's action and version.</para>
/// </example>
/// <example>
///   <code>$ami = Get-WinImageCachePlan -ClusterName demo | Select-Object -First 2 | New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged; $ami | Set-NodeGroupAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -Force</code>
///   <para>Builds an AMI that caches the two images worth caching most, waits for it, and points the group at it.</para>
/// </example>
/// <example>
///   <code>New-WinNodeAmi -ClusterName demo -NodeGroupName demo-win-selfmanaged -FastLaunch -FastLaunchMaxParallelLaunches 8 | Format-List ImageId, OsBuild, FastLaunchState</code>
///   <para>Builds the group's AMI with EC2 Fast Launch (a snapshot per node of the group on hand, eight made at a time) and emits it once Fast Launch is enabled.</para>
/// </example>
[Cmdlet(VerbsCommon.New, "WinNodeAmi", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "Default")]
[OutputType("WinEksPatch.Model.WinNodeAmi", "WinEksPatch.Model.WinNodeAmiBuild", "WinEksPatch.Model.WinNodeAmiBuildPlan")]
public sealed class NewWinNodeAmiCommand : KubernetesCmdlet
{
    private readonly List<string> _cacheImages = [];

    /// <summary>The EKS cluster the AMI is for (its Kubernetes version picks the parent AMI).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.ClusterNameCompleter))]
    public string ClusterName { get; set; } = "";

    /// <summary>The Windows node group whose Windows version and edition the AMI is for.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.NodeGroupNameCompleter))]
    public string? NodeGroupName { get; set; }

    /// <summary>Windows Server version (2019, 2022 or 2025); default: the node group's, or the cluster's only one.</summary>
    [Parameter]
    [ValidateSet("2019", "2022", "2025")]
    public string? WindowsVersion { get; set; }

    /// <summary>Core or Full; default: the node group's, else Core.</summary>
    [Parameter]
    [ValidateSet("Core", "Full")]
    public string? Edition { get; set; }

    /// <summary>Build from this Windows AMI of the region instead of the latest EKS-optimized one.</summary>
    [Parameter]
    [ValidatePattern("^ami-[0-9a-f]{8,17}$")]
    public string? ParentImageId { get; set; }

    /// <summary>Container images to cache in the AMI (registry/repository:tag or @sha256:digest). Binds the Image property of
    /// Get-WinImageCachePlan output; references outside the OCI reference grammar are refused before anything is created.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Image")]
    [AllowEmptyCollection]
    public string[] CacheImage { get; set; } = [];

    /// <summary>More Image Builder component ARNs to run after the image cache (build version ARNs, or x.x.x wildcards).</summary>
    [Parameter]
    [ValidatePattern(@"^arn:aws[a-z-]*:imagebuilder:[a-z0-9-]+:(?:[0-9]{12}|aws):component/[a-z0-9_-]+/(?:[0-9]+|x)\.(?:[0-9]+|x)\.(?:[0-9]+|x)(?:/[0-9]+)?$")]
    public string[] Component { get; set; } = [];

    /// <summary>EC2 instance type of the build instance (default m5.xlarge).</summary>
    [Parameter]
    [ValidatePattern(@"^[a-z][a-z0-9-]*\.[a-z0-9]+$")]
    public string? InstanceType { get; set; }

    /// <summary>Subnet of the build instance (default: Image Builder's choice in the default VPC).</summary>
    [Parameter]
    [ValidatePattern("^subnet-[0-9a-f]{8,17}$")]
    public string? SubnetId { get; set; }

    /// <summary>Security groups of the build instance (with -SubnetId).</summary>
    [Parameter]
    [ValidatePattern("^sg-[0-9a-f]{8,17}$")]
    public string[] SecurityGroupId { get; set; } = [];

    /// <summary>Instance profile of the build instance (default EC2InstanceProfileForImageBuilderECRContainerBuilds, which may read ECR).</summary>
    [Parameter]
    [ValidatePattern(@"^[\w+=,.@-]{1,128}$")]
    public string? InstanceProfileName { get; set; }

    /// <summary>Other regions to copy the AMI to (with the same name and tags).</summary>
    [Parameter]
    [ValidatePattern(@"^[a-z]{2}(-[a-z]+)+-[0-9]$")]
    public string[] DistributionRegion { get; set; } = [];

    /// <summary>Start the build and return at once (emits the started build instead of the AMI).</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    /// <summary>Turn on EC2 Fast Launch for the AMI in this region (Image Builder's distribution), and emit the AMI once EC2
    /// reports it enabled.</summary>
    [Parameter(ParameterSetName = "FastLaunch", Mandatory = true)]
    public SwitchParameter FastLaunch { get; set; }

    /// <summary>Pre-provisioned snapshots to keep on hand; default: one per node of -NodeGroupName, at least 5.</summary>
    [Parameter(ParameterSetName = "FastLaunch")]
    [ValidateRange(1, 10000)]
    public int? FastLaunchSnapshotCount { get; set; }

    /// <summary>Temporary instances EC2 may run at once to make the snapshots: 6 or more (default 6).</summary>
    [Parameter(ParameterSetName = "FastLaunch")]
    [ValidateRange(Workflows.FastLaunch.FastLaunchSetup.MinParallelLaunches, 1000)]
    public int FastLaunchMaxParallelLaunches { get; set; } = Workflows.FastLaunch.FastLaunchSetup.MinParallelLaunches;

    /// <summary>The launch template of those temporary instances (their subnet, IMDSv2 settings); default: EC2's defaults.
    /// Its $Default version is used.</summary>
    [Parameter(ParameterSetName = "FastLaunch")]
    [ValidatePattern("^lt-[0-9a-f]{8,17}$")]
    public string? FastLaunchLaunchTemplateId { get; set; }

    /// <summary>The region's quota of parallel Fast Launch launches across every AMI (default 40); pass yours if it was raised.</summary>
    [Parameter(ParameterSetName = "FastLaunch")]
    [ValidateRange(Workflows.FastLaunch.FastLaunchSetup.MinParallelLaunches, 100000)]
    public int ParallelLaunchQuota { get; set; } = Workflows.FastLaunch.FastLaunchSetup.DefaultParallelLaunchQuota;

    /// <summary>Emit the AMI once EC2 reports Fast Launch enabled, without waiting until its snapshots are estimated on hand;
    /// the rollout's pre-flight shows how many are (launches that find none boot the standard way, or wait for one with
    /// -PaceToFastLaunch).</summary>
    [Parameter(ParameterSetName = "FastLaunch")]
    public SwitchParameter FastLaunchNoSnapshotWait { get; set; }

    // What the pipeline named: one build is for one cluster and at most one group.
    private readonly HashSet<string> _clusters = new(StringComparer.Ordinal);
    private readonly HashSet<string> _groups = new(StringComparer.Ordinal);

    protected override void ProcessRecord()
    {
        // Piped cache plan entries arrive one per record: collect them and build one AMI at the end.
        _cacheImages.AddRange(CacheImage);
        _clusters.Add(ClusterName);
        if (NodeGroupName != null)
        {
            _groups.Add(NodeGroupName);
        }
    }

    protected override void EndProcessing()
    {
        try
        {
            if (_clusters.Count > 1 || _groups.Count > 1)
            {
                var what = _clusters.Count > 1 ? $"clusters {string.Join(", ", _clusters)}" : $"node groups {string.Join(", ", _groups)}";
                ThrowTerminatingError(ToErrorRecord(new Errors.WinEksPatchException(Errors.ErrorIds.PipelineTargetsDiffer, Errors.ErrorKind.InvalidArgument,
                    $"New-WinNodeAmi builds one AMI for one cluster and node group, and the pipeline brought {what}: run it once for each. Nothing was created.",
                    what)));
            }

            var options = new AmiBuildOptions
            {
                ClusterName = ClusterName,
                NodeGroupName = NodeGroupName,
                WindowsVersion = WindowsVersion,
                Edition = Edition,
                ParentImageId = ParentImageId,
                CacheImages = _cacheImages,
                Components = Component,
                InstanceType = InstanceType,
                SubnetId = SubnetId,
                SecurityGroupIds = SecurityGroupId,
                InstanceProfileName = InstanceProfileName,
                DistributionRegions = DistributionRegion,
                NoWait = NoWait,
                WritePlan = WhatIfGiven,
                FastLaunch = !FastLaunch ? null : new AmiFastLaunchOptions
                {
                    TargetSnapshotCount = FastLaunchSnapshotCount,
                    MaxParallelLaunches = FastLaunchMaxParallelLaunches,
                    LaunchTemplateId = FastLaunchLaunchTemplateId,
                    ParallelLaunchQuota = ParallelLaunchQuota,
                    NoSnapshotWait = FastLaunchNoSnapshotWait,
                },
            };
            var builder = Guard(() => new WorkflowFactory(Connections).AmiBuilder());
            RunWorkflow((host, token) => builder.RunAsync(options, host, token));
        }
        finally
        {
            base.EndProcessing();
        }
    }
}
