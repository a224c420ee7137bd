using System.Text;

namespace WinEksPatch.Simulator.Kubernetes;

/// <summary>
/// Writes a kubeconfig with one context per cluster (named after the cluster), all using the static
/// bearer token user and the simulator's CA. The first cluster's context is current.
/// </summary>
public static class KubeConfigWriter
{
    public static string Render(IReadOnlyList<(string Name, string Server)> clusters, string caDataBase64, string token)
    {
        var sb = new StringBuilder();
        sb.Append("apiVersion: v1\nkind: Config\npreferences: {}\nclusters:\n");
        foreach ((string name, string server) in clusters)
        {
            sb.Append("- name: ").Append(Quote(name)).Append('\n')
              .Append("  cluster:\n")
              .Append("    server: ").Append(Quote(server)).Append('\n')
              .Append("    certificate-authority-data: ").Append(caDataBase64).Append('\n');
        }

        sb.Append("contexts:\n");
        foreach ((string name, _) in clusters)
        {
            sb.Append("- name: ").Append(Quote(name)).Append('\n')
              .Append("  context:\n")
              .Append("    cluster: ").Append(Quote(name)).Append('\n')
              .Append("    user: wineks-simulator\n");
        }

        sb.Append("current-context: ").Append(clusters.Count > 0 ? Quote(clusters[0].Name) : "\"\"").Append('\n');
        sb.Append("users:\n- name: wineks-simulator\n  user:\n    token: ").Append(Quote(token)).Append('\n');
        return sb.ToString();
    }

    // Double-quoted YAML scalars: names and URLs never contain quotes or backslashes here.
    private static string Quote(string value) => "\"" + value + "\"";
}
