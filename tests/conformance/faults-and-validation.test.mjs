// Fault rules and bad requests as the AWS SDK for JavaScript v3 sees them: injected throttling is retried by the SDK's
// standard retry strategy and surfaces as the service's own throttling error when it persists; malformed bodies,
// unknown actions, missing parameters and wrong types get each service's validation error (never a 500 or a hang).
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeTagsCommand } from "@aws-sdk/client-auto-scaling";
import { EC2Client, DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { EKSClient, ListClustersCommand } from "@aws-sdk/client-eks";
import { SSMClient, GetParameterCommand } from "@aws-sdk/client-ssm";
import { ECRClient, DescribeImagesCommand } from "@aws-sdk/client-ecr";
import { ImagebuilderClient, ListImagesCommand } from "@aws-sdk/client-imagebuilder";
import { startSimulator, admin } from "./lib/simulator.mjs";

let sim;
before(async () => { sim = await startSimulator(); });
after(async () => { await sim?.stop(); });
beforeEach(async () => { await admin(sim.info, "faults", { method: "DELETE" }); });

// The SDK's own default retry strategy (standard: 3 attempts, backoff with jitter).
const retrying = () => ({ ...sim.aws, maxAttempts: 3 });

async function report() { return (await fetch(`${sim.info.adminEndpoint}/report`)).json(); }

test("throttling injected on an operation is retried by the SDK, and surfaces as the service's error when it persists", async () => {
  await admin(sim.info, "report/reset");
  await admin(sim.info, "faults", { body: { service: "autoscaling", operation: "DescribeAutoScalingGroups", throttle: true, count: 2 } });
  const asg = new AutoScalingClient(retrying());
  const groups = await asg.send(new DescribeAutoScalingGroupsCommand({}));
  assert.ok(groups.AutoScalingGroups.length >= 2);
  assert.equal(groups.$metadata.attempts, 3);

  await admin(sim.info, "faults", { body: { service: "autoscaling", operation: "DescribeTags", throttle: true } });
  await assert.rejects(asg.send(new DescribeTagsCommand({})), (e) => {
    assert.equal(e.name, "Throttling");
    assert.equal(e.message, "Rate exceeded");
    assert.equal(e.$fault, "client");
    assert.equal(e.$metadata.httpStatusCode, 400);
    assert.equal(e.$metadata.attempts, 3);
    return true;
  });

  const calls = (await report()).apiCalls;
  const describe = calls.find((c) => c.operation === "DescribeAutoScalingGroups");
  assert.deepEqual([describe.count, describe.errors, describe.throttled], [3, 2, 2]);
  const tags = calls.find((c) => c.operation === "DescribeTags");
  assert.deepEqual([tags.count, tags.throttled], [3, 3]);
});

test("each service throttles in its own words: RequestLimitExceeded, ThrottlingException (JSON and rest-json), CallRateLimitExceededException", async () => {
  for (const service of ["ec2", "ssm", "eks", "ecr", "imagebuilder"]) {
    await admin(sim.info, "faults", { body: { service, operation: "*", throttle: true } });
  }

  const cases = [
    [new EC2Client(retrying()), new DescribeInstancesCommand({}), "RequestLimitExceeded", 503],
    [new SSMClient(retrying()), new GetParameterCommand({ Name: "/x" }), "ThrottlingException", 400],
    [new EKSClient(retrying()), new ListClustersCommand({}), "ThrottlingException", 429],
    [new ECRClient(retrying()), new DescribeImagesCommand({ repositoryName: "fluentd-windows" }), "ThrottlingException", 400],
    [new ImagebuilderClient(retrying()), new ListImagesCommand({}), "CallRateLimitExceededException", 429],
  ];
  for (const [client, command, name, status] of cases) {
    await assert.rejects(client.send(command), (e) => {
      assert.equal(e.name, name);
      assert.equal(e.$metadata.httpStatusCode, status);
      assert.equal(e.$metadata.attempts, 3, `${name} was retried`);
      return true;
    });
  }

  // Removed rules stop at once: the same calls succeed.
  await admin(sim.info, "faults", { method: "DELETE" });
  assert.ok((await new EKSClient(retrying()).send(new ListClustersCommand({}))).clusters.includes("demo"));
});

test("an injected 500 InternalFailure is retried, an AccessDenied is not", async () => {
  await admin(sim.info, "faults", { body: { service: "ssm", operation: "GetParameter", statusCode: 500, count: 1 } });
  const ssm = new SSMClient(retrying());
  await assert.rejects(ssm.send(new GetParameterCommand({ Name: "/nope" })), (e) => e.name === "ParameterNotFound" && e.$metadata.attempts === 2);

  await admin(sim.info, "faults", { body: { service: "eks", operation: "ListClusters", errorCode: "AccessDeniedException" } });
  await assert.rejects(new EKSClient(retrying()).send(new ListClustersCommand({})),
    (e) => e.name === "AccessDeniedException" && e.$metadata.httpStatusCode === 403 && e.$metadata.attempts === 1);
});

// ---- bad requests, signed by the SDK's SigV4 signer and sent as they are --------------------------------------

async function raw(service, { method = "POST", path = "/", query = {}, headers = {}, body } = {}) {
  const url = new URL(sim.info.endpoint);
  const signer = new SignatureV4({ credentials: sim.aws.credentials, region: sim.info.region, service, sha256: Sha256 });
  const signed = await signer.sign({ method, protocol: "http:", hostname: url.hostname, port: Number(url.port), path, query, headers: { host: url.host, ...headers }, body });
  const qs = new URLSearchParams(query).toString();
  const response = await fetch(`${sim.info.endpoint}${path}${qs ? "?" + qs : ""}`, { method, headers: signed.headers, body, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  const code = response.headers.get("x-amzn-errortype")?.split(":")[0]
    ?? /<Code>([^<]+)<\/Code>/.exec(text)?.[1]
    ?? (text.startsWith("{") ? JSON.parse(text).__type : undefined);
  return { status: response.status, code, text };
}

const form = { "content-type": "application/x-www-form-urlencoded; charset=utf-8" };
const json11 = (target) => ({ "content-type": "application/x-amz-json-1.1", "x-amz-target": target });
const restJson = { "content-type": "application/json" };
const ssm = (op) => json11(`AmazonSSM.${op}`);
const ecr = (op) => json11(`AmazonEC2ContainerRegistry_V20150921.${op}`);

const badRequests = [
  // EC2 (query, EC2 error shape)
  ["EC2 unknown action", "ec2", { headers: form, body: "Action=DescribeUnicorns&Version=2016-11-15" }, 400, "InvalidAction"],
  ["EC2 no action", "ec2", { headers: form, body: "Version=2016-11-15" }, 400, "MissingAction"],
  ["EC2 missing parameter", "ec2", { headers: form, body: "Action=TerminateInstances&Version=2016-11-15" }, 400, "MissingParameter"],
  ["EC2 missing parameter (launch template version)", "ec2", { headers: form, body: "Action=CreateLaunchTemplateVersion&Version=2016-11-15" }, 400, "MissingParameter"],
  ["EC2 wrong type", "ec2", { headers: form, body: "Action=DescribeInstances&Version=2016-11-15&MaxResults=abc" }, 400, "InvalidParameterValue"],
  ["EC2 malformed form body", "ec2", { headers: form, body: "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=%ZZ" }, 400, "MalformedQueryString"],
  // Auto Scaling and STS (awsQuery)
  ["Auto Scaling unknown action", "autoscaling", { headers: form, body: "Action=Nope&Version=2011-01-01" }, 400, "InvalidAction"],
  ["Auto Scaling missing parameter", "autoscaling", { headers: form, body: "Action=SetDesiredCapacity&Version=2011-01-01" }, 400, "ValidationError"],
  ["Auto Scaling wrong type", "autoscaling", { headers: form, body: "Action=SetDesiredCapacity&Version=2011-01-01&AutoScalingGroupName=demo-win-selfmanaged&DesiredCapacity=many" }, 400, "ValidationError"],
  ["Auto Scaling wrong boolean", "autoscaling", { headers: form, body: "Action=TerminateInstanceInAutoScalingGroup&Version=2011-01-01&InstanceId=i-1&ShouldDecrementDesiredCapacity=maybe" }, 400, "ValidationError"],
  ["Auto Scaling malformed form body", "autoscaling", { headers: form, body: "Action=DescribeAutoScalingGroups&Version=2011-01-01&%%%" }, 400, "MalformedQueryString"],
  ["STS unknown action", "sts", { headers: form, body: "Action=Nope&Version=2011-06-15" }, 400, "InvalidAction"],
  // EKS (rest-json)
  ["EKS malformed JSON", "eks", { path: "/clusters/demo/node-groups/win-managed/update-config", headers: restJson, body: "{not json" }, 400, "SerializationException"],
  ["EKS body not an object", "eks", { path: "/clusters/demo/node-groups/win-managed/update-config", headers: restJson, body: "[1,2]" }, 400, "SerializationException"],
  ["EKS wrong type", "eks", { path: "/clusters/demo/node-groups/win-managed/update-config", headers: restJson, body: '{"scalingConfig":{"desiredSize":"three"}}' }, 400, "SerializationException"],
  ["EKS out-of-range parameter", "eks", { method: "GET", path: "/clusters", query: { maxResults: "abc" } }, 400, "InvalidParameterException"],
  ["EKS unknown route", "eks", { method: "GET", path: "/unicorns" }, 404, "UnknownOperationException"],
  // SSM (JSON 1.1)
  ["SSM malformed JSON", "ssm", { headers: ssm("GetParameter"), body: "{oops" }, 400, "SerializationException"],
  ["SSM missing parameter", "ssm", { headers: ssm("GetParameter"), body: "{}" }, 400, "ValidationException"],
  ["SSM wrong type", "ssm", { headers: ssm("GetParameter"), body: '{"Name":5}' }, 400, "SerializationException"],
  ["SSM list where a string list is expected", "ssm", { headers: ssm("GetParameters"), body: '{"Names":"x"}' }, 400, "SerializationException"],
  ["SSM unknown operation", "ssm", { headers: ssm("Nope"), body: "{}" }, 400, "UnknownOperationException"],
  ["SSM no target", "ssm", { headers: { "content-type": "application/x-amz-json-1.1" }, body: "{}" }, 400, "UnknownOperationException"],
  // ECR (JSON 1.1)
  ["ECR malformed JSON", "ecr", { headers: ecr("DescribeImages"), body: "{" }, 400, "SerializationException"],
  ["ECR missing parameter", "ecr", { headers: ecr("DescribeImages"), body: "{}" }, 400, "InvalidParameterException"],
  ["ECR missing list", "ecr", { headers: ecr("BatchGetImage"), body: '{"repositoryName":"fluentd-windows"}' }, 400, "InvalidParameterException"],
  ["ECR wrong type", "ecr", { headers: ecr("DescribeImages"), body: '{"repositoryName":[1]}' }, 400, "SerializationException"],
  ["ECR unknown operation", "ecr", { headers: ecr("Nope"), body: "{}" }, 400, "UnknownOperationException"],
  // Image Builder (rest-json)
  ["Image Builder malformed JSON", "imagebuilder", { method: "PUT", path: "/CreateComponent", headers: restJson, body: "{x" }, 400, "InvalidRequestException"],
  ["Image Builder missing parameter", "imagebuilder", { method: "PUT", path: "/CreateComponent", headers: restJson, body: "{}" }, 400, "InvalidParameterValueException"],
  ["Image Builder missing query parameter", "imagebuilder", { method: "GET", path: "/GetImage" }, 400, "InvalidParameterValueException"],
  ["Image Builder wrong type", "imagebuilder", { method: "PUT", path: "/CreateComponent", headers: restJson, body: '{"name":1,"semanticVersion":"1.0.0","platform":"Windows","clientToken":"a","data":"x"}' }, 400, "SerializationException"],
  ["Image Builder wrong number", "imagebuilder", { method: "POST", path: "/ListImages", headers: restJson, body: '{"maxResults":"x"}' }, 400, "SerializationException"],
  ["Image Builder unknown operation", "imagebuilder", { method: "GET", path: "/Nope" }, 404, "UnknownOperationException"],
];

for (const [name, service, request, status, code] of badRequests) {
  test(`bad request: ${name} → ${status} ${code}`, async () => {
    const r = await raw(service, request);
    assert.equal(r.status, status, r.text);
    assert.equal(r.code, code, r.text);
  });
}

test("the SDK raises the services' validation errors as typed exceptions", async () => {
  await assert.rejects(new SSMClient(sim.aws).send(new GetParameterCommand({})), (e) => e.name === "ValidationException" && e.$metadata.httpStatusCode === 400);
  await assert.rejects(new ECRClient(sim.aws).send(new DescribeImagesCommand({})), (e) => e.name === "InvalidParameterException");
  await assert.rejects(new AutoScalingClient(sim.aws).send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 1000 })), (e) => e.name === "ValidationError");
});
