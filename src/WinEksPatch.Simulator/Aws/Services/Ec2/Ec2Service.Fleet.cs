using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.Ec2;

// EC2 operations on the fleet: launch templates (describe, new versions, default version), tags, TerminateInstances.
// Launch template data is modelled for what the fleet uses (AMI, instance type, user data); a new version made from
// a source version keeps everything of it that the request does not override, user data byte for byte.
public sealed partial class Ec2Service
{
    // ---- DescribeLaunchTemplates -----------------------------------------------------------

    private static readonly HashSet<string> LaunchTemplateFilters = ["create-time", "launch-template-name", "tag-key", "tag-value"];

    private static Task DescribeLaunchTemplates(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        List<string> ids = p.List("LaunchTemplateId");
        List<string> names = p.List("LaunchTemplateName");
        List<(string Name, List<string> Values)> filters = ValidFilters(p, LaunchTemplateFilters);
        (int max, int offset) = PageParameters(p, ids.Count + names.Count > 0, "LaunchTemplateIds");
        foreach (string id in ids.Where(id => !LaunchTemplateIdPattern().IsMatch(id)))
        {
            throw new AwsException(400, "InvalidLaunchTemplateId.Malformed", $"The specified ID for the launch template is not valid. The ID must be in the form lt-xxxxxxxxxxxxxxxxx: {id}");
        }

        string body;
        lock (call.World.Gate)
        {
            if (ids.Exists(id => !call.World.LaunchTemplates.ContainsKey(id)))
            {
                throw new AwsException(400, "InvalidLaunchTemplateId.NotFound", "At least one of the launch templates specified in the request does not exist.");
            }

            if (names.Exists(n => !call.World.LaunchTemplates.Values.Any(t => t.LaunchTemplateName == n)))
            {
                throw new AwsException(400, "InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.");
            }

            List<LaunchTemplate> templates = call.World.LaunchTemplates.Values
                .Where(t => ids.Count == 0 || ids.Contains(t.LaunchTemplateId))
                .Where(t => names.Count == 0 || names.Contains(t.LaunchTemplateName))
                .Where(t => filters.TrueForAll(f => f.Name switch
                {
                    "create-time" => AnyLike(f.Values, Xml.Time(t.CreateTime)),
                    "launch-template-name" => AnyLike(f.Values, t.LaunchTemplateName),
                    _ => MatchesTags(t.Tags, f.Name, f.Values),
                }))
                .OrderBy(t => t.LaunchTemplateId, StringComparer.Ordinal)
                .ToList();
            (List<LaunchTemplate> page, string? next) = Paging.Page(templates, offset, max);
            body = Xml.Fragment(w =>
            {
                w.List("launchTemplates", "item", page, (w, t) => WriteLaunchTemplate(w, call.World, t));
                w.Element("nextToken", next);
            });
        }

        return Ec2Protocol.WriteResultAsync(call, "DescribeLaunchTemplates", w => w.WriteRaw(body));
    }

    private static void WriteLaunchTemplate(XmlWriter w, SimWorld world, LaunchTemplate t)
    {
        w.WriteElementString("launchTemplateId", t.LaunchTemplateId);
        w.WriteElementString("launchTemplateName", t.LaunchTemplateName);
        w.WriteElementString("createTime", Xml.Time(t.CreateTime));
        w.WriteElementString("createdBy", CreatedBy(world));
        w.WriteElementString("defaultVersionNumber", Xml.Int(t.DefaultVersionNumber));
        w.WriteElementString("latestVersionNumber", Xml.Int(t.LatestVersionNumber));
        w.List("tagSet", "item", t.Tags, (w, tag) =>
        {
            w.WriteElementString("key", tag.Key);
            w.WriteElementString("value", tag.Value);
        });
    }

    private static string CreatedBy(SimWorld world) => $"arn:aws:iam::{world.AccountId}:root";

    // ---- DescribeLaunchTemplateVersions ----------------------------------------------------

    private static readonly HashSet<string> LaunchTemplateVersionFilters = ["create-time", "image-id", "instance-type", "is-default-version"];

