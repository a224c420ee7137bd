// Starts the built simulator (out/WinEksPatch/simulator) in its own process for a conformance test file and
// gives AWS SDK for JavaScript v3 client settings pointing at it. build.ps1 builds it before these tests run.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const moduleDir = process.env.WINEKSPATCH_MODULE_DIR ?? path.resolve(here, "../../../out/WinEksPatch");
const simulatorDll = path.join(moduleDir, "simulator", "WinEksPatch.Simulator.dll");

/** Starts a simulator; resolves to { info, aws, stop }. `info` is the simulator's one-line JSON contract. */
export async function startSimulator({ scenario = "demo", timeScale = 1, extraArgs = [] } = {}) {
  if (!existsSync(simulatorDll)) throw new Error(`simulator not built at ${simulatorDll}: run build.ps1 build`);
  const child = spawn("dotnet", [simulatorDll, "--scenario", scenario, "--time-scale", String(timeScale), "--parent-pid", String(process.pid), ...extraArgs],
    { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const lines = createInterface({ input: child.stdout });
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("simulator did not start in 60 s: " + stderr)), 60_000);
    lines.once("line", (line) => { clearTimeout(timer); resolve(JSON.parse(line)); });
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`simulator exited (${code}): ${stderr}`)); });
  });
  const aws = {
    region: info.region,
    endpoint: info.endpoint,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    maxAttempts: 1,
  };
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.stdin.end(); // the simulator stops when its stdin closes
    setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
  });
  return { info, aws, stop };
}

/** POSTs to the simulator's admin path, e.g. admin(info, "clock/advance?seconds=60"). */
export async function admin(info, relative, { method = "POST", body } = {}) {
  const response = await fetch(`${info.adminEndpoint}/${relative}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`admin ${relative}: ${response.status} ${await response.text()}`);
  const text = await response.text();
  return text ? JSON.parse(text) : undefined;
}
