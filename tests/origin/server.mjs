// Warden's demo origin: an issuer (ES256 access tokens, a JWKS) and an API that echoes the
// identity Warden forwards. `make dev` runs it; the end-to-end tests start it in-process.
//
//   node tests/origin/server.mjs [--port 8788] [--key-file .dev/origin-key.json]
import { createServer } from "node:http";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { randomUUID } from "node:crypto";
import { SignJWT, exportJWK, generateKeyPair, importJWK } from "jose";

const DEFAULTS = {
  host: "127.0.0.1",
  port: 8788,
  issuer: "https://origin.warden.test",
  audience: "warden-demo",
  accessTtl: 300,
  keyFile: null,
};

/** Loads the signing key from keyFile, or makes one (and saves it there when given). */
async function signingKey(keyFile) {
  if (keyFile) {
    try {
      const jwk = JSON.parse(await readFile(keyFile, "utf8"));
      return { privateKey: await importJWK(jwk, "ES256"), publicJwk: { ...jwk, d: undefined } };
    } catch (e) {
      if (e.code !== "ENOENT") throw new Error(`cannot read key file ${keyFile}: ${e.message}`);
    }
  }
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  if (keyFile) {
    await mkdir(dirname(keyFile), { recursive: true });
    await writeFile(keyFile, JSON.stringify(await exportJWK(privateKey)), { mode: 0o600 });
  }
  return { privateKey, publicJwk };
}

function readBody(req, limit = 64 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > limit) reject(new Error("body too large"));
      else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Starts the origin. Returns { url, jwks, issue(claims, { ttl, iat, header }), requests, close() }.
 * `requests` counts requests per path, so tests can see what reached the origin.
 */
export async function startOrigin(options = {}) {
  const opts = { ...DEFAULTS, ...options };
  const { privateKey, publicJwk } = await signingKey(opts.keyFile);
  const kid = publicJwk.kid ?? "demo-es256-1";
  const jwks = { keys: [{ kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y, kid, alg: "ES256", use: "sig" }] };
  const requests = new Map();

  async function issue(claims = {}, { ttl = opts.accessTtl, iat, header = {} } = {}) {
    const now = iat ?? Math.floor(Date.now() / 1000);
    return new SignJWT({ jti: randomUUID(), sid: randomUUID(), ...claims })
      .setProtectedHeader({ alg: "ES256", kid, typ: "at+jwt", ...header })
      .setIssuer(claims.iss ?? opts.issuer)
      .setAudience(claims.aud ?? opts.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + ttl)
      .sign(privateKey);
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://origin");
    requests.set(url.pathname, (requests.get(url.pathname) ?? 0) + 1);
    try {
      if (req.method === "GET" && url.pathname === "/.well-known/jwks.json") {
        return send(res, 200, jwks, { "cache-control": "public, max-age=300" });
      }
      if (req.method === "POST" && url.pathname === "/login") {
        let body;
        try {
          body = JSON.parse((await readBody(req)) || "{}");
        } catch {
          return send(res, 400, { error: "invalid_request", error_description: "body is not JSON" });
        }
        const username = typeof body.username === "string" && body.username ? body.username : null;
        if (!username) return send(res, 400, { error: "invalid_request", error_description: "username is required" });
        const token = await issue({ sub: username });
        return send(res, 200, { access_token: token, token_type: "Bearer", expires_in: opts.accessTtl });
      }
      // Everything else is "the API": echo what Warden forwarded.
      const identity = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith("x-warden-")));
      const body = await readBody(req);
      return send(res, 200, {
        method: req.method,
        path: url.pathname,
        query: url.search,
        body,
        identity,
        authorization: req.headers.authorization ?? null,
      });
    } catch (e) {
      return send(res, 500, { error: "server_error", error_description: e.message });
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const { port } = server.address();
  return {
    url: `http://${opts.host}:${port}`,
    jwks,
    issuer: opts.issuer,
    audience: opts.audience,
    issue,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const origin = await startOrigin({
    port: Number(arg("--port", DEFAULTS.port)),
    keyFile: arg("--key-file", null),
    accessTtl: Number(arg("--access-ttl", DEFAULTS.accessTtl)),
  });
  console.log(`demo origin listening on ${origin.url} (issuer ${origin.issuer}, audience ${origin.audience})`);
  if (process.argv.includes("--print-jwks")) console.log(JSON.stringify(origin.jwks));
  const stop = () => origin.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
