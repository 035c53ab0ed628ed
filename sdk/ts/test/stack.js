// One real `honnin dev` stack per test file: the built honnin binary on a free port with its
// own anvil, trusting a simulated card (crates/cli/examples/sim_card.rs) for card evidence.
// HONNIN_BIN and HONNIN_SIM_CARD name the binaries (default: the workspace's target/debug).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const honninBin = process.env.HONNIN_BIN ?? join(root, "target/debug/honnin");
const simCardBin = process.env.HONNIN_SIM_CARD ?? join(root, "target/debug/examples/sim_card");

/** Lines of a child's stdout, awaited one by one. */
function lines(child) {
  const queue = [];
  const waiters = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else queue.push(line);
  });
  child.on("exit", () => waiters.splice(0).forEach((w) => w(null)));
  return () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r)));
}

/** Waits for `child` to exit, SIGKILL after `ms`. */
function stopChild(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Starts the simulated card and `honnin dev`; `stop()` ends both (dev takes its anvil along). */
export async function startStack() {
  const dir = mkdtempSync(join(tmpdir(), "honnin-sdk-"));
  const data = join(dir, "data");
  const card = spawn(simCardBin, [join(data, "trust")], { stdio: ["pipe", "pipe", "inherit"] });
  const cardLine = lines(card);
  if ((await cardLine()) !== "ready") throw new Error(`${simCardBin} did not start`);

  const dev = spawn(honninBin, ["dev", "--listen", "127.0.0.1:0", "--no-revocation", "--log", "warn", "--data", data], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let logs = "";
  dev.stderr.on("data", (chunk) => (logs = (logs + chunk).slice(-20_000)));
  const devLine = lines(dev);
  const found = {};
  const deadline = Date.now() + 120_000;
  while (!found.api) {
    const line = await devLine();
    if (line === null || Date.now() > deadline) {
      await stopChild(card, 1000);
      throw new Error(`honnin dev did not come up:\n${logs}`);
    }
    let m;
    if ((m = line.match(/anvil \(pid \d+\) at (\S+) \(chain id (\d+)\); KycRegistry at (0x[0-9a-fA-F]{40})/))) {
      found.rpcUrl = m[1];
      found.chainId = Number(m[2]);
      found.registry = m[3];
    }
    if ((m = line.match(/admin\s+bearer token ([0-9a-f]{64})/))) found.adminToken = m[1];
    if ((m = line.match(/^\s+API\s+(http:\/\/\S+)/))) found.api = m[1];
  }
  while (!found.adminToken) {
    const line = await devLine();
    if (line === null) throw new Error("honnin dev exited");
    const m = line.match(/admin\s+bearer token ([0-9a-f]{64})/);
    if (m) found.adminToken = m[1];
  }
  void (async () => {
    while ((await devLine()) !== null);
  })();

  let pending = Promise.resolve();
  /** The simulated card `name` (one person per name) signs `message`. */
  const signWithCard = (name, message) => {
    const answer = pending.then(async () => {
      card.stdin.write(JSON.stringify({ card: name, message }) + "\n");
      const line = await cardLine();
      if (line === null) throw new Error("the simulated card exited");
      return JSON.parse(line);
    });
    pending = answer.catch(() => {});
    return answer;
  };

  return {
    ...found,
    data,
    signWithCard,
    logs: () => logs,
    async stop() {
      await stopChild(dev, 30_000);
      card.stdin.end();
      await stopChild(card, 2000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
