using WinEksPatch.Errors;
using WinEksPatch.Kubernetes;

namespace WinEksPatch.Tests.Kubernetes;

public sealed class KubeConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wineks-kubeconfig-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string text)
    {
        var path = Path.Combine(_dir, "config");
        File.WriteAllText(path, text);
        return path;
    }

    private const string OneContext = """
        apiVersion: v1
        kind: Config
        clusters:
        - name: demo
          cluster: { server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true }
        users:
        - name: admin
          user: { token: "static-token" }
        contexts:
        - name: demo-admin
          context: { cluster: demo, user: admin }
        current-context: demo-admin
        """;

    [Fact]
    public void A_missing_file_names_KubeConfigPath()
    {
        var missing = Path.Combine(_dir, "nope");

        var error = Assert.Throws<WinEksPatchException>(() => KubernetesConnector.FromKubeConfig(new KubernetesConnectionOptions(missing), null));

        Assert.Equal(ErrorIds.KubeConfigNotFound, error.ErrorId);
        Assert.Equal(ErrorKind.ObjectNotFound, error.Kind);
        Assert.StartsWith("-KubeConfigPath:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_context_names_KubeContext_and_lists_the_ones_there()
    {
        var path = Write(OneContext);

        var error = Assert.Throws<WinEksPatchException>(() => KubernetesConnector.FromKubeConfig(new KubernetesConnectionOptions(path, "prod"), null));

        Assert.Equal(ErrorIds.KubeContextNotFound, error.ErrorId);
        Assert.StartsWith("-KubeContext:", error.Message, StringComparison.Ordinal);
        Assert.Contains("demo-admin", error.Message, StringComparison.Ordinal);
        Assert.Equal("prod", error.Target);
    }

    [Fact]
    public void A_file_that_is_not_a_kubeconfig_is_InvalidData()
    {
        var path = Write("clusters: [ {{{ not yaml");

        var error = Assert.Throws<WinEksPatchException>(() => KubernetesConnector.FromKubeConfig(new KubernetesConnectionOptions(path), null));

        Assert.Equal(ErrorIds.KubeConfigInvalid, error.ErrorId);
    }

    [Fact]
    public void The_current_context_is_used_when_none_is_given()
    {
        using var client = KubernetesConnector.FromKubeConfig(new KubernetesConnectionOptions(Write(OneContext)), null);

        Assert.Equal("https://127.0.0.1:6443/", client.BaseUri.ToString());
    }
}
