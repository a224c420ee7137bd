// @kubernetes/client-node (nobody here wrote it) watches and patches the simulator's nodes and pods.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import "./lib/node20-shims.mjs";
import * as k8s from "@kubernetes/client-node";
import { startSimulator } from "./lib/simulator.mjs";

let sim;
let kc;
before(async () => {
  sim = await startSimulator({ timeScale: 50 });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(sim.info.kubeConfigPath);
  kc.setCurrentContext("demo");
});
after(async () => { await sim?.stop(); });

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
