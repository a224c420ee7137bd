using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Registry;
using WinEksPatch.Tests.Infrastructure;
using WinEksPatch.Tests.Workflows;
using WinEksPatch.Windows;
using WinEksPatch.Workflows;
using WinEksPatch.Workflows.AmiBuild;

namespace WinEksPatch.Tests.AmiBuild;

/// <summary>
/// New-WinNodeAmi's workflow with fakes, for what the demo scenario cannot show: a cluster whose Windows version cannot be
/// told, an EKS-optimized AMI that is not published, and the undo of a half-done creation (a failing delete, Ctrl+C). The
/// Image Builder fake throws on any call a test does not expect, so a refusal "before anything is created" is checked by
/// the refusal's own error id.
/// </summary>
public class AmiBuilderTests
{
    private const string Region = "us-west-2";
    private const string ParentId = "ami-0123456789abcdef0";
    private const string Parent2022 = "/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.31/image_id";

    private static readonly Ec2Image ParentImage = new(ParentId, "Windows_Server-2022-English-Core-EKS_Optimized-1.31-2026.09.12", null, "801119661308",
        "available", "x86_64", "Windows", new DateTimeOffset(2026, 9, 12, 0, 0, 0, TimeSpan.Zero), new Dictionary<string, string>());

    // ---- the Windows version cannot be told ------------------------------------------------------------

    [Fact]
    public async Task A_cluster_running_two_Windows_versions_needs_NodeGroupName_or_WindowsVersion()
    {
        var world = new World();
        world.Eks.Groups.Add(Managed("win-2019", "WINDOWS_CORE_2019_x86_64"));
        world.Eks.Groups.Add(Managed("win-2022", "WINDOWS_FULL_2022_x86_64"));

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() => world.Builder().RunAsync(new AmiBuildOptions { ClusterName = "demo" }, new RecordingHost()));

        Assert.Equal(ErrorIds.WindowsVersionNotDetermined, error.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("2019", error.Message, StringComparison.Ordinal);
        Assert.Contains("2022", error.Message, StringComparison.Ordinal);
        Assert.Contains("-NodeGroupName", error.Message, StringComparison.Ordinal);
        Assert.Empty(world.ImageBuilder.Calls);
        Assert.Empty(world.Ssm.Asked);
    }

    [Fact]
    public async Task A_group_whose_Windows_version_cannot_be_told_is_refused_not_guessed_from_the_other_groups()
    {
        // A self-managed group on a private golden AMI whose name and tags say nothing, with no node yet; the cluster's
        // other group runs 2022, which says nothing about this one.
        var world = new World();
        world.Eks.Groups.Add(Managed("win-2022", "WINDOWS_CORE_2022_x86_64"));
        var golden = new Ec2Image("ami-0aaaaaaaaaaaaaaaa", "golden-windows-2024-07", null, "111122223333", "available", "x86_64", "Windows", null,
            new Dictionary<string, string>());
        world.Ec2.Images.Add(golden);
        world.Ec2.Templates["lt-0golden"] = new LaunchTemplateVersion("lt-0golden", "golden", 3, true, golden.ImageId, "m5.xlarge", null);
        world.AutoScaling.Groups.Add(new AutoScalingGroup("golden-win", 0, 4, 0, new LaunchTemplateReference("lt-0golden", null, "3"), false, [],
            new Dictionary<string, string> { ["kubernetes.io/cluster/demo"] = "owned" }, []));

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() =>
            world.Builder().RunAsync(new AmiBuildOptions { ClusterName = "demo", NodeGroupName = "golden-win" }, new RecordingHost()));

