using System.Text.Json.Serialization;

namespace WinEksPatch.Registry;

/// <summary>Media types of the OCI image spec and Docker's distribution v2 schema 2.</summary>
public static class MediaTypes
{
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

    /// <summary>What the module asks a registry's manifest endpoint for, in order of preference.</summary>
    public static readonly string[] ManifestAccept = [OciIndex, DockerManifestList, OciManifest, DockerManifest];

    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerManifestList;
}

/// <summary>A content descriptor (manifest entry, config, layer).</summary>
public sealed record OciDescriptor(
    [property: JsonPropertyName("mediaType")] string? MediaType,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("platform")] OciPlatform? Platform = null,
    [property: JsonPropertyName("urls")] IReadOnlyList<string>? Urls = null);

public sealed record OciPlatform(
    [property: JsonPropertyName("os")] string? Os,
    [property: JsonPropertyName("architecture")] string? Architecture,
    [property: JsonPropertyName("os.version")] string? OsVersion);

/// <summary>An image index / manifest list, or an image manifest: whichever the registry returned.</summary>
public sealed record OciManifestDocument(
    [property: JsonPropertyName("schemaVersion")] int SchemaVersion,
    [property: JsonPropertyName("mediaType")] string? MediaType,
    [property: JsonPropertyName("manifests")] IReadOnlyList<OciDescriptor>? Manifests,
    [property: JsonPropertyName("config")] OciDescriptor? Config,
    [property: JsonPropertyName("layers")] IReadOnlyList<OciDescriptor>? Layers);

/// <summary>The parts of an image configuration the module reads.</summary>
public sealed record OciImageConfig(
    [property: JsonPropertyName("os")] string? Os,
    [property: JsonPropertyName("os.version")] string? OsVersion,
    [property: JsonPropertyName("architecture")] string? Architecture);

/// <summary>A manifest as fetched: the document, its digest and media type.</summary>
public sealed record FetchedManifest(OciManifestDocument Document, string Digest, string MediaType);
