// DPoP (RFC 9449) and mTLS-bound tokens (RFC 8705) end to end: the built worker in workerd
// (Miniflare), tokens from the demo origin with `cnf`, proofs signed here with Node's WebCrypto
// (jose), a recording origin behind Warden so each test sees what reached it — or that nothing
// did. Every refusal is checked for its status, code, challenge and `cache-control: no-store`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac, randomUUID } from "node:crypto";
import { SignJWT, generateKeyPair, exportJWK, calculateJwkThumbprint } from "jose";
import { startOrigin } from "./origin/server.mjs";
import { startWarden, assertDenied, nextSecond } from "./helpers/warden.mjs";
import { startRecorder, headerValues } from "./helpers/gate.mjs";

const URL_ = "https://api.example.com/orders";
const ALGS = "ES256 EdDSA RS256 PS256";
const NONCE_SECRET = "dpop-nonce-secret-0123456789abcdef";
const nowS = () => Math.floor(Date.now() / 1000);
let origin, rec, w;

before(async () => {
  origin = await startOrigin({ port: 0 });
  rec = await startRecorder();
  w = await startWarden(origin, { WARDEN_ORIGIN: rec.url });
});
after(async () => {
  await w?.dispose();
  await rec?.close();
  await origin?.close();
});

async function dpopKey() {
  const pair = await generateKeyPair("ES256", { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  return { ...pair, jwk, jkt: await calculateJwkThumbprint(jwk, "sha256") };
}

const athOf = (token) => createHash("sha256").update(token).digest("base64url");

/** A proof signed by `key` (whose `jwk` it carries unless `jwk` says otherwise). */
function proof(key, { htm = "GET", htu = URL_, token, iat = nowS(), jti = randomUUID(), nonce, ath, header = {}, jwk = key.jwk } = {}) {
  const claims = { jti, htm, htu, iat };
  if (token !== undefined) claims.ath = ath ?? athOf(token);
  if (nonce !== undefined) claims.nonce = nonce;
  return new SignJWT(claims).setProtectedHeader({ typ: "dpop+jwt", alg: "ES256", jwk, ...header }).sign(key.privateKey);
}

function send(w, { token, scheme = "DPoP", proofs = [], url = URL_, method = "GET", headers = [], cf } = {}) {
  const h = new Headers(headers);
  if (token) h.set("authorization", `${scheme} ${token}`);
  for (const p of proofs) h.append("dpop", p);
  return w.fetch(url, { method, headers: h, ...(cf ? { cf } : {}) });
}

/** A refusal with its code and its DPoP challenge: `error` and `description` as given. */
async function assertDpopDenied(resp, status, code, error) {
  const body = await assertDenied(assert, resp, status, code);
  const challenge = resp.headers.get("www-authenticate");
  assert.equal(
    challenge,
    `DPoP error="${error}", error_description="${body.error_description}", algs="${ALGS}"`,
  );
  return body;
}

async function bound(key, claims = {}) {
  return origin.issue({ sub: "alice", cnf: { jkt: key.jkt }, ...claims }, { ttl: 600 });
}

test("a DPoP-bound token with a fresh proof is forwarded with its thumbprint; the proof travels unchanged", async () => {
  const key = await dpopKey();
  const token = await bound(key);
  const p = await proof(key, { token });
  const seen = rec.seen.length;
  const resp = await send(w, { token, proofs: [p], url: `${URL_}?page=2`, headers: [["x-warden-jkt", "forged"], ["x_warden_cnf", "mtls"]] });
  assert.equal(resp.status, 200);
  assert.equal(rec.seen.length, seen + 1);
  const entry = rec.seen.at(-1);
  assert.deepEqual(headerValues(entry, "x-warden-jkt"), [key.jkt]);
  assert.deepEqual(headerValues(entry, "x-warden-cnf"), ["dpop"]);
  assert.deepEqual(headerValues(entry, "x_warden_cnf"), [], "a client cannot send Warden's names");
  assert.deepEqual(headerValues(entry, "x-warden-sub"), ["alice"]);
  assert.deepEqual(headerValues(entry, "dpop"), [p]);
  assert.equal(resp.headers.get("dpop-nonce"), null, "nonces are off");
});

test("a proof is used once: the same request again in the same second is refused, never replayed", async () => {
  const key = await dpopKey();
  const token = await bound(key);
  await nextSecond();
  const p = await proof(key, { token });
  const seen = rec.seen.length;
  assert.equal((await send(w, { token, proofs: [p] })).status, 200);
  await assertDpopDenied(await send(w, { token, proofs: [p] }), 401, "dpop_replayed", "invalid_dpop_proof");
  assert.equal(rec.seen.length, seen + 1, "the second request never reached the origin");
  // A fresh proof for the same token is fine.
  assert.equal((await send(w, { token, proofs: [await proof(key, { token })] })).status, 200);
  // Another key cannot use up someone's jti.
  const other = await dpopKey();
  const theirs = await bound(other);
  const jti = randomUUID();
  assert.equal((await send(w, { token: theirs, proofs: [await proof(other, { token: theirs, jti })] })).status, 200);
  assert.equal((await send(w, { token, proofs: [await proof(key, { token, jti })] })).status, 200);
});

test("the request shape: DPoP scheme and exactly one DPoP header, or 400", async () => {
  const key = await dpopKey();
  const token = await bound(key);
  const seen = rec.seen.length;
  const p = await proof(key, { token });
  const shape = async (opts, description) => {
    const resp = await send(w, opts);
    const body = await assertDenied(assert, resp, 400, "invalid_request");
    assert.equal(body.error_description, description);
    assert.match(resp.headers.get("www-authenticate"), /^DPoP error="invalid_request"/);
  };
  await shape({ token }, "DPoP authorization without a DPoP proof");
  await shape({ proofs: [p] }, "a DPoP proof came without a DPoP access token");
  await shape({ token, scheme: "Bearer", proofs: [p] }, "a DPoP proof came without a DPoP access token");
  await shape({ token, proofs: [p, await proof(key, { token })] }, "more than one DPoP header");
  await shape({ token, scheme: "dpop", proofs: [p] }, "malformed DPoP authorization");
  assert.equal(rec.seen.length, seen);
});

test("a bound token presented as a bearer token is a downgrade: 401", async () => {
  const key = await dpopKey();
  const token = await bound(key);
  const resp = await send(w, { token, scheme: "Bearer" });
  await assertDpopDenied(resp, 401, "dpop_bound_token_as_bearer", "invalid_token");
  // An unbound token is still a bearer token (WARDEN_DPOP=allowed).
  const plain = await origin.issue({ sub: "bob" }, { ttl: 600 });
  assert.equal((await send(w, { token: plain, scheme: "Bearer" })).status, 200);
});

test("every refusal of a proof: its code, its description, the DPoP challenge", async () => {
  const key = await dpopKey();
  const other = await dpopKey();
  const token = await bound(key);
  const seen = rec.seen.length;
  const cases = [
    ["dpop_htm_mismatch", "DPoP proof htm is not the request method", { htm: "POST" }],
    ["dpop_htu_mismatch", "DPoP proof htu is not the request URL", { htu: "https://api.example.com/other" }],
    ["dpop_htu_mismatch", "DPoP proof htu is not the request URL", { htu: "https://api.example.com/x/../orders" }],
    ["dpop_htu_mismatch", "DPoP proof htu is not the request URL", { htu: "http://api.example.com/orders" }],
    ["dpop_ath_mismatch", "DPoP proof ath does not match the access token", { ath: athOf("another token") }],
    ["dpop_proof_expired", "DPoP proof is too old", { iat: nowS() - 60 - 30 - 5 }],
    ["dpop_proof_invalid", "DPoP proof iat is in the future", { iat: nowS() + 30 + 5 }],
    ["dpop_proof_invalid", "DPoP proof typ is not dpop+jwt", { header: { typ: "JWT" } }],
    ["dpop_proof_invalid", "DPoP proof jwk holds a private key", { jwk: { ...key.jwk, d: "AAAA" } }],
    ["dpop_proof_invalid", "DPoP proof signature does not verify", { jwk: other.jwk }],
  ];
  for (const [code, description, opts] of cases) {
    const resp = await send(w, { token, proofs: [await proof(key, { token, ...opts })] });
    const body = await assertDpopDenied(resp, 401, code, "invalid_dpop_proof");
    assert.equal(body.error_description, description, JSON.stringify(opts));
  }
  // No ath at all while a token came.
  const noAth = await new SignJWT({ jti: randomUUID(), htm: "GET", htu: URL_, iat: nowS() })
    .setProtectedHeader({ typ: "dpop+jwt", alg: "ES256", jwk: key.jwk })
    .sign(key.privateKey);
  await assertDpopDenied(await send(w, { token, proofs: [noAth] }), 401, "dpop_ath_mismatch", "invalid_dpop_proof");
  // A good proof by another key than the token's.
  const resp = await send(w, { token, proofs: [await proof(other, { token })] });
  await assertDpopDenied(resp, 401, "dpop_key_mismatch", "invalid_dpop_proof");
  // A token failure keeps its code, with the DPoP challenge.
  const expired = await origin.issue({ sub: "alice", cnf: { jkt: key.jkt } }, { iat: nowS() - 1000, ttl: 10 });
  const r2 = await send(w, { token: expired, proofs: [await proof(key, { token: expired })] });
  const body = await assertDenied(assert, r2, 401, "token_expired");
  assert.equal(r2.headers.get("www-authenticate"), `DPoP error="invalid_token", error_description="${body.error_description}", algs="${ALGS}"`);
  assert.equal(rec.seen.length, seen, "nothing reached the origin");
});

test("htu is compared in one normal form: scheme and host case, default port, percent-encoding case; query ignored", async () => {
  const key = await dpopKey();
  const token = await bound(key);
  const ok = async (htu, url) => {
    const resp = await send(w, { token, url, proofs: [await proof(key, { token, htu })] });
    assert.equal(resp.status, 200, `${htu} for ${url}: ${await resp.text()}`);
  };
  await ok("HTTPS://API.Example.COM:443/orders", URL_);
  await ok("https://api.example.com/orders", `${URL_}?a=1#frag`);
  await ok("https://api.example.com/caf%c3%a9", "https://api.example.com/caf%C3%A9");
  await ok("https://api.example.com/%7Euser", "https://api.example.com/~user");
  await ok("http://api.example.com:8080/orders", "http://api.example.com:8080/orders");
  const wrongPort = await send(w, { token, url: "http://api.example.com:8080/orders", proofs: [await proof(key, { token, htu: "http://api.example.com/orders" })] });
  await assertDpopDenied(wrongPort, 401, "dpop_htu_mismatch", "invalid_dpop_proof");
});

test("nonces: 401 use_dpop_nonce with a DPoP-Nonce, the retry passes and carries the current nonce, a nonce two steps old is refused", async () => {
  const wn = await startWarden(origin, { WARDEN_ORIGIN: rec.url, WARDEN_DPOP_NONCE: "on", WARDEN_DPOP_NONCE_SECRET: NONCE_SECRET });
  try {
    const key = await dpopKey();
    const token = await bound(key);
    const first = await send(wn, { token, proofs: [await proof(key, { token })] });
    await assertDpopDenied(first, 401, "dpop_nonce_required", "use_dpop_nonce");
    const nonce = first.headers.get("dpop-nonce");
    assert.match(nonce, /^[A-Za-z0-9_-]{43}$/);
    const retry = await send(wn, { token, proofs: [await proof(key, { token, nonce })] });
    assert.equal(retry.status, 200);
    assert.match(retry.headers.get("dpop-nonce"), /^[A-Za-z0-9_-]{43}$/);
    // The nonce is stateless: HMAC-SHA256(secret, "warden-dpop-nonce\0" || step, 8 bytes BE).
    const nonceAt = (step) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(BigInt(step));
      return createHmac("sha256", NONCE_SECRET).update(Buffer.concat([Buffer.from("warden-dpop-nonce\0"), b])).digest("base64url");
    };
    const step = Math.floor(nowS() / 30);
    assert.ok([nonceAt(step), nonceAt(step - 1)].includes(nonce), "the nonce of the current step");
    const old = await send(wn, { token, proofs: [await proof(key, { token, nonce: nonceAt(step - 2) })] });
    const body = await assertDpopDenied(old, 401, "dpop_nonce_required", "use_dpop_nonce");
    assert.equal(body.error_description, "the DPoP nonce is not current");
    const after = Math.floor(nowS() / 30);
    assert.ok([nonceAt(step), nonceAt(after)].includes(old.headers.get("dpop-nonce")), "a fresh nonce to retry with");
  } finally {
    await wn.dispose();
  }
});

test("mTLS-bound tokens: the client certificate's SHA-256 must be the token's x5t#S256", async () => {
  const fingerprint = createHash("sha256").update("a client certificate").digest("hex");
  const x5t = Buffer.from(fingerprint, "hex").toString("base64url");
  const token = await origin.issue({ sub: "carol", cnf: { "x5t#S256": x5t } }, { ttl: 600 });
  const cert = (fp) => ({ tlsClientAuth: { certPresented: "1", certVerified: "SUCCESS", certFingerprintSHA256: fp } });
  const seen = rec.seen.length;
  const ok = await send(w, { token, scheme: "Bearer", cf: cert(fingerprint.toUpperCase()) });
  assert.equal(ok.status, 200);
  assert.deepEqual(headerValues(rec.seen.at(-1), "x-warden-cnf"), ["mtls"]);
  const other = createHash("sha256").update("another certificate").digest("hex");
  for (const cf of [cert(other), undefined, { tlsClientAuth: { certPresented: "1", certVerified: "FAILED:self signed certificate", certFingerprintSHA256: fingerprint } }]) {
    const resp = await send(w, { token, scheme: "Bearer", cf });
    await assertDenied(assert, resp, 401, "token_binding_mismatch");
    assert.match(resp.headers.get("www-authenticate"), /^Bearer error="invalid_token"/);
  }
  assert.equal(rec.seen.length, seen + 1);
});

test("WARDEN_DPOP=required refuses bearer tokens; WARDEN_DPOP=off refuses DPoP requests and bound tokens", async () => {
  const key = await dpopKey();
  const token = await bound(key);
  const plain = await origin.issue({ sub: "bob" }, { ttl: 600 });
  const req = await startWarden(origin, { WARDEN_ORIGIN: rec.url, WARDEN_DPOP: "required" });
  try {
    await assertDpopDenied(await send(req, { token: plain, scheme: "Bearer" }), 401, "dpop_required", "invalid_token");
    const none = await req.fetch(URL_);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), `DPoP algs="${ALGS}"`);
    assert.equal((await send(req, { token, proofs: [await proof(key, { token })] })).status, 200);
  } finally {
    await req.dispose();
  }
  const off = await startWarden(origin, { WARDEN_ORIGIN: rec.url, WARDEN_DPOP: "off" });
  try {
    await assertDenied(assert, await send(off, { token, proofs: [await proof(key, { token })] }), 400, "invalid_request");
    await assertDpopDenied(await send(off, { token, scheme: "Bearer" }), 401, "dpop_bound_token_as_bearer", "invalid_token");
    assert.equal((await send(off, { token: plain, scheme: "Bearer" })).status, 200);
  } finally {
    await off.dispose();
  }
});

