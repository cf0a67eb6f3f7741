#!/usr/bin/env node
// A small static server for the example page, on loopback only, plus a demo issuer:
//
//   GET /              the page (index.html, app.js)
//   GET /pkg/...       the built npm package (wasm-pkg/pkg, from scripts/build-wasm-pkg.sh)
//   GET /token         a fresh ES256 access token: {"access_token": "..."} (?ttl=seconds, 10..3600)
//   GET /jwks.json     the issuer's public key set
//
// With --warden, the page is opened through Warden, as an app behind it would be: Warden (the
// built worker, scripts/build-worker.sh, in workerd through Miniflare) listens on the port and
// fronts this server, whose paths above are public (the page at /index.html); everything else
// (POST /login with a DPoP proof, the API) goes on to the repository's demo origin
// (tests/origin/server.mjs), started here too. The page's DPoP section then logs in with a
// DPoP-bound token and calls the API through Warden.
//
// Usage: node wasm-pkg/examples/browser/server.mjs [--port N] [--warden]
//        (default 8790; 0 picks a free port)
// Prints "listening on http://127.0.0.1:PORT/" once ready (with --warden, Warden's URL of the
// page). Signing keys live in memory only.
import { createServer } from "node:http";
import { generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = fileURLToPath(new URL("./", import.meta.url));
const PKG = fileURLToPath(new URL("../../pkg/", import.meta.url));
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".ts": "text/plain; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

const warden = process.argv.includes("--warden");
const portArg = process.argv.indexOf("--port");
const port = Number(portArg > 0 ? process.argv[portArg + 1] : process.env.PORT ?? 8790);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`server: invalid port ${process.argv[portArg + 1]}`);
  process.exit(2);
}
if (!existsSync(join(PKG, "full-web", "warden_wasm.js"))) {
  console.error("server: wasm-pkg/pkg is missing: run `bash scripts/build-wasm-pkg.sh` first");
  process.exit(1);
}

const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const KID = `demo-${randomUUID().slice(0, 8)}`;
const JWKS = { keys: [{ ...publicKey.export({ format: "jwk" }), kid: KID, alg: "ES256", use: "sig" }] };
const b64url = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");

function mint(ttl) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: "ES256", typ: "at+jwt", kid: KID };
  const claims = { iss: "http://127.0.0.1", sub: "demo-user", aud: "demo", iat: now, exp: now + ttl, jti: randomUUID() };
  const input = `${b64url(header)}.${b64url(claims)}`;
  const sig = sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${sig.toString("base64url")}`;
}

/** A file under `base`, or null: no traversal outside it, no directories. */
function fileUnder(base, relative) {
  const path = normalize(join(base, relative));
  if (!path.startsWith(base.endsWith(sep) ? base : base + sep)) return null;
  return existsSync(path) && statSync(path).isFile() ? path : null;
}

// With --warden: the demo origin behind this server, and the paths Warden lets through untouched.
const demo = warden ? await startDemoOrigin() : null;
const PUBLIC_PATHS = "/index.html,/app.js,/pkg/,/token,/jwks.json,/login";
const isPublic = (path) => PUBLIC_PATHS.split(",").some((p) => (p.endsWith("/") ? path.startsWith(p) : path === p));

async function startDemoOrigin() {
  const { startOrigin } = await import("../../../tests/origin/server.mjs");
  return startOrigin({ port: 0 });
}

/** Passes a request on to the demo origin and its answer back (login and the API, with --warden). */
async function toDemoOrigin(req, res) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !["host", "connection"].includes(k)));
  const body = chunks.length ? Buffer.concat(chunks) : undefined;
  const r = await fetch(new URL(req.url, demo.url), { method: req.method, headers, body });
  const out = Object.fromEntries([...r.headers].filter(([k]) => !["set-cookie", "content-length", "content-encoding", "transfer-encoding", "connection"].includes(k)));
  if (r.headers.getSetCookie().length) out["set-cookie"] = r.headers.getSetCookie();
  res.writeHead(r.status, out);
  res.end(Buffer.from(await r.arrayBuffer()));
}

const server = createServer((req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  const send = (status, type, body) => {
    res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
    res.end(body);
  };
  if (demo && (url.pathname === "/login" || !isPublic(url.pathname))) {
    return toDemoOrigin(req, res).catch((e) => send(502, "text/plain", `demo origin: ${e.message}`));
  }
  if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "method not allowed");
  if (url.pathname === "/token") {
    const ttl = Math.min(3600, Math.max(10, Number(url.searchParams.get("ttl")) || 120));
    return send(200, "application/json", JSON.stringify({ access_token: mint(ttl), token_type: "Bearer" }));
  }
  if (url.pathname === "/jwks.json") return send(200, "application/json", JSON.stringify(JWKS));
  let file;
  try {
    const path = decodeURIComponent(url.pathname);
    file = path.startsWith("/pkg/")
      ? fileUnder(PKG, path.slice("/pkg/".length))
      : fileUnder(HERE, path === "/" ? "index.html" : path.slice(1));
  } catch {
    file = null;
  }
  if (!file || file.endsWith(".mjs")) return send(404, "text/plain", "not found");
  send(200, TYPES[extname(file)] ?? "application/octet-stream", req.method === "HEAD" ? "" : readFileSync(file));
});

/** Warden in front of this server on `port`; resolves to its URL. */
async function startWarden(origin) {
  const { startWorker } = await import("../../../tests/helpers/miniflare.mjs");
  const upstream = { url: origin, jwks: demo.jwks, issuer: demo.issuer, audience: demo.audience };
  const mf = await startWorker(upstream, { WARDEN_PUBLIC_PATHS: PUBLIC_PATHS, WARDEN_ADMIN_TOKEN: undefined }, { host: "127.0.0.1", port });
  const url = String(await mf.ready).replace(/\/$/, "");
  // Login proofs name the URL the page used: Warden's.
  demo.options.publicUrl = url;
  return { url, dispose: () => mf.dispose() };
}

const stops = []; // what SIGINT and SIGTERM stop besides this server
server.listen(warden ? 0 : port, "127.0.0.1", async () => {
  const here = `http://127.0.0.1:${server.address().port}`;
  if (!warden) return console.log(`listening on ${here}/`);
  const front = await startWarden(here);
  stops.push(front.dispose, demo.close);
  console.log(`listening on ${front.url}/index.html (Warden, in front of ${here} and the demo origin ${demo.url})`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    for (const stop of stops) await stop();
    server.close(() => process.exit(0));
  });
}
