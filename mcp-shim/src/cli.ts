// Command-line parsing. Kept apart from index.ts so that it stays free of side effects.

import { parseArgs } from "node:util";

/**
 * Subcommands handed to nocturne-agent as they are: with the npm packages alone, `npx nocturne-mesh
 * setup` (or `dev-mesh 3 --dir D`, `query --domain d`) is the whole CLI, no separate install.
 */
export const PASSTHROUGH = new Set([
  "setup",
  "endorse",
  "enroll",
  "revoke",
  "quarantine",
  "start",
  "status",
  "stop",
  "peers",
  "publish",
  "query",
  "vote",
  "delete",
  "dev-mesh",
]);

export interface ServeOptions {
  kind: "serve";
  home: string | undefined;
  /** Undefined: the node's own (its home's saved settings, else 47100 / 47101). */
  port: number | undefined;
  apiPort: number | undefined;
  bootstrap: string[];
  agentBin: string | undefined;
  startupTimeoutMs: number;
}

export interface PassthroughOptions {
  kind: "passthrough";
  agentBin: string | undefined;
  args: string[];
}

export type Command = ServeOptions | PassthroughOptions | { kind: "help" } | { kind: "version" };

export const USAGE = `usage: nocturne-mesh [options]               MCP server on stdio for the nocturne mesh
       nocturne-mesh [--agent-bin PATH] COMMAND [args...]
                                                  run that nocturne-agent command: setup, endorse,
                                                  enroll, revoke, quarantine, start, status, stop,
                                                  peers, publish, query, vote, delete, dev-mesh

options:
  --home DIR               node home (default: $NOCTURNE_HOME, else ~/.nocturne)
  --port N                 peer port of a spawned node (default: the home's saved one, else 47100)
  --api-port N             local API port of a spawned node (default: saved, else 47101)
  --bootstrap ws://H:P     peer to join through (repeatable)
  --agent-bin PATH         nocturne-agent binary (default: $NOCTURNE_AGENT_BIN, then the
                           nocturne-mesh-PLATFORM-ARCH package's, then PATH)
  --startup-timeout SECS   how long to wait for a spawned node to be healthy (default 30)
  --help, --version

A node already running for the home is used and left running; otherwise one is started and
stopped again when this server exits. NOCTURNE_GENESIS is passed on to a spawned node.`;

function port(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new Error(`--${name} must be a port number 0..65535, not '${text}'`);
  return n;
}

export function parseCommand(argv: string[]): Command {
  // `--agent-bin X` may come before a pass-through subcommand; everything after the subcommand
  // belongs to nocturne-agent, unparsed.
  let rest = argv;
  let agentBin: string | undefined;
  if (rest[0] === "--agent-bin" && rest.length >= 2) {
    agentBin = rest[1];
    rest = rest.slice(2);
  } else if (rest[0]?.startsWith("--agent-bin=") === true) {
    agentBin = rest[0].slice("--agent-bin=".length);
    rest = rest.slice(1);
  }
  if (rest[0] !== undefined && PASSTHROUGH.has(rest[0])) return { kind: "passthrough", agentBin, args: rest };

  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      home: { type: "string" },
      port: { type: "string" },
      "api-port": { type: "string" },
      bootstrap: { type: "string", multiple: true },
      "agent-bin": { type: "string" },
      "startup-timeout": { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" },
    },
  });
  if (values.help === true) return { kind: "help" };
  if (values.version === true) return { kind: "version" };
  if (positionals.length > 0) throw new Error(`unknown command '${positionals[0]}'`);
  const timeoutText = values["startup-timeout"];
  const timeout = timeoutText === undefined ? 30 : Number(timeoutText);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new Error(`--startup-timeout must be a positive number of seconds`);
  for (const seed of values.bootstrap ?? []) {
    if (!/^wss?:\/\//.test(seed)) throw new Error(`--bootstrap must look like ws://host:port, not '${seed}'`);
  }
  return {
    kind: "serve",
    home: values.home,
    port: port("port", values.port),
    apiPort: port("api-port", values["api-port"]),
    bootstrap: values.bootstrap ?? [],
    agentBin: values["agent-bin"],
    startupTimeoutMs: timeout * 1000,
  };
}