    private static Task DescribeLaunchTemplateVersions(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        List<string> versions = p.List("LaunchTemplateVersion");
        List<(string Name, List<string> Values)> filters = ValidFilters(p, LaunchTemplateVersionFilters);
        (int max, int offset) = PageParameters(p, false, "LaunchTemplateVersion");
        long? minVersion = OptionalVersionNumber(p, "MinVersion");
        long? maxVersion = OptionalVersionNumber(p, "MaxVersion");
        bool resolveAlias = p.Get("ResolveAlias") == "true";

        string body;
        lock (call.World.Gate)
        {
            LaunchTemplate template = FindTemplate(call.World, p);
            var selected = new List<LaunchTemplateVersion>();
            if (versions.Count > 0)
            {
                foreach (string v in versions)
                {
                    LaunchTemplateVersion version = template.Resolve(v)
                        ?? throw new AwsException(400, "InvalidLaunchTemplateId.VersionNotFound", $"Could not find launch template version {v} for launch template {template.LaunchTemplateId}");
                    if (!selected.Contains(version))
                    {
                        selected.Add(version);
                    }
                }
            }
            else
            {
                // Newest first, as EC2 lists them.
                selected.AddRange(template.Versions.OrderByDescending(v => v.VersionNumber));
            }

            selected = selected
                .Where(v => (minVersion is null || v.VersionNumber >= minVersion) && (maxVersion is null || v.VersionNumber <= maxVersion))
                .Where(v => filters.TrueForAll(f => f.Name switch
                {
                    "create-time" => AnyLike(f.Values, Xml.Time(v.CreateTime)),
                    "image-id" => AnyLike(f.Values, v.ImageId ?? ""),
                    "instance-type" => AnyLike(f.Values, v.InstanceType),
                    _ => AnyLike(f.Values, Xml.Bool(v.VersionNumber == template.DefaultVersionNumber)),
                }))
                .ToList();
            (List<LaunchTemplateVersion> page, string? next) = Paging.Page(selected, offset, max);
            body = Xml.Fragment(w =>
            {
                w.List("launchTemplateVersionSet", "item", page, (w, v) => WriteLaunchTemplateVersion(w, call.World, template, v, resolveAlias));
                w.Element("nextToken", next);
            });
        }

        return Ec2Protocol.WriteResultAsync(call, "DescribeLaunchTemplateVersions", w => w.WriteRaw(body));
    }

    /// <summary>One version as EC2 describes it. An ImageId given as "resolve:ssm:…" is shown as given, or, with
    /// ResolveAlias, as the AMI id the parameter names now ("If false, and if a Systems Manager parameter is specified for
    /// ImageId, the parameter is displayed in the response for imageId").</summary>
    private static void WriteLaunchTemplateVersion(XmlWriter w, SimWorld world, LaunchTemplate t, LaunchTemplateVersion v, bool resolveAlias)
    {
        w.WriteElementString("launchTemplateId", t.LaunchTemplateId);
        w.WriteElementString("launchTemplateName", t.LaunchTemplateName);
        w.WriteElementString("versionNumber", Xml.Int(v.VersionNumber));
        w.Element("versionDescription", v.VersionDescription);
        w.WriteElementString("createTime", Xml.Time(v.CreateTime));
        w.WriteElementString("createdBy", CreatedBy(world));
        w.WriteElementString("defaultVersion", Xml.Bool(v.VersionNumber == t.DefaultVersionNumber));
        w.WriteStartElement("launchTemplateData");
        w.Element("imageId", resolveAlias ? world.ResolveImageAlias(v.ImageId) ?? v.ImageId : v.ImageId);
        w.WriteElementString("instanceType", v.InstanceType);
        w.Element("userData", v.UserData);
        if (v.IamInstanceProfileArn is { } profile)
        {
            w.WriteStartElement("iamInstanceProfile");
            w.WriteElementString("arn", profile);
            w.WriteEndElement();
        }

        w.WriteEndElement();
    }