        Assert.Equal(ErrorIds.WindowsVersionNotDetermined, error.ErrorId);
        Assert.Equal("golden-win", error.Target);
        Assert.Contains("-WindowsVersion", error.Message, StringComparison.Ordinal);
        Assert.Empty(world.ImageBuilder.Calls);
        Assert.Empty(world.Ssm.Asked); // no EKS AMI of the other group's version was looked up
    }

    [Fact]
    public async Task A_parent_AMI_whose_Windows_version_cannot_be_told_needs_WindowsVersion()
    {
        var world = new World();
        world.Ec2.Images.Add(new Ec2Image("ami-0bbbbbbbbbbbbbbbb", "my-windows", null, "111122223333", "available", "x86_64", "Windows", null,
            new Dictionary<string, string>()));

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() =>
            world.Builder().RunAsync(new AmiBuildOptions { ClusterName = "demo", ParentImageId = "ami-0bbbbbbbbbbbbbbbb" }, new RecordingHost()));

        Assert.Equal(ErrorIds.WindowsVersionNotDetermined, error.ErrorId);
        Assert.Equal("ami-0bbbbbbbbbbbbbbbb", error.Target);
        Assert.Contains("-WindowsVersion", error.Message, StringComparison.Ordinal);
        Assert.Empty(world.ImageBuilder.Calls);
    }

    // ---- no EKS-optimized AMI ---------------------------------------------------------------------------

    [Fact]
    public async Task No_EKS_optimized_AMI_for_the_versions_is_EksAmiNotFound_naming_the_SSM_parameter()
    {
        var world = new World(); // SSM publishes nothing for 2025 Full on 1.31 here

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() =>
            world.Builder().RunAsync(new AmiBuildOptions { ClusterName = "demo", WindowsVersion = "2025", Edition = "Full" }, new RecordingHost()));

        Assert.Equal(ErrorIds.EksAmiNotFound, error.ErrorId);
        Assert.Equal(ErrorKind.ObjectNotFound, error.Kind);
        Assert.Contains("/aws/service/ami-windows-latest/Windows_Server-2025-English-Full-EKS_Optimized-1.31/image_id", error.Message, StringComparison.Ordinal);
        Assert.Contains("-ParentImageId", error.Message, StringComparison.Ordinal);
        Assert.Equal(["/aws/service/ami-windows-latest/Windows_Server-2025-English-Full-EKS_Optimized-1.31/image_id"], world.Ssm.Asked);
        Assert.Empty(world.ImageBuilder.Calls);
    }

    [Fact]
    public async Task An_SSM_parameter_naming_an_AMI_that_is_gone_is_EksAmiNotFound()
    {
        var world = new World();
        world.Ssm.Parameters[Parent2022] = "ami-0deregistered000"; // EC2 does not describe it (deregistered)

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() =>
            world.Builder().RunAsync(new AmiBuildOptions { ClusterName = "demo", WindowsVersion = "2022" }, new RecordingHost()));

        Assert.Equal(ErrorIds.EksAmiNotFound, error.ErrorId);
        Assert.Empty(world.ImageBuilder.Calls);
    }

    // ---- undo of a half-done creation ------------------------------------------------------------------

    [Fact]
    public async Task A_failed_creation_deletes_what_the_run_created_newest_first_and_rethrows_the_failure()
    {
        var world = World.WithParent();
        world.ImageBuilder.FailOn = "CreateDistributionConfiguration";
        var host = new RecordingHost();

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() => world.Builder().RunAsync(Fresh(), host));

        Assert.Equal(ErrorIds.AwsAccessDenied, error.ErrorId); // the failure itself, not a clean-up error
        var created = world.ImageBuilder.Created;
        Assert.Equal(["infrastructure configuration", "component", "image recipe"], created.Select(c => c.Kind));
        Assert.Equal(created.Select(c => "Delete " + c.Arn).Reverse(), world.ImageBuilder.Calls.Where(c => c.StartsWith("Delete ", StringComparison.Ordinal)));
        Assert.Empty(world.ImageBuilder.Live);
        Assert.All(created, c => Assert.Contains(host.Messages, m => m.StartsWith($"Removed {c.Kind} {c.Arn}", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_delete_that_fails_during_the_undo_is_a_warning_naming_what_is_left_and_the_first_failure_stands()
    {
        var world = World.WithParent();
        world.ImageBuilder.FailOn = "CreateImage";
        world.ImageBuilder.FailDeleteOf = "image recipe";
        var host = new RecordingHost();

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() => world.Builder().RunAsync(Fresh(), host));

        Assert.Equal(ErrorIds.AwsAccessDenied, error.ErrorId);
        Assert.Contains("CreateImage", error.Message, StringComparison.Ordinal);
        var recipe = world.ImageBuilder.Created.Single(c => c.Kind == "image recipe").Arn;
        Assert.Contains(host.Messages, m => m.StartsWith($"WARNING: Could not remove image recipe {recipe}", StringComparison.Ordinal));
        // The others were still removed; the component the recipe uses too (Image Builder would refuse that; the fake does not model it).
        Assert.Equal([recipe], world.ImageBuilder.Live);
        Assert.Equal(4, world.ImageBuilder.Calls.Count(c => c.StartsWith("Delete ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Ctrl_C_while_creating_removes_what_the_run_created()
    {
        var world = World.WithParent();
        using var stop = new CancellationTokenSource();
        world.ImageBuilder.OnCreate = kind =>
        {
            if (kind == "image recipe")
            {
                stop.Cancel();
                stop.Token.ThrowIfCancellationRequested();
            }
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => world.Builder().RunAsync(Fresh(), new RecordingHost(), stop.Token));

        Assert.Equal(["infrastructure configuration", "component"], world.ImageBuilder.Created.Select(c => c.Kind));
        Assert.Empty(world.ImageBuilder.Live); // deleted although the run's token was cancelled
    }

    [Fact]
    public async Task An_unexpected_failure_while_creating_removes_what_the_run_created_too()
    {
        var world = World.WithParent();
        world.ImageBuilder.OnCreate = kind =>
        {
            if (kind == "distribution configuration")
            {
                throw new InvalidDataException("CreateDistributionConfiguration returned no distributionConfigurationArn.");
            }
        };

        await Assert.ThrowsAsync<InvalidDataException>(() => world.Builder().RunAsync(Fresh(), new RecordingHost()));

        Assert.Equal(3, world.ImageBuilder.Created.Count);
        Assert.Empty(world.ImageBuilder.Live);
    }

    [Fact]
    public async Task An_instance_profile_Image_Builder_rejects_is_InstanceProfileNotFound_with_nothing_created()
    {
        var world = World.WithParent();
        world.ImageBuilder.FailOn = "CreateInfrastructureConfiguration";
        world.ImageBuilder.Failure = new WinEksPatchException(ErrorIds.AwsValidationError, ErrorKind.InvalidArgument,
            "CreateInfrastructureConfiguration failed: The value supplied for parameter 'instanceProfileName' is not valid. (AWS error InvalidParameterValueException, request id r)", null);

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() =>
            world.Builder().RunAsync(Fresh() with { InstanceProfileName = "NoSuchProfile" }, new RecordingHost()));

        Assert.Equal(ErrorIds.InstanceProfileNotFound, error.ErrorId);
        Assert.Equal("NoSuchProfile", error.Target);
        Assert.Empty(world.ImageBuilder.Created);
        Assert.DoesNotContain(world.ImageBuilder.Calls, c => c.StartsWith("Create", StringComparison.Ordinal) && !c.StartsWith("CreateInfrastructure", StringComparison.Ordinal));
        Assert.DoesNotContain(world.ImageBuilder.Calls, c => c.StartsWith("Delete", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_configuration_under_the_derived_name_with_other_settings_is_ImageBuilderResourceConflict_naming_the_field_before_anything_is_created()
    {
        var world = World.WithParent();
        world.ImageBuilder.ExistingInfrastructure = new InfrastructureSpec("changed-outside", "SomeOtherProfile", ["m5.xlarge"], null, [], true, "required",
            Arn: "arn:aws:imagebuilder:us-west-2:111122223333:infrastructure-configuration/changed-outside");

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() => world.Builder().RunAsync(Fresh(), new RecordingHost()));

        Assert.Equal(ErrorIds.ImageBuilderResourceConflict, error.ErrorId);
        Assert.Contains("differs from what it would create in: instanceProfileName (changed outside the module?)", error.Message, StringComparison.Ordinal);
        Assert.Equal(world.ImageBuilder.ExistingInfrastructure.Arn, error.Target);
        Assert.DoesNotContain(world.ImageBuilder.Calls, c => c.StartsWith("Create", StringComparison.Ordinal) || c.StartsWith("Delete", StringComparison.Ordinal));
    }

    [Fact]
    public async Task More_cached_images_than_the_AMI_tags_can_record_is_CacheListTooLong_before_anything_is_created()
    {
        var world = World.WithParent();
        // 60 references of about 200 characters: one per 256-character tag value, more than the 42 tags left.
        var images = Enumerable.Range(0, 60).Select(i => $"111122223333.dkr.ecr.us-west-2.amazonaws.com/team-{i:D2}/{new string('a', 150)}:1.0.{i}").ToList();

        var error = await Assert.ThrowsAsync<WinEksPatchException>(() =>
            world.Builder().RunAsync(Fresh() with { CacheImages = images }, new RecordingHost()));

        Assert.Equal(ErrorIds.CacheListTooLong, error.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Empty(world.ImageBuilder.Calls);
    }

    private static AmiBuildOptions Fresh() => new() { ClusterName = "demo", WindowsVersion = "2022", Edition = "Core", NoWait = true };

    private static EksNodegroup Managed(string name, string amiType) =>
        new(name, "demo", amiType, null, "1.31", "ACTIVE", "ON_DEMAND", 1, 3, 2, null, null, null, [], []);

    // ---- fakes ----------------------------------------------------------------------------------------------

    /// <summary>A cluster 'demo' on Kubernetes 1.31 with the fakes below (AmiBuildPlanTests builds on it too).</summary>
    internal sealed class World
    {
        public FakeEks Eks { get; } = new();

        public FakeAutoScaling AutoScaling { get; } = new();

        public FakeEc2 Ec2 { get; } = new();

        public FakeSsm Ssm { get; } = new();

        public FakeImageBuilder ImageBuilder { get; } = new();

        public static World WithParent()
        {
            var world = new World();
            world.Ssm.Parameters[Parent2022] = ParentId;
            world.Ec2.Images.Add(ParentImage);
            return world;
        }

        public AmiBuilder Builder() => Builder(ImageBuilder, new UnreachableRegistry());

        public AmiBuilder Builder(IImageBuilderApi imageBuilder, ICacheImageResolver registry)
        {
            var calendar = PatchCalendar.Default;
            var reader = new ClusterSnapshotReader(Eks, AutoScaling, Ec2, _ => new NoNodes(), Region);
            return new AmiBuilder(imageBuilder, Eks, Ec2, new AmiCatalog(Ssm, Ec2, calendar, Region), reader, new FleetInventory(reader, calendar, TimeProvider.System),
                registry, calendar, TimeProvider.System, Region);
        }
    }

    internal sealed class FakeEks : EksApiStub
    {
        public List<EksNodegroup> Groups { get; } = [];

        public override Task<EksCluster> DescribeClusterAsync(string clusterName, CancellationToken cancellationToken = default) =>
            clusterName == "demo" ? Task.FromResult(new EksCluster("demo", "arn:aws:eks:us-west-2:111122223333:cluster/demo", "1.31", "ACTIVE", "https://k8s", "LS0t", "eks.23", null))
                : throw new WinEksPatchException(ErrorIds.AwsResourceNotFound, ErrorKind.ObjectNotFound, "not found", clusterName);

        public override Task<IReadOnlyList<string>> ListNodegroupsAsync(string clusterName, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<string>>([.. Groups.Select(g => g.Name)]);

        public override Task<EksNodegroup> DescribeNodegroupAsync(string clusterName, string nodegroupName, CancellationToken cancellationToken = default) =>
            Task.FromResult(Groups.Single(g => g.Name == nodegroupName));
    }

    internal sealed class FakeAutoScaling : AutoScalingApiStub
    {
        public List<AutoScalingGroup> Groups { get; } = [];

        public override Task<IReadOnlyList<AutoScalingGroup>> DescribeAutoScalingGroupsAsync(IReadOnlyCollection<string>? names = null,
            IReadOnlyDictionary<string, IReadOnlyCollection<string>>? filters = null, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<AutoScalingGroup>>(Groups);
    }

    internal sealed class FakeEc2 : Ec2ApiStub
    {
        public List<Ec2Image> Images { get; } = [];

        public Dictionary<string, LaunchTemplateVersion> Templates { get; } = [];

        public override Task<IReadOnlyList<Ec2Image>> DescribeImagesAsync(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<Ec2Image>>([.. Images.Where(i => imageIds.Contains(i.ImageId))]);

        public override Task<IReadOnlyList<Ec2Instance>> DescribeInstancesAsync(IReadOnlyCollection<string> instanceIds, CancellationToken cancellationToken = default) =>
            instanceIds.Count == 0 ? Task.FromResult<IReadOnlyList<Ec2Instance>>([]) : throw new NotSupportedException();

        public override Task<LaunchTemplateVersion> DescribeLaunchTemplateVersionAsync(LaunchTemplateReference template, CancellationToken cancellationToken = default) =>
            Task.FromResult(Templates[template.Id!]);
    }

    internal sealed class FakeSsm : SsmApiStub
    {
        public Dictionary<string, string> Parameters { get; } = [];

        public List<string> Asked { get; } = [];

        public override Task<SsmParameter?> GetParameterAsync(string name, CancellationToken cancellationToken = default)
        {
            Asked.Add(name);
            return Task.FromResult(Parameters.TryGetValue(name, out var value) ? new SsmParameter(name, value, null) : null);
        }
    }

    private sealed class NoNodes : KubernetesApiStub
    {
        public override Task<IReadOnlyList<KubeNode>> ListNodesAsync(string? labelSelector = null, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<KubeNode>>([]);
    }

    private sealed class UnreachableRegistry : ICacheImageResolver
    {
        public Task<CacheImageFacts> ResolveAsync(ImageReference image, int? windowsBuild, CancellationToken cancellationToken) =>
            throw new WinEksPatchException(ErrorIds.AwsEndpointUnreachable, ErrorKind.ConnectionError, "registry unreachable", image.ToString());
    }

    /// <summary>An empty account: every list is empty, creations get ARNs (or fail as told), deletions are recorded.</summary>
    internal sealed class FakeImageBuilder : ImageBuilderApiStub
    {
        public List<string> Calls { get; } = [];

        public List<(string Kind, string Arn)> Created { get; } = [];

        public List<string> Live { get; } = [];

        public string? FailOn { get; set; }

        public string? FailDeleteOf { get; set; }

        public Action<string>? OnCreate { get; set; }

        public WinEksPatchException? Failure { get; set; }

        /// <summary>An infrastructure configuration already there (under whatever name is asked for).</summary>
        public InfrastructureSpec? ExistingInfrastructure { get; set; }

        public override Task<IReadOnlyList<ImageBuilderVersion>> ListComponentsAsync(string name, CancellationToken cancellationToken = default) => Listed<ImageBuilderVersion>("ListComponents");

        public override Task<IReadOnlyList<ImageBuilderVersion>> ListImageRecipesAsync(string name, CancellationToken cancellationToken = default) => Listed<ImageBuilderVersion>("ListImageRecipes");

        public override Task<IReadOnlyList<string>> ListInfrastructureConfigurationsAsync(string name, CancellationToken cancellationToken = default)
        {
            Calls.Add("ListInfrastructureConfigurations");
            return Task.FromResult<IReadOnlyList<string>>(ExistingInfrastructure is { Arn: { } arn } ? [arn] : []);
        }

        public override Task<InfrastructureSpec> GetInfrastructureConfigurationAsync(string arn, CancellationToken cancellationToken = default) =>
            Task.FromResult(ExistingInfrastructure!);

        public override Task<IReadOnlyList<string>> ListDistributionConfigurationsAsync(string name, CancellationToken cancellationToken = default) =>
            Listed<string>("ListDistributionConfigurations");

        public override Task<string> CreateInfrastructureConfigurationAsync(InfrastructureSpec spec, CancellationToken cancellationToken = default) =>
            Create("CreateInfrastructureConfiguration", "infrastructure configuration", $"infrastructure-configuration/{spec.Name.ToLowerInvariant()}");

        public override Task<string> CreateComponentAsync(ComponentSpec spec, CancellationToken cancellationToken = default) =>
            Create("CreateComponent", "component", $"component/{spec.Name.ToLowerInvariant()}/{spec.SemanticVersion}/1");

        public override Task<string> CreateImageRecipeAsync(ImageRecipeSpec spec, CancellationToken cancellationToken = default) =>
            Create("CreateImageRecipe", "image recipe", $"image-recipe/{spec.Name.ToLowerInvariant()}/{spec.SemanticVersion}");

        public override Task<string> CreateDistributionConfigurationAsync(DistributionSpec spec, CancellationToken cancellationToken = default) =>
            Create("CreateDistributionConfiguration", "distribution configuration", $"distribution-configuration/{spec.Name.ToLowerInvariant()}");

        public override Task<string> CreateImageAsync(ImageBuildRequest request, CancellationToken cancellationToken = default) =>
            Create("CreateImage", "image", "image/x/1.0.0/1");

        public override Task DeleteComponentAsync(string componentBuildVersionArn, CancellationToken cancellationToken = default) => Delete("component", componentBuildVersionArn);

        public override Task DeleteImageRecipeAsync(string imageRecipeArn, CancellationToken cancellationToken = default) => Delete("image recipe", imageRecipeArn);

        public override Task DeleteInfrastructureConfigurationAsync(string arn, CancellationToken cancellationToken = default) => Delete("infrastructure configuration", arn);

        public override Task DeleteDistributionConfigurationAsync(string arn, CancellationToken cancellationToken = default) => Delete("distribution configuration", arn);

        private Task<IReadOnlyList<T>> Listed<T>(string operation)
        {
            Calls.Add(operation);
            return Task.FromResult<IReadOnlyList<T>>([]);
        }

        private Task<string> Create(string operation, string kind, string path)
        {
            Calls.Add(operation);
            OnCreate?.Invoke(kind);
            if (operation == FailOn)
            {
                throw Failure ?? new WinEksPatchException(ErrorIds.AwsAccessDenied, ErrorKind.PermissionDenied,
                    $"{operation} failed: not authorized. (AWS error AccessDeniedException, request id r)", null);
            }

            var arn = $"arn:aws:imagebuilder:{Region}:111122223333:{path}";
            if (kind != "image")
            {
                Created.Add((kind, arn));
                Live.Add(arn);
            }

            return Task.FromResult(arn);
        }

        private Task Delete(string kind, string arn)
        {
            Calls.Add("Delete " + arn);
            if (kind == FailDeleteOf)
            {
                throw new WinEksPatchException(ErrorIds.AwsServiceError, ErrorKind.InvalidOperation, $"Delete failed: InternalFailure for {arn}.", arn);
            }

            Assert.True(Live.Remove(arn), $"{arn} was not created by this run");
            return Task.CompletedTask;
        }
    }
}
