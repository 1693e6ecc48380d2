// Finding, attaching to and spawning the nocturne-agent daemon for one home.
//
// The shim prefers a daemon that already runs for the home (a user's background node): it attaches
// and leaves it running when the shim exits. Otherwise it spawns `nocturne-agent start
// --foreground` as its own child and owns it: the child is stopped whenever the shim goes, so an
// MCP client that restarts its servers never piles up daemons.

import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { constants as fsConstants } from "node:fs";
import { access, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { ApiError, LocalApi } from "./api.js";

export type Log = (message: string) => void;

export interface DaemonOptions {
  home: string;
  port: number | undefined;
  apiPort: number | undefined;
  bootstrap: string[];
  /** Resolves the binary; called only when a daemon has to be spawned. */
  findBinary: () => Promise<string>;
  startupTimeoutMs: number;
  log: Log;
  /** Aborted when the shim is told to exit during start-up: the child is stopped at once. */
  signal?: AbortSignal | undefined;
}

export interface DaemonHandle {
  /** `attached`: a daemon that ran before the shim, left running. `spawned`: the shim's child. */
  readonly mode: "attached" | "spawned";
  readonly pid: number;
  readonly nodeId: string;
  readonly apiUrl: string;
  readonly api: LocalApi;
  /** Stops a spawned child (SIGTERM, SIGKILL after 5 s) and waits for it; no-op when attached. */
  stop(): Promise<void>;
  /** Last resort on a synchronous exit path: SIGKILL a spawned child that still runs. */
  killNow(): void;
}

const HEALTH_POLL_MS = 100;
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_LINES = 30;

/** `--home`, else `$NOCTURNE_HOME`, else `~/.nocturne` (the daemon's own rule). */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined && flag !== "") return path.resolve(flag);
  const fromEnv = env["NOCTURNE_HOME"];
  if (fromEnv !== undefined && fromEnv !== "") return path.resolve(fromEnv);
  return path.join(homedir(), ".nocturne");
}

/** The root of this package: dist/src/daemon.js lives two levels below it. */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The npm package that carries the daemon for this machine, as esbuild and biome ship theirs. */
export function platformPackage(platform: string = process.platform, arch: string = process.arch): string {
  return `nocturne-mesh-${platform}-${arch}`;
}

/**
 * `bin/nocturne-agent` of the platform package when npm installed it (an optional dependency:
 * npm skips it on other platforms), else undefined. Resolved from this package's own location, the
 * way Node resolves any dependency, so that nested, hoisted and global installs all work.
 */
function platformBinary(root: string): string | undefined {
  try {
    const require = createRequire(path.join(root, "package.json"));
    const manifest = require.resolve(`${platformPackage()}/package.json`);
    return path.join(path.dirname(manifest), "bin", "nocturne-agent");
  } catch {
    return undefined;
  }
}

/**
 * The daemon binary: `--agent-bin`, else `$NOCTURNE_AGENT_BIN`, else the one in the platform
 * package (`nocturne-mesh-linux-x64`, installed with this one by npm), else `bin/nocturne-agent`
 * inside this package (a bundled build), else the first `nocturne-agent` on PATH. The explicit
 * choices come first, as esbuild's ESBUILD_BINARY_PATH does: a developer testing a fresh build
 * must not be overridden by an installed package. An explicit choice that is not executable is an
 * error rather than a silent fallback, so a typo does not start another binary than the one named.
 */
export async function findAgentBinary(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  root: string = packageRoot(),
): Promise<string> {
  for (const [source, value] of [
    ["--agent-bin", flag],
    ["NOCTURNE_AGENT_BIN", env["NOCTURNE_AGENT_BIN"]],
  ] as const) {
    if (value === undefined || value === "") continue;
    const file = path.resolve(value);
    if (!(await isExecutable(file))) throw new Error(`${source} names ${file}, which is not an executable file`);
    return file;
  }
  // Where a package would put it, in order; PATH comes last.
  const places: string[] = [];
  const fromPackage = platformBinary(root);
  if (fromPackage !== undefined) places.push(fromPackage);
  places.push(path.join(root, "bin", "nocturne-agent"));
  for (const file of places) if (await isExecutable(file)) return file;
  for (const dir of (env["PATH"] ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, "nocturne-agent");
    if (await isExecutable(candidate)) return candidate;
  }
  const missing = fromPackage === undefined ? `; the package ${platformPackage()} is not installed` : "";
  throw new Error(
    "cannot find the nocturne-agent binary: pass --agent-bin PATH or set NOCTURNE_AGENT_BIN " +
      `(looked at ${places.join(", ")} and on PATH${missing}; npm installs ${platformPackage()} ` +
      "with nocturne-mesh on the platforms it is built for)",
  );
}