    /// <summary>LaunchTemplateData.IamInstanceProfile.Arn, or .Name as its ARN.</summary>
    private static string? InstanceProfileArn(SimWorld world, QueryParams p) =>
        p.Get("LaunchTemplateData.IamInstanceProfile.Arn")
        ?? (p.Get("LaunchTemplateData.IamInstanceProfile.Name") is { } name ? $"arn:aws:iam::{world.AccountId}:instance-profile/{name}" : null);

    // ---- CreateLaunchTemplateVersion / ModifyLaunchTemplate --------------------------------

    private static Task CreateLaunchTemplateVersion(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        if (!p.Names.Any(n => n.StartsWith("LaunchTemplateData.", StringComparison.Ordinal)) && !p.Has("LaunchTemplateData"))
        {
            throw new AwsException(400, "MissingParameter", "The request must contain the parameter launchTemplateData");
        }

        string? imageId = p.Get("LaunchTemplateData.ImageId");
        string? instanceType = p.Get("LaunchTemplateData.InstanceType");
        string? userData = p.Get("LaunchTemplateData.UserData");
        string? description = p.Get("VersionDescription");
        if (imageId is not null && !imageId.StartsWith(SimWorld.SsmImageAliasPrefix, StringComparison.Ordinal) && !ImageIdPattern().IsMatch(imageId))
        {
            throw new AwsException(400, "InvalidAMIID.Malformed", $"Invalid id: \"{imageId}\" (expecting \"ami-...\")");
        }

        if (description is { Length: > 255 })
        {
            throw new AwsException(400, "InvalidParameterValue", "The version description must be 255 characters or fewer.");
        }

        if (userData is not null && !IsBase64(userData))
        {
            throw new AwsException(400, "InvalidUserData.Malformed", "Invalid BASE64 encoding of user data.");
        }

        string body;
        lock (call.World.Gate)
        {
            LaunchTemplate template = FindTemplate(call.World, p);
            LaunchTemplateVersion? source = null;
            if (p.Get("SourceVersion") is { } sourceVersion)
            {
                source = template.Resolve(sourceVersion)
                    ?? throw new AwsException(400, "InvalidLaunchTemplateId.VersionNotFound", $"Could not find launch template version {sourceVersion} for launch template {template.LaunchTemplateId}");
            }

            // EC2 checks that the parameter resolves, but keeps the alias: each launch resolves it again.
            if (imageId?.StartsWith(SimWorld.SsmImageAliasPrefix, StringComparison.Ordinal) == true && call.World.ResolveImageAlias(imageId) is null)
            {
                throw new AwsException(400, "InvalidParameterValue", $"Unable to resolve the SSM parameter {imageId[SimWorld.SsmImageAliasPrefix.Length..]}.");
            }

            var version = new LaunchTemplateVersion
            {
                VersionNumber = template.LatestVersionNumber + 1,
                ImageId = imageId ?? source?.ImageId,
                InstanceType = instanceType ?? source?.InstanceType ?? "m5.xlarge",
                UserData = userData ?? source?.UserData,
                IamInstanceProfileArn = InstanceProfileArn(call.World, p) ?? source?.IamInstanceProfileArn,
                VersionDescription = description,
                CreateTime = call.World.Scheduler.Now,
            };
            template.Versions.Add(version);
            // EC2 accepts an AMI it cannot find and says so in a warning (the launch fails later).
            string? missingImage = call.World.ResolveImageAlias(version.ImageId) is { } id && !call.World.Images.ContainsKey(id) ? id : null;
            body = Xml.Fragment(w =>
            {
                w.WriteStartElement("launchTemplateVersion");
                WriteLaunchTemplateVersion(w, call.World, template, version, p.Get("ResolveAlias") == "true");
                w.WriteEndElement();
                if (missingImage is not null)
                {
                    w.WriteStartElement("warning");
                    w.List("errorSet", "item", new[] { missingImage }, (w, id) =>
                    {
                        w.WriteElementString("code", "InvalidAMIID.NotFound");
                        w.WriteElementString("message", $"The image id '[{id}]' does not exist");
                    });
                    w.WriteEndElement();
                }
            });
        }

        return Ec2Protocol.WriteResultAsync(call, "CreateLaunchTemplateVersion", w => w.WriteRaw(body));
    }

