// A tiny static server for the dApp: index.html, dist/app.js, and /config.json (the chain,
// registry, KycDrop and honnin addresses the page reads).
//   node serve.js --rpc URL --registry 0x… --drop 0x… --honnin http://127.0.0.1:8080 [--listen 127.0.0.1:5173]
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";

const files = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/index.html": ["index.html", "text/html; charset=utf-8"],
  "/dist/app.js": ["dist/app.js", "text/javascript; charset=utf-8"],
};

/** Serves the dApp with `config`; resolves to the server once it listens (port 0: a free one). */
export function serve(config, { host = "127.0.0.1", port = 0 } = {}) {
  const server = createServer(async (request, response) => {
    const path = new URL(request.url, "http://x").pathname;
    if (path === "/config.json") {
      response.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      return response.end(JSON.stringify(config));
    }
    const file = files[path];
    if (!file) {
      response.writeHead(404, { "content-type": "text/plain" });
      return response.end("not found");
    }
    const body = await readFile(new URL(file[0], import.meta.url));
    response.writeHead(200, { "content-type": file[1], "cache-control": "no-store" });
    response.end(body);
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name) => {
    const i = process.argv.indexOf(`--${name}`);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const [host, port] = (arg("listen") ?? "127.0.0.1:5173").split(":");
  const config = { rpcUrl: arg("rpc"), registry: arg("registry"), drop: arg("drop"), honnin: arg("honnin") };
  if (Object.values(config).some((v) => !v)) {
    console.error("usage: node serve.js --rpc URL --registry 0x… --drop 0x… --honnin URL [--listen HOST:PORT]");
    process.exit(2);
  }
  const server = await serve(config, { host, port: Number(port) });
  console.log(`kyc-drop: http://${host}:${server.address().port}/`);
}
