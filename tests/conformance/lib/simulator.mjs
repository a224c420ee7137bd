// Starts the built simulator (out/WinEksPatch/simulator) in its own process for a conformance test file and
// gives AWS SDK for JavaScript v3 client settings pointing at it. build.ps1 builds it before these tests run.
// With { tls: true } (--tls) the AWS endpoint is https with a certificate of the simulator's generated CA: the client
// settings then trust exactly that CA (an https.Agent with `ca`, which the SDK's NodeHttpHandler takes as options).
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const moduleDir = process.env.WINEKSPATCH_MODULE_DIR ?? path.resolve(here, "../../../out/WinEksPatch");
const simulatorDll = path.join(moduleDir, "simulator", "WinEksPatch.Simulator.dll");

/** The PowerShell (pwsh.dll, run with dotnet) the simulator runs Automation's aws:executeScript steps with: the one
 * build.ps1 runs in (WINEKSPATCH_PWSH), else the repository's local tool in the NuGet cache. */
export function powershellDll() {
  const candidates = [process.env.WINEKSPATCH_PWSH];
  const packages = process.env.NUGET_PACKAGES ?? path.join(process.env.HOME ?? "", ".nuget/packages");
  const tools = JSON.parse(readFileSync(path.resolve(here, "../../../.config/dotnet-tools.json"), "utf8"));
  const version = tools.tools.powershell.version;
  for (const framework of ["net10.0", "net9.0", "net8.0"]) {
    for (const platform of [process.platform === "win32" ? "win" : "unix", ""]) candidates.push(path.join(packages, "powershell", version, "tools", framework, "any", platform, "pwsh.dll"));
  }
  const found = candidates.find((c) => c && existsSync(c));
  if (!found) throw new Error(`no pwsh.dll for aws:executeScript steps (looked at ${candidates.filter(Boolean).join(", ")}): run dotnet tool restore`);
  return found;
}

/** Starts a simulator; resolves to { info, aws, ca, stop }. `info` is the simulator's one-line JSON contract; with
 * `tls`, `ca` is its CA certificate (PEM) and `aws` trusts it for the https endpoint. */
export async function startSimulator({ scenario = "demo", timeScale = 1, tls = false, extraArgs = [] } = {}) {
  if (!existsSync(simulatorDll)) throw new Error(`simulator not built at ${simulatorDll}: run build.ps1 build`);
  const child = spawn("dotnet", [simulatorDll, "--scenario", scenario, "--time-scale", String(timeScale), "--parent-pid", String(process.pid), ...(tls ? ["--tls"] : []), ...extraArgs],
    { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const lines = createInterface({ input: child.stdout });
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("simulator did not start in 60 s: " + stderr)), 60_000);
    lines.once("line", (line) => { clearTimeout(timer); resolve(JSON.parse(line)); });
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`simulator exited (${code}): ${stderr}`)); });
  });
  const ca = tls ? readFileSync(info.caCertPath) : undefined;
  const aws = {
    region: info.region,
    endpoint: info.endpoint,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    maxAttempts: 1,
    ...(tls ? { requestHandler: { httpsAgent: new https.Agent({ ca }) } } : {}),
  };
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.stdin.end(); // the simulator stops when its stdin closes
    setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
  });
  return { info, aws, ca, stop };
}

/** Points the SDK's shared config at the simulator's own config file (one profile per account), as ~/.aws/config, and
 * nothing else: no credentials file, no keys or region in the environment. */
export function useSimulatorProfiles(info) {
  process.env.AWS_CONFIG_FILE = info.configFile;
  process.env.AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/credentials";
  delete process.env.AWS_ACCESS_KEY_ID;
  delete process.env.AWS_SECRET_ACCESS_KEY;
  delete process.env.AWS_REGION;
}

/** POSTs to the simulator's admin path, e.g. admin(info, "clock/advance?seconds=60"); over https (--tls) it trusts
 * the simulator's CA (info.caCertPath) and nothing else. */
export async function admin(info, relative, { method = "POST", body } = {}) {
  const url = new URL(`${info.adminEndpoint}/${relative}`);
  const tls = url.protocol === "https:";
  const payload = body ? JSON.stringify(body) : undefined;
  const { status, text } = await new Promise((resolve, reject) => {
    const request = (tls ? https : http).request(url, {
      method,
      headers: { "content-length": Buffer.byteLength(payload ?? ""), ...(payload ? { "content-type": "application/json" } : {}) },
      ...(tls ? { ca: readFileSync(info.caCertPath) } : {}),
    }, (response) => {
      let data = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => { data += chunk; });
      response.on("end", () => resolve({ status: response.statusCode, text: data }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(payload);
  });
  if (status < 200 || status > 299) throw new Error(`admin ${relative}: ${status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}
