#!/usr/bin/env node
// A small static server for the example page, on loopback only, plus a demo issuer:
//
//   GET /              the page (index.html, app.js)
//   GET /pkg/...       the built npm package (wasm-pkg/pkg, from scripts/build-wasm-pkg.sh)
//   GET /token         a fresh ES256 access token: {"access_token": "..."} (?ttl=seconds, 10..3600)
//   GET /jwks.json     the issuer's public key set
//
// Usage: node wasm-pkg/examples/browser/server.mjs [--port N]   (default 8790; 0 picks a free port)
// Prints "listening on http://127.0.0.1:PORT/" once ready. The signing key lives in memory only.
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

const server = createServer((req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  const send = (status, type, body) => {
    res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
    res.end(body);
  };
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

server.listen(port, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
