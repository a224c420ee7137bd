using System.Diagnostics;
using System.Text.Json;
using WinEksPatch.Errors;

namespace WinEksPatch.Tests.Errors;

/// <summary>Failures that are not the module's own errors get an id and a category, and keep nothing secret.</summary>
public class UnexpectedFailureTests
{
    private const string Presigned = "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&X-Amz-Security-Token=SECRET&X-Amz-Signature=abc";

    [Fact]
    public void A_timeout_an_unreadable_answer_and_an_unexpected_state_each_get_an_id_and_a_category()
    {
        Assert.Equal((ErrorIds.CallTimedOut, ErrorKind.OperationTimeout), Classify(new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing.")));
        Assert.Equal((ErrorIds.InvalidResponse, ErrorKind.InvalidData), Classify(new JsonException("'<' is an invalid start of a value.")));
        Assert.Equal((ErrorIds.InvalidResponse, ErrorKind.InvalidData), Classify(new InvalidDataException("GetImage returned no image.")));
        Assert.Equal((ErrorIds.UnexpectedError, ErrorKind.InvalidOperation), Classify(new InvalidOperationException("Sequence contains no elements")));
    }

    [Fact]
    public void The_module_s_own_errors_pass_through_unchanged()
    {
        var own = new WinEksPatchException(ErrorIds.NodeGroupNotFound, ErrorKind.ObjectNotFound, "x");
        Assert.Same(own, UnexpectedFailure.From(own));
    }

    [Fact]
    public void The_original_exception_is_not_kept_and_a_url_s_query_string_is_cut_off()
    {
        var error = UnexpectedFailure.From(new HttpRequestException($"Response status code does not indicate success: 403 ({Presigned})",
            new InvalidOperationException("inner holding " + Presigned)), "demo");

        Assert.Null(error.InnerException);
        Assert.Equal("demo", error.Target);
        Assert.Contains("HttpRequestException: Response status code does not indicate success: 403 (https://sts.us-west-2.amazonaws.com/?…)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("X-Amz", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unexpected_failure_keeps_where_it_came_from_for_Debug_but_no_message_of_the_chain()
    {
        Exception thrown;
        try
        {
            ThrowFromHere();
            throw new UnreachableException();
        }
        catch (Exception ex)
        {
            thrown = ex;
        }

        var error = UnexpectedFailure.From(thrown);

        Assert.Equal(ErrorIds.UnexpectedError, error.ErrorId);
        Assert.StartsWith("System.InvalidOperationException", error.Origin, StringComparison.Ordinal);
        Assert.Contains(nameof(ThrowFromHere), error.Origin, StringComparison.Ordinal);
        Assert.Contains("inner: System.Net.Http.HttpRequestException", error.Origin, StringComparison.Ordinal);
        Assert.DoesNotContain("X-Amz", error.Origin, StringComparison.Ordinal);
        Assert.DoesNotContain("holding", error.Origin, StringComparison.Ordinal);
    }

    private static void ThrowFromHere() =>
        throw new InvalidOperationException("outer holding " + Presigned, new HttpRequestException("inner holding " + Presigned));

    private static (string, ErrorKind) Classify(Exception ex)
    {
        var error = UnexpectedFailure.From(ex);
        return (error.ErrorId, error.Kind);
    }
}