test("the demo origin's POST /login with a DPoP proof issues a DPoP-bound token that Warden accepts with proofs of that key only", async () => {
  const key = await dpopKey();
  const loginUrl = `${origin.url}/login`;
  const login = (headers) => fetch(loginUrl, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ username: "dana" }) });
  const r = await login({ dpop: await proof(key, { htm: "POST", htu: loginUrl }) });
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.equal(body.token_type, "DPoP");
  const claims = JSON.parse(Buffer.from(body.access_token.split(".")[1], "base64url"));
  assert.deepEqual(claims.cnf, { jkt: key.jkt });
  const token = body.access_token;
  assert.equal((await send(w, { token, proofs: [await proof(key, { token })] })).status, 200);
  await assertDpopDenied(await send(w, { token, scheme: "Bearer" }), 401, "dpop_bound_token_as_bearer", "invalid_token");
  // A proof for another URL is refused by the authorization server; no proof: a bearer token.
  assert.equal((await login({ dpop: await proof(key, { htm: "POST", htu: `${origin.url}/elsewhere` }) })).status, 400);
  const plain = await (await login({})).json();
  assert.equal(plain.token_type, "Bearer");
  assert.equal(JSON.parse(Buffer.from(plain.access_token.split(".")[1], "base64url")).cnf, undefined);
});
