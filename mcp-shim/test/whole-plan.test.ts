// The whole plan (issue #20, plan Task 20) with every agent's step taken through the MCP shim by
// the SDK's client, as Claude would take it: three genesis operators' daemons and a newcomer's,
// each with its own shim attached. Operators' steps (setup, endorse, enroll, revoke, quarantine)
// are the CLI commands people run; an operator's task is posted through the local API, which has
// no MCP tool (agents claim tasks, operators post them).
//
// The same scenario, through the local API, is tests/app/integration_binary_test.cpp (WholePlan):
// its comments give the reasons for the rules and the order, which this test keeps.

import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import {
  agentBinary,
  callApi,
  callError,
  callOk,
  connectShim,
  enrolledMesh,
  isAlive,
  keyValues,
  Ledger,
  run,
  startDaemon,
  waitUntil,
  type Shim,
  type Structured,
} from "./helpers.js";

const ledger = new Ledger();
let bin = "";

before(async () => {
  bin = await agentBinary();
});
after(() => ledger.cleanup());

const commitSeconds = 8;
const revealSeconds = 6;

interface Entry {
  id: string;
  provenance: { trust: string; signature_verified: boolean; verified_operator_id: string };
  votes?: { up: number; down: number; voted_confidence: number };
  untrusted: string;
}

async function query(shim: Shim, args: Record<string, unknown>): Promise<{ ids: string[]; page: Structured }> {
  const page = await callOk(shim, "mesh_query", args);
  return { ids: (page["entries"] as Entry[]).map((e) => e.id).sort(), page };
}

function operatorKey(home: string): string {
  return path.join(home, "keys", "operator.key");
}

async function agent(args: string[]): Promise<{ code: number | null; out: Map<string, string>; stdout: string; stderr: string }> {
  const r = await run(ledger, bin, args);
  return { code: r.code, out: keyValues(r.stdout), stdout: r.stdout, stderr: r.stderr };
}

// `command sign` by each signer in turn (the first with `firstArgs`, the others joining the first's
// file, `pause` ms apart); the share files, comma-separated as `publish --signatures` takes them.
async function signOrder(signers: string[], command: string, firstArgs: string[], genesis: string, dir: string, pause = 0): Promise<string> {
  const files: string[] = [];
  for (const [i, home] of signers.entries()) {
    const file = path.join(dir, `${command}-${i}.sig`);
    if (i > 0) await new Promise((r) => setTimeout(r, pause));
    const args = [command, "sign", ...(i === 0 ? firstArgs : ["--join", files[0]!])];
    const o = await agent([...args, "--key", operatorKey(home), "--genesis", genesis, "--out", file]);
    assert.equal(o.code, 0, o.stderr);
    files.push(file);
  }
  return files.join(",");
}

interface Anomalies {
  reports: Array<{ id: string; type: string; operator_id: string; evidence_records: number }>;
  quarantines: Array<{ operator_id: string; active: boolean }>;
}

async function anomalies(shim: Shim): Promise<Anomalies> {
  return (await callOk(shim, "mesh_anomalies")) as unknown as Anomalies;
}

