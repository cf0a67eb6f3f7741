// DPoP's client half in the npm package (warden-wasm/full), as a user installs it, in Node:
// generateDpopKey, createDpopProof and jwkThumbprint checked against an independent
// implementation (jose: the proof verifies with its embedded key, the thumbprints agree) and
// node:crypto (ath). The edge's own reading of the proofs is tested in wasm (src/tests/dpop.rs)
// and end to end in Chromium (tests/browser-dpop.test.mjs).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { EmbeddedJWK, calculateJwkThumbprint, decodeProtectedHeader, jwtVerify } from "jose";
import { install } from "../wasm-pkg/tests/js/install.mjs";

const ALGS = ["ES256", "EdDSA", "RS256", "PS256"];
const MEMBERS = { ES256: ["crv", "kty", "x", "y"], EdDSA: ["crv", "kty", "x"], RS256: ["e", "kty", "n"], PS256: ["e", "kty", "n"] };
const TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";
const URL_ = "https://api.example.com/orders";

let consumer, pkg;
const keys = {};
before(async () => {
  consumer = install();
  pkg = await consumer.importEsm("warden-wasm/full");
  for (const alg of ALGS) keys[alg] = await pkg.generateDpopKey({ alg });
});
after(() => consumer?.cleanup());

const claimsOf = (proof) => JSON.parse(Buffer.from(proof.split(".")[1], "base64url"));
const nowS = () => Math.floor(Date.now() / 1000);

/** The proof, verified by jose with the key in its header, as an authorization server would. */
async function verified(proof, alg) {
  return jwtVerify(proof, EmbeddedJWK, { typ: "dpop+jwt", algorithms: [alg], clockTolerance: 0 });
}

/** A rejection: an instance of `type` with `code` and a message matching `message`. */
const refused = (type, code, message) => (e) => {
  assert.ok(e instanceof type, `a ${type.name}, got ${e?.constructor?.name}: ${e?.message}`);
  assert.equal(e.code, code);
  if (message) assert.match(e.message, message);
  return true;
};

test("import and require both give the three functions", () => {
  const cjs = consumer.require("warden-wasm/full");
  for (const name of ["generateDpopKey", "createDpopProof", "jwkThumbprint"]) {
    assert.equal(typeof pkg[name], "function", name);
    assert.equal(typeof cjs[name], "function", name);
  }
  const lite = consumer.require("warden-wasm/lite");
  assert.equal(lite.createDpopProof, undefined, "full only");
});

for (const alg of ALGS) {
  test(`${alg}: a non-extractable key pair; proofs that jose verifies with their embedded key`, async () => {
    const pair = keys[alg];
    assert.equal(pair.alg, alg);
    assert.equal(pair.privateKey.type, "private");
    assert.equal(pair.privateKey.extractable, false, "the private key cannot be read");
    await assert.rejects(crypto.subtle.exportKey("jwk", pair.privateKey));
    await assert.rejects(crypto.subtle.exportKey("pkcs8", pair.privateKey));
    assert.deepEqual(pair.privateKey.usages, ["sign"]);
    assert.deepEqual(Object.keys(pair.jwk).sort(), MEMBERS[alg], "the public key's required members only");

    const proof = await pkg.createDpopProof(pair, { htm: "GET", htu: URL_ });
    const { payload, protectedHeader } = await verified(proof, alg);
    assert.deepEqual(protectedHeader, { typ: "dpop+jwt", alg, jwk: pair.jwk });
    assert.deepEqual(Object.keys(payload).sort(), ["htm", "htu", "iat", "jti"]);
    assert.equal(payload.htm, "GET");
    assert.equal(payload.htu, URL_);
    assert.equal(pkg.jwkThumbprint(pair.jwk), await calculateJwkThumbprint(protectedHeader.jwk, "sha256"));

    // Structured-cloneable (what IndexedDB stores): the copy signs proofs of the same key.
    const copy = structuredClone(pair);
    const again = await pkg.createDpopProof(copy, { htm: "POST", htu: URL_ });
    assert.deepEqual(decodeProtectedHeader(again).jwk, pair.jwk);
    await verified(again, alg);
  });
}

