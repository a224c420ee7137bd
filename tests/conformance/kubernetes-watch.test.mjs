// @kubernetes/client-node (nobody here wrote it) watches and patches the simulator's nodes and pods, and watches the
// nodes of a managed node group through a rollout that the AWS SDK for JavaScript v3 starts on a simulator whose AWS
// endpoint is https (--tls), trusting only the simulator's CA.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import { X509Certificate } from "node:crypto";
import "./lib/node20-shims.mjs";
import * as k8s from "@kubernetes/client-node";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { EKSClient, DescribeClusterCommand, DescribeNodegroupCommand, UpdateNodegroupVersionCommand, DescribeUpdateCommand, ListClustersCommand } from "@aws-sdk/client-eks";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { EC2Client, DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { startSimulator, admin } from "./lib/simulator.mjs";

let sim;
let kc;
let tls; // a second simulator, --tls: the rollout runs on it
before(async () => {
  [sim, tls] = await Promise.all([startSimulator({ timeScale: 50 }), startSimulator({ tls: true })]);
  kc = new k8s.KubeConfig();
  kc.loadFromFile(sim.info.kubeConfigPath);
  kc.setCurrentContext("demo");
});
after(async () => { await Promise.all([sim?.stop(), tls?.stop()]); });

/** Resolves when predicate(events) holds, rejects after a bounded wait. */
function until(events, predicate, what, ms = 15_000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      if (predicate(events)) return resolve();
      if (Date.now() - started > ms) return reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(events.map((e) => [e.type, e.name]))}`));
      setTimeout(poll, 10);
    };
    poll();
  });
}

test("a node watch sees the list, a cordon and a deletion", async () => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const events = [];
  let ended;
  const done = new Promise((resolve) => { ended = resolve; });
  const controller = await new k8s.Watch(kc).watch("/api/v1/nodes", { labelSelector: "kubernetes.io/os=windows" },
    (type, node) => events.push({ type, name: node.metadata.name, unschedulable: node.spec?.unschedulable === true, rv: Number(node.metadata.resourceVersion) }),
    (err) => ended(err));
  try {
    await until(events, (e) => e.length === 7, "the 7 Windows nodes");
    assert.ok(events.every((e) => e.type === "ADDED"));
    const target = events.map((e) => e.name).sort()[0];

    const patched = await core.patchNode({ name: target, body: { spec: { unschedulable: true } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch));
    assert.equal(patched.spec.unschedulable, true);
    await until(events, (e) => e.some((x) => x.type === "MODIFIED" && x.name === target && x.unschedulable), "the cordon");

    await core.deleteNode({ name: target });
    await until(events, (e) => e.some((x) => x.type === "DELETED" && x.name === target), "the deletion");
    const modified = events.find((x) => x.type === "MODIFIED");
    const deleted = events.find((x) => x.type === "DELETED");
    assert.ok(deleted.rv > modified.rv, "resourceVersions increase");
    const { items } = await core.listNode({ labelSelector: "kubernetes.io/os=windows" });
    assert.equal(items.length, 6);
  } finally {
    controller.abort();
  }
  await done;
});

/** Waits (bounded) until `count` pods with the label run Ready and none terminates: the earlier tests disturb them. */
async function settled(core, labelSelector, count) {
  const started = Date.now();
  for (;;) {
    const { items } = await core.listNamespacedPod({ namespace: "shop", labelSelector });
    const ready = items.filter((p) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
    if (ready.length === count && items.length === count) return items;
    if (Date.now() - started > 15_000) throw new Error(`${labelSelector} did not settle: ${items.length} pods, ${ready.length} ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("a pod watch resumed from a list's resourceVersion sees an eviction and the replacement start", async () => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await settled(core, "app=web-iis", 6);
  const list = await core.listNamespacedPod({ namespace: "shop", labelSelector: "app=web-iis" });
  const victim = list.items.find((p) => p.metadata.deletionTimestamp === undefined).metadata.name;
  const events = [];
  const controller = await new k8s.Watch(kc).watch("/api/v1/namespaces/shop/pods",
    { labelSelector: "app=web-iis", resourceVersion: list.metadata.resourceVersion },
    (type, pod) => events.push({ type, name: pod.metadata.name, phase: pod.status?.phase, ready: pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") }),
    () => {});
  try {
    await core.createNamespacedPodEviction({ name: victim, namespace: "shop", body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: victim, namespace: "shop" } } });
    await until(events, (e) => e.some((x) => x.type === "DELETED" && x.name === victim), "the evicted pod to go");
    await until(events, (e) => e.some((x) => x.type === "MODIFIED" && x.name !== victim && x.phase === "Running" && x.ready), "the replacement to run");
    const replacement = events.find((x) => x.type === "ADDED").name;
    assert.notEqual(replacement, victim);
    assert.equal(events.filter((x) => x.type === "ADDED").length, 1, "no initial events when resuming from a version");

    const budget = await kc.makeApiClient(k8s.PolicyV1Api).readNamespacedPodDisruptionBudget({ name: "web-iis", namespace: "shop" });
    assert.equal(budget.status.currentHealthy, 6);
    assert.equal(budget.status.disruptionsAllowed, 1);
  } finally {
    controller.abort();
  }
});

