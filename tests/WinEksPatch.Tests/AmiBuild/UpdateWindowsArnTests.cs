using WinEksPatch.Workflows.AmiBuild;

namespace WinEksPatch.Tests.AmiBuild;

/// <summary>The recipe names Amazon's update-windows in the partition and region of the build's own component.</summary>
public class UpdateWindowsArnTests
{
    [Theory]
    [InlineData("arn:aws:imagebuilder:us-west-2:111122223333:component/winekspatch-demo-cache/1.0.0/1", "arn:aws:imagebuilder:us-west-2:aws:component/update-windows/x.x.x")]
    [InlineData("arn:aws-cn:imagebuilder:cn-north-1:111122223333:component/winekspatch-demo-cache/1.0.0/1", "arn:aws-cn:imagebuilder:cn-north-1:aws:component/update-windows/x.x.x")]
    [InlineData("arn:aws-us-gov:imagebuilder:us-gov-west-1:111122223333:component/c/1.0.0/1", "arn:aws-us-gov:imagebuilder:us-gov-west-1:aws:component/update-windows/x.x.x")]
    public void Is_in_the_partition_and_region_of_the_build_s_own_component(string componentArn, string expected) =>
        Assert.Equal(expected, AmiBuilder.UpdateWindowsArn(componentArn));
}
