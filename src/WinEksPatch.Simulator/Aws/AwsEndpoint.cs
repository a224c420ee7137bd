using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using WinEksPatch.Simulator.Accounts;
using WinEksPatch.Simulator.Auth;
using WinEksPatch.Simulator.Auth.Iam;
using WinEksPatch.Simulator.Aws.Protocols;
using WinEksPatch.Simulator.Faults;
using WinEksPatch.Simulator.World;

namespace WinEksPatch.Simulator.Aws;

/// <summary>
/// The single AWS endpoint: verifies the SigV4 signature, routes by the credential scope's service
/// name (as AWS_ENDPOINT_URL pointing every service at one URL requires), and renders errors in the
/// addressed service's own shape. Every response carries x-amzn-RequestId. With an identity policy
/// (<see cref="IamAuthorizer"/>), each call is authorized before its service handles it.
/// A call reaches the world of the account its access key belongs to, in the region it was signed for; IAM and STS,
/// global services, reach the account's home region (where its instance profiles are).
/// </summary>
public sealed class AwsEndpoint(SimOrganization organization, IEnumerable<AwsService> services, ILogger logger, Func<SimAccount, IamAuthorizer?>? authorizers = null)
{
    private const int MaxBodyBytes = 16 * 1024 * 1024;
    private readonly Dictionary<string, AwsService> _services = services.ToDictionary(s => s.SigningName, StringComparer.Ordinal);

    public async Task HandleAsync(HttpContext http)
    {
        string requestId = Guid.NewGuid().ToString();
        http.Response.Headers["x-amzn-RequestId"] = requestId;

        byte[] body = await ReadBodyAsync(http).ConfigureAwait(false);
        string rawTarget = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (http.Request.Path + http.Request.QueryString);
        int q = rawTarget.IndexOf('?', StringComparison.Ordinal);
        string rawPath = q < 0 ? rawTarget : rawTarget[..q];
        string rawQuery = q < 0 ? "" : rawTarget[(q + 1)..];

        string? authorization = http.Request.Headers.Authorization.FirstOrDefault();
        (_, string? serviceName, _) = SigV4Verifier.PeekScope(authorization, rawQuery);
        AwsService? service = serviceName is null ? null : _services.GetValueOrDefault(serviceName);
        AwsProtocol protocol = service?.Protocol ?? GuessProtocol(http);
        string xmlNamespace = service?.XmlNamespace ?? "";

        var headers = http.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.Select(v => v ?? "").ToArray(), StringComparer.Ordinal);
        SigV4Result sig = SigV4Verifier.Verify(new SignedRequest(http.Request.Method, rawPath, rawQuery, headers, body), organization.SecretFor);
        if (!sig.IsValid)
        {
            logger.LogInformation("AWS {Method} {Path}: signature {Failure}", http.Request.Method, rawPath, sig.Failure);
            AwsException refusal = AwsService.AuthError(protocol, sig);
            await (service is null ? AwsService.WriteError(protocol, xmlNamespace, http, requestId, refusal) : service.WriteErrorAsync(http, requestId, refusal)).ConfigureAwait(false);
            return;
        }

        if (service is null)
        {
            await AwsService.WriteError(protocol, xmlNamespace, http, requestId,
                new AwsException(400, "UnknownService", $"The simulator does not emulate the service '{sig.Service}'.")).ConfigureAwait(false);
            return;
        }

        SimAccount account = organization.AccountByAccessKey(sig.AccessKeyId!)!;
        SimWorld world = organization.WorldOf(account, service.SigningName is "iam" or "sts" ? account.HomeRegion : sig.Region!);
        IamAuthorizer? authorizer = authorizers?.Invoke(account);
        var call = new AwsCall
        {
            Http = http,
            World = world,
            Account = account,
            RequestId = requestId,
            Service = sig.Service!,
            Region = sig.Region!,
            AccessKeyId = sig.AccessKeyId!,
            Body = body,
            RawPath = rawPath,
            Query = QueryParams.FromPairs(SigV4Verifier.ParseQuery(rawQuery)),
        };

        // Fault rules (Faults/) and the report (Report/) see every authenticated call by service and operation.
        string operation = AwsRequestInfo.Operation(service, call);
        string? errorCode = null;
        try
        {
            authorizer?.Authorize(service, operation, call);
            await FaultInjection.ApplyAsync(world, service.SigningName, operation, () => AwsRequestInfo.Resources(service, call), http.RequestAborted).ConfigureAwait(false);
            await service.HandleAsync(call).ConfigureAwait(false);
            logger.LogInformation("AWS {Service} {Method} {Path} -> {Status}", service.SigningName, http.Request.Method, rawPath, http.Response.StatusCode);
        }
        catch (AwsException e)
        {
            errorCode = e.Code;
            logger.LogInformation("AWS {Service} {Method} {Path} -> {Status} {Code}", service.SigningName, http.Request.Method, rawPath, e.StatusCode, e.Code);
            await service.WriteErrorAsync(http, requestId, e).ConfigureAwait(false);
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            // A simulator bug, not a client mistake: say so in the service's shape (InternalFailure), and log it.
            errorCode = "InternalFailure";
            logger.LogError(e, "AWS {Service} {Path} failed", service.SigningName, rawPath);
            await service.WriteErrorAsync(http, requestId, new AwsException(500, "InternalFailure", "The simulator failed: " + e.Message, senderFault: false)).ConfigureAwait(false);
        }
        finally
        {
            int status = http.Response.StatusCode;
            world.Report.RecordAws(service.SigningName, operation, status, AwsRequestInfo.IsThrottling(status, errorCode));
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext http)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>For unsigned requests: answer in the shape the client most likely expects.</summary>
    private static AwsProtocol GuessProtocol(HttpContext http)
    {
        if (http.Request.Headers.ContainsKey("X-Amz-Target"))
        {
            return AwsProtocol.Json;
        }

        return http.Request.Path.StartsWithSegments("/clusters") ? AwsProtocol.RestJson : AwsProtocol.Query;
    }
}