export async function readToken(home: string): Promise<string> {
  const file = path.join(home, "api.token");
  const token = (await readFile(file, "utf8")).trim();
  if (!/^[0-9a-f]{64}$/i.test(token)) throw new Error(`${file} does not hold an API token`);
  return token;
}

interface RuntimeInfo {
  pid: number;
  nodeId: string;
  apiUrl: string;
}

/** `<home>/node.json`, written by a running daemon; undefined when absent or unreadable. */
async function readRuntimeInfo(home: string): Promise<RuntimeInfo | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path.join(home, "node.json"), "utf8"));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const info = parsed as Record<string, unknown>;
  const pid = info["pid"];
  const apiUrl = info["api_url"];
  if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0 || typeof apiUrl !== "string") return undefined;
  return { pid, apiUrl, nodeId: typeof info["node_id"] === "string" ? info["node_id"] : "" };
}

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The token goes only to a loopback HTTP URL, whatever a node.json says. */
function isLoopbackApiUrl(url: string): boolean {
  return /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(url);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls GET /local/health until it answers 200 or the deadline passes; returns the last failure. */
async function waitHealthy(
  api: LocalApi,
  deadline: number,
  stillWorthIt: () => boolean = () => true,
): Promise<{ ok: true; nodeId: string } | { ok: false; why: string }> {
  let why = "no answer yet";
  while (Date.now() < deadline && stillWorthIt()) {
    try {
      const health = await api.health();
      return { ok: true, nodeId: typeof health["node_id"] === "string" ? health["node_id"] : "" };
    } catch (err) {
      why = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
      // A wrong token will not get better by waiting.
      if (err instanceof ApiError && err.status === 401) break;
    }
    await sleep(HEALTH_POLL_MS);
  }
  return { ok: false, why };
}

/**
 * Attaches to the home's running daemon. Returns undefined when none runs (no node.json, or its
 * pid is gone). A daemon that runs but does not get healthy in time is an error: spawning a second
 * one would only be refused by the daemon.
 */
export async function tryAttach(opts: DaemonOptions): Promise<DaemonHandle | undefined> {
  const info = await readRuntimeInfo(opts.home);
  if (info === undefined || !isPidAlive(info.pid)) return undefined;
  if (!isLoopbackApiUrl(info.apiUrl)) {
    throw new Error(`${path.join(opts.home, "node.json")} names api_url ${info.apiUrl}, which is not a loopback URL`);
  }
  const token = await readToken(opts.home);
  const api = new LocalApi(info.apiUrl, token);
  const health = await waitHealthy(
    api,
    Date.now() + opts.startupTimeoutMs,
    () => isPidAlive(info.pid) && opts.signal?.aborted !== true,
  );
  if (!health.ok) {
    throw new Error(
      `a nocturne-agent (pid ${info.pid}) runs for home ${opts.home}, but its API at ${info.apiUrl} ` +
        `did not answer in time (${health.why}); stop it with \`nocturne-mesh stop --home ${opts.home}\``,
    );
  }
  opts.log(`attached to the running nocturne-agent pid ${info.pid} (${info.apiUrl}) for home ${opts.home}`);
  return {
    mode: "attached",
    pid: info.pid,
    nodeId: health.nodeId || info.nodeId,
    apiUrl: info.apiUrl,
    api,
    stop: () => Promise.resolve(),
    killNow: () => {},
  };
}

/** Keeps the last lines of a stream, for error messages. */
class Tail {
  private readonly lines: string[] = [];
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > STDERR_TAIL_LINES) this.lines.shift();
  }
  text(): string {
    return this.lines.length === 0 ? "(no output on stderr)" : this.lines.map((l) => `  ${l}`).join("\n");
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off("exit", onExit);
      resolve(false);
    }, ms);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once("exit", onExit);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  if (await waitExit(child, STOP_GRACE_MS)) return;
  child.kill("SIGKILL");
  await waitExit(child, STOP_GRACE_MS);
}

