namespace WinEksPatch.Aws;

/// <summary>The AWS partition a region belongs to: aws-cn for cn-*, aws-us-gov for us-gov-*, aws for the rest.</summary>
public static class AwsPartition
{
    public const string China = "aws-cn";
    public const string GovCloud = "aws-us-gov";
    public const string Commercial = "aws";

    public static string Of(string? region) =>
        region?.StartsWith("cn-", StringComparison.Ordinal) == true ? China
        : region?.StartsWith("us-gov-", StringComparison.Ordinal) == true ? GovCloud
        : Commercial;

    /// <summary>The DNS suffix of the region's regional endpoints (amazonaws.com.cn in China).</summary>
    public static string DnsSuffix(string region) => Of(region) == China ? "amazonaws.com.cn" : "amazonaws.com";
}
