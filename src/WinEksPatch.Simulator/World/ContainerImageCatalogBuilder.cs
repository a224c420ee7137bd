using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WinEksPatch.Simulator.Scenarios;

namespace WinEksPatch.Simulator.World;

/// <summary>
/// Builds the container image catalogue from scenario data: the monthly Windows base images (one per build of the
/// patch calendar), the images built on them, their registries, and the images each EKS-optimized Windows AMI
/// caches. Manifests and configs are real JSON with real sha256 digests; layer digests are derived from names.
/// </summary>
public sealed class ContainerImageCatalogBuilder
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    private readonly SimWorld _world;
    private readonly PatchCalendar _calendar;
    private readonly DateOnly _lastMonth;
    /// <summary>(family repository, Windows Server) → its images by patch month, oldest first.</summary>
    private readonly Dictionary<(string Repository, string Server), List<(WindowsBuild Build, PlatformImage Image)>> _families = [];

    private ContainerImageCatalogBuilder(SimWorld world, PatchCalendar calendar, DateOnly lastMonth)
    {
        _world = world;
        _calendar = calendar;
        _lastMonth = lastMonth;
    }

    /// <summary>Reads a shipped catalogue (Scenarios/data/&lt;name&gt;.json) or a catalogue file by path.</summary>
    public static ContainerImageCatalogDefinition ReadCatalog(string nameOrPath)
    {
        string path = File.Exists(nameOrPath) ? nameOrPath : Path.Combine(ScenarioLoader.ScenarioDirectory, "data", nameOrPath + ".json");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No container image catalogue '{nameOrPath}'.", path);
        }

        return JsonSerializer.Deserialize<ContainerImageCatalogDefinition>(File.ReadAllText(path), JsonOptions)
            ?? throw new InvalidDataException($"The container image catalogue '{path}' is empty.");
    }

    /// <summary>
    /// Fills the world's registries from the scenario's catalogue (default: the shipped "container-images") and
    /// records the cached images of every EKS-optimized Windows AMI already in the world. Called with Gate held,
    /// after the AMI catalogue is loaded.
    /// </summary>
    public static void Load(SimWorld world, ScenarioDefinition scenario, PatchCalendar calendar)
    {
        ContainerImageCatalogDefinition own = scenario.ContainerImages ?? new ContainerImageCatalogDefinition { Include = ["container-images"] };
        var parts = own.Include.Select(ReadCatalog).Append(own).ToList();
        var merged = new ContainerImageCatalogDefinition
        {
            Registries = [.. parts.SelectMany(p => p.Registries)],
            BaseImages = [.. parts.SelectMany(p => p.BaseImages)],
            Images = [.. parts.SelectMany(p => p.Images)],
            EksAmiCache = new EksAmiCacheDefinition
            {
                BaseImages = [.. parts.SelectMany(p => p.EksAmiCache.BaseImages).Distinct(StringComparer.Ordinal)],
                Images = [.. parts.SelectMany(p => p.EksAmiCache.Images).Distinct(StringComparer.Ordinal)],
            },
        };

        DateOnly start = DateOnly.FromDateTime(world.Clock.GetUtcNow().UtcDateTime);
        DateOnly last = scenario.AmiCatalog.LastMonth is { } lastText
            ? ParseMonth(lastText)
            : calendar.Builds.Where(b => b.ReleaseDate <= start).Select(b => b.PatchMonth).DefaultIfEmpty(start).Max();
        var builder = new ContainerImageCatalogBuilder(world, calendar, last);
        builder.Build(merged);
        world.InitializeImageBuilder(scenario.InstanceProfiles);
    }

    private void Build(ContainerImageCatalogDefinition def)
    {
        foreach (RegistryDefinition r in def.Registries)
        {
            RegistryAuth auth = r.Auth.ToLowerInvariant() switch
            {
                "anonymous" or "none" => RegistryAuth.Anonymous,
                "bearer" => RegistryAuth.Bearer,
                "ecr" => RegistryAuth.Ecr,
                _ => throw new InvalidDataException($"Registry '{r.Host}': auth must be anonymous, bearer or ecr, not '{r.Auth}'."),
            };
            _world.ContainerRegistries[r.Host] = new ContainerRegistry { Host = r.Host, Auth = auth };
        }

        foreach (BaseImageFamilyDefinition family in def.BaseImages)
        {
            AddBaseFamily(family);
        }

        foreach (ContainerImageDefinition image in def.Images)
        {
            AddImage(image);
        }

        foreach (AmiImage ami in _world.Images.Values.Where(i => i.OsFamily == "windows" && i.OwnerId == ScenarioLoader.WindowsAmiOwner))
        {
            _world.AmiCachedImages[ami.ImageId] = EksAmiCache(def.EksAmiCache, ami);
        }
    }

    private List<CachedContainerImage> EksAmiCache(EksAmiCacheDefinition cache, AmiImage ami)
    {
        var cached = new List<CachedContainerImage>();
        foreach (string repository in cache.BaseImages)
        {
            if (_families.TryGetValue((repository, ami.WindowsServer ?? ""), out var builds)
                && builds.LastOrDefault(b => b.Build.PatchMonth <= ami.PatchMonth) is { Image: not null } match)
            {
                cached.Add(new CachedContainerImage($"{repository}:{match.Build.OsVersion}", match.Image.Digest));
            }
        }

        foreach (string reference in cache.Images)
        {
            if (ImageReference.TryParse(reference, out ImageReference? parsed)
                && _world.ResolveImage(parsed) is { } resolved
                && SimWorld.SelectPlatform(resolved, "windows", ami.OsVersion) is { } platform)
            {
                cached.Add(new CachedContainerImage(reference, platform.Digest));
            }
        }

        return cached;
    }

    private void AddBaseFamily(BaseImageFamilyDefinition family)
    {
        DateOnly anchor = ParseMonth(family.AnchorMonth);
        bool oci = IsOci(family.ManifestFormat, family.Repository);
        ContainerRepository repository = Repository(family.Repository);
        var images = new List<(WindowsBuild, PlatformImage)>();
        foreach (WindowsBuild build in _calendar.For(family.WindowsServer).Where(b => b.PatchMonth <= _lastMonth))
        {
            int monthsFromAnchor = ((build.PatchMonth.Year - anchor.Year) * 12) + build.PatchMonth.Month - anchor.Month;
            var layers = family.Layers.Select(l =>
            {
                string seed = l.PerMonth ? $"{family.Repository}/{family.WindowsServer}/{l.Name}/{build.OsVersion}" : $"{family.Repository}/{family.WindowsServer}/{l.Name}";
                return new OciLayer
                {
                    Digest = Digest("layer/" + seed),
                    DiffId = Digest("diff/" + seed),
                    Size = l.PerMonth ? l.Size + (l.MonthlySizeGrowth * monthsFromAnchor) : l.Size,
                    UncompressedSize = l.PerMonth ? l.UncompressedSize + (l.MonthlyUncompressedGrowth * monthsFromAnchor) : l.UncompressedSize,
                    Foreign = l.Foreign,
                    SourceRepository = family.Repository,
                    Description = $"{family.Repository} {(l.PerMonth ? build.OsVersion : "ltsc" + family.WindowsServer)} {l.Name}",
                };
            }).ToList();

            DateTimeOffset created = build.ReleaseDate.ToDateTime(new TimeOnly(17, 0), DateTimeKind.Utc);
            PlatformImage image = CreatePlatformImage(oci, "windows", "amd64", build.OsVersion, layers, created, null, 0);
            ImageIndex index = CreateIndex(oci, [image]);
            Store(repository, index, created);
            repository.Tags[build.OsVersion] = index.Digest;
            images.Add((build, image));
        }

        if (images.Count > 0)
        {
            repository.Tags[family.Tag] = repository.Tags[images[^1].Item1.OsVersion];
        }

        _families[(family.Repository, family.WindowsServer)] = images;
    }

    private void AddImage(ContainerImageDefinition def)
    {
        bool oci = IsOci(def.ManifestFormat, def.Repository);
        ContainerRepository repository = Repository(def.Repository);
        var platforms = new List<PlatformImage>();
        DateTimeOffset pushed = def.PushedAt ?? _world.Clock.GetUtcNow();
        foreach (PlatformImageDefinition p in def.Platforms)
        {
            var layers = new List<OciLayer>();
            string? baseReference = null;
            string? osVersion = null;
            if (p.Base is not null)
            {
                (WindowsBuild build, PlatformImage baseImage) = FindBase(def.Repository, p);
                layers.AddRange(baseImage.Layers);
                baseReference = $"{p.Base}:{build.OsVersion}";
                osVersion = build.OsVersion;
            }

            int baseCount = layers.Count;
            foreach (LayerDefinition l in p.Layers)
            {
                string seed = $"{def.Repository}/{p.Os}/{p.WindowsServer}/{osVersion}/{l.Name}";
                layers.Add(new OciLayer
                {
                    Digest = Digest("layer/" + seed),
                    DiffId = Digest("diff/" + seed),
                    Size = l.Size,
                    UncompressedSize = l.UncompressedSize,
                    Foreign = l.Foreign,
                    SourceRepository = def.Repository,
                    Description = $"{def.Repository} {l.Name}",
                });
            }

            platforms.Add(CreatePlatformImage(oci, p.Os, p.Architecture, osVersion, layers, pushed, baseReference, baseCount));
        }

        ImageIndex index = CreateIndex(oci, platforms);
        Store(repository, index, pushed);
        foreach (string tag in def.Tags)
        {
            repository.Tags[tag] = index.Digest;
        }
    }

    private (WindowsBuild Build, PlatformImage Image) FindBase(string repository, PlatformImageDefinition p)
    {
        if (!_families.TryGetValue((p.Base!, p.WindowsServer ?? ""), out var builds) || builds.Count == 0)
        {
            throw new InvalidDataException($"Image '{repository}': no base image family '{p.Base}' for Windows Server {p.WindowsServer}.");
        }

        if (p.BaseMonth is not null)
        {
            DateOnly month = ParseMonth(p.BaseMonth);
            return builds.LastOrDefault(b => b.Build.PatchMonth <= month) is { Image: not null } hit ? hit
                : throw new InvalidDataException($"Image '{repository}': no {p.Base} build for Windows Server {p.WindowsServer} in or before {p.BaseMonth}.");
        }

        return builds[Math.Max(0, builds.Count - 1 - p.BaseMonthsBehind)];
    }

    private ContainerRepository Repository(string fullName)
    {
        int slash = fullName.IndexOf('/', StringComparison.Ordinal);
        string host = slash < 0 ? throw new InvalidDataException($"Repository '{fullName}' must start with a registry host.") : fullName[..slash];
        ContainerRegistry registry = _world.ContainerRegistries.GetValueOrDefault(host)
            ?? throw new InvalidDataException($"Repository '{fullName}': the catalogue declares no registry '{host}'.");
        string name = fullName[(slash + 1)..];
        if (!registry.Repositories.TryGetValue(name, out ContainerRepository? repository))
        {
            repository = new ContainerRepository { RegistryHost = host, Name = name, CreatedAt = _world.Clock.GetUtcNow() };
            registry.Repositories[name] = repository;
        }

        return repository;
    }

    private void Store(ContainerRepository repository, ImageIndex index, DateTimeOffset pushed)
    {
        repository.Indexes[index.Digest] = index;
        repository.PushedAt[index.Digest] = pushed;
        if (pushed < repository.CreatedAt)
        {
            repository.CreatedAt = pushed;
        }

        foreach (PlatformImage image in index.Manifests)
        {
            repository.Manifests[image.Digest] = image;
            repository.PushedAt[image.Digest] = pushed;
            repository.Configs[image.ConfigDigest] = image.ConfigBytes;
            _world.ManifestsByDigest[image.Digest] = image;
            foreach (OciLayer layer in image.Layers.Where(l => l.SourceRepository == repository.FullName))
            {
                repository.Layers[layer.Digest] = layer;
            }
        }
    }

    private static PlatformImage CreatePlatformImage(bool oci, string os, string architecture, string? osVersion, List<OciLayer> layers,
        DateTimeOffset created, string? baseReference, int baseLayerCount)
    {
        byte[] config = Json(w =>
        {
            w.WriteString("architecture", architecture);
            w.WriteString("os", os);
            if (osVersion is not null)
            {
                w.WriteString("os.version", osVersion);
            }

            w.WriteString("created", created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            w.WriteStartObject("config");
            w.WriteStartArray("Cmd");
            w.WriteStringValue(os == "windows" ? "c:\\windows\\system32\\cmd.exe" : "/pause");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartObject("rootfs");
            w.WriteString("type", "layers");
            w.WriteStartArray("diff_ids");
            foreach (OciLayer l in layers)
            {
                w.WriteStringValue(l.DiffId);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
        string configDigest = Sha256(config);
        string mediaType = oci ? OciMediaTypes.OciManifest : OciMediaTypes.DockerManifest;
        byte[] manifest = Json(w =>
        {
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", mediaType);
            w.WriteStartObject("config");
            w.WriteString("mediaType", oci ? OciMediaTypes.OciConfig : OciMediaTypes.DockerConfig);
            w.WriteNumber("size", config.Length);
            w.WriteString("digest", configDigest);
            w.WriteEndObject();
            w.WriteStartArray("layers");
            foreach (OciLayer l in layers)
            {
                w.WriteStartObject();
                w.WriteString("mediaType", l.MediaType(oci));
                w.WriteNumber("size", l.Size);
                w.WriteString("digest", l.Digest);
                if (l.Foreign)
                {
                    // Where a client fetches a non-distributable layer: the base image's own registry.
                    int slash = l.SourceRepository.IndexOf('/', StringComparison.Ordinal);
                    w.WriteStartArray("urls");
                    w.WriteStringValue($"https://{l.SourceRepository[..slash]}/v2/{l.SourceRepository[(slash + 1)..]}/blobs/{l.Digest}");
                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        });

        return new PlatformImage
        {
            Digest = Sha256(manifest),
            MediaType = mediaType,
            ManifestBytes = manifest,
            ConfigDigest = configDigest,
            ConfigBytes = config,
            Os = os,
            OsVersion = osVersion,
            Architecture = architecture,
            Layers = layers,
            BaseReference = baseReference,
            BaseLayerCount = baseLayerCount,
        };
    }

    private static ImageIndex CreateIndex(bool oci, List<PlatformImage> manifests)
    {
        string mediaType = oci ? OciMediaTypes.OciIndex : OciMediaTypes.DockerManifestList;
        byte[] bytes = Json(w =>
        {
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", mediaType);
            w.WriteStartArray("manifests");
            foreach (PlatformImage m in manifests)
            {
                w.WriteStartObject();
                w.WriteString("mediaType", m.MediaType);
                w.WriteNumber("size", m.ManifestBytes.Length);
                w.WriteString("digest", m.Digest);
                w.WriteStartObject("platform");
                w.WriteString("architecture", m.Architecture);
                w.WriteString("os", m.Os);
                if (m.OsVersion is not null)
                {
                    w.WriteString("os.version", m.OsVersion);
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
        return new ImageIndex { Digest = Sha256(bytes), MediaType = mediaType, Bytes = bytes, Manifests = manifests };
    }

    private static bool IsOci(string format, string repository) => format.ToLowerInvariant() switch
    {
        "oci" => true,
        "docker" => false,
        _ => throw new InvalidDataException($"Image '{repository}': manifestFormat must be oci or docker, not '{format}'."),
    };

    private static byte[] Json(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return stream.ToArray();
    }

    public static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    private static string Digest(string seed) => Sha256(Encoding.UTF8.GetBytes(seed));

    private static DateOnly ParseMonth(string yyyyMm) => DateOnly.ParseExact(yyyyMm + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture);
}
