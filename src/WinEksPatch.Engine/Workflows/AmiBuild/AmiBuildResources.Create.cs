using WinEksPatch.Abstractions;
using WinEksPatch.Errors;
using WinEksPatch.Model;
using WinEksPatch.Windows;

namespace WinEksPatch.Workflows.AmiBuild;

/// <summary>The build's recipe as created or reused, and the build it started.</summary>
internal sealed record StartedBuild(string BuildArn, string RecipeArn);

// Creation exactly as planned: a resource the plan reuses is used by its ARN, one it creates is created with the plan's
// version; nothing is planned again here.
internal sealed partial class AmiBuildResources
{
    /// <summary>Creates what <paramref name="planned"/> creates (infrastructure first: creating it is what checks the instance
    /// profile and subnet) and starts the build. Whatever the failure (an AWS error, Ctrl+C, anything unexpected), what this
    /// run created goes, newest first; what existed stays.</summary>
    public async Task<StartedBuild> CreateAndStartAsync(AmiBuildSpecs specs, WinNodeAmiBuildPlan planned, string clusterName, IWorkflowHost host,
        CancellationToken cancellationToken)
    {
        var created = new List<(WinNodeAmiBuildResource Resource, string Arn)>();
        try
        {
            var infrastructure = planned.Resource(AmiBuildResourceKind.InfrastructureConfiguration);
            var infrastructureArn = infrastructure.Arn ?? await CreateInfrastructureAsync(specs.Infrastructure, infrastructure, created, host, cancellationToken)
                .ConfigureAwait(false);
            var component = planned.Resource(AmiBuildResourceKind.Component);
            var componentArn = component.Arn ?? await CreateAsync(component, created, host,
                () => imageBuilder.CreateComponentAsync(specs.Component(component.Version!, component.Change), cancellationToken)).ConfigureAwait(false);
            var recipe = planned.Resource(AmiBuildResourceKind.ImageRecipe);
            var recipeArn = recipe.Arn ?? await CreateAsync(recipe, created, host,
                () => imageBuilder.CreateImageRecipeAsync(specs.Recipe(recipe.Version!, componentArn), cancellationToken)).ConfigureAwait(false);
            var distribution = planned.Resource(AmiBuildResourceKind.DistributionConfiguration);
            var distributionArn = distribution.Arn ?? await CreateAsync(distribution, created, host,
                () => imageBuilder.CreateDistributionConfigurationAsync(specs.Distribution, cancellationToken)).ConfigureAwait(false);
            var buildArn = await imageBuilder.CreateImageAsync(new ImageBuildRequest(recipeArn, infrastructureArn, distributionArn,
                new Dictionary<string, string> { [AmiFacts.ClusterTag] = clusterName }), cancellationToken).ConfigureAwait(false);
            return new StartedBuild(buildArn, recipeArn);
        }
        catch (Exception) when (created.Count > 0)
        {
            await UndoAsync(created, host).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<string> CreateInfrastructureAsync(InfrastructureSpec spec, WinNodeAmiBuildResource resource, List<(WinNodeAmiBuildResource, string)> created,
        IWorkflowHost host, CancellationToken cancellationToken)
    {
        try
        {
            return await CreateAsync(resource, created, host, () => imageBuilder.CreateInfrastructureConfigurationAsync(spec, cancellationToken)).ConfigureAwait(false);
        }
        catch (WinEksPatchException ex) when (ImageBuilderErrors.RejectedParameter(ex) == "instanceProfileName")
        {
            throw new WinEksPatchException(ErrorIds.InstanceProfileNotFound, ErrorKind.ObjectNotFound,
                $"-InstanceProfileName: the instance profile '{spec.InstanceProfileName}' does not exist (Image Builder: {ex.Message}) Nothing was created.",
                spec.InstanceProfileName, ex);
        }
        catch (WinEksPatchException ex) when (ImageBuilderErrors.RejectedParameter(ex) == "subnetId")
        {
            throw new WinEksPatchException(ErrorIds.SubnetNotFound, ErrorKind.ObjectNotFound,
                $"-SubnetId: the subnet '{spec.SubnetId}' does not exist in {region} (Image Builder: {ex.Message}) Nothing was created.", spec.SubnetId, ex);
        }
    }

    private static async Task<string> CreateAsync(WinNodeAmiBuildResource resource, List<(WinNodeAmiBuildResource, string)> created, IWorkflowHost host,
        Func<Task<string>> create)
    {
        var arn = await create().ConfigureAwait(false);
        created.Add((resource, arn));
        host.Verbose($"Created {resource.KindText} {arn}.");
        return arn;
    }

    /// <summary>Removes what this run created, newest first (best effort: never masks the original failure).</summary>
    private async Task UndoAsync(List<(WinNodeAmiBuildResource Resource, string Arn)> created, IWorkflowHost host)
    {
        foreach (var (resource, arn) in Enumerable.Reverse(created))
        {
            try
            {
                Func<string, CancellationToken, Task> delete = resource.ResourceKind switch
                {
                    AmiBuildResourceKind.Component => imageBuilder.DeleteComponentAsync,
                    AmiBuildResourceKind.ImageRecipe => imageBuilder.DeleteImageRecipeAsync,
                    AmiBuildResourceKind.InfrastructureConfiguration => imageBuilder.DeleteInfrastructureConfigurationAsync,
                    _ => imageBuilder.DeleteDistributionConfigurationAsync,
                };
                await delete(arn, CancellationToken.None).ConfigureAwait(false);
                host.Verbose($"Removed {resource.KindText} {arn} (created by this run, which failed).");
            }
            catch (WinEksPatchException ex)
            {
                host.Warning($"Could not remove {resource.KindText} {arn} after the failure: {ex.Message}");
            }
        }
    }
}
