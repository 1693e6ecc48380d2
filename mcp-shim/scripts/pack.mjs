#!/usr/bin/env node
// Packs the two npm packages a user installs, the way esbuild and biome ship native binaries:
//   nocturne-mesh-<platform>-<arch>  the nocturne-agent binary (npm/<platform>-<arch>/ holds its
//                                    manifest; `os`/`cpu` make npm install it only where it runs)
//   nocturne-mesh                    the MCP shim; lists the platform packages in
//                                    optionalDependencies and bundles its own dependencies, so
//                                    that the two tarballs install offline
// usage: node scripts/pack.mjs AGENT_BINARY OUT_DIR
// AGENT_BINARY is normally the npm preset's build (cmake --preset npm && cmake --build --preset
// npm), which needs nothing but the C library; any build of this machine's platform packs.

import { execFileSync } from "node:child_process";
import { accessSync, chmodSync, constants, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

function fail(message) {
  console.error(`pack.mjs: ${message}`);
  process.exit(2);
}

const [binaryArg, outArg] = process.argv.slice(2);
if (binaryArg === undefined || outArg === undefined) fail("usage: node scripts/pack.mjs AGENT_BINARY OUT_DIR");
const binary = path.resolve(binaryArg);
const out = path.resolve(outArg);
try {
  accessSync(binary, constants.X_OK);
} catch {
  fail(`${binary} is not an executable file`);
}

const shimDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const shim = JSON.parse(readFileSync(path.join(shimDir, "package.json"), "utf8"));
// The platform package's manifest lives in the repository (an npm workspace, so that the shim's
// lock file knows it); the binary is added to a copy of it here.
const platformDir = path.join(shimDir, "npm", `${process.platform}-${process.arch}`);
let platform;
try {
  platform = JSON.parse(readFileSync(path.join(platformDir, "package.json"), "utf8"));
} catch {
  fail(`no platform package for ${process.platform}-${process.arch}: ${platformDir}/package.json is missing`);
}
if (platform.version !== shim.version) fail(`${platform.name} is version ${platform.version}, nocturne-mesh ${shim.version}`);
// Without this the shim's package would never pull the binary in.
if (shim.optionalDependencies?.[platform.name] !== shim.version) {
  fail(`package.json must list "${platform.name}": "${shim.version}" in optionalDependencies`);
}

// The binary must run here: a platform package of another machine's build would install and fail.
try {
  execFileSync(binary, ["--version"], { stdio: "ignore" });
} catch (err) {
  fail(`${binary} --version failed: ${err.message}`);
}
try {
  const libraries = execFileSync("ldd", [binary], { encoding: "utf8" })
    .split("\n")
    .map((line) => path.basename(line.trim().split(" ")[0] ?? ""))
    .filter((lib) => lib !== "" && !/^(linux-vdso|ld-linux|libc|libm|libpthread|libdl|librt)\b/.test(lib));
  if (libraries.length > 0) {
    console.error(
      `pack.mjs: note: ${binary} needs ${libraries.join(", ")}; users without them cannot run it ` +
        "(the npm preset links everything but the C library)",
    );
  }
} catch {
  // no ldd: nothing to report
}

mkdirSync(out, { recursive: true });
const stage = mkdtempSync(path.join(tmpdir(), "nocturne-platform-"));
try {
  mkdirSync(path.join(stage, "bin"));
  const target = path.join(stage, "bin", "nocturne-agent");
  try {
    // Debug sections are most of a build's size; users get a stripped copy.
    execFileSync("strip", ["-o", target, binary], { stdio: "ignore" });
  } catch {
    copyFileSync(binary, target);
  }
  chmodSync(target, 0o755);
  for (const file of ["package.json", "README.md"]) copyFileSync(path.join(platformDir, file), path.join(stage, file));
  const packed = [];
  for (const dir of [stage, shimDir]) {
    let json;
    try {
      json = execFileSync("npm", ["pack", "--json", "--pack-destination", out], {
        cwd: dir,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      });
    } catch {
      fail(`npm pack failed in ${dir} (its output is above)`);
    }
    // npm 9 prints the prepack script's output before the JSON.
    const result = JSON.parse(json.slice(json.indexOf("[")));
    packed.push(path.join(out, result[0].filename));
  }
  for (const file of packed) console.log(file);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
