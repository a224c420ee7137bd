using System.Runtime.CompilerServices;

namespace WinEksPatch.Tests.Infrastructure;

/// <summary>
/// Points the AWS SDK at config and credentials files of the test run's own, before any test runs: the SDK reads the
/// shared config once per process (the first client constructed fixes the path), and the machine's ~/.aws must never
/// leak into tests.
/// </summary>
public static class TestAwsFiles
{
    public static string Directory { get; private set; } = "";

    [ModuleInitializer]
    internal static void Initialize()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("wineks-aws-").FullName;
        File.WriteAllText(Path.Combine(Directory, "config"), """
            [profile sandbox]
            region = eu-central-1
            [profile noregion]
            output = json
            [profile typo-region]
            region = eu-centrall-1
            [profile assumer]
            role_arn = arn:aws:iam::111122223333:role/WinEksPatcher
            source_profile = sandbox
            role_session_name = winekspatch-test
            region = us-west-2
            [profile sso-admin]
            sso_session = corp
            sso_account_id = 111122223333
            sso_role_name = PatchAdmin
            region = us-west-2
            [sso-session corp]
            sso_start_url = https://corp.awsapps.com/start
            sso_region = us-west-2
            """);
        File.WriteAllText(Path.Combine(Directory, "credentials"), """
            [sandbox]
            aws_access_key_id = AKIDSANDBOX
            aws_secret_access_key = sandbox-secret
            [noregion]
            aws_access_key_id = AKIDNOREGION
            aws_secret_access_key = noregion-secret
            [typo-region]
            aws_access_key_id = AKIDTYPO
            aws_secret_access_key = typo-secret
            """);
        Environment.SetEnvironmentVariable("AWS_CONFIG_FILE", Path.Combine(Directory, "config"));
        Environment.SetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE", Path.Combine(Directory, "credentials"));
        Environment.SetEnvironmentVariable("AWS_PROFILE", null);
        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL", null);
    }
}