    private static Task ModifyLaunchTemplate(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string body;
        lock (call.World.Gate)
        {
            LaunchTemplate template = FindTemplate(call.World, p);
            if (p.Get("SetDefaultVersion") is { } wanted)
            {
                LaunchTemplateVersion version = (wanted == "$Latest" || long.TryParse(wanted, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? template.Resolve(wanted) : null)
                    ?? throw new AwsException(400, "InvalidLaunchTemplateId.VersionNotFound", $"Could not find launch template version {wanted} for launch template {template.LaunchTemplateId}");
                template.DefaultVersionNumber = version.VersionNumber;
            }

            body = Xml.Fragment(w =>
            {
                w.WriteStartElement("launchTemplate");
                WriteLaunchTemplate(w, call.World, template);
                w.WriteEndElement();
            });
        }

        return Ec2Protocol.WriteResultAsync(call, "ModifyLaunchTemplate", w => w.WriteRaw(body));
    }

    /// <summary>The template a request names by LaunchTemplateId or LaunchTemplateName (exactly one of them).</summary>
    private static LaunchTemplate FindTemplate(SimWorld world, QueryParams p)
    {
        string? id = p.Get("LaunchTemplateId");
        string? name = p.Get("LaunchTemplateName");
        if (id is null && name is null)
        {
            throw new AwsException(400, "MissingParameter", "The request must contain the parameter LaunchTemplateName or LaunchTemplateId");
        }

        if (id is not null && name is not null)
        {
            throw new AwsException(400, "InvalidParameterCombination", "Only one of LaunchTemplateId or LaunchTemplateName may be specified.");
        }

        if (id is not null)
        {
            if (!LaunchTemplateIdPattern().IsMatch(id))
            {
                throw new AwsException(400, "InvalidLaunchTemplateId.Malformed", $"The specified ID for the launch template is not valid. The ID must be in the form lt-xxxxxxxxxxxxxxxxx: {id}");
            }

            return world.LaunchTemplates.GetValueOrDefault(id)
                ?? throw new AwsException(400, "InvalidLaunchTemplateId.NotFound", $"The specified launch template, with template ID {id}, does not exist.");
        }

        return world.LaunchTemplates.Values.FirstOrDefault(t => t.LaunchTemplateName == name)
            ?? throw new AwsException(400, "InvalidLaunchTemplateName.NotFoundException", $"The specified launch template, with template name {name}, does not exist.");
    }

    private static long? OptionalVersionNumber(QueryParams p, string parameter)
    {
        string? text = p.Get(parameter);
        if (text is null)
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n)
            ? n
            : throw new AwsException(400, "InvalidParameterValue", $"Invalid value '{text}' for {parameter}: expecting a version number.");
    }

