using System.Security.Cryptography;
using System.Text;
using WinEksPatch.Abstractions;
using WinEksPatch.Model;
using WinEksPatch.Registry;
using WinEksPatch.Tests.Infrastructure;
using WinEksPatch.Tests.Workflows;
using WinEksPatch.Workflows.AmiBuild;

namespace WinEksPatch.Tests.AmiBuild;

/// <summary>
/// The plan New-WinNodeAmi -WhatIf writes is the plan a run executes: planned against an Image Builder account that keeps
/// what is created in it, then executed, the creations are exactly the plan's resources with the plan's versions, the build
/// uses the ARNs it reuses, and the execution asks Image Builder nothing but the creations (nothing is planned again).
/// </summary>
public class AmiBuildPlanTests
{
    private const string WebIis = "111122223333.dkr.ecr.us-west-2.amazonaws.com/shop/web-iis:2026.06.1";
    private const string Orders = "111122223333.dkr.ecr.us-west-2.amazonaws.com/shop/orders:5.1.0";

    [Fact]
    public async Task WhatIf_writes_the_typed_plan_whose_text_is_the_What_if_text_and_creates_nothing()
    {
        var (builder, account) = Builder();
        var host = new RecordingHost { AnswerShouldProcess = false };

        await builder.RunAsync(Options(WebIis) with { WritePlan = true }, host);

        var plan = Assert.IsType<WinNodeAmiBuildPlan>(Assert.Single(host.Outputs));
        Assert.Equal([plan.ToString()], host.Plans);
        Assert.DoesNotContain(account.Calls, c => c.StartsWith("Create", StringComparison.Ordinal));
        Assert.Equal(("demo", "us-west-2", "1.31", "2022", "Core"), (plan.ClusterName, plan.Region, plan.KubernetesVersion, plan.WindowsVersion, plan.Edition));
        Assert.Equal("ami-0123456789abcdef0", plan.ParentImageId);
        Assert.NotNull(plan.OsBuild);
        Assert.Contains(WebIis, plan.CachedImages);
        var cached = Assert.Single(plan.CacheImages);
        Assert.Equal((WebIis, Registry.DigestOf(WebIis), Registry.BytesOnDisk), (cached.Image, cached.Digest, cached.SizeOnDisk));
        Assert.True(plan.RootVolumeGiB > CacheSizing.BaseVolumeGiB && plan.RootVolumeGiB % 5 == 0, $"root volume {plan.RootVolumeGiB} GiB");
        Assert.Equal(["Component", "ImageRecipe", "InfrastructureConfiguration", "DistributionConfiguration"], plan.Resources.Select(r => r.Kind));
        Assert.All(plan.Resources, r => Assert.Equal("Create", r.Action));
        Assert.All(plan.Resources, r => Assert.Contains(r.ToString(), plan.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_WritePlan_WhatIf_writes_only_the_text()
    {
        var host = new RecordingHost { AnswerShouldProcess = false };

        await Builder().Builder.RunAsync(Options(WebIis), host);

        Assert.Empty(host.Outputs);
        Assert.Single(host.Plans);
    }

    [Fact]
    public async Task A_run_creates_exactly_the_planned_resources_with_the_planned_versions_in_an_empty_account()
    {
        var (builder, account) = Builder();

        var plan = await builder.PlanAsync(Options(WebIis), new RecordingHost());
        await builder.ExecuteAsync(plan, new RecordingHost());

        AssertExecuted(plan.Summary, account);
    }

    [Fact]
    public async Task A_run_after_another_reuses_the_ARNs_the_plan_lists_and_creates_the_versions_it_lists()
    {
        var (builder, account) = Builder();
        var first = await builder.PlanAsync(Options(WebIis), new RecordingHost());
        await builder.ExecuteAsync(first, new RecordingHost());
        account.Reset();

        var second = await builder.PlanAsync(Options(WebIis, Orders), new RecordingHost());
        await builder.ExecuteAsync(second, new RecordingHost());

        // Another image to cache: the component and recipe get versions after the first run's, the build instances are the
        // same, and the distribution (other tags) is one of its own.
        Assert.Equal(["CreateVersion", "CreateVersion", "Reuse", "Create"], second.Summary.Resources.Select(r => r.Action));
        var reused = second.Summary.Resource(AmiBuildResourceKind.InfrastructureConfiguration);
        Assert.Equal(account.Live.Single(r => r.Name == reused.Name).Arn, reused.Arn);
        foreach (var kind in new[] { AmiBuildResourceKind.Component, AmiBuildResourceKind.ImageRecipe })
        {
            Assert.Equal(AmiBuilder.Bump(first.Summary.Resource(kind).Version), second.Summary.Resource(kind).Version);
        }

        AssertExecuted(second.Summary, account);
    }

    [Fact]
    public async Task The_run_executes_its_plan_as_it_is_without_planning_again()
    {
        var (builder, account) = Builder();
        var plan = await builder.PlanAsync(Options(WebIis), new RecordingHost());
        account.Reset();

        await builder.ExecuteAsync(plan, new RecordingHost());

        Assert.All(account.Calls, c => Assert.StartsWith("Create", c, StringComparison.Ordinal));
        AssertExecuted(plan.Summary, account);
    }

    /// <summary>The account's creations since its last reset are the plan's Create and CreateVersion resources, with their
    /// names and versions, and the build was started from the ARNs the plan reuses and those just created.</summary>
    private static void AssertExecuted(WinNodeAmiBuildPlan plan, ImageBuilderAccount account)
    {
        var toCreate = plan.Resources.Where(r => r.Action != "Reuse").Select(r => (r.Kind, r.Name, r.Version)).ToList();
        Assert.Equal(toCreate.OrderBy(r => r.Kind), account.Created.Select(c => (c.Kind, c.Name, c.Version)).OrderBy(r => r.Kind));
        var build = Assert.Single(account.Builds);
        string ArnOf(AmiBuildResourceKind kind) => plan.Resource(kind).Arn ?? account.Created.Single(c => c.Kind == kind.ToString()).Arn;
        Assert.Equal(ArnOf(AmiBuildResourceKind.ImageRecipe), build.ImageRecipeArn);
        Assert.Equal(ArnOf(AmiBuildResourceKind.InfrastructureConfiguration), build.InfrastructureConfigurationArn);
        Assert.Equal(ArnOf(AmiBuildResourceKind.DistributionConfiguration), build.DistributionConfigurationArn);
        var recipe = account.Live.Single(r => r.Arn == build.ImageRecipeArn).Recipe!;
        Assert.Contains(ArnOf(AmiBuildResourceKind.Component), recipe.Components);
        Assert.Equal(plan.RootVolumeGiB, Assert.Single(recipe.BlockDevices).VolumeSize);
    }

    private static (AmiBuilder Builder, ImageBuilderAccount Account) Builder()
    {
        var account = new ImageBuilderAccount();
        return (AmiBuilderTests.World.WithParent().Builder(account, new Registry()), account);
    }

    private static AmiBuildOptions Options(params string[] images) =>
        new() { ClusterName = "demo", WindowsVersion = "2022", Edition = "Core", NoWait = true, CacheImages = images };

    /// <summary>Every image is a Windows Server 2022 image of one 2 GB layer, its digest derived from its name.</summary>
    private sealed class Registry : ICacheImageResolver
    {
        public const long BytesOnDisk = 2_000_000_000;

        public static string DigestOf(string image) => "sha256:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(image))).ToLowerInvariant();

        public Task<CacheImageFacts> ResolveAsync(ImageReference image, int? windowsBuild, CancellationToken cancellationToken) =>
            Task.FromResult(new CacheImageFacts(DigestOf(image.ToString()), "10.0.20348.2849", [new ImageLayer(DigestOf("layer of " + image), 700_000_000, BytesOnDisk)]));
    }

    /// <summary>An Image Builder account that keeps what is created in it and answers lists and reads from that.</summary>
    private sealed class ImageBuilderAccount : ImageBuilderApiStub
    {
        public sealed record Resource(string Kind, string Name, string? Version, string Arn, string? Data = null, ImageRecipeSpec? Recipe = null,
            InfrastructureSpec? Infrastructure = null, DistributionSpec? Distribution = null);

        public List<Resource> Live { get; } = [];

        public List<Resource> Created { get; } = [];

        public List<ImageBuildRequest> Builds { get; } = [];

        public List<string> Calls { get; } = [];

        public void Reset()
        {
            Created.Clear();
            Builds.Clear();
            Calls.Clear();
        }

        public override Task<IReadOnlyList<ImageBuilderVersion>> ListComponentsAsync(string name, CancellationToken cancellationToken = default) =>
            Versions("ListComponents", "Component", name, r => r.Arn[..r.Arn.LastIndexOf('/')]);

        public override Task<IReadOnlyList<string>> ListComponentBuildVersionsAsync(string componentVersionArn, CancellationToken cancellationToken = default) =>
            Answer<IReadOnlyList<string>>("ListComponentBuildVersions", [.. Live.Where(r => r.Arn.StartsWith(componentVersionArn + "/", StringComparison.Ordinal)).Select(r => r.Arn)]);

        public override Task<ImageBuilderComponent> GetComponentAsync(string componentArn, CancellationToken cancellationToken = default) =>
            Answer("GetComponent", Live.Single(r => r.Arn == componentArn) is var c ? new ImageBuilderComponent(c.Arn, c.Name, c.Version, "Windows", "Self", c.Data) : null!);

        public override Task<string> CreateComponentAsync(ComponentSpec spec, CancellationToken cancellationToken = default) =>
            Create("CreateComponent", new Resource("Component", spec.Name, spec.SemanticVersion, Arn($"component/{spec.Name}/{spec.SemanticVersion}/1"), Data: spec.Data));

        public override Task<IReadOnlyList<ImageBuilderVersion>> ListImageRecipesAsync(string name, CancellationToken cancellationToken = default) =>
            Versions("ListImageRecipes", "ImageRecipe", name, r => r.Arn);

        public override Task<ImageRecipeSpec> GetImageRecipeAsync(string imageRecipeArn, CancellationToken cancellationToken = default) =>
            Answer("GetImageRecipe", Live.Single(r => r.Arn == imageRecipeArn).Recipe!);

        public override Task<string> CreateImageRecipeAsync(ImageRecipeSpec spec, CancellationToken cancellationToken = default)
        {
            var arn = Arn($"image-recipe/{spec.Name}/{spec.SemanticVersion}");
            return Create("CreateImageRecipe", new Resource("ImageRecipe", spec.Name, spec.SemanticVersion, arn, Recipe: spec with { Arn = arn }));
        }

        public override Task<IReadOnlyList<string>> ListInfrastructureConfigurationsAsync(string name, CancellationToken cancellationToken = default) =>
            Named("ListInfrastructureConfigurations", "InfrastructureConfiguration", name);

        public override Task<InfrastructureSpec> GetInfrastructureConfigurationAsync(string arn, CancellationToken cancellationToken = default) =>
            Answer("GetInfrastructureConfiguration", Live.Single(r => r.Arn == arn).Infrastructure!);

        public override Task<string> CreateInfrastructureConfigurationAsync(InfrastructureSpec spec, CancellationToken cancellationToken = default) =>
            Create("CreateInfrastructureConfiguration", new Resource("InfrastructureConfiguration", spec.Name, null, Arn($"infrastructure-configuration/{spec.Name}"),
                Infrastructure: spec));

        public override Task<IReadOnlyList<string>> ListDistributionConfigurationsAsync(string name, CancellationToken cancellationToken = default) =>
            Named("ListDistributionConfigurations", "DistributionConfiguration", name);

        public override Task<DistributionSpec> GetDistributionConfigurationAsync(string arn, CancellationToken cancellationToken = default) =>
            Answer("GetDistributionConfiguration", Live.Single(r => r.Arn == arn).Distribution!);

        public override Task<string> CreateDistributionConfigurationAsync(DistributionSpec spec, CancellationToken cancellationToken = default) =>
            Create("CreateDistributionConfiguration", new Resource("DistributionConfiguration", spec.Name, null, Arn($"distribution-configuration/{spec.Name}"),
                Distribution: spec));

        public override Task<string> CreateImageAsync(ImageBuildRequest request, CancellationToken cancellationToken = default)
        {
            Calls.Add("CreateImage");
            Builds.Add(request);
            return Task.FromResult(Arn($"image/x/1.0.0/{Builds.Count}"));
        }

        private static string Arn(string path) => $"arn:aws:imagebuilder:us-west-2:111122223333:{path.ToLowerInvariant()}";

        private Task<T> Answer<T>(string operation, T answer)
        {
            Calls.Add(operation);
            return Task.FromResult(answer);
        }

        private Task<IReadOnlyList<ImageBuilderVersion>> Versions(string operation, string kind, string name, Func<Resource, string> versionArn) =>
            Answer<IReadOnlyList<ImageBuilderVersion>>(operation, [.. Live.Where(r => r.Kind == kind && r.Name == name).Select(r => new ImageBuilderVersion(versionArn(r), r.Name, r.Version))]);

        private Task<IReadOnlyList<string>> Named(string operation, string kind, string name) =>
            Answer<IReadOnlyList<string>>(operation, [.. Live.Where(r => r.Kind == kind && r.Name == name).Select(r => r.Arn)]);

        private Task<string> Create(string operation, Resource resource)
        {
            Calls.Add(operation);
            Assert.DoesNotContain(Live, r => r.Arn == resource.Arn); // Image Builder refuses a version that exists
            Live.Add(resource);
            Created.Add(resource);
            return Task.FromResult(resource.Arn);
        }
    }
}
