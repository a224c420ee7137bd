// kubectl (from the machine image, nobody here wrote it) against the simulator's Kubernetes API over TLS, with the
// kubeconfig the simulator writes and with an EKS token made by the AWS SDK for JavaScript v3's signer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startSimulator, admin } from "./lib/simulator.mjs";
import { eksKubeconfig, kubectl } from "./lib/kubernetes.mjs";

let sim;
// 20 simulated seconds per wall second: a 30 s grace period takes 1.5 s, an EKS token lives 45 s.
before(async () => { sim = await startSimulator({ timeScale: 20 }); });
after(async () => { await sim?.stop(); });

const rows = (text) => text.split("\n").filter((l) => l.trim().length > 0);

test("get nodes, pods and PDBs with the simulator's kubeconfig and with an EKS token", async () => {
  const eks = await eksKubeconfig(sim.info, "demo");
  for (const [config, context] of [[sim.info.kubeConfigPath, ["--context", "demo"]], [eks, []]]) {
    const nodes = await kubectl(config, [...context, "get", "nodes"]);
    assert.equal(nodes.code, 0, nodes.stderr);
    assert.match(rows(nodes.stdout)[0], /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/);
    assert.equal(rows(nodes.stdout).length - 1, 9);

    const pods = await kubectl(config, [...context, "get", "pods", "-A"]);
    assert.equal(pods.code, 0, pods.stderr);
    assert.equal(rows(pods.stdout).length - 1, 24);
    assert.match(pods.stdout, /shop\s+payments-\S+\s+1\/1\s+Running/);

    const pdbs = await kubectl(config, [...context, "get", "pdb", "-A"]);
    assert.equal(pdbs.code, 0, pdbs.stderr);
    assert.match(rows(pdbs.stdout)[0], /^NAMESPACE\s+NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE/);
    assert.match(pdbs.stdout, /shop\s+payments\s+1\s+N\/A\s+0\s/);
    assert.match(pdbs.stdout, /shop\s+web-iis\s+5\s+N\/A\s+1\s/);
  }

  // A token signed for another cluster is refused, as kubectl reports it.
  const wrong = await eksKubeconfig(sim.info, "staging");
  const refused = await kubectl(wrong, ["--server", `${sim.info.kubernetesEndpoint}/clusters/demo`, "get", "nodes"]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Unauthorized|must be logged in/);
});

test("cordon and uncordon with an EKS token", async () => {
  const eks = await eksKubeconfig(sim.info, "demo");
  const node = (await kubectl(eks, ["get", "nodes", "-l", "eks.amazonaws.com/nodegroup=win-managed", "-o", "jsonpath={.items[0].metadata.name}"])).stdout;
  assert.match(node, /^ip-/);

  const cordon = await kubectl(eks, ["cordon", node]);
  assert.equal(cordon.code, 0, cordon.stderr);
  assert.equal(cordon.stdout.trim(), `node/${node} cordoned`);
  const cordoned = await kubectl(eks, ["get", "node", node]);
  assert.match(cordoned.stdout, /Ready,SchedulingDisabled/);
  const again = await kubectl(eks, ["cordon", node]);
  assert.equal(again.stdout.trim(), `node/${node} already cordoned`);

  const uncordon = await kubectl(eks, ["uncordon", node]);
  assert.equal(uncordon.code, 0, uncordon.stderr);
  assert.equal(uncordon.stdout.trim(), `node/${node} uncordoned`);
  const taints = await kubectl(eks, ["get", "node", node, "-o", "jsonpath={.spec.taints}"]);
  assert.doesNotMatch(taints.stdout, /unschedulable/);
});