test("an eviction the budget forbids is an ApiException with the 429 Status", async () => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const [payments] = await settled(core, "app=payments", 1);
  await assert.rejects(
    core.createNamespacedPodEviction({ name: payments.metadata.name, namespace: "shop", body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: payments.metadata.name } } }),
    (e) => {
      assert.equal(e.code, 429);
      const status = typeof e.body === "string" ? JSON.parse(e.body) : e.body;
      assert.equal(status.reason, "TooManyRequests");
      assert.equal(status.details.causes[0].reason, "DisruptionBudget");
      assert.equal(status.details.causes[0].message, "The disruption budget payments needs 1 healthy pods and has 1 currently");
      return true;
    });
});

test("over --tls the AWS SDK reaches the https endpoint trusting exactly the simulator's CA, and fails without it", async () => {
  assert.match(tls.info.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
  const { Account } = await new STSClient(tls.aws).send(new GetCallerIdentityCommand({}));
  assert.equal(Account, "111122223333");
  const eks = new EKSClient(tls.aws);
  assert.deepEqual((await eks.send(new ListClustersCommand({}))).clusters, ["demo", "staging"]);
  const { cluster } = await eks.send(new DescribeClusterCommand({ name: "demo" }));
  assert.equal(Buffer.from(cluster.certificateAuthority.data, "base64").toString(), tls.ca.toString(), "one CA for both endpoints");
  const { AutoScalingGroups } = await new AutoScalingClient(tls.aws).send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ["demo-win-selfmanaged"] }));
  assert.equal(AutoScalingGroups[0].Instances.length, 4);
  const { Reservations } = await new EC2Client(tls.aws).send(new DescribeInstancesCommand({ InstanceIds: [AutoScalingGroups[0].Instances[0].InstanceId] }));
  assert.equal(Reservations[0].Instances[0].InstanceId, AutoScalingGroups[0].Instances[0].InstanceId);

  // The certificate the AWS endpoint presents is issued by the simulator's CA for 127.0.0.1.
  const peer = await new Promise((resolve, reject) => {
    https.get(`${tls.info.adminEndpoint}/clock`, { ca: tls.ca }, (response) => {
      const certificate = response.socket.getPeerCertificate(true);
      response.resume();
      response.on("end", () => resolve(certificate));
    }).on("error", reject);
  });
  const ca = new X509Certificate(tls.ca);
  assert.equal(peer.issuerCertificate.fingerprint256, ca.fingerprint256);
  assert.notEqual(peer.fingerprint256, ca.fingerprint256);
  assert.ok(new X509Certificate(peer.raw).checkIP("127.0.0.1"));

  // Node's own trust store does not know the CA: the same SDK call without it is a TLS verification error.
  const untrusting = new EKSClient({ ...tls.aws, requestHandler: { httpsAgent: new https.Agent() } });
  await assert.rejects(untrusting.send(new ListClustersCommand({})), (e) => e.code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
});

/** The node's instance id, from spec.providerID (aws:///<zone>/<instance id>). */
const instanceOf = (node) => node.spec?.providerID?.split("/").pop();
const isReady = (node) => node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;