function describeExit(child: ChildProcess): string {
  return child.signalCode !== null ? `was killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;
}

/** Spawns `nocturne-agent start --foreground` as a child and waits until its API is healthy. */
export async function spawnDaemon(opts: DaemonOptions): Promise<DaemonHandle> {
  if (opts.signal?.aborted === true) throw new Error("start-up cancelled: the shim is exiting");
  const agentBin = await opts.findBinary();
  // Ports only when given: otherwise the node runs on its home's saved ones.
  const args = ["start", "--foreground", "--home", opts.home];
  if (opts.port !== undefined) args.push("--port", String(opts.port));
  if (opts.apiPort !== undefined) args.push("--api-port", String(opts.apiPort));
  for (const seed of opts.bootstrap) args.push("--bootstrap", seed);
  opts.log(`starting ${agentBin} ${args.join(" ")}`);

  // stdout and stderr are piped, never inherited: the shim's stdout carries only MCP messages.
  const child = spawn(agentBin, args, { stdio: ["ignore", "pipe", "pipe"] });
  const tail = new Tail();
  let spawnError: Error | undefined;
  child.on("error", (err) => {
    spawnError = err;
  });
  // Always drain both pipes, also after start-up: a full pipe would block the daemon.
  createInterface({ input: child.stderr! }).on("line", (line) => {
    tail.push(line);
    opts.log(`[nocturne-agent] ${line}`);
  });
  const stdout = createInterface({ input: child.stdout! });

  const deadline = Date.now() + opts.startupTimeoutMs;
  const failure = (what: string): Error =>
    new Error(`${agentBin} ${what}; its stderr ended with:\n${tail.text()}`);

  const ready = await new Promise<{ apiUrl: string; nodeId: string } | Error>((resolve) => {
    const timer = setTimeout(
      () => resolve(failure(`printed no ready line within ${opts.startupTimeoutMs / 1000} s`)),
      Math.max(0, deadline - Date.now()),
    );
    const finish = (value: { apiUrl: string; nodeId: string } | Error): void => {
      clearTimeout(timer);
      resolve(value);
    };
    stdout.on("line", (line) => {
      const api = /^ready .*\bapi=(\S+)/.exec(line);
      if (api?.[1] !== undefined) {
        finish({ apiUrl: api[1], nodeId: /\bnode_id=([0-9a-f]+)/.exec(line)?.[1] ?? "" });
      } else {
        opts.log(`[nocturne-agent] ${line}`);
      }
    });
    child.once("exit", () => {
      // Let the last stderr lines arrive before quoting them.
      setImmediate(() =>
        finish(
          spawnError !== undefined
            ? new Error(`cannot run ${agentBin}: ${spawnError.message}`)
            : failure(`${describeExit(child)} before it was ready`),
        ),
      );
    });
    child.once("error", (err) => finish(new Error(`cannot run ${agentBin}: ${err.message}`)));
    opts.signal?.addEventListener("abort", () => finish(new Error("start-up cancelled: the shim is exiting")), {
      once: true,
    });
  });
  if (ready instanceof Error) {
    await stopChild(child);
    throw ready;
  }
  if (!isLoopbackApiUrl(ready.apiUrl)) {
    await stopChild(child);
    throw failure(`reported api=${ready.apiUrl}, which is not a loopback URL`);
  }

  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const worthWaiting = (): boolean => running() && opts.signal?.aborted !== true;
  const api = new LocalApi(ready.apiUrl, await readToken(opts.home), () =>
    running() ? "" : `the nocturne-agent child ${describeExit(child)}; restart the MCP server`,
  );
  const health = await waitHealthy(api, deadline, worthWaiting);
  if (!health.ok) {
    const what = opts.signal?.aborted
      ? "start-up cancelled: the shim is exiting"
      : running()
      ? `did not answer GET /local/health within ${opts.startupTimeoutMs / 1000} s (${health.why})`
      : `${describeExit(child)} before its API was healthy`;
    await stopChild(child);
    throw failure(what);
  }
  child.on("exit", () => opts.log(`the nocturne-agent child ${describeExit(child)}`));
  opts.log(`nocturne-agent pid ${child.pid} ready at ${ready.apiUrl}`);

  let stopping: Promise<void> | undefined;
  return {
    mode: "spawned",
    pid: child.pid!,
    nodeId: health.nodeId || ready.nodeId,
    apiUrl: ready.apiUrl,
    api,
    stop: () => (stopping ??= stopChild(child)),
    killNow: () => {
      if (running()) child.kill("SIGKILL");
    },
  };
}

/** Attach to the home's daemon if one runs, else spawn one (and attach after all if another won a race). */
export async function attachOrSpawn(opts: DaemonOptions): Promise<DaemonHandle> {
  const attached = await tryAttach(opts);
  if (attached !== undefined) return attached;
  try {
    return await spawnDaemon(opts);
  } catch (err) {
    // Another process may have started a daemon for this home meanwhile; the child was then
    // refused ("already running"), and that daemon is as good as our own.
    if (opts.signal?.aborted === true) throw err;
    const late = await tryAttach(opts).catch(() => undefined);
    if (late !== undefined) return late;
    throw err;
  }
}
