// A simulator started with --iam-policy authorizes every AWS call against that identity policy, and the AWS SDK for
// JavaScript v3 reads each refusal as the service's own modelled error: EC2's UnauthorizedOperation, Auto Scaling's
// AccessDenied (awsQuery), EKS's and Image Builder's AccessDeniedException (rest-json, 403), SSM's and ECR's
// AccessDeniedException (JSON 1.1, 400), each with IAM's message naming the action and the resource.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand } from "@aws-sdk/client-auto-scaling";
import { EC2Client, CreateTagsCommand, DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { EKSClient, DescribeClusterCommand, ListClustersCommand } from "@aws-sdk/client-eks";
import { SSMClient, GetParameterCommand } from "@aws-sdk/client-ssm";
import { ECRClient, GetAuthorizationTokenCommand } from "@aws-sdk/client-ecr";
import { ImagebuilderClient, ListImagesCommand } from "@aws-sdk/client-imagebuilder";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { startSimulator } from "./lib/simulator.mjs";

// Reads are allowed; Auto Scaling writes only on groups tagged as the demo cluster's; EC2 tags only with the module's
// own keys; an explicit Deny on ListClusters beats the Allow of eks:*; SSM, ECR and Image Builder are not allowed at all.
const policy = {
  Version: "2012-10-17",
  Statement: [
    { Sid: "Read", Effect: "Allow", Action: ["eks:*", "ec2:Describe*", "autoscaling:Describe*"], Resource: "*" },
    { Sid: "NoClusterListing", Effect: "Deny", Action: "eks:ListClusters", Resource: "*" },
    {
      Sid: "DemoGroupsOnly", Effect: "Allow", Action: "autoscaling:SetDesiredCapacity", Resource: "*",
      Condition: { StringEquals: { "aws:ResourceTag/kubernetes.io/cluster/demo": "owned" } },
    },
    {
      Sid: "OwnTagKeys", Effect: "Allow", Action: "ec2:CreateTags", Resource: "arn:aws:ec2:*:*:instance/*",
      Condition: { "ForAllValues:StringLike": { "aws:TagKeys": ["winekspatch.io/*"] }, Null: { "aws:TagKeys": "false" } },
    },
  ],
};

let sim;
let groups;
before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "wineks-iam-"));
  const file = path.join(dir, "policy.json");
  writeFileSync(file, JSON.stringify(policy));
  sim = await startSimulator({ extraArgs: ["--iam-policy", file] });
  groups = (await new AutoScalingClient(sim.aws).send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups;
});
after(async () => { await sim?.stop(); });


test("GetCallerIdentity needs no permission, and allowed reads answer as before", async () => {
  const identity = await new STSClient(sim.aws).send(new GetCallerIdentityCommand({}));
  assert.match(identity.Arn, /:user\/wineks-simulator$/);
  const cluster = await new EKSClient(sim.aws).send(new DescribeClusterCommand({ name: "demo" }));
  assert.equal(cluster.cluster.name, "demo");
  assert.ok(groups.length >= 2);
});

test("an explicit Deny beats an Allow: EKS's AccessDeniedException, 403, naming the action", async () => {
  await assert.rejects(new EKSClient(sim.aws).send(new ListClustersCommand({})), (e) => {
    assert.equal(e.name, "AccessDeniedException");
    assert.equal(e.$metadata.httpStatusCode, 403);
    assert.match(e.message, /^User: arn:aws:iam::\d+:user\/wineks-simulator is not authorized to perform: eks:ListClusters on resource: \* with an explicit deny in an identity-based policy$/);
    return true;
  });
});

test("a resource-tag condition: the demo cluster's group may be scaled, another cluster's is AccessDenied (awsQuery)", async () => {
  const asg = new AutoScalingClient(sim.aws);
  const tagged = (g, cluster) => g.Tags.some((t) => t.Key === `kubernetes.io/cluster/${cluster}`);
  const demo = groups.find((g) => tagged(g, "demo"));
  const other = groups.find((g) => !tagged(g, "demo"));
  assert.ok(demo && other, "the scenario has groups of two clusters");
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: demo.AutoScalingGroupName, DesiredCapacity: demo.DesiredCapacity }));
  await assert.rejects(asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: other.AutoScalingGroupName, DesiredCapacity: other.DesiredCapacity })), (e) => {
    assert.equal(e.name, "AccessDenied");
    assert.equal(e.$metadata.httpStatusCode, 403);
    assert.ok(e.message.includes(`not authorized to perform: autoscaling:SetDesiredCapacity on resource: ${other.AutoScalingGroupARN} because no identity-based policy allows`), e.message);
    return true;
  });
});

test("aws:TagKeys: EC2 tags with the module's own keys pass, another key is UnauthorizedOperation with the encoded message", async () => {
  const ec2 = new EC2Client(sim.aws);
  const instance = (await ec2.send(new DescribeInstancesCommand({}))).Reservations[0].Instances[0].InstanceId;
  await ec2.send(new CreateTagsCommand({ Resources: [instance], Tags: [{ Key: "winekspatch.io/rollout", Value: "x" }] }));
  await assert.rejects(ec2.send(new CreateTagsCommand({ Resources: [instance], Tags: [{ Key: "Name", Value: "x" }] })), (e) => {
    assert.equal(e.name, "UnauthorizedOperation");
    assert.equal(e.$metadata.httpStatusCode, 403);
    assert.match(e.message, new RegExp(`^You are not authorized to perform this operation\\. User: .* is not authorized to perform: ec2:CreateTags on resource: arn:aws:ec2:[\\w-]+:\\d+:instance/${instance} because no identity-based policy allows the ec2:CreateTags action\\. Encoded authorization failure message: [A-Za-z0-9+/=]+$`));
    const encoded = JSON.parse(Buffer.from(e.message.split(": ").at(-1), "base64").toString("utf8"));
    assert.equal(encoded.allowed, false);
    assert.deepEqual(encoded.context.conditions["aws:TagKeys"], ["Name"]);
    return true;
  });
});

test("JSON 1.1 services answer 400 AccessDeniedException; Image Builder 403 AccessDeniedException", async () => {
  for (const [client, command, action] of [
    [new SSMClient(sim.aws), new GetParameterCommand({ Name: "/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.31/image_id" }), "ssm:GetParameter"],
    [new ECRClient(sim.aws), new GetAuthorizationTokenCommand({}), "ecr:GetAuthorizationToken"],
    [new ImagebuilderClient(sim.aws), new ListImagesCommand({}), "imagebuilder:ListImages"],
  ]) {
    await assert.rejects(client.send(command), (e) => {
      assert.equal(e.name, "AccessDeniedException");
      assert.equal(e.$metadata.httpStatusCode, action.startsWith("imagebuilder") ? 403 : 400);
      assert.ok(e.message.includes(`not authorized to perform: ${action} on resource: `), e.message);
      return true;
    });
  }
});
