// The simulator's accounts and regions as the AWS SDK for JavaScript v3 and kubectl see them: each profile of the
// shared config file the simulator writes is an account of its own, each region a world of its own, and a cluster is
// found only in its account and region (the real not-found elsewhere).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import https from "node:https";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { EKSClient, ListClustersCommand, DescribeClusterCommand, ResourceNotFoundException } from "@aws-sdk/client-eks";
import { SSMClient, GetParameterCommand } from "@aws-sdk/client-ssm";
import { EC2Client, DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { startSimulator, admin, useSimulatorProfiles } from "./lib/simulator.mjs";
import { eksToken, kubectl } from "./lib/kubernetes.mjs";

let sim;
before(async () => {
  sim = await startSimulator({ scenario: "fleet" });
  // The SDK reads profiles from the simulator's config file, as from ~/.aws/config: credentials, region, endpoint_url.
  useSimulatorProfiles(sim.info);
});
after(async () => { await sim?.stop(); });

const byProfile = (profile) => sim.info.accounts.find((a) => a.profile === profile);

test("each profile of the simulator's config file is its own account, with its own identity", async () => {
  assert.deepEqual(sim.info.accounts.map((a) => a.profile), ["dev", "staging", "prod"]);
  assert.equal(new Set(sim.info.accounts.map((a) => a.accountId)).size, 3);
  for (const account of sim.info.accounts) {
    const me = await new STSClient({ profile: account.profile, maxAttempts: 1 }).send(new GetCallerIdentityCommand({}));
    assert.equal(me.Account, account.accountId);
    assert.equal(me.Arn, `arn:aws:iam::${account.accountId}:user/wineks-simulator`);
  }
  // [default] is the first account, as the simulator's info names it.
  const config = readFileSync(sim.info.configFile, "utf8");
  assert.match(config, /^\[default\]$/m);
  assert.equal(sim.info.accessKeyId, sim.info.accounts[0].accessKeyId);
});

test("each account lists exactly its clusters in each region", async () => {
  for (const account of sim.info.accounts) {
    for (const { region, clusters } of account.regions) {
      const eks = new EKSClient({ profile: account.profile, region, maxAttempts: 1 });
      const listed = await eks.send(new ListClustersCommand({}));
      assert.deepEqual(listed.clusters, Object.keys(clusters), `${account.profile} ${region}`);
      for (const [name, endpoint] of Object.entries(clusters)) {
        const { cluster } = await eks.send(new DescribeClusterCommand({ name }));
        assert.equal(cluster.arn, `arn:aws:eks:${region}:${account.accountId}:cluster/${name}`);
        assert.equal(cluster.endpoint, endpoint);
      }
    }
  }
});

test("a cluster is not found from another account or another region", async () => {
  const prod = byProfile("prod");
  const dev = byProfile("dev");
  const notFound = (e) => e instanceof ResourceNotFoundException && e.$metadata.httpStatusCode === 404;
  await assert.rejects(new EKSClient({ profile: "dev", region: "us-west-2", maxAttempts: 1 }).send(new DescribeClusterCommand({ name: "prod-usw2" })), notFound);
  await assert.rejects(new EKSClient({ profile: "prod", region: "eu-west-1", maxAttempts: 1 }).send(new DescribeClusterCommand({ name: "prod-usw2" })), notFound);
  // Instances too: prod's us-west-2 instances are not dev's.
  const instances = async (profile) => (await new EC2Client({ profile, region: "us-west-2", maxAttempts: 1 }).send(new DescribeInstancesCommand({})))
    .Reservations.flatMap((r) => r.Instances.map((i) => i.InstanceId));
  const [devIds, prodIds] = [await instances("dev"), await instances("prod")];
  assert.ok(devIds.length > 0 && prodIds.length > 0);
  assert.equal(devIds.filter((id) => prodIds.includes(id)).length, 0);
  assert.ok(prod && dev);
});

test("a region the scenario does not name has no clusters, but has the public AMI parameters every region has", async () => {
  const eks = new EKSClient({ profile: "staging", region: "ap-southeast-2", maxAttempts: 1 });
  assert.deepEqual((await eks.send(new ListClustersCommand({}))).clusters, []);
  const ssm = new SSMClient({ profile: "staging", region: "ap-southeast-2", maxAttempts: 1 });
  const { Parameter } = await ssm.send(new GetParameterCommand({ Name: "/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.31/image_id" }));
  assert.match(Parameter.Value, /^ami-[0-9a-f]{17}$/);
});

test("kubectl reaches a cluster of another account through the kubeconfig's ARN context, and an EKS token of that account", async () => {
  const prod = byProfile("prod");
  const arn = `arn:aws:eks:eu-west-1:${prod.accountId}:cluster/prod-euw1`;
  const run = await kubectl(sim.info.kubeConfigPath, ["--context", arn, "get", "nodes", "-o", "json"]);
  assert.equal(run.code, 0, run.stderr);
  const nodes = JSON.parse(run.stdout).items;
  assert.equal(nodes.length, 4 + 3 + 2, "prod-euw1: four self-managed, three managed Windows nodes and two Linux nodes");

  const asAccount = (account) => ({ ...sim.info, accessKeyId: account.accessKeyId, secretAccessKey: account.secretAccessKey, region: "eu-west-1" });
  const server = prod.regions.find((r) => r.region === "eu-west-1").clusters["prod-euw1"];
  assert.equal(await statusWith(server, await eksToken(asAccount(prod), "prod-euw1")), 200);
  // dev's user has no access entry in prod's cluster, even with a token signed for it.
  assert.equal(await statusWith(server, await eksToken(asAccount(byProfile("dev")), "prod-euw1")), 401);
});

/** GET {server}/api/v1/nodes with a bearer token, trusting the simulator's CA; resolves to the status code. */
function statusWith(server, token) {
  return new Promise((resolve, reject) => {
    const request = https.get(`${server}/api/v1/nodes`, { headers: { authorization: `Bearer ${token}` }, ca: readFileSync(sim.info.caCertPath) }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode));
    });
    request.on("error", reject);
  });
}

