using System.Text;
using System.Text.Json.Nodes;
using WinEksPatch.Simulator.Aws;

namespace WinEksPatch.Simulator.Auth.Iam;

/// <summary>
/// The identity policy the simulator's credentials carry (<c>--iam-policy</c>, <c>Start-WinEksSimulator
/// -IamPolicyPath</c>): every AWS call is authorized against it before its service sees it, and a refusal is answered
/// in the service's own AccessDenied shape with IAM's message ("User: … is not authorized to perform: … on resource: …
/// because no identity-based policy allows the … action"). Without a policy nothing is checked.
/// </summary>
public sealed class IamAuthorizer(IamPolicyDocument policy, string principalArn)
{
    public string PrincipalArn { get; } = principalArn;

    /// <summary>Throws the service's AccessDenied error for the first request of the call the policy does not allow.</summary>
    public void Authorize(AwsService service, string operation, AwsCall call)
    {
        foreach (IamRequest request in IamRequestContext.For(service, operation, call, PrincipalArn))
        {
            IamEvaluation evaluation = policy.Evaluate(request);
            if (evaluation.Decision != IamDecision.Allow)
            {
                throw Denied(service, operation, request, evaluation);
            }
        }
    }

    /// <summary>
    /// For a call that reaches no AWS API endpoint but is authorized all the same (an image pull from an ECR registry
    /// with the credentials GetAuthorizationToken gave: ECR checks ecr:BatchGetImage and ecr:GetDownloadUrlForLayer on
    /// the repository at pull time): IAM's refusal message, or null when the policy allows it.
    /// </summary>
    public string? Refusal(string action, string resource, string region, bool secureTransport, DateTimeOffset now)
    {
        var request = new IamRequest(action, resource, IamRequestContext.GlobalKeys(PrincipalArn, region, secureTransport, now));
        IamEvaluation evaluation = policy.Evaluate(request);
        return evaluation.Decision == IamDecision.Allow ? null : Message(request, evaluation);
    }

    private string Message(IamRequest request, IamEvaluation evaluation)
    {
        string why = evaluation.Decision == IamDecision.ExplicitDeny
            ? "with an explicit deny in an identity-based policy"
            : $"because no identity-based policy allows the {request.Action} action";
        return $"User: {PrincipalArn} is not authorized to perform: {request.Action} on resource: {request.Resource} {why}";
    }

    private AwsException Denied(AwsService service, string operation, IamRequest request, IamEvaluation evaluation)
    {
        string message = Message(request, evaluation);

        // Auto Scaling checks the launch template's permissions on the caller's behalf and says so in its own words.
        if (service.SigningName == "autoscaling" && request.Action is "ec2:RunInstances" or "iam:PassRole")
        {
            return new AwsException(403, "AccessDenied", $"You are not authorized to use launch template: {operation} needs {request.Action} on {request.Resource}. {message}");
        }

        return service.Protocol switch
        {
            // EC2: "You are not authorized to perform this operation." plus the encoded message sts:DecodeAuthorizationMessage reads.
            AwsProtocol.Ec2 => new AwsException(403, "UnauthorizedOperation",
                $"You are not authorized to perform this operation. {message}. Encoded authorization failure message: {Encoded(request, evaluation)}"),
            AwsProtocol.Query => new AwsException(403, "AccessDenied", message),
            // CloudWatch speaks JSON 1.0 and keeps its awsQuery error codes.
            AwsProtocol.Json when service.SigningName == "monitoring" => new AwsException(403, "AccessDenied", message),
            // JSON 1.1 services (SSM, ECR) answer 400, as their AccessDeniedException is modelled.
            AwsProtocol.Json => new AwsException(400, "AccessDeniedException", message),
            _ => new AwsException(403, "AccessDeniedException", message),
        };
    }

    /// <summary>What EC2's encoded authorization message holds (allowed, explicit deny, the action and resource and the
    /// context keys), base64 as EC2 sends it; no secret is in it.</summary>
    private static string Encoded(IamRequest request, IamEvaluation evaluation)
    {
        var context = new JsonObject();
        foreach (KeyValuePair<string, IReadOnlyList<string>> pair in request.Context.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            context[pair.Key] = new JsonArray([.. pair.Value.Select(v => (JsonNode)v)]);
        }

        var message = new JsonObject
        {
            ["allowed"] = false,
            ["explicitDeny"] = evaluation.Decision == IamDecision.ExplicitDeny,
            ["matchedStatements"] = new JsonObject { ["items"] = evaluation.Statement is null ? new JsonArray() : new JsonArray(evaluation.Statement) },
            ["context"] = new JsonObject { ["action"] = request.Action, ["resource"] = request.Resource, ["conditions"] = context },
        };
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(message.ToJsonString()));
    }
}
