// Signs or presigns one request with @smithy/signature-v4 (the AWS SDK for JavaScript v3 signer) and prints the result
// as JSON. Used by the xUnit suite to check the module's SigV4 signatures and EKS tokens against an implementation
// nobody here wrote. Input (stdin, JSON):
//   { mode: "sign"|"presign", accessKeyId, secretAccessKey, sessionToken?, region, service, date (ISO 8601),
//     method, protocol, hostname, port?, path, query: {k: v}, headers: {k: v}, body?, expiresIn? }
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const signer = new SignatureV4({
  credentials: { accessKeyId: input.accessKeyId, secretAccessKey: input.secretAccessKey, sessionToken: input.sessionToken },
  region: input.region,
  service: input.service,
  sha256: Sha256,
  uriEscapePath: true,
  applyChecksum: false,
});

const request = {
  method: input.method,
  protocol: input.protocol,
  hostname: input.hostname,
  port: input.port,
  path: input.path,
  query: input.query ?? {},
  headers: input.headers ?? {},
  body: input.body,
};
const signingDate = new Date(input.date);

if (input.mode === "presign") {
  const signed = await signer.presign(request, { signingDate, expiresIn: input.expiresIn ?? 60 });
  process.stdout.write(JSON.stringify({ query: signed.query }));
} else {
  const signed = await signer.sign(request, { signingDate });
  process.stdout.write(JSON.stringify({ authorization: signed.headers["authorization"] }));
}
