using Microsoft.AspNetCore.Http;
using WinEksPatch.Simulator.Aws.Protocols;

namespace WinEksPatch.Simulator.Aws;

/// <summary>The four wire protocols AWS services speak (the "protocol" of each service model).</summary>
public enum AwsProtocol
{
    /// <summary>awsQuery: form-encoded Action=..., XML responses (STS, Auto Scaling).</summary>
    Query,
    /// <summary>EC2's variant of query: different list encoding and error shape.</summary>
    Ec2,
    /// <summary>JSON 1.1 with X-Amz-Target (SSM, ECR).</summary>
    Json,
    /// <summary>REST routes with JSON bodies (EKS, Image Builder).</summary>
    RestJson,
}

/// <summary>One emulated AWS service: its SigV4 name, its protocol and its operations.</summary>
public abstract class AwsService
{
    /// <summary>Service name in the SigV4 credential scope (sts, ec2, autoscaling, eks, ssm).</summary>
    public abstract string SigningName { get; }

    public abstract AwsProtocol Protocol { get; }

    /// <summary>The service prefix of its IAM actions (the signing name for most; cloudwatch for monitoring).</summary>
    public virtual string IamPrefix => SigningName;

    /// <summary>XML namespace of awsQuery responses (from the service model).</summary>
    public virtual string XmlNamespace => "";

    public abstract Task HandleAsync(AwsCall call);

    public virtual Task WriteErrorAsync(HttpContext http, string requestId, AwsException error) => WriteError(Protocol, XmlNamespace, http, requestId, error);

    public static Task WriteError(AwsProtocol protocol, string xmlNamespace, HttpContext http, string requestId, AwsException error) => protocol switch
    {
        AwsProtocol.Query => AwsQueryProtocol.WriteErrorAsync(http, requestId, xmlNamespace, error),
        AwsProtocol.Ec2 => Ec2Protocol.WriteErrorAsync(http, requestId, error),
        AwsProtocol.Json => JsonProtocol.WriteJson11ErrorAsync(http, error),
        _ => JsonProtocol.WriteRestJsonErrorAsync(http, error),
    };

    /// <summary>The error a service answers for a request whose signature did not check out.</summary>
    public static AwsException AuthError(AwsProtocol protocol, Auth.SigV4Result result)
    {
        bool json = protocol is AwsProtocol.Json or AwsProtocol.RestJson;
        return result.Failure switch
        {
            Auth.SigV4Failure.Missing => json
                ? new AwsException(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
                : new AwsException(403, "MissingAuthenticationToken", "Request is missing Authentication Token"),
            Auth.SigV4Failure.Malformed => new AwsException(400, json ? "IncompleteSignatureException" : "IncompleteSignature", result.Message ?? "Incomplete signature."),
            Auth.SigV4Failure.UnknownAccessKey => protocol switch
            {
                AwsProtocol.Ec2 => new AwsException(401, "AuthFailure", "AWS was not able to validate the provided access credentials"),
                AwsProtocol.Query => new AwsException(403, "InvalidClientTokenId", "The security token included in the request is invalid."),
                _ => new AwsException(403, "UnrecognizedClientException", "The security token included in the request is invalid."),
            },
            _ => new AwsException(403, json ? "InvalidSignatureException" : "SignatureDoesNotMatch", result.Message ?? "Signature mismatch."),
        };
    }

    /// <summary>The awsQuery/EC2 Action parameter, or InvalidAction/MissingAction.</summary>
    protected static string RequireAction(AwsCall call)
    {
        string? action = call.FormOrQuery.Get("Action");
        return string.IsNullOrEmpty(action)
            ? throw new AwsException(400, "MissingAction", "The request must contain the parameter Action.")
            : action;
    }

    protected static AwsException InvalidAction(string action) =>
        new(400, "InvalidAction", $"The action {action} is not valid for this web service.");
}