    private static bool IsBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out _);
    }

    // ---- CreateTags / DeleteTags -----------------------------------------------------------

    private static Task CreateOrDeleteTags(AwsCall call, bool create)
    {
        QueryParams p = call.FormOrQuery;
        List<string> resources = p.List("ResourceId");
        if (resources.Count == 0)
        {
            throw new AwsException(400, "MissingParameter", "The request must contain the parameter resourceIdSet");
        }

        var tags = p.Indexed("Tag").Select(i => (Key: p.Get($"Tag.{i}.Key"), Value: p.Get($"Tag.{i}.Value"))).ToList();
        if (create && tags.Count == 0)
        {
            throw new AwsException(400, "MissingParameter", "The request must contain the parameter tagSet");
        }

        foreach ((string? key, string? value) in tags)
        {
            if (string.IsNullOrEmpty(key))
            {
                throw new AwsException(400, "InvalidParameterValue", "Tag key cannot be null or empty.");
            }

            if (key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
            {
                throw new AwsException(400, "InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use");
            }

            if (key.Length > 128 || (value?.Length ?? 0) > 256)
            {
                throw new AwsException(400, "InvalidParameterValue", $"Tag key '{key}' or its value is too long.");
            }
        }

        lock (call.World.Gate)
        {
            var targets = resources.Select(id => TaggableResource(call.World, id)).ToList();
            foreach (List<Tag> target in targets)
            {
                foreach ((string? key, string? value) in tags)
                {
                    if (create)
                    {
                        Tag? existing = target.Find(t => t.Key == key);
                        if (existing is null)
                        {
                            target.Add(new Tag { Key = key!, Value = value ?? "" });
                        }
                        else
                        {
                            existing.Value = value ?? "";
                        }
                    }
                    else
                    {
                        // Without a value the key goes whatever its value; with one, only when it matches.
                        target.RemoveAll(t => t.Key == key && (value is null || t.Value == value));
                    }
                }

                if (!create && tags.Count == 0)
                {
                    // DeleteTags without tags deletes every user tag (never the aws: ones).
                    target.RemoveAll(t => !t.Key.StartsWith("aws:", StringComparison.Ordinal));
                }
            }
        }

        return Ec2Protocol.WriteResultAsync(call, create ? "CreateTags" : "DeleteTags", w => w.WriteElementString("return", "true"));
    }

    private static List<Tag> TaggableResource(SimWorld world, string id)
    {
        if (id.StartsWith("i-", StringComparison.Ordinal))
        {
            return (InstanceIdPattern().IsMatch(id) ? world.Instances.GetValueOrDefault(id)?.Tags : throw new AwsException(400, "InvalidInstanceID.Malformed", $"Invalid id: \"{id}\""))
                ?? throw new AwsException(400, "InvalidInstanceID.NotFound", $"The instance ID '{id}' does not exist");
        }

        if (id.StartsWith("ami-", StringComparison.Ordinal))
        {
            return world.Images.GetValueOrDefault(id)?.Tags
                ?? throw new AwsException(400, "InvalidAMIID.NotFound", $"The image id '[{id}]' does not exist");
        }

        if (id.StartsWith("lt-", StringComparison.Ordinal))
        {
            return world.LaunchTemplates.GetValueOrDefault(id)?.Tags
                ?? throw new AwsException(400, "InvalidLaunchTemplateId.NotFound", $"The specified launch template, with template ID {id}, does not exist.");
        }

        throw new AwsException(400, "InvalidID", $"The ID '{id}' is not valid");
    }

    // ---- TerminateInstances ----------------------------------------------------------------

    private static Task TerminateInstances(AwsCall call)
    {
        List<string> ids = call.FormOrQuery.List("InstanceId");
        if (ids.Count == 0)
        {
            throw new AwsException(400, "MissingParameter", "The request must contain the parameter InstanceId");
        }

        foreach (string id in ids.Where(id => !InstanceIdPattern().IsMatch(id)))
        {
            throw new AwsException(400, "InvalidInstanceID.Malformed", $"Invalid id: \"{id}\"");
        }

        List<(string Id, string Previous, string Current)> changes = [];
        lock (call.World.Gate)
        {
            List<string> missing = ids.Where(id => !call.World.Instances.ContainsKey(id)).Distinct().ToList();
            if (missing.Count > 0)
            {
                throw new AwsException(400, "InvalidInstanceID.NotFound", missing.Count == 1
                    ? $"The instance ID '{missing[0]}' does not exist"
                    : $"The instance IDs '{string.Join(", ", missing)}' do not exist");
            }

            foreach (string id in ids.Distinct())
            {
                Ec2Instance instance = call.World.Instances[id];
                string previous = instance.State;
                call.World.TerminateFromEc2(instance);
                changes.Add((id, previous, instance.State));
            }
        }

        return Ec2Protocol.WriteResultAsync(call, "TerminateInstances", w => w.List("instancesSet", "item", changes, (w, c) =>
        {
            w.WriteElementString("instanceId", c.Id);
            w.WriteStartElement("currentState");
            w.WriteElementString("code", Xml.Int(Ec2Instance.StateCode(c.Current)));
            w.WriteElementString("name", c.Current);
            w.WriteEndElement();
            w.WriteStartElement("previousState");
            w.WriteElementString("code", Xml.Int(Ec2Instance.StateCode(c.Previous)));
            w.WriteElementString("name", c.Previous);
            w.WriteEndElement();
        }));
    }

    [GeneratedRegex("^lt-[0-9a-f]{17}$")]
    private static partial Regex LaunchTemplateIdPattern();
}
