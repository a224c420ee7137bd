// The simulator's read operations as the AWS SDK for JavaScript v3 sees them: shapes, pagination and errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { EKSClient, ListClustersCommand, DescribeClusterCommand, ListNodegroupsCommand, DescribeNodegroupCommand, ResourceNotFoundException, paginateListNodegroups } from "@aws-sdk/client-eks";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, paginateDescribeAutoScalingGroups, paginateDescribeTags } from "@aws-sdk/client-auto-scaling";
import { EC2Client, DescribeInstancesCommand, DescribeImagesCommand, paginateDescribeInstances } from "@aws-sdk/client-ec2";
import { SSMClient, GetParameterCommand, GetParametersCommand, GetParametersByPathCommand, ParameterNotFound, paginateGetParametersByPath } from "@aws-sdk/client-ssm";
import { startSimulator } from "./lib/simulator.mjs";

let sim;
before(async () => { sim = await startSimulator(); });
after(async () => { await sim?.stop(); });

test("STS GetCallerIdentity names the simulator's account", async () => {
  const out = await new STSClient(sim.aws).send(new GetCallerIdentityCommand({}));
  assert.equal(out.Account, "111122223333");
  assert.match(out.Arn, /^arn:aws:/);
});

test("a wrong secret gets the service's own signature error", async () => {
  const bad = { ...sim.aws, credentials: { ...sim.aws.credentials, secretAccessKey: "wrong" } };
  await assert.rejects(new STSClient(bad).send(new GetCallerIdentityCommand({})), (e) => e.name === "SignatureDoesNotMatch");
  await assert.rejects(new EKSClient(bad).send(new ListClustersCommand({})), (e) => e.name === "InvalidSignatureException");
});

test("EKS lists, pages and describes clusters and node groups", async () => {
  const eks = new EKSClient(sim.aws);
  const first = await eks.send(new ListClustersCommand({ maxResults: 1 }));
  assert.equal(first.clusters.length, 1);
  assert.ok(first.nextToken);
  const second = await eks.send(new ListClustersCommand({ maxResults: 1, nextToken: first.nextToken }));
  assert.deepEqual([...first.clusters, ...second.clusters].sort(), ["demo", "staging"]);
  const { cluster } = await eks.send(new DescribeClusterCommand({ name: "demo" }));
  assert.equal(cluster.version, "1.31");
  assert.equal(cluster.status, "ACTIVE");
  assert.ok(cluster.createdAt instanceof Date);
  assert.match(cluster.endpoint, /^https:\/\/127\.0\.0\.1:\d+\/clusters\/demo$/);
  const groups = await eks.send(new ListNodegroupsCommand({ clusterName: "demo" }));
  assert.deepEqual(groups.nodegroups.sort(), ["linux-system", "win-managed"]);
  const paged = [];
  for await (const page of paginateListNodegroups({ client: eks, pageSize: 1 }, { clusterName: "demo" })) paged.push(page.nodegroups);
  assert.deepEqual(paged.map((p) => p.length), [1, 1]);
  assert.deepEqual(paged.flat().sort(), groups.nodegroups.sort());
  const { nodegroup } = await eks.send(new DescribeNodegroupCommand({ clusterName: "demo", nodegroupName: "win-managed" }));
  assert.equal(nodegroup.amiType, "WINDOWS_CORE_2022_x86_64");
  assert.equal(nodegroup.scalingConfig.desiredSize, 3);
  assert.ok(nodegroup.resources.autoScalingGroups[0].name);
});

test("EKS 404 is a ResourceNotFoundException", async () => {
  await assert.rejects(new EKSClient(sim.aws).send(new DescribeClusterCommand({ name: "nope" })),
    (e) => e instanceof ResourceNotFoundException && e.$metadata.httpStatusCode === 404 && !!e.$metadata.requestId);
});

test("Auto Scaling describes groups by tag filter with pagination, and instances", async () => {
  const asg = new AutoScalingClient(sim.aws);
  const names = [];
  for await (const page of paginateDescribeAutoScalingGroups({ client: asg, pageSize: 1 },
    { Filters: [{ Name: "tag-key", Values: ["kubernetes.io/cluster/demo"] }] })) {
    names.push(...page.AutoScalingGroups.map((g) => g.AutoScalingGroupName));
  }
  assert.ok(names.includes("demo-win-selfmanaged"));
  const { AutoScalingGroups: [group] } = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ["demo-win-selfmanaged"] }));
  assert.equal(group.Instances.length, 4);
  assert.ok(group.LaunchTemplate.LaunchTemplateId.startsWith("lt-"));
  const { AutoScalingInstances } = await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [group.Instances[0].InstanceId] }));
  assert.equal(AutoScalingInstances[0].AutoScalingGroupName, "demo-win-selfmanaged");

  const tagPages = [];
  for await (const page of paginateDescribeTags({ client: asg, pageSize: 1 }, { Filters: [{ Name: "auto-scaling-group", Values: ["demo-win-selfmanaged"] }] })) {
    tagPages.push(page.Tags);
  }
  assert.ok(tagPages.length >= 2, "one tag per page, and the group has several");
  assert.ok(tagPages.every((p) => p.length === 1));
  assert.deepEqual(tagPages.flat().map((t) => t.Key).sort(), group.Tags.map((t) => t.Key).sort());
});

test("EC2 describes instances (paginated) and Windows images", async () => {
  const ec2 = new EC2Client(sim.aws);
  const ids = [];
  for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 5 }, {})) {
    ids.push(...page.Reservations.flatMap((r) => r.Instances.map((i) => i.InstanceId)));
  }
  assert.ok(ids.length >= 9);
  const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [ids[0]] }));
  const imageId = Reservations[0].Instances[0].ImageId;
  const { Images: [image] } = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  assert.equal(image.ImageId, imageId);
  await assert.rejects(ec2.send(new DescribeImagesCommand({ ImageIds: ["ami-00000000000000000"] })), (e) => e.name === "InvalidAMIID.NotFound");
});

test("SSM serves the EKS-optimized Windows AMI parameters", async () => {
  const ssm = new SSMClient(sim.aws);
  const { Parameter } = await ssm.send(new GetParameterCommand({ Name: "/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.31/image_id" }));
  assert.match(Parameter.Value, /^ami-[0-9a-f]{17}$/);
  const names = [];
  for await (const page of paginateGetParametersByPath({ client: ssm }, { Path: "/aws/service/ami-windows-latest", Recursive: true })) {
    names.push(...page.Parameters.map((p) => p.Name));
  }
  assert.ok(names.length >= 18);
  await assert.rejects(ssm.send(new GetParameterCommand({ Name: "/nope" })), (e) => e instanceof ParameterNotFound);

  const [core, full] = ["Core", "Full"].map((e) => `/aws/service/ami-windows-latest/Windows_Server-2022-English-${e}-EKS_Optimized-1.31/image_id`);
  const many = await ssm.send(new GetParametersCommand({ Names: [core, "/nope", full] }));
  assert.deepEqual(many.Parameters.map((p) => p.Name).sort(), [core, full].sort());
  assert.equal(many.Parameters.find((p) => p.Name === core).Value, Parameter.Value);
  assert.deepEqual(many.InvalidParameters, ["/nope"]);
});
