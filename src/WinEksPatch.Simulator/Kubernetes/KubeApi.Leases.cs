using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace WinEksPatch.Simulator.Kubernetes;

// coordination.k8s.io/v1 Leases, as the API server stores them: create (409 AlreadyExists), get/list (Table for
// kubectl get leases), replace with optimistic concurrency (409 Conflict when metadata.resourceVersion is stale),
// delete with preconditions (409 Conflict when they fail). WinEksPatch takes one per node group for its rollouts.
public sealed partial class KubeApi
{
    private const string LeaseResource = "leases";
    private const string LeaseGroupResource = "leases.coordination.k8s.io";

    private Task ListLeases(HttpContext http, string cluster, string? ns)
    {
        List<JsonObject> items;
        lock (world.Gate)
        {
            items = world.Leases.Where(l => l.Key.Cluster == cluster && (ns is null || l.Key.Namespace == ns))
                .OrderBy(l => l.Key.Namespace, StringComparer.Ordinal).ThenBy(l => l.Key.Name, StringComparer.Ordinal)
                .Select(l => (JsonObject)l.Value.DeepClone()).ToList();
        }

        return WriteListAsync(http, LeaseResource, items);
    }

    private Task GetLease(HttpContext http, string cluster, string ns, string name)
    {
        JsonObject? item;
        lock (world.Gate)
        {
            item = world.Leases.TryGetValue((cluster, ns, name), out JsonObject? lease) ? (JsonObject)lease.DeepClone() : null;
        }

        return WriteOneAsync(http, LeaseResource, item, name);
    }

    private async Task CreateLeaseAsync(HttpContext http, string cluster, string ns)
    {
        string? name = null; // from the body: the URL of a create names no object
        try
        {
            JsonObject lease = ParseObject(await ReadBodyAsync(http).ConfigureAwait(false)) ?? throw new PatchException(400, "BadRequest", "the request body is empty");
            name = lease["metadata"]?["name"]?.GetValue<string>() ?? throw Invalid("", "metadata.name: Required value: name or generateName is required");
            ValidateLease(lease, name, ns);
            JsonObject stored;
            lock (world.Gate)
            {
                if (!Namespaces(cluster).Contains(ns))
                {
                    throw new PatchException(404, "NotFound", $"namespaces \"{ns}\" not found");
                }

                if (world.Leases.ContainsKey((cluster, ns, name)))
                {
                    throw new PatchException(409, "AlreadyExists", $"{LeaseGroupResource} \"{name}\" already exists");
                }

                stored = Stamp(lease, ns, name, uid: Guid.NewGuid().ToString(), created: world.Clock.GetUtcNow());
                if (!IsDryRun(http, null))
                {
                    world.Leases[(cluster, ns, name)] = stored;
                }
            }

            await WriteJsonAsync(http, stored.DeepClone(), 201).ConfigureAwait(false);
        }
        catch (PatchException e)
        {
            await WriteStatusAsync(http, e.Code, e.Reason, e.Message, name, LeaseResource).ConfigureAwait(false);
        }
    }

    private async Task ReplaceLeaseAsync(HttpContext http, string cluster, string ns, string name)
    {
        try
        {
            JsonObject lease = ParseObject(await ReadBodyAsync(http).ConfigureAwait(false)) ?? throw new PatchException(400, "BadRequest", "the request body is empty");
            ValidateLease(lease, name, ns);
            if (lease["metadata"]?["name"]?.GetValue<string>() is string bodyName && bodyName != name)
            {
                throw new PatchException(400, "BadRequest", "the name of the object (" + bodyName + ") does not match the name on the URL (" + name + ")");
            }

            string? version = lease["metadata"]?["resourceVersion"]?.GetValue<string>();
            JsonObject stored;
            lock (world.Gate)
            {
                if (!world.Leases.TryGetValue((cluster, ns, name), out JsonObject? current))
                {
                    throw new PatchException(404, "NotFound", $"{LeaseGroupResource} \"{name}\" not found");
                }

                // Leases allow unconditional updates; a resourceVersion given must be the current one.
                if (!string.IsNullOrEmpty(version) && version != current["metadata"]!["resourceVersion"]!.GetValue<string>())
                {
                    throw new PatchException(409, "Conflict",
                        $"Operation cannot be fulfilled on {LeaseGroupResource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again");
                }

                DateTimeOffset created = DateTimeOffset.Parse(current["metadata"]!["creationTimestamp"]!.GetValue<string>(), CultureInfo.InvariantCulture);
                stored = Stamp(lease, ns, name, current["metadata"]!["uid"]!.GetValue<string>(), created);
                if (!IsDryRun(http, null))
                {
                    world.Leases[(cluster, ns, name)] = stored;
                }
            }

            await WriteJsonAsync(http, stored.DeepClone()).ConfigureAwait(false);
        }
        catch (PatchException e)
        {
            await WriteStatusAsync(http, e.Code, e.Reason, e.Message, name, LeaseResource).ConfigureAwait(false);
        }
    }