test("ath is base64url(SHA-256) of the access token; nonce as given; neither without them", async () => {
  const pair = keys.ES256;
  const proof = await pkg.createDpopProof(pair, { htm: "GET", htu: URL_, accessToken: TOKEN, nonce: "eyJ7S_0.nonce~!" });
  const { payload } = await verified(proof, "ES256");
  assert.equal(payload.ath, createHash("sha256").update(TOKEN, "ascii").digest("base64url"));
  assert.equal(payload.nonce, "eyJ7S_0.nonce~!");
  const bare = claimsOf(await pkg.createDpopProof(pair, { htm: "GET", htu: URL_ }));
  assert.equal("ath" in bare || "nonce" in bare, false);
});

test("a fresh 128-bit jti for every proof", async () => {
  const jtis = new Set();
  for (let i = 0; i < 64; i++) {
    const { jti } = claimsOf(await pkg.createDpopProof(keys.ES256, { htm: "GET", htu: URL_ }));
    assert.match(jti, /^[A-Za-z0-9_-]{22}$/);
    jtis.add(jti);
  }
  assert.equal(jtis.size, 64);
});

test("iat is the server's time: now + clockOffset, as everywhere in the package", async () => {
  const at = (options) => pkg.createDpopProof(keys.ES256, { htm: "GET", htu: URL_, ...options }).then((p) => claimsOf(p).iat);
  assert.equal(await at({ now: 1_700_000_000 }), 1_700_000_000);
  assert.equal(await at({ now: 1_700_000_000, clockOffset: -600 }), 1_699_999_400);
  // The local clock is 10 minutes behind the server's: the offset puts iat on the server's clock.
  const before = nowS();
  const iat = await at({ clockOffset: 600 });
  assert.ok(iat >= before + 600 && iat <= nowS() + 600, `${iat} is now + 600`);
  // And the offset estimateClockOffset measures is the one to pass.
  const clockOffset = pkg.estimateClockOffset({ date: new Date(Date.now() + 120_000).toUTCString() });
  assert.ok(Math.abs(clockOffset - 120) <= 1);
  assert.ok(Math.abs((await at({ clockOffset })) - (nowS() + 120)) <= 1);
});

test("htu in the edge's reading: scheme and host lower-case, default port, no query or fragment", async () => {
  const htu = async (url) => claimsOf(await pkg.createDpopProof(keys.ES256, { htm: "GET", htu: url })).htu;
  assert.equal(await htu("HTTPS://API.Example.COM:443/orders?page=2#top"), URL_);
  assert.equal(await htu("http://127.0.0.1:8787/api/me?x"), "http://127.0.0.1:8787/api/me");
  assert.equal(await htu("http://Example.com:80"), "http://example.com/");
  assert.equal(await htu("https://a.example/%7euser/a%2fb"), "https://a.example/~user/a%2Fb");
  // fetch sends DELETE, GET, HEAD, OPTIONS, POST and PUT upper-cased whatever their case; the
  // proof names the method the edge sees. Other methods go as written.
  const htm = async (method) => claimsOf(await pkg.createDpopProof(keys.ES256, { htm: method, htu: URL_ })).htm;
  assert.equal(await htm("post"), "POST");
  assert.equal(await htm("Delete"), "DELETE");
  assert.equal(await htm("PATCH"), "PATCH");
  assert.equal(await htm("patch"), "patch");
});

