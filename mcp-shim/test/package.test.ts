// The packages as a user gets them: `npm pack` makes the shim's tarball and the platform package
// with the daemon (scripts/pack.mjs), npm installs both into an empty folder offline with an empty
// cache, and a real MCP client drives the installed `nocturne-mesh`. Nothing of the checkout is
// used after packing: no NOCTURNE_AGENT_BIN, no nocturne-agent on PATH.

import assert from "node:assert/strict";
import { realpath, readFile } from "node:fs/promises";
import * as net from "node:net";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import {
  agentBinary,
  callError,
  callOk,
  connectMcp,
  Ledger,
  run,
  shimArgs,
  SHIM,
  startDaemon,
  TOOLS,
  waitUntil,
  type Shim,
} from "./helpers.js";

const ledger = new Ledger();
/** The folder npm installed into. */
let installed = "";
/** Only the folder of the node running these tests: the shim's `#!/usr/bin/env node` needs it. */
let env: Record<string, string> = {};

before(async () => {
  const bin = await agentBinary();
  const shimRoot = path.resolve(path.dirname(SHIM), "..", "..");
  const out = await ledger.tempDir("nocturne-pack-");
  const packed = await run(ledger, process.execPath, [path.join(shimRoot, "scripts", "pack.mjs"), bin, out], process.env, 180_000);
  assert.equal(packed.code, 0, packed.stderr);
  const tarballs = packed.stdout.trim().split("\n");
  assert.deepEqual(
    tarballs.map((t) => path.basename(t)),
    [`nocturne-mesh-${process.platform}-${process.arch}-0.1.0.tgz`, "nocturne-mesh-0.1.0.tgz"],
  );

  installed = await ledger.tempDir("nocturne-installed-");
  const cache = await ledger.tempDir("nocturne-npm-cache-");
  const install = await run(
    ledger,
    "npm",
    ["install", "--offline", "--cache", cache, "--no-audit", "--no-fund", "--ignore-scripts", ...tarballs],
    process.env,
    180_000,
    installed,
  );
  assert.equal(install.code, 0, `npm install failed:\n${install.stderr}`);
  env = { PATH: path.dirname(process.execPath), HOME: installed };
});
after(() => ledger.cleanup());

/** The installed shim, started the way an MCP client's config would start it. */
function connectInstalled(home: string, extraArgs: string[] = [], extraEnv: Record<string, string> = {}): Promise<Shim> {
  return connectMcp(ledger, path.join(installed, "node_modules", ".bin", "nocturne-mesh"), shimArgs(home, extraArgs), {
    ...env,
    ...extraEnv,
  });
}

/** The installed platform package's daemon. */
function installedAgent(): string {
  return path.join(installed, "node_modules", `nocturne-mesh-${process.platform}-${process.arch}`, "bin", "nocturne-agent");
}

describe("the packed tarballs installed offline into an empty folder", () => {
  it("carry MCP registry metadata that agrees with the package", async () => {
    const root = path.join(installed, "node_modules", "nocturne-mesh");
    const manifest = JSON.parse(await readFile(path.join(root, "package.json"), "utf8")) as Record<string, unknown>;
    const server = JSON.parse(await readFile(path.join(root, "server.json"), "utf8")) as {
      name: string;
      version: string;
      description: string;
      packages: Array<{ registryType: string; identifier: string; version: string; transport: { type: string } }>;
    };
    assert.equal(server.name, manifest["mcpName"]);
    assert.match(server.name, /^io\.github\.[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/);
    assert.ok(server.description.length <= 100, "the registry takes descriptions of at most 100 characters");
    assert.equal(server.version, manifest["version"]);
    assert.deepEqual(
      server.packages.map((p) => [p.registryType, p.identifier, p.version, p.transport.type]),
      [["npm", manifest["name"], manifest["version"], "stdio"]],
    );
  });

  it("list the tools and run the daemon of the platform package", async () => {
    const home = await ledger.tempDir();
    const shim = await connectInstalled(home);
    const tools = (await shim.client.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(tools, TOOLS);
    const health = await callOk(shim, "mesh_health");
    const info = health["shim"] as { mode: string; pid: number };
    assert.equal(info.mode, "spawned", JSON.stringify(health));
    // The daemon the shim spawned is the packaged binary, not anything of the checkout.
    assert.equal(await realpath(`/proc/${info.pid}/exe`), await realpath(installedAgent()));
    await shim.client.close();
  });

  it("answer every tool with an error that explains a taken port", async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const shim = await connectInstalled(await ledger.tempDir(), ["--api-port", String(port)]);
      const error = await callError(shim, "mesh_health", {});
      assert.equal(error.code, "shim_error");
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`), error.message);
      assert.match(error.message, /in use/, error.message);
      assert.ok(error.message.includes(installedAgent()), `names the binary: ${error.message}`);
      await shim.client.close();
    } finally {
      busy.close();
    }
  });

  it("make a dev mesh whose nodes publish and query each other", async () => {
    const cli = path.join(installed, "node_modules", ".bin", "nocturne-mesh");
    const dir = path.join(await ledger.tempDir(), "mesh");
    // `npx nocturne-mesh dev-mesh` is the installed binary's command, passed through.
    const made = await run(ledger, cli, ["dev-mesh", "2", "--dir", dir, "--json"], env);
    assert.equal(made.code, 0, made.stderr);
    const mesh = JSON.parse(made.stdout) as { genesis: string };
    assert.equal(mesh.genesis, path.join(dir, "genesis.json"));
    const homes = [path.join(dir, "node-0"), path.join(dir, "node-1")];
    for (const home of homes) ledger.trackHome(home);
    const meshEnv = { ...env, NOCTURNE_GENESIS: mesh.genesis, NOCTURNE_LOOPBACK_PEERS: "1" };

    const first = await startDaemon(ledger, installedAgent(), homes[0]!, meshEnv, ["--genesis", mesh.genesis]);
    const shim = await connectInstalled(homes[1]!, ["--bootstrap", first.address], meshEnv);
    await waitUntil("the nodes know each other", async () => Number((await callOk(shim, "mesh_peers"))["count"]) >= 1, 20_000);
    const health = await callOk(shim, "mesh_health");
    assert.equal(health["enrolled"], true, JSON.stringify(health));

    const published = await callOk(shim, "mesh_publish", {
      domain: "dev/packaging",
      title: "Platform packages",
      content: "npm installs the binary of the machine's platform as an optional dependency",
    });
    const id = String(published["id"]);
    // The other node answers it: through its own shim (attached to the running daemon)...
    const other = await connectInstalled(homes[0]!, [], meshEnv);
    await waitUntil(`node 0 finds ${id}`, async () => {
      const page = await callOk(other, "mesh_query", { domain: "dev/packaging" });
      return (page["entries"] as Array<{ id: string }>).some((e) => e.id === id);
    }, 20_000);
    assert.equal(((await callOk(other, "mesh_health"))["shim"] as { mode: string }).mode, "attached");
    // ...and through the CLI the package carries.
    const queried = await run(ledger, cli, ["query", "--home", homes[0]!, "--domain", "dev/packaging"], meshEnv);
    assert.equal(queried.code, 0, queried.stderr);
    assert.match(queried.stdout, new RegExp(id));
    await shim.client.close();
    await other.client.close();
    const stopped = await run(ledger, cli, ["stop", "--home", homes[0]!], meshEnv);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, new RegExp(`^stopped pid=${first.pid}$`, "m"));
    assert.match(await readFile(path.join(homes[0]!, "node.toml"), "utf8"), /genesis/);
  });
});
