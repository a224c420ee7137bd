// A small, dependency-free client of the simulator for the benchmarks (tools/bench.ps1): SigV4-signed AWS calls
// (node:crypto, no SDK, so signing costs little next to the server's work), Kubernetes GETs with the kubeconfig's
// token, and a bounded request-rate loop on loopback. Prints one JSON document on stdout.
//
//   node simclient.mjs aws  <info.json> <service> <method> <path> <body> [contentType] [target]
//   node simclient.mjs kube <info.json> <path>
//   node simclient.mjs rps  <info.json> <cluster> <seconds> <concurrency>
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";

const [mode, infoPath, ...args] = process.argv.slice(2);
const info = JSON.parse(readFileSync(infoPath, "utf8"));
const awsUrl = new URL(info.endpoint);
const kubeUrl = new URL(info.kubernetesEndpoint);
const ca = readFileSync(info.caCertPath);
const kubeToken = /token:\s*"?([^"\s]+)"?/.exec(readFileSync(info.kubeConfigPath, "utf8"))?.[1];
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64, ca });

const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const hmac = (key, data) => createHmac("sha256", key).update(data).digest();

/** SigV4 (header signing) of one request; returns the headers to send. */
function sign({ service, method, path, query = "", body = "", headers = {} }) {
  const now = new Date();
  const amzDate = now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const all = { ...headers, host: awsUrl.host, "x-amz-date": amzDate, "x-amz-content-sha256": sha256(body) };
  const names = Object.keys(all).map((k) => k.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), String(v).trim()]));
  const canonicalQuery = query.split("&").filter(Boolean).map((p) => p.split("=")).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v = ""]) => `${k}=${v}`).join("&");
  const canonical = [method, path, canonicalQuery, names.map((n) => `${n}:${lower[n]}\n`).join(""), names.join(";"), sha256(body)].join("\n");
  const scope = `${day}/${info.region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  let key = hmac("AWS4" + info.secretAccessKey, day);
  for (const part of [info.region, service, "aws4_request"]) key = hmac(key, part);
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  return { ...all, authorization: `AWS4-HMAC-SHA256 Credential=${info.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}` };
}

function send(agent, url, { method, path, headers, body }) {
  const lib = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request({ host: url.hostname, port: url.port, method, path, headers, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

function aws(service, method, path, body = "", contentType = "application/x-www-form-urlencoded; charset=utf-8", target) {
  const [p, q = ""] = path.split("?");
  const headers = { "content-type": contentType };
  if (target) headers["x-amz-target"] = target;
  return send(httpAgent, awsUrl, { method, path, headers: sign({ service, method, path: p, query: q, body, headers }), body });
}

function kube(path) {
  return send(httpsAgent, kubeUrl, { method: "GET", path, headers: { authorization: `Bearer ${kubeToken}`, accept: "application/json" } });
}

async function rps(cluster, seconds, concurrency) {
  const prefix = `${kubeUrl.pathname.replace(/\/$/, "")}/clusters/${cluster}`;
  const kinds = {
    "ec2 DescribeInstances": () => aws("ec2", "POST", "/", "Action=DescribeInstances&Version=2016-11-15"),
    "autoscaling DescribeAutoScalingGroups": () => aws("autoscaling", "POST", "/", "Action=DescribeAutoScalingGroups&Version=2011-01-01"),
    "eks DescribeCluster": () => aws("eks", "GET", `/clusters/${cluster}`),
    "kubernetes list nodes": () => kube(`${prefix}/api/v1/nodes`),
    "kubernetes get node": null, // filled below with a real node name
    "kubernetes list pods (limit 500)": () => kube(`${prefix}/api/v1/pods?limit=500`),
  };
  const nodes = JSON.parse((await kube(`${prefix}/api/v1/nodes?limit=1`)).body);
  const nodeName = nodes.items[0].metadata.name;
  kinds["kubernetes get node"] = () => kube(`${prefix}/api/v1/nodes/${nodeName}`);
  const results = [];
  for (const [name, call] of Object.entries(kinds)) {
    const first = await call();
    if (first.status !== 200) throw new Error(`${name}: ${first.status} ${first.body.slice(0, 300)}`);
    let count = 0;
    let errors = 0;
    const bytes = first.body.length;
    const end = performance.now() + seconds * 1000;
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const r = await call();
        if (r.status === 200) count++; else errors++;
      }
    }));
    const elapsed = (performance.now() - started) / 1000;
    results.push({ request: name, requests: count, errors, seconds: elapsed, perSecond: count / elapsed, responseBytes: bytes });
  }
  return results;
}

let output;
switch (mode) {
  case "aws": {
    const [service, method, path, body = "", contentType, target] = args;
    output = await aws(service, method, path, body, contentType || undefined, target || undefined);
    break;
  }
  case "kube":
    output = await kube(args[0]);
    break;
  case "rps":
    output = await rps(args[0], Number(args[1]), Number(args[2]));
    break;
  default:
    throw new Error(`unknown mode ${mode}`);
}
process.stdout.write(JSON.stringify(output));
httpAgent.destroy();
httpsAgent.destroy();
