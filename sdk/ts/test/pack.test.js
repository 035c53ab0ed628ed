// `npm pack` yields an installable package: packed, installed into a fresh project, imported.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const sdk = resolve(dirname(fileURLToPath(import.meta.url)), "..");

test("npm pack → npm install of the tarball → import and types", () => {
  const dir = mkdtempSync(join(tmpdir(), "honnin-sdk-pack-"));
  try {
    const npm = (args, cwd) => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const [packed] = JSON.parse(npm(["pack", "--json", "--pack-destination", dir], sdk));
    const files = packed.files.map((f) => f.path);
    assert.ok(files.includes("dist/index.js") && files.includes("dist/index.d.ts"), files.join(" "));
    assert.ok(!files.some((f) => f.startsWith("test/") || f.startsWith("src/")), files.join(" "));
    const viem = JSON.parse(readFileSync(join(sdk, "package.json"), "utf8")).devDependencies.viem;
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    npm(["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", join(dir, packed.filename), `viem@${viem}`], dir);
    const out = execFileSync(
      process.execPath,
      ["--input-type=module", "-e", `
        import * as sdk from "@honnin/sdk";
        const names = ["HonninClient", "HonninError", "isVerified", "attestationOf", "watchWallet",
          "decodeRegistryEvents", "verifyWebhook", "kycRegistryAbi", "problemCodes"];
        console.log(names.filter((n) => !(n in sdk)).join(",") || "ok");`],
      { cwd: dir, encoding: "utf8" },
    );
    assert.equal(out.trim(), "ok");
    const types = readFileSync(join(dir, "node_modules/@honnin/sdk/dist/client.d.ts"), "utf8");
    assert.match(types, /class HonninClient/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
