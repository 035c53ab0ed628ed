// Bundles src/app.js (the dApp, on @honnin/sdk and viem) into dist/app.js with the pinned
// esbuild. dist/app.js is committed so the dApp runs from a plain static server; `--check`
// fails when it is out of date with the sources (scripts/test runs it).
import { readFileSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

const out = new URL("./dist/app.js", import.meta.url);
const result = await build({
  entryPoints: [new URL("./src/app.js", import.meta.url).pathname],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  legalComments: "none",
  // One viem: the SDK's imports resolve from this package's node_modules, not sdk/ts's.
  preserveSymlinks: true,
  write: false,
  logLevel: "warning",
});
const text = result.outputFiles[0].text;
if (process.argv.includes("--check")) {
  let committed = null;
  try {
    committed = readFileSync(out, "utf8");
  } catch {}
  if (committed !== text) {
    console.error("stale: examples/kyc-drop/dist/app.js (run: cd examples/kyc-drop && npm run build, then commit)");
    process.exit(1);
  }
  console.log("kyc-drop: dist/app.js current");
} else {
  writeFileSync(out, text);
  console.log(`kyc-drop: wrote dist/app.js (${text.length} bytes)`);
}