/** Polls `check` (async) until it returns a truthy value; bounded. */
async function eventually(check, what, ms = 30_000) {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("a node watch follows UpdateNodegroupVersion on a managed group: surge, taint, cordon, delete, scale back", async () => {
  const eks = new EKSClient(tls.aws);
  const asg = new AutoScalingClient(tls.aws);
  const tkc = new k8s.KubeConfig();
  tkc.loadFromFile(tls.info.kubeConfigPath);
  tkc.setCurrentContext("demo");
  const { nodegroup } = await eks.send(new DescribeNodegroupCommand({ clusterName: "demo", nodegroupName: "win-managed" }));
  const groupName = nodegroup.resources.autoScalingGroups[0].name;
  const describeGroup = async () => (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }))).AutoScalingGroups[0];

  const events = [];
  const live = new Map(); // name -> latest node seen by the watch
  let ended;
  const done = new Promise((resolve) => { ended = resolve; });
  // timeoutSeconds is simulated time: enough for the whole rollout at any time scale.
  const controller = await new k8s.Watch(tkc).watch("/api/v1/nodes", { labelSelector: "eks.amazonaws.com/nodegroup=win-managed", timeoutSeconds: 86_400 },
    (type, node) => {
      const name = node.metadata.name;
      events.push({
        type, name, instance: instanceOf(node), ready: isReady(node), unschedulable: node.spec?.unschedulable === true,
        tainted: (node.spec?.taints ?? []).some((t) => t.key === "eks.amazonaws.com/nodegroup" && t.value === "unschedulable" && t.effect === "NoSchedule"),
      });
      if (type === "DELETED") live.delete(name); else live.set(name, node);
    },
    (err) => ended(err));
  try {
    const before = await describeGroup();
    await until(events, (e) => e.length === before.Instances.length, "the initial nodes");
    const old = new Map(events.map((e) => [e.name, e.instance]));
    assert.ok(events.every((e) => e.type === "ADDED" && e.ready && !e.unschedulable && !e.tainted));
    assert.deepEqual([...old.values()].sort(), before.Instances.map((i) => i.InstanceId).sort());

    const { update } = await eks.send(new UpdateNodegroupVersionCommand({ clusterName: "demo", nodegroupName: "win-managed", force: true }));
    assert.equal(update.type, "VersionUpdate");
    assert.equal(update.status, "InProgress");
    // Hours of simulated rollout in a few wall seconds.
    await admin(tls.info, "clock/scale?value=2400");
    await eventually(async () => (await eks.send(new DescribeUpdateCommand({ name: "demo", nodegroupName: "win-managed", updateId: update.id }))).update.status !== "InProgress",
      "the update to end");
    const { update: finished } = await eks.send(new DescribeUpdateCommand({ name: "demo", nodegroupName: "win-managed", updateId: update.id }));
    assert.equal(finished.status, "Successful", JSON.stringify(finished.errors));

    // Scale-back terminations finish after the update: wait until the ASG is back at its size, all InService, and the
    // watch shows exactly its instances.
    const after = await eventually(async () => {
      const g = await describeGroup();
      const settled = g.Instances.length === before.DesiredCapacity && g.Instances.every((i) => i.LifecycleState === "InService")
        && live.size === g.Instances.length && [...live.values()].every(isReady);
      return settled ? g : undefined;
    }, "the group to settle");
    assert.equal(after.DesiredCapacity, before.DesiredCapacity);
    assert.equal(after.MaxSize, before.MaxSize);

    const index = (name, predicate) => events.findIndex((e) => e.name === name && predicate(e));
    for (const [name, instance] of old) {
      const tainted = index(name, (e) => e.type === "MODIFIED" && e.tainted);
      const cordoned = index(name, (e) => e.type === "MODIFIED" && e.unschedulable);
      const deleted = index(name, (e) => e.type === "DELETED");
      assert.ok(tainted > 0, `${name} got the eks.amazonaws.com/nodegroup=unschedulable:NoSchedule taint`);
      assert.ok(cordoned >= tainted, `${name} was cordoned after its taint`);
      assert.ok(deleted > cordoned, `${name} was deleted after its cordon`);
      assert.ok(!after.Instances.some((i) => i.InstanceId === instance), `${instance} left the group`);
    }

    const added = [...new Set(events.filter((e) => e.type === "ADDED" && !old.has(e.name)).map((e) => e.name))];
    assert.ok(added.length >= old.size, "the surge and the replacements registered as nodes");
    for (const name of added) {
      const first = index(name, () => true);
      assert.equal(events[first].type, "ADDED");
      assert.ok(index(name, (e) => e.ready) >= first, `${name} became Ready`);
    }

    // The final nodes are new ones, exactly the ASG's instances, and what a fresh list returns.
    const finalNodes = [...live.values()];
    assert.ok(finalNodes.every((n) => !old.has(n.metadata.name)));
    assert.deepEqual(finalNodes.map(instanceOf).sort(), after.Instances.map((i) => i.InstanceId).sort());
    const { items } = await tkc.makeApiClient(k8s.CoreV1Api).listNode({ labelSelector: "eks.amazonaws.com/nodegroup=win-managed" });
    assert.deepEqual(items.map((n) => n.metadata.name).sort(), finalNodes.map((n) => n.metadata.name).sort());
    const { nodegroup: updated } = await eks.send(new DescribeNodegroupCommand({ clusterName: "demo", nodegroupName: "win-managed" }));
    assert.equal(updated.status, "ACTIVE");
    assert.equal(updated.scalingConfig.desiredSize, before.DesiredCapacity);
  } finally {
    controller.abort();
  }
  await done;
});