test("drain is blocked by the payments PDB, names it, and goes through once a replica is Ready elsewhere", async () => {
  const eks = await eksKubeconfig(sim.info, "demo");
  const node = (await kubectl(eks, ["get", "pods", "-n", "shop", "-l", "app=payments", "-o", "jsonpath={.items[0].spec.nodeName}"])).stdout;
  assert.match(node, /^ip-/);

  let blockedSeen;
  const blocked = new Promise((resolve) => { blockedSeen = resolve; });
  // -v=8 makes kubectl print response bodies: the 429's cause names the budget.
  const drain = kubectl(eks, ["drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=120s", "-v=8"], {
    timeoutMs: 150_000,
    onOutput: (text) => { if (/error when evicting pods\/"payments-[^"]+" -n "shop" \(will retry after 5s\)/.test(text)) blockedSeen(); },
  });
  await blocked;

  // While blocked: the budget allows no disruption and the pod still runs on the cordoned node.
  const pdb = await kubectl(eks, ["get", "pdb", "payments", "-n", "shop", "-o", "jsonpath={.status.disruptionsAllowed}"]);
  assert.equal(pdb.stdout, "0");
  const scale = await kubectl(eks, ["scale", "deployment/payments", "-n", "shop", "--replicas=2"]);
  assert.equal(scale.code, 0, scale.stderr);
  assert.equal(scale.stdout.trim(), "deployment.apps/payments scaled");

  const result = await drain;
  const output = result.stdout + result.stderr;
  assert.equal(result.code, 0, output.slice(-4000));
  assert.match(output, /Cannot evict pod as it would violate the pod's disruption budget\./);
  assert.match(output, /The disruption budget payments needs 1 healthy pods and has 1 currently/);
  assert.match(output, /Warning: ignoring DaemonSet-managed Pods: amazon-cloudwatch\/fluent-bit-windows-/);
  assert.match(output, /pod\/payments-\S+ evicted/);
  assert.match(output, /pod\/web-iis-\S+ evicted/);
  assert.match(output, new RegExp(`node/${node.replaceAll(".", "\\.")} drained`));

  // The evicted replica's successor pulls its image on a node that lacks it, queued behind other pulls there
  // (tens of simulated minutes for Windows images): let an hour pass.
  // A fresh EKS token afterwards: the first one is older than 15 simulated minutes by then.
  await admin(sim.info, "clock/advance?seconds=3600");
  const later = await eksKubeconfig(sim.info, "demo");

  // Only DaemonSet pods are left on the node; both payments replicas run elsewhere.
  const left = await kubectl(later, ["get", "pods", "-A", "--field-selector", `spec.nodeName=${node}`, "-o", "jsonpath={.items[*].metadata.name}"]);
  assert.match(left.stdout, /^fluent-bit-windows-\S+$/);
  const payments = await kubectl(later, ["get", "pods", "-n", "shop", "-l", "app=payments", "-o", "jsonpath={range .items[*]}{.spec.nodeName} {.status.phase}{\"\\n\"}{end}"]);
  const placed = rows(payments.stdout);
  assert.equal(placed.length, 2);
  for (const line of placed) {
    assert.doesNotMatch(line, new RegExp(node.replaceAll(".", "\\.")));
    assert.match(line, /Running$/);
  }
  const uncordon = await kubectl(later, ["uncordon", node]);
  assert.equal(uncordon.code, 0, uncordon.stderr);
});

test("kubectl create pdb and delete pdb: the new budget counts at once; invalid and duplicate budgets are refused as the API server refuses them", async () => {
  const cfg = sim.info.kubeConfigPath;
  const created = await kubectl(cfg, ["--context", "demo", "create", "pdb", "web-iis-canary", "-n", "shop", "--selector=app=web-iis", "--max-unavailable=1"]);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout.trim(), "poddisruptionbudget.policy/web-iis-canary created");
  const listed = await kubectl(cfg, ["--context", "demo", "get", "pdb", "-n", "shop"]);
  assert.match(listed.stdout, /web-iis-canary\s+N\/A\s+1\s+1\s/);

  const again = await kubectl(cfg, ["--context", "demo", "create", "pdb", "web-iis-canary", "-n", "shop", "--selector=app=web-iis", "--max-unavailable=1"]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /poddisruptionbudgets.policy "web-iis-canary" already exists/);
  const both = await kubectl(cfg, ["--context", "demo", "create", "pdb", "both", "-n", "shop", "--selector=app=web-iis", "--max-unavailable=1", "--min-available=1"]);
  assert.notEqual(both.code, 0); // kubectl itself refuses both at once, before the request

  // A pod under two budgets: the eviction API refuses it (500), as kubectl drain then reports it.
  const pod = (await kubectl(cfg, ["--context", "demo", "get", "pods", "-n", "shop", "-l", "app=web-iis", "-o", "jsonpath={.items[0].metadata.name}"])).stdout;
  const body = path.join(mkdtempSync(path.join(tmpdir(), "wineks-eviction-")), "eviction.json");
  writeFileSync(body, JSON.stringify({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name: pod, namespace: "shop" } }));
  const evict = await kubectl(cfg, ["--context", "demo", "create", "--raw", `/clusters/demo/api/v1/namespaces/shop/pods/${pod}/eviction` /* --raw paths ignore the server URL's path */, "-f", body]);
  assert.notEqual(evict.code, 0);
  assert.match(evict.stderr, /more than one PodDisruptionBudget/);

  const deleted = await kubectl(cfg, ["--context", "demo", "delete", "pdb", "web-iis-canary", "-n", "shop"]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(deleted.stdout.trim(), 'poddisruptionbudget.policy "web-iis-canary" deleted');
  const gone = await kubectl(cfg, ["--context", "demo", "delete", "pdb", "web-iis-canary", "-n", "shop"]);
  assert.match(gone.stderr, /poddisruptionbudgets.policy "web-iis-canary" not found/);
});
