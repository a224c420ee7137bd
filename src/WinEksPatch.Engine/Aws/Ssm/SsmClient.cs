using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using WinEksPatch.Abstractions;

namespace WinEksPatch.Aws.Ssm;

/// <summary><see cref="ISsmApi"/> over the official AWSSDK.SimpleSystemsManagement client.</summary>
public sealed class SsmClient(IAmazonSimpleSystemsManagement ssm) : ISsmApi
{
    public async Task<SsmParameter?> GetParameterAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await AwsErrorTranslator.CallAsync("GetParameter", name,
                () => ssm.GetParameterAsync(new GetParameterRequest { Name = name }, cancellationToken)).ConfigureAwait(false);
            return ToParameter(response.Parameter);
        }
        catch (Errors.WinEksPatchException ex) when (ex.AwsErrorCode == "ParameterNotFound")
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<SsmParameter>> GetParametersByPathAsync(string path, bool recursive, CancellationToken cancellationToken = default)
    {
        var result = new List<SsmParameter>();
        var request = new GetParametersByPathRequest { Path = path, Recursive = recursive, MaxResults = 10 };
        do
        {
            var response = await AwsErrorTranslator.CallAsync("GetParametersByPath", path,
                () => ssm.GetParametersByPathAsync(request, cancellationToken)).ConfigureAwait(false);
            result.AddRange((response.Parameters ?? []).Select(ToParameter));
            request.NextToken = response.NextToken;
        }
        while (!string.IsNullOrEmpty(request.NextToken));
        return result;
    }

    private static SsmParameter ToParameter(Parameter p) => new(p.Name, p.Value,
        p.LastModifiedDate is { } modified ? new DateTimeOffset(DateTime.SpecifyKind(modified, DateTimeKind.Utc)) : null);
}
