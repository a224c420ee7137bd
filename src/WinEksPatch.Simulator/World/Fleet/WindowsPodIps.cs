namespace WinEksPatch.Simulator.World;

/// <summary>
/// Windows pod networking on EKS: pods take secondary IPv4 addresses of the node's primary network interface only, so a
/// Windows node holds (IPv4 addresses per interface − 1) pods, advertised as an extended resource.
/// </summary>
public static class WindowsPodIps
{
    /// <summary>The extended resource the VPC resource controller advertises and the admission webhook has Windows pods request.</summary>
    public const string ResourceName = "vpc.amazonaws.com/PrivateIPv4Address";

    /// <summary>Secondary IPv4 addresses of the primary interface, by size (the m5 family's figures).</summary>
    public static string For(string instanceType) => instanceType.Split('.').LastOrDefault() switch
    {
        "large" => "9",
        "xlarge" or "2xlarge" => "14",
        _ => "29",
    };
}
