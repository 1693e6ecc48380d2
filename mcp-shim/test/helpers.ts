// Test fixtures: the real nocturne-agent binary, temporary homes, the shim as an MCP server
// behind a real SDK Client, and a ledger of every process and directory a test made, so that
// cleanup() removes them all even after a failed assertion.

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { constants as fsConstants } from "node:fs";
import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

/** dist/src/index.js: the compiled shim, as `npm test` builds it. */
export const SHIM = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "src", "index.js");

/** The daemon binary under test. Missing is a failure, not a skip: these tests are the point. */
export async function agentBinary(): Promise<string> {
  const bin = process.env["NOCTURNE_AGENT_BIN"];
  if (bin === undefined || bin === "") {
    throw new Error(
      "NOCTURNE_AGENT_BIN is not set: the shim's tests run against the real daemon. Build it " +
        "(cmake --build build/debug --target nocturne-agent) and run " +
        "NOCTURNE_AGENT_BIN=$PWD/build/debug/bin/nocturne-agent npm test, or mcp-shim/test.sh <binary>",
    );
  }
  try {
    await access(bin, fsConstants.X_OK);
  } catch {
    throw new Error(`NOCTURNE_AGENT_BIN=${bin} is not an executable file`);
  }
  return path.resolve(bin);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Polls `check`; `what` may be a function so that the message shows the state at the timeout. */
export async function waitUntil(
  what: string | (() => string),
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting until ${typeof what === "string" ? what : what()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Everything a test file created; cleanup() kills and removes it all. */
export class Ledger {
  private readonly homes: string[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly clients: Client[] = [];
  private readonly pids = new Set<number>();

  async tempDir(prefix = "nocturne-shim-"): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), prefix));
    this.homes.push(dir);
    return dir;
  }

  /** A home made by someone else (a dev mesh) inside one of this ledger's directories. */
  trackHome(dir: string): void {
    this.homes.push(dir);
  }

  trackPid(pid: number): void {
    this.pids.add(pid);
  }

  trackChild(child: ChildProcess): void {
    this.children.push(child);
    if (child.pid !== undefined) this.pids.add(child.pid);
  }

  trackClient(client: Client): void {
    this.clients.push(client);
  }

  async cleanup(): Promise<void> {
    for (const client of this.clients) await client.close().catch(() => undefined);
    // A daemon a test did not know about is still named in its home's node.json.
    for (const home of this.homes) {
      try {
        const info = JSON.parse(await readFile(path.join(home, "node.json"), "utf8")) as { pid?: unknown };
        if (typeof info.pid === "number") this.pids.add(info.pid);
      } catch {
        // no daemon ran there
      }
    }
    for (const pid of this.pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    for (const child of this.children) {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise((resolve) => child.once("exit", resolve));
      }
    }
    for (const home of this.homes) await rm(home, { recursive: true, force: true });
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (at most `ms`), collecting its output. */
export function run(
  ledger: Ledger,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  ms = 60_000,
  cwd?: string,
): Promise<RunResult> {
  // stdin is a pipe left open, as an MCP client leaves it: the shim treats its end as "exit now".
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], env, cwd });
  ledger.trackChild(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} did not finish within ${ms} ms; stderr:\n${stderr}`));
    }, ms);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** key=value lines of nocturne-agent's command output. */
export function keyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

/**
 * A home whose operator is the only genesis operator of a private test mesh, enrolled: its node
 * may publish. Returns the home and the genesis file to start its node with.
 */
export async function enrolledHome(ledger: Ledger, bin: string): Promise<{ home: string; genesis: string }> {
  const home = await ledger.tempDir();
  const files = await ledger.tempDir("nocturne-shim-genesis-");
  const setup = await run(ledger, bin, ["setup", "--home", home, "--label", "test"]);
  if (setup.code !== 0) throw new Error(`setup failed: ${setup.stderr}`);
  const key = keyValues(setup.stdout).get("operator_public_key");
  if (key === undefined) throw new Error(`setup printed no operator_public_key:\n${setup.stdout}`);
  const genesis = path.join(files, "genesis.json");
  await writeFile(
    genesis,
    JSON.stringify({
      version: 1,
      network: "shim-test",
      min_endorsements: 1,
      revocation_threshold: 1,
      operators: [{ public_key: key, label: "test" }],
    }),
  );
  const enroll = await run(ledger, bin, ["enroll", "--home", home, "--genesis", genesis]);
  if (enroll.code !== 0) throw new Error(`enroll failed (${enroll.code}): ${enroll.stderr}`);
  return { home, genesis };
}

/**
 * Homes of `n` operators, each a genesis operator of one private test mesh and enrolled (with
 * `rules`, further genesis fields such as vote windows). Returns the homes and the genesis file.
 */
export async function enrolledMesh(
  ledger: Ledger,
  bin: string,
  n: number,
  rules: Record<string, number> = {},
): Promise<{ homes: string[]; genesis: string }> {
  const homes: string[] = [];
  const operators: Array<{ public_key: string; label: string }> = [];
  for (let i = 0; i < n; i++) {
    const home = await ledger.tempDir();
    const setup = await run(ledger, bin, ["setup", "--home", home, "--label", `op${i}`]);
    if (setup.code !== 0) throw new Error(`setup failed: ${setup.stderr}`);
    const key = keyValues(setup.stdout).get("operator_public_key");
    if (key === undefined) throw new Error(`setup printed no operator_public_key:\n${setup.stdout}`);
    homes.push(home);
    operators.push({ public_key: key, label: `op${i}` });
  }
  const files = await ledger.tempDir("nocturne-shim-genesis-");
  const genesis = path.join(files, "genesis.json");
  await writeFile(
    genesis,
    JSON.stringify({ version: 1, network: "shim-mesh", min_endorsements: 1, revocation_threshold: 1, operators, ...rules }),
  );
  for (const home of homes) {
    const enroll = await run(ledger, bin, ["enroll", "--home", home, "--genesis", genesis]);
    if (enroll.code !== 0) throw new Error(`enroll failed (${enroll.code}): ${enroll.stderr}`);
  }
  return { homes, genesis };
}

/** Calls a daemon's local API the way any local tool would (the token from its home). */
export async function callApi(home: string, apiUrl: string, method: string, target: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const token = (await readFile(path.join(home, "api.token"), "utf8")).trim();
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`${apiUrl}${target}`, init);
  const text = await response.text();
  return { status: response.status, json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** A daemon started by the test itself (not by the shim), in the foreground, on free ports. */
export async function startDaemon(
  ledger: Ledger,
  bin: string,
  home: string,
  env: NodeJS.ProcessEnv = process.env,
  extraArgs: string[] = [],
): Promise<{ child: ChildProcess; pid: number; apiUrl: string; nodeId: string; address: string }> {
  const child = spawn(bin, ["start", "--foreground", "--home", home, "--port", "0", "--api-port", "0", ...extraArgs], {
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  ledger.trackChild(child);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon printed no ready line in 20 s:\n${stderr}`)), 20_000);
    lines.on("line", (line) => {
      if (line.startsWith("ready ")) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before ready:\n${stderr}`));
    });
  });
  const kv = new Map(ready.split(" ").slice(1).map((f) => f.split("=", 2) as [string, string]));
  return { child, pid: child.pid!, apiUrl: kv.get("api") ?? "", nodeId: kv.get("node_id") ?? "", address: kv.get("address") ?? "" };
}

export interface Shim {
  client: Client;
  transport: StdioClientTransport;
  /** The shim's pid. */
  pid: number;
  /** What the shim wrote on stderr so far (its logs, the daemon's logs). */
  stderr: () => string;
}

/** Starts the shim over stdio with a real MCP client, the way Claude would. */
export async function connectShim(
  ledger: Ledger,
  bin: string,
  home: string,
  extraEnv: Record<string, string> = {},
  extraArgs: string[] = [],
): Promise<Shim> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, { NOCTURNE_AGENT_BIN: bin }, extraEnv);
  return connectMcp(ledger, process.execPath, [SHIM, ...shimArgs(home, extraArgs)], env);
}

/** The serve arguments of a test's shim: its home, any free ports, a generous start-up time. */
export function shimArgs(home: string, extraArgs: string[] = []): string[] {
  return ["--home", home, "--port", "0", "--api-port", "0", "--startup-timeout", "30", ...extraArgs];
}

/** An MCP client on `command args` over stdio; `env` overrides the SDK's few inherited variables (HOME, PATH, ...). */
export async function connectMcp(ledger: Ledger, command: string, args: string[], env: Record<string, string>): Promise<Shim> {
  const transport = new StdioClientTransport({ command, args, env, stderr: "pipe" });
  let stderr = "";
  // Drained all along: a full stderr pipe would block the shim.
  transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: "nocturne-shim-test", version: "0.0.0" });
  ledger.trackClient(client);
  await client.connect(transport);
  const pid = transport.pid;
  if (pid === null) throw new Error("the shim has no pid");
  ledger.trackPid(pid);
  return { client, transport, pid, stderr: () => stderr };
}

/** Every tool the shim offers, sorted. */
export const TOOLS = [
  "mesh_anomalies",
  "mesh_awareness",
  "mesh_compute_claim",
  "mesh_compute_release",
  "mesh_compute_submit",
  "mesh_delete",
  "mesh_domains",
  "mesh_health",
  "mesh_peers",
  "mesh_publish",
  "mesh_query",
  "mesh_reflect",
  "mesh_vote",
];

export type Structured = Record<string, unknown>;

export async function callOk(shim: Shim, name: string, args: Record<string, unknown> = {}): Promise<Structured> {
  const result = (await shim.client.callTool({ name, arguments: args })) as CallToolResult;
  assert.notEqual(result.isError, true, `${name} failed: ${JSON.stringify(result.content)}\nshim stderr:\n${shim.stderr()}`);
  assert.ok(result.structuredContent, `${name} returned no structuredContent`);
  // The text copy says the same as the structured content.
  const first = result.content[0];
  assert.equal(first?.type, "text");
  assert.deepEqual(JSON.parse(first.type === "text" ? first.text : ""), result.structuredContent);
  return result.structuredContent;
}

/** Calls a tool that must fail; returns the daemon's error as the shim reported it. */
export async function callError(shim: Shim, name: string, args: Record<string, unknown>): Promise<{ code: string; message: string; status: number }> {
  const result = (await shim.client.callTool({ name, arguments: args })) as CallToolResult;
  assert.equal(result.isError, true, `${name} should fail: ${JSON.stringify(result)}`);
  const json = result.content.find((c) => c.type === "text" && c.text.startsWith('{"error"'));
  assert.ok(json !== undefined && json.type === "text", `no JSON error in ${JSON.stringify(result.content)}`);
  return (JSON.parse(json.text) as { error: { code: string; message: string; status: number } }).error;
}

