using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.Ec2;

/// <summary>EC2 (the ec2 query protocol): instances (and their console output), images, launch templates, Fast Launch.</summary>
public sealed partial class Ec2Service : AwsService
{
    public override string SigningName => "ec2";

    public override AwsProtocol Protocol => AwsProtocol.Ec2;

    public override string XmlNamespace => Ec2Protocol.Namespace;

    public override Task HandleAsync(AwsCall call)
    {
        string action = RequireAction(call);
        if (call.FormOrQuery.Get("DryRun") is "true" && IsAction(action))
        {
            throw new AwsException(412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.");
        }

        return action switch
        {
            "DescribeInstances" => DescribeInstances(call),
            "DescribeImages" => DescribeImages(call),
            "DescribeLaunchTemplates" => DescribeLaunchTemplates(call),
            "DescribeLaunchTemplateVersions" => DescribeLaunchTemplateVersions(call),
            "CreateLaunchTemplateVersion" => CreateLaunchTemplateVersion(call),
            "ModifyLaunchTemplate" => ModifyLaunchTemplate(call),
            "CreateTags" => CreateOrDeleteTags(call, create: true),
            "DeleteTags" => CreateOrDeleteTags(call, create: false),
            "TerminateInstances" => TerminateInstances(call),
            "EnableFastLaunch" => EnableFastLaunch(call),
            "DescribeFastLaunchImages" => DescribeFastLaunchImages(call),
            "DisableFastLaunch" => DisableFastLaunch(call),
            "GetConsoleOutput" => GetConsoleOutput(call),
            _ => throw InvalidAction(action),
        };
    }

    private static bool IsAction(string action) => action is "DescribeInstances" or "DescribeImages" or "DescribeLaunchTemplates"
        or "DescribeLaunchTemplateVersions" or "CreateLaunchTemplateVersion" or "ModifyLaunchTemplate" or "CreateTags" or "DeleteTags"
        or "TerminateInstances" or "EnableFastLaunch" or "DescribeFastLaunchImages" or "DisableFastLaunch" or "GetConsoleOutput";

    // ---- DescribeInstances -------------------------------------------------------------------

    private static readonly HashSet<string> InstanceFilters =
    [
        "instance-id", "image-id", "instance-state-name", "instance-state-code", "instance-type", "private-dns-name",
        "private-ip-address", "availability-zone", "vpc-id", "subnet-id", "platform", "tag-key", "tag-value", "architecture",
    ];

    private static Task DescribeInstances(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        List<string> ids = p.List("InstanceId");
        List<(string Name, List<string> Values)> filters = ValidFilters(p, InstanceFilters);
        (int max, int offset) = PageParameters(p, ids.Count > 0, "instancesSet");
        foreach (string id in ids.Where(id => !InstanceIdPattern().IsMatch(id)))
        {
            throw new AwsException(400, "InvalidInstanceID.Malformed", $"Invalid id: \"{id}\"");
        }

        string body;
        lock (call.World.Gate)
        {
            List<string> missing = ids.Where(id => !call.World.Instances.ContainsKey(id)).Distinct().ToList();
            if (missing.Count == 1)
            {
                throw new AwsException(400, "InvalidInstanceID.NotFound", $"The instance ID '{missing[0]}' does not exist");
            }

            if (missing.Count > 1)
            {
                throw new AwsException(400, "InvalidInstanceID.NotFound", $"The instance IDs '{string.Join(", ", missing)}' do not exist");
            }

            List<Ec2Instance> instances = call.World.Instances.Values
                .Where(i => ids.Count == 0 || ids.Contains(i.InstanceId))
                .Where(i => filters.TrueForAll(f => MatchesInstance(i, f.Name, f.Values)))
                .OrderBy(i => i.InstanceId, StringComparer.Ordinal)
                .ToList();
            (List<Ec2Instance> page, string? next) = Paging.Page(instances, offset, max);
            body = Xml.Fragment(w =>
            {
                // One reservation per instance: Auto Scaling launches instances one RunInstances call at a time.
                w.List("reservationSet", "item", page, (w, i) => WriteReservation(w, call.World, i));
                w.Element("nextToken", next);
            });
        }

        return Ec2Protocol.WriteResultAsync(call, "DescribeInstances", w => w.WriteRaw(body));
    }

    private static bool MatchesInstance(Ec2Instance i, string filter, List<string> values) => filter switch
    {
        "instance-id" => AnyLike(values, i.InstanceId),
        "image-id" => AnyLike(values, i.ImageId),
        "instance-state-name" => AnyLike(values, i.State),
        "instance-state-code" => AnyLike(values, Xml.Int(Ec2Instance.StateCode(i.State))),
        "instance-type" => AnyLike(values, i.InstanceType),
        "private-dns-name" => AnyLike(values, i.PrivateDnsName),
        "private-ip-address" => AnyLike(values, i.PrivateIpAddress),
        "availability-zone" => AnyLike(values, i.AvailabilityZone),
        "vpc-id" => AnyLike(values, i.VpcId),
        "subnet-id" => AnyLike(values, i.SubnetId),
        "platform" => AnyLike(values, i.Platform ?? ""),
        "architecture" => AnyLike(values, i.Architecture),
        _ => MatchesTags(i.Tags, filter, values),
    };

    private static void WriteReservation(XmlWriter w, SimWorld world, Ec2Instance i)
    {
        w.WriteElementString("reservationId", "r-0" + Scenarios.Ids.Hex("reservation/" + i.InstanceId, 16));
        w.WriteElementString("ownerId", world.AccountId);
        w.WriteElementString("requesterId", "940372691376");
        w.StringList("groupSet", "item", []);
        w.WriteStartElement("instancesSet");
        w.WriteStartElement("item");
        bool windows = i.Platform == "windows";
        w.WriteElementString("instanceId", i.InstanceId);
        w.WriteElementString("imageId", i.ImageId);
        w.WriteStartElement("instanceState");
        w.WriteElementString("code", Xml.Int(Ec2Instance.StateCode(i.State)));
        w.WriteElementString("name", i.State);
        w.WriteEndElement();
        w.WriteElementString("privateDnsName", i.State == "terminated" ? "" : i.PrivateDnsName);
        w.WriteElementString("dnsName", "");
        w.WriteElementString("reason", "");
        w.WriteElementString("amiLaunchIndex", "0");
        w.StringList("productCodes", "item", []);
        w.WriteElementString("instanceType", i.InstanceType);
        w.WriteElementString("launchTime", Xml.Time(i.LaunchTime));
        w.WriteStartElement("placement");
        w.WriteElementString("availabilityZone", i.AvailabilityZone);
        w.WriteElementString("groupName", "");
        w.WriteElementString("tenancy", "default");
        w.WriteEndElement();
        if (windows)
        {
            w.WriteElementString("platform", "windows");
        }

        w.WriteStartElement("monitoring");
        w.WriteElementString("state", "disabled");
        w.WriteEndElement();
        w.WriteElementString("subnetId", i.SubnetId);
        w.WriteElementString("vpcId", i.VpcId);
        w.WriteElementString("privateIpAddress", i.PrivateIpAddress);
        w.WriteElementString("sourceDestCheck", "true");
        w.List("groupSet", "item", new[] { i.VpcId }, (w, vpc) =>
        {
            w.WriteElementString("groupId", "sg-" + Scenarios.Ids.Hex("node-sg/" + vpc, 17));
            w.WriteElementString("groupName", "eks-cluster-sg");
        });
        w.WriteElementString("architecture", i.Architecture);
        w.WriteElementString("rootDeviceType", "ebs");
        w.WriteElementString("rootDeviceName", windows ? "/dev/sda1" : "/dev/xvda");
        w.List("blockDeviceMapping", "item", new[] { i }, (w, inst) =>
        {
            w.WriteElementString("deviceName", windows ? "/dev/sda1" : "/dev/xvda");
            w.WriteStartElement("ebs");
            w.WriteElementString("volumeId", "vol-0" + Scenarios.Ids.Hex("volume/" + inst.InstanceId, 16));
            w.WriteElementString("status", "attached");
            w.WriteElementString("attachTime", Xml.Time(inst.LaunchTime));
            w.WriteElementString("deleteOnTermination", "true");
            w.WriteEndElement();
        });
        w.WriteElementString("virtualizationType", "hvm");
        w.WriteElementString("clientToken", "");
        w.List("tagSet", "item", i.Tags, (w, t) =>
        {
            w.WriteElementString("key", t.Key);
            w.WriteElementString("value", t.Value);
        });
        w.WriteElementString("hypervisor", "xen");
        w.WriteElementString("ebsOptimized", "false");
        w.WriteElementString("enaSupport", "true");
        w.WriteElementString("platformDetails", windows ? "Windows" : "Linux/UNIX");
        w.WriteElementString("usageOperation", windows ? "RunInstances:0002" : "RunInstances");
        w.WriteEndElement();
        w.WriteEndElement();
    }

    // ---- DescribeImages ----------------------------------------------------------------------

    private static readonly HashSet<string> ImageFilters =
    [
        "image-id", "name", "platform", "owner-id", "owner-alias", "state", "architecture", "description", "is-public",
        "image-type", "root-device-type", "virtualization-type", "creation-date", "tag-key", "tag-value",
    ];

    private static Task DescribeImages(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        List<string> ids = p.List("ImageId");
        List<string> owners = p.List("Owner");
        List<(string Name, List<string> Values)> filters = ValidFilters(p, ImageFilters);
        (int max, int offset) = PageParameters(p, ids.Count > 0, "ImageIds");
        string body;
        lock (call.World.Gate)
        {
            RequireImages(call.World, ids);

            List<AmiImage> images = call.World.Images.Values
                .Where(i => ids.Count == 0 || ids.Contains(i.ImageId))
                .Where(i => owners.Count == 0 || owners.Exists(o => OwnedBy(call.World, i, o)))
                .Where(i => filters.TrueForAll(f => MatchesImage(i, f.Name, f.Values)))
                .OrderBy(i => i.ImageId, StringComparer.Ordinal)
                .ToList();
            (List<AmiImage> page, string? next) = Paging.Page(images, offset, max);
            body = Xml.Fragment(w =>
            {
                w.List("imagesSet", "item", page, WriteImage);
                w.Element("nextToken", next);
            });
        }

        return Ec2Protocol.WriteResultAsync(call, "DescribeImages", w => w.WriteRaw(body));
    }

    private static bool OwnedBy(SimWorld world, AmiImage image, string owner) => owner switch
    {
        "self" => image.OwnerId == world.AccountId,
        "amazon" or "aws-marketplace" or "aws-backup-vault" => image.OwnerAlias == owner,
        _ => image.OwnerId == owner,
    };

    /// <summary>Every id is an AMI id (InvalidAMIID.Malformed) of an image that exists (InvalidAMIID.NotFound, naming all
    /// missing ones), as EC2 checks the ImageId list of DescribeImages and DescribeFastLaunchImages.</summary>
    private static void RequireImages(SimWorld world, List<string> ids)
    {
        foreach (string id in ids.Where(id => !ImageIdPattern().IsMatch(id)))
        {
            throw new AwsException(400, "InvalidAMIID.Malformed", $"Invalid id: \"{id}\" (expecting \"ami-...\")");
        }

        List<string> missing = ids.Where(id => !world.Images.ContainsKey(id)).Distinct().ToList();
        if (missing.Count > 0)
        {
            throw new AwsException(400, "InvalidAMIID.NotFound", $"The image id{(missing.Count > 1 ? "s" : "")} '[{string.Join(", ", missing)}]' do{(missing.Count > 1 ? "" : "es")} not exist");
        }
    }

    private static bool MatchesImage(AmiImage i, string filter, List<string> values) => filter switch
    {
        "image-id" => AnyLike(values, i.ImageId),
        "name" => AnyLike(values, i.Name),
        "platform" => AnyLike(values, i.Platform ?? ""),
        "owner-id" => AnyLike(values, i.OwnerId),
        "owner-alias" => AnyLike(values, i.OwnerAlias ?? ""),
        "state" => AnyLike(values, i.State),
        "architecture" => AnyLike(values, i.Architecture),
        "description" => AnyLike(values, i.Description),
        "is-public" => AnyLike(values, Xml.Bool(i.Public)),
        "image-type" => AnyLike(values, "machine"),
        "root-device-type" => AnyLike(values, "ebs"),
        "virtualization-type" => AnyLike(values, "hvm"),
        "creation-date" => AnyLike(values, Xml.Time(i.CreationDate)),
        _ => MatchesTags(i.Tags, filter, values),
    };

    private static void WriteImage(XmlWriter w, AmiImage i)
    {
        bool windows = i.Platform == "windows";
        w.WriteElementString("imageId", i.ImageId);
        w.WriteElementString("imageLocation", $"{i.OwnerAlias ?? i.OwnerId}/{i.Name}");
        w.WriteElementString("imageState", i.State);
        w.WriteElementString("imageOwnerId", i.OwnerId);
        w.WriteElementString("creationDate", Xml.Time(i.CreationDate));
        w.WriteElementString("isPublic", Xml.Bool(i.Public));
        w.WriteElementString("architecture", i.Architecture);
        w.WriteElementString("imageType", "machine");
        if (windows)
        {
            w.WriteElementString("platform", "windows");
        }

        w.WriteElementString("platformDetails", i.PlatformDetails);
        w.WriteElementString("usageOperation", windows ? "RunInstances:0002" : "RunInstances");
        w.Element("imageOwnerAlias", i.OwnerAlias);
        w.WriteElementString("name", i.Name);
        w.WriteElementString("description", i.Description);
        w.WriteElementString("rootDeviceType", "ebs");
        w.WriteElementString("rootDeviceName", windows ? "/dev/sda1" : "/dev/xvda");
        w.List("blockDeviceMapping", "item", new[] { i }, (w, img) =>
        {
            w.WriteElementString("deviceName", windows ? "/dev/sda1" : "/dev/xvda");
            w.WriteStartElement("ebs");
            w.WriteElementString("snapshotId", "snap-0" + Scenarios.Ids.Hex("snapshot/" + img.ImageId, 16));
            w.WriteElementString("volumeSize", windows ? "50" : "20");
            w.WriteElementString("deleteOnTermination", "true");
            w.WriteElementString("volumeType", "gp3");
            w.WriteElementString("encrypted", "false");
            w.WriteEndElement();
        });
        w.WriteElementString("virtualizationType", "hvm");
        w.List("tagSet", "item", i.Tags, (w, t) =>
        {
            w.WriteElementString("key", t.Key);
            w.WriteElementString("value", t.Value);
        });
        w.WriteElementString("hypervisor", "xen");
        w.WriteElementString("enaSupport", "true");
        w.WriteElementString("sriovNetSupport", "simple");
        w.WriteElementString("bootMode", windows ? "uefi-preferred" : "uefi-preferred");
        w.WriteElementString("imdsSupport", "v2.0");
        w.WriteElementString("deprecationTime", Xml.Time(i.CreationDate.AddYears(2)));
    }

    // ---- shared ------------------------------------------------------------------------------

    private static List<(string Name, List<string> Values)> ValidFilters(QueryParams p, HashSet<string> known)
    {
        List<(string Name, List<string> Values)> filters = p.Filters("Filter", "Value");
        foreach ((string name, List<string> values) in filters)
        {
            if (!known.Contains(name) && !name.StartsWith("tag:", StringComparison.Ordinal))
            {
                throw new AwsException(400, "InvalidParameterValue", $"The filter '{name}' is invalid");
            }

            if (values.Count == 0)
            {
                throw new AwsException(400, "InvalidParameterValue", $"The filter '{name}' must have at least one value");
            }
        }

        return filters;
    }

    private static bool MatchesTags(List<Tag> tags, string filter, List<string> values) => filter switch
    {
        "tag-key" => tags.Exists(t => AnyLike(values, t.Key)),
        "tag-value" => tags.Exists(t => AnyLike(values, t.Value)),
        _ => tags.Exists(t => t.Key == filter["tag:".Length..] && AnyLike(values, t.Value)),
    };

    /// <summary>EC2 filter values match exactly, with * and ? as wildcards.</summary>
    private static bool AnyLike(List<string> patterns, string value) => patterns.Exists(p =>
        p.Contains('*', StringComparison.Ordinal) || p.Contains('?', StringComparison.Ordinal)
            ? Regex.IsMatch(value, "^" + Regex.Escape(p).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$", RegexOptions.Singleline, TimeSpan.FromSeconds(1))
            : p == value);

    private static (int Max, int Offset) PageParameters(QueryParams p, bool idsGiven, string idsParameter)
    {
        int max = 1000;
        string? maxText = p.Get("MaxResults");
        if (maxText is not null)
        {
            if (idsGiven)
            {
                throw new AwsException(400, "InvalidParameterCombination", $"The parameter {idsParameter} cannot be used with the parameter maxResults");
            }

            if (!int.TryParse(maxText, NumberStyles.Integer, CultureInfo.InvariantCulture, out max) || max is < 5 or > 1000)
            {
                throw new AwsException(400, "InvalidParameterValue", $"Value ( {maxText} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.");
            }
        }

        if (!Paging.TryDecode(p.Get("NextToken"), out int offset))
        {
            throw new AwsException(400, "InvalidParameterValue", "The token is invalid or has expired.");
        }

        return (max, offset);
    }

    [GeneratedRegex("^i-([0-9a-f]{8}|[0-9a-f]{17})$")]
    private static partial Regex InstanceIdPattern();

    [GeneratedRegex("^ami-([0-9a-f]{8}|[0-9a-f]{17})$")]
    private static partial Regex ImageIdPattern();
}
