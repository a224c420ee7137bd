namespace WinEksPatch.Abstractions;

/// <summary>The SSM Parameter Store reads the module uses (the public EKS-optimized AMI parameters).</summary>
public interface ISsmApi
{
    /// <summary>The parameter's value, or null when it does not exist.</summary>
    Task<SsmParameter?> GetParameterAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Every parameter under a path (all pages).</summary>
    Task<IReadOnlyList<SsmParameter>> GetParametersByPathAsync(string path, bool recursive, CancellationToken cancellationToken = default);
}

public sealed record SsmParameter(string Name, string Value, DateTimeOffset? LastModified);
