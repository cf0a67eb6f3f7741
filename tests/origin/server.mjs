// Warden's demo origin: an issuer (ES256 access tokens, a JWKS, rotated refresh tokens behind an
// RFC 6749 token endpoint) and an API that echoes the identity Warden forwards. `make dev` runs
// it; the end-to-end tests start it in-process.
//
//   node tests/origin/server.mjs [--port 8788] [--key-file .dev/origin-key.json]
//        [--access-ttl 300] [--refresh-ttl 86400] [--warden-url URL --warden-admin-token T]
//        [--public-url URL]
//        [--ssf-issuer ISS --ssf-audience AUD [--ssf-push-token T]
//         [--transmitter-key-file .dev/transmitter-key.json]]
//
// Endpoints: POST /login {"username","password"?} → tokens (JSON and cookies; with a `DPoP`
// proof header for POST <its URL>, the access token is DPoP-bound: cnf.jkt, token_type DPoP, as
// RFC 9449 §5 has it; refreshed tokens stay bearer tokens; behind Warden, set `publicUrl` to
// the URL clients use, which the proof names); POST /oauth/token
// (grant_type=refresh_token); POST /logout; POST /password {"password"} (through Warden);
// GET /.well-known/jwks.json; GET /.well-known/ssf-jwks.json (the transmitter's key); anything
// else echoes method, path, query, body and x-warden-*.
//
// Logout and password change reach Warden: as a Shared Signals transmitter when `ssfIssuer` is
// set (a CAEP session-revoked or credential-change SET pushed to Warden's /_warden/ssf/push,
// signed with the transmitter key), else through Warden's admin API.
import { createServer } from "node:http";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { randomUUID } from "node:crypto";
import { EmbeddedJWK, SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, jwtVerify } from "jose";
import { SessionStore } from "./sessions.mjs";

const DEFAULTS = {
  host: "127.0.0.1",
  port: 8788,
  issuer: "https://origin.warden.test",
  audience: "warden-demo",
  accessTtl: 300,
  refreshTtl: 86_400,
  keyFile: null,
  tokenPath: "/oauth/token",
  accessCookie: "warden_access",
  refreshCookie: "warden_refresh",
  // Cookie lifetime: as long as the session may live, so the expired access token (and its sid)
  // still reaches Warden when a refresh is due.
  cookieMaxAge: 86_400,
  secureCookies: true,
  // Where to revoke at Warden on logout and password change (unset: no calls).
  wardenUrl: null,
  wardenAdminToken: null,
  clientId: null,
  clientSecret: null,
  // Cache-Control max-age of the JWKS response (key tests make it small to exercise expiry).
  jwksMaxAge: 300,
  // Shared Signals transmitter (unset: off): the SETs' iss and aud, Warden's push token, and
  // where the transmitter's signing key is kept (unset: a new one per start).
  ssfIssuer: null,
  ssfAudience: null,
  ssfPushToken: null,
  transmitterKeyFile: null,
  // The URL clients reach the origin at when it is behind Warden (Warden's own): a login proof
  // names the URL the client used (RFC 9449 §4.3), which the origin cannot see through the proxy.
  // A proof for the origin's own URL is accepted as well. Read on every login.
  publicUrl: null,
};

const CAEP = "https://schemas.openid.net/secevent/caep/event-type/";

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

function cookies(header = "") {
  const out = {};
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

function parseJson(text) {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return null;
  }
}

/**
 * Starts the origin. Returns { url, jwks, jwksUrl, issue(claims, { ttl, iat, header }), requests,
 * rotate({ retire }), close(), ... }. As an identity provider it also signs events for Warden:
 * `logoutToken(claims, { header })` (back-channel logout) and `sign(payload, header)` (any JWT).
 * `requests` counts requests per path, so tests can see what reached the origin.
 * Key tests: `rotate()` makes a new signing key with a new kid and publishes it in the JWKS
 * (`retire: true` also drops the older keys from it); `knobs.jwksFailure` makes the JWKS endpoint
 * fail deliberately: "error" (503) or "garbage" (200 with a body that is not a JWKS).
 */
