using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Scenarios;

// The scenario's AMI catalog: EKS-optimized Windows AMIs per Kubernetes version, Windows Server, edition and patch month
// (from the Windows build calendar), the Linux ones, and their SSM parameters.
public sealed partial class ScenarioLoader
{
    private void LoadAmiCatalog()
    {
        AmiCatalogDefinition catalog = _scenario.AmiCatalog;
        DateOnly first = ParseMonth(catalog.FirstMonth);
        DateOnly start = DateOnly.FromDateTime(_world.Clock.GetUtcNow().UtcDateTime);
        DateOnly last = catalog.LastMonth is null
            ? _calendar.Builds.Where(b => b.ReleaseDate.AddDays(catalog.ReleaseLagDays) <= start).Select(b => b.PatchMonth).DefaultIfEmpty(first).Max()
            : ParseMonth(catalog.LastMonth);

        foreach (string k8s in catalog.KubernetesVersions)
        {
            foreach (string server in catalog.WindowsServers)
            {
                foreach (WindowsBuild build in _calendar.For(server).Where(b => b.PatchMonth >= first && b.PatchMonth <= last))
                {
                    DateOnly released = build.ReleaseDate.AddDays(catalog.ReleaseLagDays);
                    foreach (string edition in catalog.Editions)
                    {
                        string name = $"Windows_Server-{server}-English-{edition}-EKS_Optimized-{k8s}-{released:yyyy.MM.dd}";
                        AddImage(new AmiImage
                        {
                            ImageId = Ids.Ami(name),
                            Name = name,
                            Description = $"Microsoft Windows Server {server} {edition} optimized for EKS and provided by Amazon",
                            OwnerId = WindowsAmiOwner,
                            OwnerAlias = "amazon",
                            Platform = "windows",
                            PlatformDetails = "Windows",
                            CreationDate = released.ToDateTime(new TimeOnly(18, 42), DateTimeKind.Utc),
                            OsVersion = build.OsVersion,
                            KubernetesVersion = k8s,
                            OsFamily = "windows",
                            WindowsServer = server,
                            WindowsEdition = edition,
                            PatchMonth = build.PatchMonth,
                        });
                    }
                }
            }

            if (catalog.Linux)
            {
                for (DateOnly month = first; month <= last; month = month.AddMonths(1))
                {
                    DateOnly released = month.AddDays(14);
                    string name = $"amazon-eks-node-al2023-x86_64-standard-{k8s}-v{released:yyyyMMdd}";
                    AddImage(new AmiImage
                    {
                        ImageId = Ids.Ami(name),
                        Name = name,
                        Description = $"EKS-optimized Kubernetes node based on Amazon Linux 2023, (k8s: {k8s}, containerd)",
                        OwnerId = LinuxAmiOwner,
                        OwnerAlias = "amazon",
                        CreationDate = released.ToDateTime(new TimeOnly(6, 10), DateTimeKind.Utc),
                        OsVersion = "6.1.115-126.197.amzn2023.x86_64",
                        KubernetesVersion = k8s,
                        OsFamily = "linux",
                        PatchMonth = month,
                    });
                }
            }
        }

        // The public SSM parameters that point at the newest AMI of each kind.
        foreach (IGrouping<string, AmiImage> family in _world.Images.Values.GroupBy(FamilyParameterName))
        {
            AmiImage newest = family.MaxBy(i => i.CreationDate)!;
            _world.SsmParameters[family.Key] = new SsmParameter
            {
                Name = family.Key,
                Value = newest.ImageId,
                Version = family.Count(),
                LastModifiedDate = newest.CreationDate,
                DataType = "aws:ec2:image",
            };
        }

        // Copies other accounts share with this one: in DescribeImages by id, never in an SSM parameter or an Amazon listing.
        foreach (string owner in catalog.SharedCopiesFrom)
        {
            foreach (AmiImage newest in _world.Images.Values.Where(i => i.OsFamily == "windows" && i.OwnerAlias == "amazon").GroupBy(FamilyParameterName)
                .Select(f => f.MaxBy(i => i.CreationDate)!).ToList())
            {
                string name = $"{newest.Name}-shared";
                AddImage(new AmiImage
                {
                    ImageId = Ids.Ami($"{owner}/{name}"),
                    Name = name,
                    Description = newest.Description,
                    OwnerId = owner,
                    Public = false,
                    Platform = newest.Platform,
                    PlatformDetails = newest.PlatformDetails,
                    CreationDate = newest.CreationDate.AddDays(1),
                    OsVersion = newest.OsVersion,
                    KubernetesVersion = newest.KubernetesVersion,
                    OsFamily = newest.OsFamily,
                    WindowsServer = newest.WindowsServer,
                    WindowsEdition = newest.WindowsEdition,
                    PatchMonth = newest.PatchMonth,
                });
            }
        }
    }

    /// <summary>The public SSM parameter that names the newest AMI of the image's family.</summary>
    public static string FamilyParameterName(AmiImage image) => image.OsFamily == "windows"
        ? $"/aws/service/ami-windows-latest/Windows_Server-{image.WindowsServer}-English-{image.WindowsEdition}-EKS_Optimized-{image.KubernetesVersion}/image_id"
        : $"/aws/service/eks/optimized-ami/{image.KubernetesVersion}/amazon-linux-2023/x86_64/standard/recommended/image_id";

    private void AddImage(AmiImage image) => _world.Images[image.ImageId] = image;
}
