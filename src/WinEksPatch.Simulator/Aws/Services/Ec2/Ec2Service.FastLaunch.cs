using System.Globalization;
using System.Xml;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws.Services.Ec2;

// EC2 Fast Launch for Windows AMIs: EnableFastLaunch, DescribeFastLaunchImages, DisableFastLaunch. The state machine and
// the pool of pre-provisioned snapshots are in World/SimWorld.FastLaunch.cs. Element names follow the EC2 model
// (EnableFastLaunchResult, DescribeFastLaunchImagesSuccessItem: imageId, resourceType, snapshotConfiguration,
// launchTemplate, maxParallelLaunches, ownerId, state, stateTransitionReason, stateTransitionTime).
public sealed partial class Ec2Service
{
    private static readonly HashSet<string> FastLaunchFilters = ["resource-type", "owner-id", "state"];

    // ---- EnableFastLaunch ------------------------------------------------------------------

    private static Task EnableFastLaunch(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string imageId = RequireFastLaunchImageId(p);
        string resourceType = p.Get("ResourceType") ?? "snapshot";
        if (resourceType != "snapshot")
        {
            throw new AwsException(400, "InvalidParameterValue", $"Value ({resourceType}) for parameter resourceType is invalid. Supported values: snapshot.");
        }

        int? target = OptionalInt(p, "SnapshotConfiguration.TargetResourceCount");
        if (target is < 1)
        {
            throw new AwsException(400, "InvalidParameterValue", $"Value ({target}) for parameter snapshotConfiguration.targetResourceCount is invalid. The value must be 1 or greater.");
        }

        int? maxParallel = OptionalInt(p, "MaxParallelLaunches");
        if (maxParallel is < SimWorld.FastLaunchMinParallelLaunches)
        {
            // "The maximum number of instances ... Value must be 6 or greater." (EC2 API Reference, EnableFastLaunch)
            throw new AwsException(400, "InvalidParameterValue", $"Value ({maxParallel}) for parameter maxParallelLaunches is invalid. The value must be {SimWorld.FastLaunchMinParallelLaunches} or greater.");
        }

        string? templateId = p.Get("LaunchTemplate.LaunchTemplateId");
        string? templateName = p.Get("LaunchTemplate.LaunchTemplateName");
        string? templateVersion = p.Get("LaunchTemplate.Version");
        if (templateId is not null && templateName is not null)
        {
            // "Launch template parameters can include either the name or ID of the launch template, but not both."
            throw new AwsException(400, "InvalidParameterCombination", "Specify either the launch template ID or the launch template name, but not both.");
        }

        bool templateGiven = templateId is not null || templateName is not null || templateVersion is not null;
        if (templateGiven && templateVersion is null)
        {
            throw new AwsException(400, "MissingParameter", "The request must contain the parameter launchTemplate.version");
        }

        if (templateGiven && templateId is null && templateName is null)
        {
            throw new AwsException(400, "MissingParameter", "The request must contain the parameter launchTemplate.launchTemplateId or launchTemplate.launchTemplateName");
        }

        string body;
        lock (call.World.Gate)
        {
            AmiImage image = FastLaunchImage(call.World, imageId);
            if (image.OwnerId != call.World.AccountId && image.Public)
            {
                // "You can only change these settings for Windows AMIs that you own or that have been shared with you."
                throw new AwsException(400, "InvalidParameterValue", $"You can only configure EC2 Fast Launch for an image that you own or that is shared with you: {imageId} is owned by {image.OwnerId}.");
            }

            if (image.Platform != "windows")
            {
                throw new AwsException(400, "InvalidParameterValue", $"The image {imageId} is not a Windows image. EC2 Fast Launch supports only Windows AMIs.");
            }

            if (image.State != "available")
            {
                throw new AwsException(400, "InvalidAMIID.Unavailable", $"The image {imageId} is not in the available state.");
            }

            LaunchTemplate? template = null;
            if (templateGiven)
            {
                template = (templateId is not null
                        ? call.World.LaunchTemplates.GetValueOrDefault(templateId)
                        : call.World.LaunchTemplates.Values.FirstOrDefault(t => t.LaunchTemplateName == templateName))
                    ?? throw (templateId is not null
                        ? new AwsException(400, "InvalidLaunchTemplateId.NotFound", $"The specified launch template, with template ID {templateId}, does not exist.")
                        : new AwsException(400, "InvalidLaunchTemplateName.NotFoundException", $"The specified launch template, with template name {templateName}, does not exist."));
                if (template.Resolve(templateVersion) is null)
                {
                    throw new AwsException(400, "InvalidLaunchTemplateId.VersionNotFound", $"Could not find launch template version {templateVersion} for launch template {template.LaunchTemplateId}");
                }
            }

            FastLaunchImage? existing = call.World.FastLaunchImages.GetValueOrDefault(imageId);
            if (existing is { State: "enabling" or "disabling" })
            {
                throw new AwsException(400, "IncorrectState", $"EC2 Fast Launch for image {imageId} is {existing.State}. Wait until it completes and try again.");
            }

            // Settings not given keep their current values on an image that has Fast Launch, else the defaults.
            FastLaunchImage config = call.World.EnableFastLaunch(image,
                target ?? existing?.TargetResourceCount ?? SimWorld.FastLaunchDefaultTargetResourceCount,
                maxParallel ?? existing?.MaxParallelLaunches ?? SimWorld.FastLaunchMinParallelLaunches,
                template, templateVersion);
            body = Xml.Fragment(w => WriteFastLaunch(w, config));
        }

        return Ec2Protocol.WriteResultAsync(call, "EnableFastLaunch", w => w.WriteRaw(body));
    }

