using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows;

/// <summary>
/// Set-NodeGroupAmi: validates an AMI against a node group and points the group at it through a new numbered launch
/// template version made from the current one with only the AMI changed (EC2 copies the rest, user data byte for byte).
/// Self-managed: the Auto Scaling group (or its mixed instances policy) moves to that version, never $Latest.
/// Managed: UpdateNodegroupVersion with that version. The previous version is kept, so going back is the same command
/// with the previous AMI.
/// </summary>
public sealed class NodeGroupAmiUpdate(ClusterSnapshotReader reader, FleetInventory fleet, IEc2Api ec2, IAutoScalingApi autoScaling, IEksApi eks,
    PatchCalendar calendar)
{
    /// <summary>Validates <paramref name="imageId"/> against the group and points the group at it (see the class).
    /// <paramref name="allowedOwners"/>: accounts besides this one and Amazon whose AMIs may be set (-AllowAmiOwner).</summary>
    public async Task RunAsync(string clusterName, string nodeGroupName, string imageId, IWorkflowHost host, CancellationToken cancellationToken = default,
        IReadOnlyCollection<string>? allowedOwners = null)
    {
        var snapshot = await reader.ReadAsync(clusterName, includeInstances: true, includePods: false, cancellationToken, onlyNodeGroup: nodeGroupName).ConfigureAwait(false);
        var facts = FleetInventory.SelectGroups(snapshot, [nodeGroupName], new ThrowingHost(host)).Single();
        var group = fleet.ToNodeGroup(snapshot, facts);
        var image = (await ec2.DescribeImagesAsync([imageId], cancellationToken).ConfigureAwait(false)).SingleOrDefault()
            ?? throw new WinEksPatchException(ErrorIds.AmiNotFound, ErrorKind.ObjectNotFound,
                $"-ImageId: no AMI {imageId} in {snapshot.Region} (AMIs are regional: copy it here or distribute it with -DistributionRegion).", imageId);
        Validate(snapshot, group, image, allowedOwners ?? []);

        if (facts.TemplateVersion == null || facts.LaunchTemplate == null)
        {
            throw new WinEksPatchException(ErrorIds.NodeGroupHasNoLaunchTemplate, ErrorKind.InvalidOperation,
                $"Node group '{nodeGroupName}' does not launch from a launch template, so its AMI cannot be set (create the group with a launch template).",
                nodeGroupName);
        }

        if (facts.Kind == NodeGroupKind.Managed && facts.Managed?.AmiType != "CUSTOM")
        {
            throw new WinEksPatchException(ErrorIds.ManagedNodeGroupNotCustom, ErrorKind.InvalidOperation,
                $"Managed node group '{nodeGroupName}' uses the EKS AMI type {facts.Managed?.AmiType}: EKS chooses its AMI by release version and refuses a " +
                "launch template that names one. Use a node group with amiType CUSTOM for your own AMIs, or update the release with the EKS console/API.",
                nodeGroupName);
        }

        var current = facts.TemplateVersion;
        var overrides = facts.Kind == NodeGroupKind.SelfManaged
            ? await OverrideTemplatesAsync(facts.AutoScalingGroup!, image, cancellationToken).ConfigureAwait(false)
            : [];
        if (current.ImageId == imageId && overrides.Count == 0)
        {
            host.Verbose($"{clusterName}/{nodeGroupName} already launches {imageId} (launch template {current.LaunchTemplateId} version {current.VersionNumber}).");
            host.Output(Change(group, current.ImageId, current.VersionNumber.ToString(System.Globalization.CultureInfo.InvariantCulture), null, changed: false, facts.LaunchTemplate.Version));
            return;
        }

        var target = $"{clusterName}/{nodeGroupName}";
        var action = $"Launch {imageId} ({image.Name}): new version of launch template {current.LaunchTemplateId} from version {current.VersionNumber}" +
            (current.ImageAlias is { } alias ? $" (which follows {alias}; the new version names {imageId} itself and no longer follows the parameter)" : "") + ", " +
            (overrides.Count == 0 ? "" : $"and of the override template(s) {string.Join(", ", overrides.Select(o => $"{o.Version.LaunchTemplateId} version {o.Version.VersionNumber} ({string.Join(", ", o.InstanceTypes)})"))}, ") +
            (facts.Kind == NodeGroupKind.Managed
                ? $"then UpdateNodegroupVersion, which starts EKS's rolling update: all {group.NodeCount} node(s) of the group are replaced by nodes of the new AMI"
                : $"then Auto Scaling group {facts.AutoScalingGroup?.Name} moves to it: every instance it launches from now on (scale-out, " +
                  $"replacements) runs the new AMI; its {group.NodeCount} running node(s) stay until Invoke-NodeReplacement replaces them");
        if (!await host.ShouldProcessAsync(target, action).ConfigureAwait(false))
        {
            return;
        }

        var reference = current.ImageId == imageId
            ? new LaunchTemplateReference(current.LaunchTemplateId, null, current.VersionNumber.ToString(System.Globalization.CultureInfo.InvariantCulture))
            : await NewVersionAsync(current, imageId, image, cancellationToken).ConfigureAwait(false);
        var version = reference.Version!;
        var moved = new Dictionary<LaunchTemplateReference, LaunchTemplateReference>();
        foreach (var o in overrides)
        {
            moved[o.Reference] = await NewVersionAsync(o.Version, imageId, image, cancellationToken).ConfigureAwait(false);
        }

        string? updateId = null;
        if (facts.Kind == NodeGroupKind.SelfManaged)
        {
            var asg = facts.AutoScalingGroup!;
            await autoScaling.UpdateAutoScalingGroupAsync(asg.Name, launchTemplate: current.ImageId == imageId ? null : reference, mixedInstancesPolicy: asg.UsesMixedInstancesPolicy,
                overrides: moved.Count == 0 ? null : asg.Overrides!.Select(o => o.LaunchTemplate is { } t && moved.TryGetValue(t, out var to) ? o with { LaunchTemplate = to } : o).ToList(),
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        else
        {
            updateId = (await eks.UpdateNodegroupVersionAsync(clusterName, nodeGroupName, reference, null, force: false, cancellationToken).ConfigureAwait(false)).Id;
        }

        host.Output(Change(group, imageId, version, updateId, changed: true, facts.LaunchTemplate.Version, current.ImageId,
            moved.Select(m => $"{m.Value.Id}:{m.Value.Version}").ToList()));
    }

    /// <summary>A new numbered version of <paramref name="source"/> with only the AMI changed (EC2 copies the rest).</summary>
    private async Task<LaunchTemplateReference> NewVersionAsync(LaunchTemplateVersion source, string imageId, Ec2Image image, CancellationToken cancellationToken)
    {
        var created = await ec2.CreateLaunchTemplateVersionAsync(source.LaunchTemplateId, source.VersionNumber, imageId,
            $"WinEksPatch: {image.Name ?? imageId} (was {source.ImageId})", cancellationToken).ConfigureAwait(false);
        if (created.UserData != source.UserData)
        {
            // EC2 copies the source version; anything else would be a bug worth stopping for before any node launches.
            throw new WinEksPatchException(ErrorIds.LaunchTemplateUserDataChanged, ErrorKind.InvalidData,
                $"Launch template {source.LaunchTemplateId} version {created.VersionNumber} does not carry version {source.VersionNumber}'s user data; the group was not changed.",
                source.LaunchTemplateId);
        }

        return new LaunchTemplateReference(source.LaunchTemplateId, null, created.VersionNumber.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private sealed record OverrideTemplate(LaunchTemplateReference Reference, LaunchTemplateVersion Version, IReadOnlyList<string> InstanceTypes);

    /// <summary>
    /// The launch templates of a mixed instances policy's overrides that still launch another AMI than
    /// <paramref name="image"/>: each gets a new version too, or its instance types would keep launching the old AMI.
    /// One whose AMI is not a Windows AMI of the same architecture is there on purpose (Graviton instance types, say):
    /// one AMI cannot serve both, so the group is refused before any change.
    /// </summary>
    private async Task<IReadOnlyList<OverrideTemplate>> OverrideTemplatesAsync(AutoScalingGroup group, Ec2Image image, CancellationToken cancellationToken)
    {
        var found = new List<OverrideTemplate>();
        foreach (var byTemplate in (group.Overrides ?? []).Where(o => o.LaunchTemplate != null).GroupBy(o => o.LaunchTemplate!))
        {
            var version = await ec2.DescribeLaunchTemplateVersionAsync(byTemplate.Key, cancellationToken).ConfigureAwait(false);
            var types = byTemplate.Select(o => o.InstanceType).ToList();
            if (version.ImageId == image.ImageId)
            {
                continue;
            }

            var launched = version.ImageId == null ? null
                : (await ec2.DescribeImagesAsync([version.ImageId], cancellationToken).ConfigureAwait(false)).SingleOrDefault();
            if (launched != null && (!launched.IsWindows || launched.Architecture != image.Architecture))
            {
                throw new WinEksPatchException(ErrorIds.LaunchTemplateOverrideDiffers, ErrorKind.InvalidOperation,
                    $"{group.Name}: its mixed instances policy launches {string.Join(", ", types)} from launch template {version.LaunchTemplateId} version " +
                    $"{version.VersionNumber}, whose AMI {version.ImageId} is {launched.PlatformDetails ?? "not Windows"} on {launched.Architecture}, unlike " +
                    $"{image.ImageId} ({image.Architecture}): one AMI cannot serve both. Nothing was changed. Give those instance types a group of their own, then run again.",
                    group.Name);
            }

            found.Add(new OverrideTemplate(byTemplate.Key, version, types));
        }

        return found;
    }

    private void Validate(ClusterSnapshot snapshot, WinNodeGroup group, Ec2Image image, IReadOnlyCollection<string> allowedOwners)
    {
        // Nodes run whatever the AMI's owner put in it, with the node role: only this account's AMIs, Amazon's, and those of
        // accounts the user names are set. (The cluster's ARN names this account.)
        var account = snapshot.Cluster.AccountId;
        if (image.OwnerAlias != "amazon" && (account == null || image.OwnerId != account) && !allowedOwners.Contains(image.OwnerId ?? ""))
        {
            throw new WinEksPatchException(ErrorIds.AmiOwnerNotTrusted, ErrorKind.SecurityError,
                $"-ImageId: {image.ImageId} ({image.Name}) is owned by account {image.OwnerId ?? "(unknown)"}, neither this account ({account}) nor Amazon: " +
                $"the nodes would run whatever that account put in it. Nothing was changed. If you trust it, pass -AllowAmiOwner {image.OwnerId}.", image.ImageId);
        }

        if (!image.IsWindows)
        {
            throw new WinEksPatchException(ErrorIds.AmiNotWindows, ErrorKind.InvalidArgument,
                $"-ImageId: {image.ImageId} ({image.Name}) is not a Windows AMI ({image.PlatformDetails}).", image.ImageId);
        }

        var currentImage = group.ImageId != null ? snapshot.Images.GetValueOrDefault(group.ImageId) : null;
        if (currentImage?.Architecture is { } arch && image.Architecture != arch)
        {
            throw new WinEksPatchException(ErrorIds.AmiArchitectureMismatch, ErrorKind.InvalidArgument,
                $"-ImageId: {image.ImageId} is {image.Architecture}; node group '{group.NodeGroupName}' runs {arch}.", image.ImageId);
        }

        var build = AmiFacts.OsBuild(image, calendar);
        var groupBuild = WindowsBuild.ParseOrNull(group.ImageOsBuild);
        var version = AmiFacts.WindowsVersion(image) ?? build?.WindowsServer;
        if ((groupBuild != null && build != null && build.Value.Build != groupBuild.Value.Build)
            || (group.WindowsVersion != null && version != null && version != group.WindowsVersion))
        {
            throw new WinEksPatchException(ErrorIds.AmiWindowsBuildMismatch, ErrorKind.InvalidArgument,
                $"-ImageId: {image.ImageId} is Windows Server {version} ({build}); node group '{group.NodeGroupName}' runs Windows Server {group.WindowsVersion} ({group.ImageOsBuild}). " +
                "Process-isolated containers need the host's build: changing Windows versions is a migration, not a patch.", image.ImageId);
        }

        var kubernetes = image.Tags.GetValueOrDefault(AmiFacts.KubernetesVersionTag) ?? AmiFacts.FromName(image.Name).KubernetesVersion;
        if (kubernetes != null && snapshot.Cluster.Version != null && kubernetes != snapshot.Cluster.Version)
        {
            throw new WinEksPatchException(ErrorIds.AmiKubernetesVersionMismatch, ErrorKind.InvalidArgument,
                $"-ImageId: {image.ImageId} is built for Kubernetes {kubernetes}; cluster '{snapshot.Cluster.Name}' runs {snapshot.Cluster.Version}.", image.ImageId);
        }
    }

    private static NodeGroupAmiChange Change(WinNodeGroup group, string imageId, string version, string? updateId, bool changed, string? previousVersion,
        string? previousImage = null, IReadOnlyList<string>? overrideTemplates = null) => new()
    {
        OverrideLaunchTemplates = overrideTemplates ?? [],
        ClusterName = group.ClusterName,
        NodeGroupName = group.NodeGroupName,
        Kind = group.Kind,
        PreviousImageId = previousImage ?? imageId,
        ImageId = imageId,
        LaunchTemplateId = group.LaunchTemplateId,
        PreviousLaunchTemplateVersion = previousVersion,
        LaunchTemplateVersion = version,
        UpdateId = updateId,
        Changed = changed,
    };
}
