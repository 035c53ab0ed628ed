// A page on another origin (a tiny static server on a free loopback port) that tries to use
// the card bridge: reading /v1/bridge and asking it to sign. The bridge must refuse it.
import { createServer } from "node:http";

function foreignPage(bridge) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>not honnin</title></head>
<body><h1>Another site</h1><pre id="out">…</pre><script>
(async () => {
  const out = {};
  try {
    const r = await fetch(${JSON.stringify(bridge)} + "/v1/bridge");
    out.get = { status: r.status, body: await r.text() };
  } catch (error) { out.get = { error: String(error) }; }
  try {
    const r = await fetch(${JSON.stringify(bridge)} + "/v1/sign", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "a foreign site asks" }),
    });
    out.sign = { status: r.status, body: await r.text() };
  } catch (error) { out.sign = { error: String(error) }; }
  document.getElementById("out").textContent = JSON.stringify(out, null, 2);
  window.__outcome = out;
})();
</script></body></html>`;
}

// Opens the foreign page in `context` and returns what its fetches got and what the browser saw
// of the bridge's answers. `shot(page, name)` saves its screenshot.
export async function foreignOrigin(context, bridge, shot) {
  const server = createServer((request, response) => {
    response.writeHead(request.url === "/" ? 200 : 404, { "content-type": "text/html; charset=utf-8" });
    response.end(request.url === "/" ? foreignPage(bridge) : "");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const page = await context.newPage();
  const answers = [];
  const bridgeOrigin = new URL(bridge).origin;
  const sent = [];
  const failed = [];
  const atBridge = (request) => new URL(request.url()).origin === bridgeOrigin;
  const what = (request) => `${request.method()} ${new URL(request.url()).pathname}`;
  page.on("request", (request) => { if (atBridge(request)) sent.push(what(request)); });
  page.on("requestfailed", (request) => {
    if (atBridge(request)) failed.push(`${what(request)}: ${request.failure()?.errorText}`);
  });
  page.on("response", (response) => {
    if (atBridge(response.request())) {
      answers.push({ method: response.request().method(), path: new URL(response.url()).pathname, status: response.status() });
    }
  });
  try {
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => window.__outcome !== undefined, null, { timeout: 15_000 });
    const outcome = await page.evaluate(() => window.__outcome);
    await shot(page, "14-foreign-origin");
    return { origin, outcome, sent, failed, answers };
  } finally {
    await page.close();
    server.close();
  }
}