    private async Task DeleteLeaseAsync(HttpContext http, string cluster, string ns, string name)
    {
        try
        {
            JsonObject? options = ParseObject(await ReadBodyAsync(http).ConfigureAwait(false));
            string? version = options?["preconditions"]?["resourceVersion"]?.GetValue<string>();
            string? uid = options?["preconditions"]?["uid"]?.GetValue<string>();
            string deletedUid;
            lock (world.Gate)
            {
                if (!world.Leases.TryGetValue((cluster, ns, name), out JsonObject? current))
                {
                    throw new PatchException(404, "NotFound", $"{LeaseGroupResource} \"{name}\" not found");
                }

                string currentVersion = current["metadata"]!["resourceVersion"]!.GetValue<string>();
                string currentUid = current["metadata"]!["uid"]!.GetValue<string>();
                deletedUid = currentUid;
                if (version is not null && version != currentVersion)
                {
                    throw new PatchException(409, "Conflict",
                        $"Operation cannot be fulfilled on {LeaseGroupResource} \"{name}\": Precondition failed: ResourceVersion in precondition: {version}, ResourceVersion in object meta: {currentVersion}");
                }

                if (uid is not null && uid != currentUid)
                {
                    throw new PatchException(409, "Conflict",
                        $"Operation cannot be fulfilled on {LeaseGroupResource} \"{name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {currentUid}");
                }

                if (!IsDryRun(http, options))
                {
                    world.Leases.Remove((cluster, ns, name));
                }
            }

            await WriteDeletedAsync(http, name, "coordination.k8s.io", LeaseResource, deletedUid).ConfigureAwait(false);
        }
        catch (PatchException e)
        {
            await WriteStatusAsync(http, e.Code, e.Reason, e.Message, name, LeaseResource).ConfigureAwait(false);
        }
    }

    /// <summary>What the registry answers to a delete of a resource that does not return the deleted object.</summary>
    private static Task WriteDeletedAsync(HttpContext http, string name, string group, string kind, string uid) =>
        WriteJsonAsync(http, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = new JsonObject { ["name"] = name, ["group"] = group, ["kind"] = kind, ["uid"] = uid },
        });

    /// <summary>The API server's validation of a Lease (apis/coordination/validation): a DNS-subdomain name, the URL's
    /// namespace, a positive leaseDurationSeconds, a non-negative leaseTransitions.</summary>
    private static void ValidateLease(JsonObject lease, string name, string ns)
    {
        if (lease["metadata"]?["namespace"]?.GetValue<string>() is string bodyNamespace && bodyNamespace != ns)
        {
            throw new PatchException(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
        }

        if (name.Length > 253 || !System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"))
        {
            throw Invalid(name, $"metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
        }

        if (lease["spec"]?["leaseDurationSeconds"] is JsonNode duration && duration.GetValue<int>() <= 0)
        {
            throw Invalid(name, $"spec.leaseDurationSeconds: Invalid value: {duration.GetValue<int>()}: must be greater than 0");
        }

        if (lease["spec"]?["leaseTransitions"] is JsonNode transitions && transitions.GetValue<int>() < 0)
        {
            throw Invalid(name, $"spec.leaseTransitions: Invalid value: {transitions.GetValue<int>()}: must be greater than or equal to 0");
        }
    }

    private static PatchException Invalid(string name, string detail) =>
        new(422, "Invalid", $"Lease.coordination.k8s.io \"{name}\" is invalid: {detail}");

    /// <summary>The object as stored: the server's metadata (uid, creationTimestamp, a new resourceVersion) over the client's.</summary>
    private JsonObject Stamp(JsonObject lease, string ns, string name, string uid, DateTimeOffset created)
    {
        var stored = (JsonObject)lease.DeepClone();
        stored["apiVersion"] = "coordination.k8s.io/v1";
        stored["kind"] = "Lease";
        JsonObject metadata = stored["metadata"] as JsonObject ?? new JsonObject();
        stored["metadata"] = metadata;
        metadata["name"] = name;
        metadata["namespace"] = ns;
        metadata["uid"] = uid;
        metadata["creationTimestamp"] = created.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        metadata["resourceVersion"] = world.NextResourceVersion().ToString(CultureInfo.InvariantCulture);
        stored["spec"] ??= new JsonObject();
        return stored;
    }
}
