using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using WinEksPatch.Simulator.Tests.Infrastructure;

namespace WinEksPatch.Simulator.Tests.Kubernetes;

/// <summary>coordination.k8s.io/v1 Leases through KubernetesClient: the API server's optimistic concurrency, which is what
/// makes WinEksPatch's one-run-per-group lease safe between two runs.</summary>
[Collection(SimulatorCollection.Name)]
public sealed class KubernetesLeaseTests(SimulatorFixture sim)
{
    private static V1Lease Lease(string name, string holder) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "kube-system" },
        Spec = new V1LeaseSpec { HolderIdentity = holder, LeaseDurationSeconds = 120, AcquireTime = DateTime.UtcNow, RenewTime = DateTime.UtcNow },
    };

    private static async Task<(HttpStatusCode Code, string Reason, string Message)> Refusal(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<HttpOperationException>(call);
        using var status = JsonDocument.Parse(error.Response.Content);
        return (error.Response.StatusCode, status.RootElement.GetProperty("reason").GetString()!, status.RootElement.GetProperty("message").GetString()!);
    }

    [Fact]
    public async Task A_lease_is_created_once_and_a_second_create_is_409_AlreadyExists()
    {
        using k8s.Kubernetes client = sim.KubernetesFromKubeConfig("demo");
        V1Lease created = await client.CoordinationV1.CreateNamespacedLeaseAsync(Lease("test-create-once", "a"), "kube-system");
        Assert.False(string.IsNullOrEmpty(created.Metadata.ResourceVersion));
        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.Equal("a", created.Spec.HolderIdentity);

        var (code, reason, message) = await Refusal(() => client.CoordinationV1.CreateNamespacedLeaseAsync(Lease("test-create-once", "b"), "kube-system"));
        var again = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoordinationV1.CreateNamespacedLeaseAsync(Lease("test-create-once", "b"), "kube-system"));
        using (var status = JsonDocument.Parse(again.Response.Content))
        {
            // The Status names the object of the body (a create's URL names none), as the API server does.
            Assert.Equal(("test-create-once", "leases"), (status.RootElement.GetProperty("details").GetProperty("name").GetString(),
                status.RootElement.GetProperty("details").GetProperty("kind").GetString()));
        }

        Assert.Equal(HttpStatusCode.Conflict, code);
        Assert.Equal("AlreadyExists", reason);
        Assert.Equal("leases.coordination.k8s.io \"test-create-once\" already exists", message);
        Assert.Equal("a", (await client.CoordinationV1.ReadNamespacedLeaseAsync("test-create-once", "kube-system")).Spec.HolderIdentity);
    }

    [Fact]
    public async Task Of_two_writers_that_read_the_same_version_only_the_first_update_wins()
    {
        using k8s.Kubernetes client = sim.KubernetesFromKubeConfig("demo");
        V1Lease read = await client.CoordinationV1.CreateNamespacedLeaseAsync(Lease("test-two-writers", "a"), "kube-system");

        read.Spec.HolderIdentity = "b";
        V1Lease won = await client.CoordinationV1.ReplaceNamespacedLeaseAsync(read, "test-two-writers", "kube-system");
        Assert.NotEqual(read.Metadata.ResourceVersion, won.Metadata.ResourceVersion);

        read.Spec.HolderIdentity = "c"; // still carries the version both read
        var (code, reason, message) = await Refusal(() => client.CoordinationV1.ReplaceNamespacedLeaseAsync(read, "test-two-writers", "kube-system"));
        Assert.Equal(HttpStatusCode.Conflict, code);
        Assert.Equal("Conflict", reason);
        Assert.Contains("the object has been modified; please apply your changes to the latest version and try again", message, StringComparison.Ordinal);
        Assert.Equal("b", (await client.CoordinationV1.ReadNamespacedLeaseAsync("test-two-writers", "kube-system")).Spec.HolderIdentity);
    }

    [Fact]
    public async Task A_delete_with_a_stale_resourceVersion_precondition_is_refused_and_the_current_one_deletes()
    {
        using k8s.Kubernetes client = sim.KubernetesFromKubeConfig("demo");
        V1Lease first = await client.CoordinationV1.CreateNamespacedLeaseAsync(Lease("test-delete", "a"), "kube-system");
        first.Spec.RenewTime = DateTime.UtcNow;
        V1Lease renewed = await client.CoordinationV1.ReplaceNamespacedLeaseAsync(first, "test-delete", "kube-system");

        var (code, reason, message) = await Refusal(() => client.CoordinationV1.DeleteNamespacedLeaseAsync("test-delete", "kube-system",
            new V1DeleteOptions { Preconditions = new V1Preconditions { ResourceVersion = first.Metadata.ResourceVersion } }));
        Assert.Equal(HttpStatusCode.Conflict, code);
        Assert.Equal("Conflict", reason);
        Assert.Contains("Precondition failed: ResourceVersion in precondition", message, StringComparison.Ordinal);

        await client.CoordinationV1.DeleteNamespacedLeaseAsync("test-delete", "kube-system",
            new V1DeleteOptions { Preconditions = new V1Preconditions { ResourceVersion = renewed.Metadata.ResourceVersion } });
        var (gone, notFound, _) = await Refusal(() => client.CoordinationV1.ReadNamespacedLeaseAsync("test-delete", "kube-system"));
        Assert.Equal(HttpStatusCode.NotFound, gone);
        Assert.Equal("NotFound", notFound);
        Assert.DoesNotContain((await client.CoordinationV1.ListNamespacedLeaseAsync("kube-system")).Items, l => l.Metadata.Name == "test-delete");
    }

    [Fact]
    public async Task Names_that_are_not_dns_subdomains_and_missing_namespaces_are_refused_as_the_API_server_does()
    {
        using k8s.Kubernetes client = sim.KubernetesFromKubeConfig("demo");
        var (invalid, invalidReason, _) = await Refusal(() => client.CoordinationV1.CreateNamespacedLeaseAsync(Lease("Win_NG", "a"), "kube-system"));
        Assert.Equal((HttpStatusCode)422, invalid);
        Assert.Equal("Invalid", invalidReason);

        V1Lease elsewhere = Lease("test-no-namespace", "a");
        elsewhere.Metadata.NamespaceProperty = "no-such-namespace";
        var (missing, _, message) = await Refusal(() => client.CoordinationV1.CreateNamespacedLeaseAsync(elsewhere, "no-such-namespace"));
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal("namespaces \"no-such-namespace\" not found", message);
    }
}
