// Kubernetes helpers for conformance tests: EKS tokens made with the AWS SDK for JavaScript v3's own signer
// (@smithy/signature-v4), kubeconfigs that carry them, and kubectl runs that cannot see the user's own config.
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { admin } from "./simulator.mjs";

export const kubectlPath = "/usr/bin/kubectl";

/** The simulator's current simulated time (EKS tokens are checked against it, not the wall clock). */
export async function simulatedNow(info) {
  const clock = await admin(info, "clock", { method: "GET" });
  return new Date(clock.utcNow);
}

/** An EKS bearer token for a cluster, as `aws eks get-token` makes it: k8s-aws-v1. + base64url(presigned STS URL). */
export async function eksToken(info, cluster) {
  const signer = new SignatureV4({
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    region: info.region,
    service: "sts",
    sha256: Sha256,
  });
  const hostname = `sts.${info.region}.amazonaws.com`;
  const signed = await signer.presign({
    method: "GET",
    protocol: "https:",
    hostname,
    path: "/",
    query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
    headers: { host: hostname, "x-k8s-aws-id": cluster },
  }, { signingDate: await simulatedNow(info), expiresIn: 60 });
  const query = Object.entries(signed.query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
  return "k8s-aws-v1." + Buffer.from(`https://${hostname}/?${query}`).toString("base64url");
}

/** Writes a kubeconfig whose user authenticates with a fresh EKS token; returns its path. */
export async function eksKubeconfig(info, cluster) {
  const dir = mkdtempSync(path.join(tmpdir(), "wineks-kubeconfig-"));
  const file = path.join(dir, "config");
  const token = await eksToken(info, cluster);
  writeFileSync(file, [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${cluster}`,
    "  cluster:",
    `    server: ${info.kubernetesEndpoint}/clusters/${cluster}`,
    `    certificate-authority: ${info.caCertPath}`,
    "users:",
    "- name: eks-token",
    "  user:",
    `    token: ${token}`,
    "contexts:",
    `- name: ${cluster}`,
    "  context:",
    `    cluster: ${cluster}`,
    "    user: eks-token",
    `current-context: ${cluster}`,
    "",
  ].join("\n"));
  return file;
}

/**
 * Runs kubectl with a kubeconfig and no access to the user's own (HOME and KUBECONFIG replaced). Resolves to
 * { code, stdout, stderr }. onOutput(textSoFar) is called as output arrives (for long commands such as drain).
 */
export function kubectl(kubeconfig, args, { onOutput, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const home = mkdtempSync(path.join(tmpdir(), "wineks-kubectl-home-"));
    const child = spawn(kubectlPath, ["--kubeconfig", kubeconfig, ...args], {
      env: { PATH: process.env.PATH, HOME: home },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "", stderr = "";
    const seen = () => onOutput?.(stdout + stderr);
    child.stdout.on("data", (d) => { stdout += d; seen(); });
    child.stderr.on("data", (d) => { stderr += d; seen(); });
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`kubectl ${args.join(" ")} timed out:\n${stdout}\n${stderr}`)); }, timeoutMs);
    child.once("exit", (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}