test("the admin path's report and faults are per account and region", async () => {
  const prod = byProfile("prod");
  await admin(sim.info, "report/reset");
  await new EKSClient({ profile: "prod", region: "eu-west-1", maxAttempts: 1 }).send(new ListClustersCommand({}));
  const prodReport = await admin(sim.info, `report?account=${prod.accountId}&region=eu-west-1`, { method: "GET" });
  const primaryReport = await admin(sim.info, "report", { method: "GET" });
  const calls = (report) => JSON.stringify(report).includes("ListClusters");
  assert.ok(calls(prodReport), "prod eu-west-1 counted its ListClusters");
  assert.ok(!calls(primaryReport), "the primary world did not");
  await assert.rejects(admin(sim.info, "report?account=999999999999", { method: "GET" }), /404/);

  // A fault added for prod in eu-west-1 throttles prod there, and nobody else.
  await admin(sim.info, `faults?account=${prod.accountId}&region=eu-west-1`, { body: { service: "eks", operation: "ListClusters", throttle: true } });
  try {
    const list = (profile, region) => new EKSClient({ profile, region, maxAttempts: 1 }).send(new ListClustersCommand({}));
    await assert.rejects(list("prod", "eu-west-1"), (e) => e.$metadata.httpStatusCode === 429);
    assert.deepEqual((await list("prod", "us-west-2")).clusters, ["prod-usw2"]);
    assert.deepEqual((await list("dev", "eu-west-1")).clusters, ["dev-euw1"]);
  } finally {
    await admin(sim.info, `faults?account=${prod.accountId}&region=eu-west-1`, { method: "DELETE" });
  }
});
