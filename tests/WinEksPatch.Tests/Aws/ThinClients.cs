using Amazon;
using Amazon.Runtime;
using WinEksPatch.Aws.AutoScaling;
using WinEksPatch.Aws.Ecr;
using WinEksPatch.Aws.Eks;
using WinEksPatch.Aws.Thin;
using WinEksPatch.Tests.Infrastructure;

namespace WinEksPatch.Tests.Aws;

/// <summary>Test credentials: fixed, fake, used only against loopback servers.</summary>
public static class TestCredentials
{
    public const string AccessKey = "AKIDEXAMPLE";
    public const string SecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    public static readonly BasicAWSCredentials Basic = new(AccessKey, SecretKey);

    public static ThinServiceClient Client(ThinServiceDescriptor service, string url)
    {
        var config = new ThinClientConfig(service)
        {
            ServiceURL = url,
            AuthenticationRegion = "us-west-2",
        };
        return new ThinServiceClient(Basic, config);
    }

    public static EksClient Eks(string url) => new(Client(ThinServiceDescriptor.Eks, url));

    public static AutoScalingClient AutoScaling(string url) => new(Client(ThinServiceDescriptor.AutoScaling, url));

    public static EcrClient Ecr(string url) => new(Client(ThinServiceDescriptor.Ecr, url));
}