test("bad inputs reject with a TypeError or RangeError with code invalid_request", async () => {
  const pair = keys.ES256;
  const ok = { htm: "GET", htu: URL_ };
  const bad = (options) => pkg.createDpopProof(pair, { ...ok, ...options });
  const invalid = (message) => refused(TypeError, "invalid_request", message);
  for (const htu of ["/api/me", "api.example.com/x", "ftp://example.com/", "https://user:pw@example.com/", "https://a.example/x/../y", "https://a.example/ space", "https://exämple.com/"]) {
    await assert.rejects(bad({ htu }), invalid(/`htu` must be an absolute http\(s\) URL/), htu);
  }
  await assert.rejects(bad({ htm: "GET /" }), invalid(/`htm` must be an HTTP method/));
  await assert.rejects(bad({ htm: "" }), invalid(/`htm` must be a non-empty string/));
  await assert.rejects(bad({ accessToken: "Bearer abc" }), invalid(/`accessToken` must be/));
  await assert.rejects(bad({ nonce: 'say "hi"' }), invalid(/`nonce` must be/));
  await assert.rejects(bad({ acessToken: TOKEN }), invalid(/unknown option `acessToken`/));
  await assert.rejects(bad({ clockOffset: "60" }), invalid(/`clockOffset` must be an integer/));
  await assert.rejects(bad({ now: -5 }), refused(RangeError, "invalid_request", /`now` must be from 0/));
  await assert.rejects(pkg.createDpopProof(pair, { htu: URL_ }), invalid(/`htm` is required/));
  await assert.rejects(pkg.createDpopProof(pair, { htm: "GET" }), invalid(/`htu` is required/));
  await assert.rejects(pkg.createDpopProof(pair), invalid(/`htm` is required/));
  for (const notAPair of [undefined, {}, { privateKey: pair.publicKey, publicKey: pair.privateKey }, { privateKey: pair.jwk, publicKey: pair.publicKey }]) {
    await assert.rejects(pkg.createDpopProof(notAPair, ok), invalid(/^keyPair must be/));
  }
  // A WebCrypto pair of another algorithm (ES384), or RSA under the edge's 2048 bits.
  const p384 = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, false, ["sign", "verify"]);
  await assert.rejects(pkg.createDpopProof(p384, ok), invalid(/ES256, EdDSA, RS256 or PS256/));
  const rsa1024 = await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["sign", "verify"]);
  await assert.rejects(pkg.createDpopProof(rsa1024, ok), invalid(/^keyPair must be/));
  // A pair made elsewhere (an extractable one too) is fine: only the keys matter.
  const own = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  await verified(await pkg.createDpopProof(own, ok), "ES256");

  for (const alg of ["HS256", "none", "ES384", "es256"]) {
    await assert.rejects(pkg.generateDpopKey({ alg }), refused(RangeError, "invalid_request", /`alg` must be ES256, EdDSA, RS256 or PS256/), alg);
  }
  await assert.rejects(pkg.generateDpopKey({ algorithm: "ES256" }), invalid(/unknown option `algorithm`/));
  await assert.rejects(pkg.generateDpopKey("ES256"), invalid(/must be an object/));
  // A getter's exception passes through as the rejection.
  const throwing = { publicKey: pair.publicKey };
  Object.defineProperty(throwing, "privateKey", { get: () => { throw new Error("boom"); } });
  await assert.rejects(pkg.createDpopProof(throwing, ok), /^Error: boom$/);
});

test("where WebCrypto cannot (an algorithm it lacks, a failing sign), the rejection says so: keys_unavailable", async (t) => {
  const unsupported = () => Promise.reject(new DOMException("Unrecognized algorithm name", "NotSupportedError"));
  t.after(() => {
    delete crypto.subtle.generateKey;
    delete crypto.subtle.sign;
  });
  crypto.subtle.generateKey = unsupported;
  await assert.rejects(pkg.generateDpopKey({ alg: "EdDSA" }), refused(Error, "keys_unavailable", /cannot generate EdDSA keys \(NotSupportedError: Unrecognized algorithm name\)/));
  delete crypto.subtle.generateKey;
  crypto.subtle.sign = unsupported;
  await assert.rejects(pkg.createDpopProof(keys.EdDSA, { htm: "GET", htu: URL_ }), refused(Error, "keys_unavailable", /cannot sign the DPoP proof/));
  delete crypto.subtle.sign;
  await verified(await pkg.createDpopProof(keys.EdDSA, { htm: "GET", htu: URL_ }), "EdDSA");
});

test("jwkThumbprint is RFC 7638, exactly jose's (and the edge's): objects or JSON text", async () => {
  // RFC 7638 §3.1.
  const rfc = {
    kty: "RSA",
    n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    e: "AQAB",
    alg: "RS256",
    kid: "2011-04-29",
  };
  assert.equal(pkg.jwkThumbprint(rfc), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  assert.equal(pkg.jwkThumbprint(JSON.stringify(rfc)), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  for (const alg of ALGS) {
    const exported = await crypto.subtle.exportKey("jwk", keys[alg].publicKey); // with ext, key_ops
    assert.equal(pkg.jwkThumbprint(exported), await calculateJwkThumbprint(exported, "sha256"), alg);
    assert.equal(pkg.jwkThumbprint(exported), pkg.jwkThumbprint(keys[alg].jwk), alg);
  }
  for (const bad of [{ kty: "oct", k: "AAAA" }, { kty: "EC", crv: "P-256", x: "AA" }, { kty: "OKP", crv: "Ed25519", x: 5 }, "{", [], 7, null]) {
    assert.throws(() => pkg.jwkThumbprint(bad), refused(TypeError, "invalid_request"), JSON.stringify(bad));
  }
});
