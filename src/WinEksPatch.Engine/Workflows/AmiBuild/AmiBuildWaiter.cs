using WinEksPatch.Abstractions;
using WinEksPatch.Errors;

namespace WinEksPatch.Workflows.AmiBuild;

/// <summary>Waits for an image build by polling GetImage (Image Builder has no watch) on the injected clock, with a progress
/// bar through the build's phases; a FAILED or CANCELLED build is an error with Image Builder's reason and where the logs are.
/// Ctrl+C stops the wait, not the build, and says how to follow or cancel it.</summary>
internal sealed class AmiBuildWaiter(IImageBuilderApi imageBuilder, TimeProvider time, string region, TimeSpan pollInterval)
{
    private const int ProgressId = 4201;

    private static readonly string[] Phases = ["PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE"];

    public async Task<ImageBuilderImage> WaitAsync(string buildArn, string imageName, IWorkflowHost host, CancellationToken cancellationToken)
    {
        var activity = $"New-WinNodeAmi: EC2 Image Builder build {imageName}";
        string? last = null;
        try
        {
            while (true)
            {
                var image = await imageBuilder.GetImageAsync(buildArn, cancellationToken).ConfigureAwait(false);
                if (image.Status != last)
                {
                    host.Verbose($"Image build status: {image.Status}{(image.Reason != null ? " - " + image.Reason : "")}");
                    last = image.Status;
                }

                var phase = Array.IndexOf(Phases, image.Status);
                host.Progress(new ProgressUpdate(ProgressId, activity, image.Status, phase < 0 ? -1 : phase * 100 / (Phases.Length - 1), CurrentOperation: buildArn));
                switch (image.Status)
                {
                    case "AVAILABLE":
                        return image;
                    case "FAILED":
                        throw new WinEksPatchException(ErrorIds.ImageBuildFailed, ErrorKind.InvalidOperation,
                            $"The image build {buildArn} failed: {image.Reason ?? "no reason given"} Logs: CloudWatch Logs group /aws/imagebuilder/{imageName}, stream {image.Version ?? "<version>/<build>"} "
                            + "(and the S3 bucket of the infrastructure configuration's logging, when set).", buildArn);
                    case "CANCELLED":
                        throw new WinEksPatchException(ErrorIds.ImageBuildCancelled, ErrorKind.OperationStopped,
                            $"The image build {buildArn} was cancelled: {image.Reason ?? "no reason given"} Logs: CloudWatch Logs group /aws/imagebuilder/{imageName}.", buildArn);
                }

                await Task.Delay(pollInterval, time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            host.Warning($"Stopped waiting; the image build goes on: {buildArn}. Follow it with 'aws imagebuilder get-image --image-build-version-arn {buildArn} --region {region}' "
                + $"(or Get-WinNodeAmi -Source ImageBuilder once it is AVAILABLE); cancel it with 'aws imagebuilder cancel-image-creation --image-build-version-arn {buildArn} --region {region}'.");
            throw;
        }
        finally
        {
            host.Progress(new ProgressUpdate(ProgressId, activity, last ?? "done", 100, Completed: true));
        }
    }
}
