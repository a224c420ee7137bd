namespace WinEksPatch.Abstractions;

/// <summary>IAM, read only: what the policy generator needs to name the roles a rollout passes.</summary>
public interface IIamApi
{
    /// <summary>The ARNs of the roles in an instance profile (GetInstanceProfile), given by name or ARN.</summary>
    Task<IReadOnlyList<string>> GetInstanceProfileRoleArnsAsync(string instanceProfile, CancellationToken cancellationToken = default);
}