    // ---- DisableFastLaunch -----------------------------------------------------------------

    private static Task DisableFastLaunch(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        string imageId = RequireFastLaunchImageId(p);
        string body;
        lock (call.World.Gate)
        {
            FastLaunchImage(call.World, imageId);
            FastLaunchImage config = call.World.FastLaunchImages.GetValueOrDefault(imageId)
                ?? throw new AwsException(400, "InvalidParameterValue", $"EC2 Fast Launch is not enabled for image {imageId}.");
            if (config.State == "enabling" && p.Get("Force") is not "true")
            {
                throw new AwsException(400, "IncorrectState", $"EC2 Fast Launch for image {imageId} is enabling. Wait until it completes, or use Force.");
            }

            call.World.DisableFastLaunch(config);
            body = Xml.Fragment(w => WriteFastLaunch(w, config));
        }

        return Ec2Protocol.WriteResultAsync(call, "DisableFastLaunch", w => w.WriteRaw(body));
    }

    // ---- DescribeFastLaunchImages ----------------------------------------------------------

    private static Task DescribeFastLaunchImages(AwsCall call)
    {
        QueryParams p = call.FormOrQuery;
        List<string> ids = p.List("ImageId");
        List<(string Name, List<string> Values)> filters = ValidFilters(p, FastLaunchFilters);
        int max = 200;
        if (p.Get("MaxResults") is { } maxText
            && (!int.TryParse(maxText, NumberStyles.Integer, CultureInfo.InvariantCulture, out max) || max is < 0 or > 200))
        {
            throw new AwsException(400, "InvalidParameterValue", $"Value ( {maxText} ) for parameter maxResults is invalid. Expecting a value between 0 and 200.");
        }

        if (!Paging.TryDecode(p.Get("NextToken"), out int offset))
        {
            throw new AwsException(400, "InvalidParameterValue", "The token is invalid or has expired.");
        }

        string body;
        lock (call.World.Gate)
        {
            RequireImages(call.World, ids);

            // An image whose Fast Launch is disabled is simply not listed.
            List<FastLaunchImage> configs = call.World.FastLaunchImages.Values
                .Where(c => ids.Count == 0 || ids.Contains(c.ImageId))
                .Where(c => filters.TrueForAll(f => f.Name switch
                {
                    "resource-type" => AnyLike(f.Values, c.ResourceType),
                    "owner-id" => AnyLike(f.Values, c.OwnerId ?? ""),
                    _ => AnyLike(f.Values, c.State),
                }))
                .OrderBy(c => c.ImageId, StringComparer.Ordinal)
                .ToList();
            (List<FastLaunchImage> page, string? next) = max == 0 ? Paging.Page(configs, offset, 200) : Paging.Page(configs, offset, max);
            body = Xml.Fragment(w =>
            {
                w.List("fastLaunchImageSet", "item", page, WriteFastLaunch);
                w.Element("nextToken", next);
            });
        }

        return Ec2Protocol.WriteResultAsync(call, "DescribeFastLaunchImages", w => w.WriteRaw(body));
    }

    // ---- shared ----------------------------------------------------------------------------

    private static string RequireFastLaunchImageId(QueryParams p)
    {
        string imageId = p.Get("ImageId") ?? throw new AwsException(400, "MissingParameter", "The request must contain the parameter imageId");
        return ImageIdPattern().IsMatch(imageId)
            ? imageId
            : throw new AwsException(400, "InvalidAMIID.Malformed", $"Invalid id: \"{imageId}\" (expecting \"ami-...\")");
    }

    private static AmiImage FastLaunchImage(SimWorld world, string imageId) =>
        world.Images.GetValueOrDefault(imageId) ?? throw new AwsException(400, "InvalidAMIID.NotFound", $"The image id '[{imageId}]' does not exist");

    private static int? OptionalInt(QueryParams p, string parameter)
    {
        string? text = p.Get(parameter);
        if (text is null)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n)
            ? n
            : throw new AwsException(400, "InvalidParameterValue", $"Invalid value '{text}' for {parameter}: expecting an integer.");
    }

    /// <summary>The fields EnableFastLaunchResult, DisableFastLaunchResult and DescribeFastLaunchImagesSuccessItem share.</summary>
    private static void WriteFastLaunch(XmlWriter w, FastLaunchImage c)
    {
        w.WriteElementString("imageId", c.ImageId);
        w.WriteElementString("resourceType", c.ResourceType);
        w.WriteStartElement("snapshotConfiguration");
        w.WriteElementString("targetResourceCount", Xml.Int(c.TargetResourceCount));
        w.WriteEndElement();
        w.WriteStartElement("launchTemplate");
        w.Element("launchTemplateId", c.LaunchTemplateId);
        w.Element("launchTemplateName", c.LaunchTemplateName);
        w.Element("version", c.LaunchTemplateVersion);
        w.WriteEndElement();
        w.WriteElementString("maxParallelLaunches", Xml.Int(c.MaxParallelLaunches));
        w.Element("ownerId", c.OwnerId);
        w.WriteElementString("state", c.State);
        w.WriteElementString("stateTransitionReason", c.StateTransitionReason);
        w.WriteElementString("stateTransitionTime", Xml.Time(c.StateTransitionTime));
    }
}