export async function startOrigin(options = {}) {
  const opts = { ...DEFAULTS, ...options };
  let { privateKey, publicJwk } = await signingKey(opts.keyFile);
  let kid = publicJwk.kid ?? "demo-es256-1";
  const transmitter = await signingKey(opts.transmitterKeyFile);
  const pub = transmitter.publicJwk;
  const ssfJwks = { keys: [{ kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y, kid: "demo-transmitter-1", alg: "ES256", use: "sig" }] };
  const jwks = { keys: [{ kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y, kid, alg: "ES256", use: "sig" }] };
  const requests = new Map();
  const sessions = new SessionStore({ refreshTtl: opts.refreshTtl });
  const passwords = new Map(); // sub -> password (a user without one is a demo user: any password)
  const cutoffs = new Map(); // sub -> the last `before` Warden confirmed
  // Deliberately failing endpoints, for fault tests: the token endpoint (failRefresh: 503;
  // hangRefresh: never answers; wrongSid: a pair whose access token names another session), and
  // the JWKS (jwksFailure: null, "error" or "garbage").
  const knobs = { failRefresh: false, hangRefresh: false, wrongSid: false, jwksFailure: null };
  let generation = 1;

  /** A new signing key (new kid), published in the JWKS; `retire` drops the older ones. */
  async function rotate({ retire = false } = {}) {
    const pair = await generateKeyPair("ES256", { extractable: true });
    const pub = await exportJWK(pair.publicKey);
    generation += 1;
    privateKey = pair.privateKey;
    kid = `demo-es256-${generation}`;
    if (retire) jwks.keys.length = 0;
    // In place, so `origin.jwks` is always the published set.
    jwks.keys.unshift({ kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y, kid, alg: "ES256", use: "sig" });
    return kid;
  }

  async function issue(claims = {}, { ttl = opts.accessTtl, iat, header = {} } = {}) {
    let now = iat ?? Math.floor(Date.now() / 1000);
    // Never mint a token the subject's cutoff already revokes (iat <= before).
    const before = iat === undefined && claims.sub ? cutoffs.get(claims.sub) : undefined;
    if (before !== undefined && now <= before) now = before + 1;
    return new SignJWT({ jti: randomUUID(), sid: randomUUID(), ...claims })
      .setProtectedHeader({ alg: "ES256", kid, typ: "at+jwt", ...header })
      .setIssuer(claims.iss ?? opts.issuer)
      .setAudience(claims.aud ?? opts.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + ttl)
      .sign(privateKey);
  }

  /** Any JWT signed with the origin's current key: `header` adds to {alg, kid}; no claim is added. */
  function sign(payload, header = {}) {
    return new SignJWT(payload).setProtectedHeader({ alg: "ES256", kid, ...header }).sign(privateKey);
  }

  /**
   * An OpenID Connect Back-Channel Logout token (§2.4) from this issuer, signed with its key:
   * `claims` override the defaults (iss, aud = `clientId` option, iat now, a new jti, the
   * back-channel logout event); a claim set to `undefined` is left out. `header` likewise
   * (default typ `logout+jwt`).
   */
  function logoutToken(claims = {}, { header = {} } = {}) {
    const payload = {
      iss: opts.issuer,
      aud: opts.clientId ?? "warden-rp",
      iat: Math.floor(Date.now() / 1000),
      jti: randomUUID(),
      events: { "http://schemas.openid.net/event/backchannel-logout": {} },
      ...claims,
    };
    for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
    return sign(payload, { typ: "logout+jwt", ...header });
  }

  const cookie = (name, value, maxAge) =>
    `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${opts.secureCookies ? "; Secure" : ""}`;

  function tokenResponse(res, sub, sid, refreshToken, extraHeaders = {}, jkt = null) {
    const claims = jkt ? { sub, sid, cnf: { jkt } } : { sub, sid };
    return issue(claims).then((access) => {
      const body = { access_token: access, token_type: jkt ? "DPoP" : "Bearer", expires_in: opts.accessTtl, refresh_token: refreshToken };
      return send(res, 200, body, {
        "set-cookie": [
          cookie(opts.accessCookie, access, opts.cookieMaxAge),
          cookie(opts.refreshCookie, refreshToken, opts.cookieMaxAge),
        ],
        ...extraHeaders,
      });
    });
  }

  /**
   * The RFC 7638 thumbprint of a DPoP proof's key when the proof is good for `htm` and one of
   * `htus` (signature by its own public jwk, typ dpop+jwt, an asymmetric alg, a jti, iat within
   * a minute), else null.
   */
  async function dpopThumbprint(proof, htm, htus) {
    try {
      if (proof.includes(",")) return null;
      const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
        typ: "dpop+jwt",
        algorithms: ["ES256", "EdDSA", "RS256", "PS256"],
        maxTokenAge: 60,
        clockTolerance: 30,
      });
      if (payload.htm !== htm || !htus.includes(payload.htu) || typeof payload.jti !== "string") return null;
      return await calculateJwkThumbprint(protectedHeader.jwk, "sha256");
    } catch {
      return null;
    }
  }

  /**
   * A Security Event Token from the transmitter (`typ` secevent+jwt, its own key): one `event`
   * of `type` (a CAEP name) about `subject` (`sub_id`).
   */
  function securityEvent(type, subject, event = {}) {
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: opts.ssfIssuer, aud: opts.ssfAudience, iat: now, jti: randomUUID(), sub_id: subject, events: { [`${CAEP}${type}`]: { event_timestamp: now, ...event } } };
    return new SignJWT(payload).setProtectedHeader({ alg: "ES256", kid: ssfJwks.keys[0].kid, typ: "secevent+jwt" }).sign(transmitter.privateKey);
  }

  /** Pushes a SET to {wardenUrl}/_warden/ssf/push (RFC 8935); throws unless Warden answered 202. */
  async function wardenPush(set) {
    const headers = { "content-type": "application/secevent+jwt" };
    if (opts.ssfPushToken) headers.authorization = `Bearer ${opts.ssfPushToken}`;
    const r = await fetch(new URL("/_warden/ssf/push", opts.wardenUrl), { method: "POST", headers, body: set });
    if (r.status !== 202) throw new Error(`Warden push answered ${r.status}`);
    pushed.push(set);
    return JSON.parse(Buffer.from(set.split(".")[1], "base64url")).events;
  }
  const pushed = []; // the SETs Warden acknowledged

  /** The user as an `iss_sub` subject of this issuer. */
  const user = (sub) => ({ format: "iss_sub", iss: opts.issuer, sub });

  /**
   * Tells Warden: revoke session `sid` (of `sub`, when known), or cut off `sub` (returns the
   * cutoff). As a transmitter when `ssfIssuer` is set, else through the admin API.
   */
  async function wardenRevoke(body) {
    if (!opts.wardenUrl) return null;
    if (opts.ssfIssuer) {
      if (body.sid) {
        const subject = { format: "complex", session: { format: "opaque", id: body.sid } };
        if (body.sub) subject.user = user(body.sub);
        return wardenPush(await securityEvent("session-revoked", subject));
      }
      const events = await wardenPush(await securityEvent("credential-change", user(body.sub), { credential_type: "password", change_type: "update" }));
      return { before: Object.values(events)[0].event_timestamp };
    }
    return wardenAdmin(body.sid ? { sid: body.sid } : { sub: body.sub });
  }

  /** POST {wardenUrl}/_warden/revoke; throws unless Warden acknowledged. */
  async function wardenAdmin(body) {
    const r = await fetch(new URL("/_warden/revoke", opts.wardenUrl), {
      method: "POST",
      headers: { authorization: `Bearer ${opts.wardenAdminToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (r.status !== 200) throw new Error(`Warden revoke answered ${r.status}`);
    return r.json();
  }

  async function tokenEndpoint(req, res) {
    const form = new URLSearchParams(await readBody(req));
    if (knobs.failRefresh) return send(res, 503, { error: "temporarily_unavailable" });
    if (knobs.hangRefresh) return; // no answer at all; close() drops the connection
    // A confidential client authenticates with HTTP Basic (RFC 6749 §2.3.1) and need not repeat
    // client_id in the body; a public client names itself with client_id.
    if (opts.clientSecret) {
      const basic = Buffer.from(`${opts.clientId}:${opts.clientSecret}`).toString("base64");
      if (req.headers.authorization !== `Basic ${basic}`) return send(res, 401, { error: "invalid_client" });
    } else if (opts.clientId && form.get("client_id") !== opts.clientId) {
      return send(res, 401, { error: "invalid_client" });
    }
    if (form.get("grant_type") !== "refresh_token") return send(res, 400, { error: "unsupported_grant_type" });
    const rotated = sessions.rotate(form.get("refresh_token"));
    if (rotated.error) return send(res, 400, { error: rotated.error, error_description: rotated.reason });
    const sid = knobs.wrongSid ? randomUUID() : rotated.sid;
    return tokenResponse(res, rotated.sub, sid, rotated.refreshToken);
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://origin");
    requests.set(url.pathname, (requests.get(url.pathname) ?? 0) + 1);
    try {
      if (req.method === "GET" && url.pathname === "/.well-known/jwks.json") {
        const cacheControl = { "cache-control": `public, max-age=${opts.jwksMaxAge}` };
        if (knobs.jwksFailure === "error") return send(res, 503, { error: "deliberately failing JWKS endpoint" });
        if (knobs.jwksFailure === "garbage") {
          res.writeHead(200, { "content-type": "application/json", ...cacheControl });
          return res.end('{"keys": "deliberately not a JWKS"');
        }
        return send(res, 200, jwks, cacheControl);
      }
      if (req.method === "GET" && url.pathname === "/.well-known/ssf-jwks.json") return send(res, 200, ssfJwks);
      if (req.method === "POST" && url.pathname === "/login") {
        const body = parseJson(await readBody(req));
        if (!body) return send(res, 400, { error: "invalid_request", error_description: "body is not JSON" });
        const username = typeof body.username === "string" && body.username ? body.username : null;
        if (!username) return send(res, 400, { error: "invalid_request", error_description: "username is required" });
        if (passwords.has(username) && passwords.get(username) !== body.password) {
          return send(res, 401, { error: "invalid_credentials" });
        }
        // A DPoP proof (RFC 9449 §5): checked as an authorization server does, then the access
        // token is bound to the proof's key (cnf.jkt) and its type is DPoP.
        let jkt = null;
        if (req.headers.dpop !== undefined) {
          const htus = [`http://${req.headers.host}/login`];
          if (opts.publicUrl) htus.push(new URL("/login", opts.publicUrl).href);
          jkt = await dpopThumbprint(req.headers.dpop, "POST", htus);
          if (!jkt) return send(res, 400, { error: "invalid_dpop_proof", error_description: "the DPoP proof is not valid" });
        }
        const { sid, refreshToken } = sessions.create(username);
        return tokenResponse(res, username, sid, refreshToken, {}, jkt);
      }
      if (req.method === "POST" && url.pathname === opts.tokenPath) return tokenEndpoint(req, res);
      if (req.method === "POST" && url.pathname === "/logout") {
        const sid = req.headers["x-warden-sid"] ?? sessions.sidOf(cookies(req.headers.cookie)[opts.refreshCookie]);
        if (sid) {
          sessions.revokeFamily(sid);
          await wardenRevoke({ sid, sub: req.headers["x-warden-sub"] });
        }
        const clear = (name) => `${name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${opts.secureCookies ? "; Secure" : ""}`;
        return send(res, 200, { ok: true, sid }, { "set-cookie": [clear(opts.accessCookie), clear(opts.refreshCookie)] });
      }
      if (req.method === "POST" && url.pathname === "/password") {
        const sub = req.headers["x-warden-sub"];
        if (!sub) return send(res, 401, { error: "unauthorized", error_description: "call through Warden" });
        const body = parseJson(await readBody(req));
        if (!body || typeof body.password !== "string" || body.password.length < 8) {
          return send(res, 400, { error: "invalid_request", error_description: "password must be at least 8 characters" });
        }
        // Revoke, change, revoke again: the second cutoff closes the window in which a login
        // with the old password could still mint a token. Fail closed: no change without the
        // first acknowledgement.
        let first;
        try {
          first = await wardenRevoke({ sub });
        } catch (e) {
          return send(res, 503, { error: "temporarily_unavailable", error_description: e.message });
        }
        passwords.set(sub, body.password);
        sessions.revokeSubject(sub);
        let second;
        try {
          second = await wardenRevoke({ sub });
        } catch (e) {
          return send(res, 503, { error: "temporarily_unavailable", error_description: `password changed; ${e.message}` });
        }
        const before = Math.max(first?.before ?? 0, second?.before ?? 0) || Math.floor(Date.now() / 1000);
        cutoffs.set(sub, before);
        return send(res, 200, { ok: true, before });
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
    jwksUrl: `http://${opts.host}:${port}/.well-known/jwks.json`,
    rotate,
    issuer: opts.issuer,
    audience: opts.audience,
    issue,
    sign,
    logoutToken,
    securityEvent,
    ssfJwks,
    pushed,
    requests,
    sessions,
    knobs,
    options: opts,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections?.();
      }),
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
    refreshTtl: Number(arg("--refresh-ttl", DEFAULTS.refreshTtl)),
    wardenUrl: arg("--warden-url", null),
    wardenAdminToken: arg("--warden-admin-token", null),
    ssfIssuer: arg("--ssf-issuer", null),
    ssfAudience: arg("--ssf-audience", null),
    ssfPushToken: arg("--ssf-push-token", null),
    transmitterKeyFile: arg("--transmitter-key-file", null),
    publicUrl: arg("--public-url", null),
    secureCookies: !process.argv.includes("--insecure-cookies"),
  });
  console.log(`demo origin listening on ${origin.url} (issuer ${origin.issuer}, audience ${origin.audience})`);
  if (process.argv.includes("--print-jwks")) console.log(JSON.stringify(origin.jwks));
  if (origin.options.ssfIssuer) console.log(`as a Shared Signals transmitter (${origin.options.ssfIssuer}): logout and password change push SETs to ${origin.options.wardenUrl}/_warden/ssf/push`);
  const stop = () => origin.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