describe("the whole plan through MCP", () => {
  it("three nodes, a newcomer, knowledge, votes, a task, a revocation and a quarantine, each agent's step through its shim", async () => {
    const started = Date.now();
    // ---- 1. Three genesis operators' nodes form the mesh; an agent attaches to each. ----
    const { homes, genesis } = await enrolledMesh(ledger, bin, 3, {
      min_endorsements: 3,
      revocation_threshold: 3,
      vote_commit_seconds: commitSeconds,
      vote_reveal_seconds: revealSeconds,
    });
    const env = { ...process.env, NOCTURNE_GENESIS: genesis, NOCTURNE_LOOPBACK_PEERS: "1" };
    const daemons = [await startDaemon(ledger, bin, homes[0]!, env)];
    const seed = daemons[0]!.address;
    for (const home of homes.slice(1)) daemons.push(await startDaemon(ledger, bin, home, env, ["--bootstrap", seed]));
    const shimEnv = { NOCTURNE_GENESIS: genesis, NOCTURNE_LOOPBACK_PEERS: "1" };
    const shims: Shim[] = [];
    for (const home of homes) shims.push(await connectShim(ledger, bin, home, shimEnv));
    const operatorIds: string[] = [];
    for (const shim of shims) {
      const health = await callOk(shim, "mesh_health");
      assert.equal((health["shim"] as { mode: string }).mode, "attached");
      assert.equal(health["enrolled"], true);
      operatorIds.push(String(health["operator_id"]));
    }
    await waitUntil("every node knows both others", async () => {
      for (const shim of shims) if (Number((await callOk(shim, "mesh_peers"))["count"]) < 2) return false;
      return true;
    }, 20_000);

    // ---- 2. A newcomer enrolls through three endorsements; its node joins. ----
    const newcomer = await ledger.tempDir();
    const files = await ledger.tempDir("nocturne-shim-plan-");
    const setup = await agent(["setup", "--home", newcomer, "--label", "newcomer"]);
    assert.equal(setup.code, 0, setup.stderr);
    const newcomerKey = setup.out.get("operator_public_key")!;
    const newcomerId = setup.out.get("operator_id")!;
    const endorsements: string[] = [];
    for (const [i, home] of homes.entries()) {
      const file = path.join(files, `e${i}.sig`);
      const o = await agent(["endorse", "--operator", newcomerKey, "--key", operatorKey(home), "--out", file]);
      assert.equal(o.code, 0, o.stderr);
      endorsements.push(file);
    }
    const shortOfOne = await agent(["enroll", "--home", newcomer, "--genesis", genesis, "--bootstrap", seed, "--endorsements", endorsements.slice(0, 2).join(",")]);
    assert.equal(shortOfOne.code, 1);
    assert.match(shortOfOne.stderr, /2 of 3 required endorsements count \(insufficient_endorsements\)/);
    const enroll = await agent(["enroll", "--home", newcomer, "--genesis", genesis, "--bootstrap", seed, "--endorsements", endorsements.join(",")]);
    assert.equal(enroll.code, 0, enroll.stderr);
    assert.equal(enroll.out.get("certificate"), "valid depth=1 endorsements=3");
    const newcomerNode = await startDaemon(ledger, bin, newcomer, env, ["--bootstrap", seed]);
    daemons.push(newcomerNode);
    const newcomerShim = await connectShim(ledger, bin, newcomer, shimEnv);
    const all = [...shims, newcomerShim];
    await waitUntil("every node knows the three others", async () => {
      for (const shim of all) if (Number((await callOk(shim, "mesh_peers"))["count"]) < 3) return false;
      return true;
    }, 20_000);
    {
      const health = await callOk(newcomerShim, "mesh_health");
      assert.equal(health["enrolled"], true);
      assert.equal(health["operator_id"], newcomerId);
      assert.match(String(health["trust"]), /depth=1/);
    }

    // ---- 3. An agent publishes on node 1; another finds it on node 3. ----
    const published = await callOk(shims[0]!, "mesh_publish", {
      domain: "go",
      id: "chan-1",
      title: "Channels close once",
      content: "A second close panics",
      tags: ["test"],
      confidence: 0.5,
    });
    assert.equal(published["stored_on"], 4, JSON.stringify(published));
    assert.equal(published["announced_on"], 4, JSON.stringify(published));
    {
      const { ids, page } = await query(shims[2]!, { domain: "go" });
      assert.deepEqual(ids, ["chan-1"], JSON.stringify(page));
      const first = (page["entries"] as Entry[])[0]!;
      assert.equal(first.provenance.trust, "trusted");
      assert.equal(first.provenance.signature_verified, true);
      assert.equal(first.provenance.verified_operator_id, operatorIds[0]);
      assert.ok(first.untrusted.startsWith(`<<<UNTRUSTED-CONTENT ${String(page["marker"])}>>>`), first.untrusted);
    }
    // The newcomer's agent writes too, in a domain of its own: what the revocation takes away.
    const noted = await callOk(newcomerShim, "mesh_publish", { domain: "notes", id: "n1", title: "Written by the newcomer", content: "text" });
    assert.equal(noted["stored_on"], 4, JSON.stringify(noted));
    {
      const { ids, page } = await query(shims[0]!, { domain: "notes" });
      assert.deepEqual(ids, ["n1"], JSON.stringify(page));
      assert.equal((page["entries"] as Entry[])[0]!.provenance.verified_operator_id, newcomerId);
    }

    // ---- 4. Two agents vote; their daemons reveal; the tally moves the confidence. ----
    // Early in a commit window, so that the duplicate below falls in the same round.
    const now = Math.floor(Date.now() / 1000);
    if (now % commitSeconds > commitSeconds - 4) {
      await new Promise((r) => setTimeout(r, ((Math.floor(now / commitSeconds) + 1) * commitSeconds - now) * 1000));
    }
    const up = await callOk(shims[1]!, "mesh_vote", { id: "chan-1", domain: "go", vote: 1, reason: "checked it" });
    const down = await callOk(newcomerShim, "mesh_vote", { id: "chan-1", domain: "go", vote: -1 });
    assert.equal(up["state"], "committed");
    assert.equal(down["state"], "committed");
    assert.equal((await callError(shims[1]!, "mesh_vote", { id: "chan-1", domain: "go", vote: -1 })).code, "duplicate_vote");
    assert.equal((await callError(shims[1]!, "mesh_vote", { id: "nothing", domain: "go", vote: 1 })).code, "not_found");
    const countedBy = Math.max(Number(up["counted_by"]), Number(down["counted_by"]));
    assert.ok(countedBy - Date.now() / 1000 <= commitSeconds + revealSeconds + 1, "counted by the end of the round's reveal window");
    await new Promise((r) => setTimeout(r, Math.max(0, countedBy * 1000 + 1000 - Date.now())));
    // (2 * stated 0.5 + weight up 1) / (2 + weight up 1 + weight down 1/2); min_confidence
    // filters on it (the author stated 0.5). A query's tallies are cached for 5 s.
    const voted = (2 * 0.5 + 1.0) / (2 + 1.0 + 0.5);
    let last: Structured = {};
    await waitUntil(
      () => `node 3's query shows both votes (last page ${JSON.stringify(last)})`,
      async () => {
        const { ids, page } = await query(shims[2]!, { domain: "go", min_confidence: 0.55 });
        last = page;
        const votes = ids.length === 1 ? (page["entries"] as Entry[])[0]!.votes : undefined;
        return votes !== undefined && votes.up === 1 && votes.down === 1;
      },
      15_000,
    );
    assert.ok(Math.abs((last["entries"] as Entry[])[0]!.votes!.voted_confidence - voted) < 1e-9, JSON.stringify(last));
    assert.deepEqual((await query(shims[2]!, { domain: "go", min_confidence: 0.6 })).ids, []);

    // ---- 5. An operator posts a task; an agent on another node claims and completes it. ----
    const posted = await callApi(homes[0]!, daemons[0]!.apiUrl, "POST", "/local/compute", { domain: "rust", title: "Compare async runtimes" });
    assert.equal(posted.status, 201, JSON.stringify(posted.json));
    const taskId = String(posted.json["id"]);
    const held = await callOk(shims[1]!, "mesh_compute_claim", { domain: "rust" });
    assert.equal(held["claimed"], true, JSON.stringify(held));
    assert.equal((held["task"] as { id: string }).id, taskId);
    assert.equal((await callOk(shims[2]!, "mesh_compute_claim", { domain: "rust" }))["claimed"], false);
    await callOk(shims[1]!, "mesh_publish", { domain: "rust", id: "runtimes", title: "tokio vs async-std", content: "measured" });
    const done = await callOk(shims[1]!, "mesh_compute_submit", { id: taskId, epoch: Number(held["epoch"]), result_id: "runtimes" });
    assert.equal(done["status"], "completed");
    assert.equal((await callOk(shims[2]!, "mesh_compute_claim", { domain: "rust" }))["claimed"], false);

    // ---- 6. The newcomer is revoked; the revocation spreads; every node refuses it. ----
    const revocation = await signOrder(homes, "revoke", ["--operator", newcomerKey, "--reason", "leaked key"], genesis, files, 1100);
    const revoke = await agent(["revoke", "publish", "--signatures", revocation, "--key", operatorKey(homes[0]!), "--genesis", genesis, "--bootstrap", seed]);
    assert.equal(revoke.code, 0, revoke.stderr);
    for (const [i, shim] of all.entries()) {
      await waitUntil(`node ${i} knows the revocation`, async () => (await callOk(shim, "mesh_health"))["revoked_operators"] === 1);
    }
    const refused = await callError(newcomerShim, "mesh_publish", { domain: "notes", id: "n2", title: "After the revocation", content: "text" });
    assert.equal(refused.code, "operator_revoked");
    assert.equal(refused.status, 403);
    // Its entries are left out everywhere, and its vote no longer counts: 2/3 now.
    assert.deepEqual((await query(shims[0]!, { domain: "notes" })).ids, []);
    assert.deepEqual((await query(shims[2]!, { domain: "notes" })).ids, []);
    await waitUntil("the revoked operator's vote no longer counts", async () => {
      return (await query(shims[2]!, { domain: "go", min_confidence: 0.65 })).ids.join() === "chan-1";
    }, 15_000);

    // ---- 7. An agent's vote burst is refused, reported everywhere, and a quarantine holds its
    // operator. ----
    for (let i = 0; i < 21; i++) {
      await callOk(shims[0]!, "mesh_publish", { domain: "burst", id: `e${i}`, title: `entry ${i}`, content: "text", confidence: 0.5 });
    }
    const burstStarted = Date.now();
    for (let i = 0; i < 20; i++) await callOk(shims[2]!, "mesh_vote", { id: `e${i}`, domain: "burst", vote: 1 });
    const over = await callError(shims[2]!, "mesh_vote", { id: "e20", domain: "burst", vote: 1 });
    assert.equal(over.code, "over_operator_rate");
    assert.equal(over.status, 429);
    assert.ok(Date.now() - burstStarted < 50_000, "the burst took too long");
    let reportId = "";
    for (const [i, shim] of shims.entries()) {
      await waitUntil(`node ${i} holds a verified vote_burst report`, async () => {
        const report = (await anomalies(shim)).reports.find((r) => r.operator_id === operatorIds[2] && r.type === "vote_burst");
        if (report === undefined) return false;
        reportId = report.id;
        return report.evidence_records === 21;
      }, 20_000);
    }
    const quarantine = await signOrder(
      homes.slice(0, 2),
      "quarantine",
      ["--operator-id", operatorIds[2]!, "--reason", "21 votes in a minute", "--report", reportId, "--days", "0.05"],
      genesis,
      files,
    );
    const hold = await agent(["quarantine", "publish", "--signatures", quarantine, "--key", operatorKey(homes[0]!), "--genesis", genesis, "--bootstrap", seed]);
    assert.equal(hold.code, 0, hold.stderr);
    assert.equal(hold.out.get("quarantined_operator_id"), operatorIds[2]);
    for (const [i, shim] of shims.entries()) {
      await waitUntil(`node ${i} holds the quarantine`, async () => {
        return (await anomalies(shim)).quarantines.some((q) => q.operator_id === operatorIds[2] && q.active);
      });
    }
    const blocked = await callError(shims[2]!, "mesh_publish", { domain: "held", id: "x1", title: "t", content: "c" });
    assert.equal(blocked.code, "operator_quarantined");
    assert.equal(blocked.status, 403);

    // The agents leave; attached shims leave their daemons running, which the test then stops.
    for (const shim of all) await shim.client.close();
    for (const d of daemons) {
      assert.ok(isAlive(d.pid), "an attached shim left its daemon running");
      d.child.kill("SIGTERM");
      await waitUntil("the daemon stopped", () => !isAlive(d.pid), 15_000);
    }
    // Reported, not asserted: most of the time goes to the vote windows.
    console.log(`# the whole plan through MCP took ${Math.round((Date.now() - started) / 1000)} s`);
  });
});
