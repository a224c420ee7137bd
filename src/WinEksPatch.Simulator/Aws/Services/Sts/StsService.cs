using WinEksPatch.Simulator.Aws.Protocols;

namespace WinEksPatch.Simulator.Aws.Services.Sts;

/// <summary>STS (awsQuery): GetCallerIdentity, as a POST form and as the presigned GET that EKS tokens carry.</summary>
public sealed class StsService : AwsService
{
    public override string SigningName => "sts";

    public override AwsProtocol Protocol => AwsProtocol.Query;

    public override string XmlNamespace => "https://sts.amazonaws.com/doc/2011-06-15/";

    public override Task HandleAsync(AwsCall call)
    {
        string action = RequireAction(call);
        return action switch
        {
            "GetCallerIdentity" => AwsQueryProtocol.WriteResultAsync(call, XmlNamespace, action, w =>
            {
                w.WriteElementString("Arn", call.Account.UserArn);
                w.WriteElementString("UserId", call.Account.UserId);
                w.WriteElementString("Account", call.Account.Id);
            }),
            _ => throw InvalidAction(action),
        };
    }
}
