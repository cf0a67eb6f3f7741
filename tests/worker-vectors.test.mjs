// Project Wycheproof signature vectors through the worker's own signature step, inside workerd:
// the JWK loaded by the production loader (warden-core's KeySet::from_jwks), the signature checked
// by crate::verify::check_signature (WebCrypto for RSA, ECDSA and Ed25519; hmac + sha2 in wasm for
// HMAC). The route used, POST /__warden/verify-vector, exists only in the test build
// (build-bench/, from `scripts/bench-worker.sh --build-only`); production builds do not have it.
//
// Agreement is 100%: "valid" verifies, "invalid" fails, "acceptable" may do either (counted).
// JWS specifics: ECDSA signatures are fixed-width r || s, so every DER-encoded signature fails,
// valid ones included; JWS MACs are full length, so every truncated tag fails; HMAC keys shorter
// than the hash output are refused when the key is loaded. The vector files and their licence:
// tests/vectors/README.md.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { startWorker, ROOT } from "./helpers/miniflare.mjs";

const BENCH = `${ROOT}/build-bench`;
const DIR = `${ROOT}/tests/vectors/wycheproof/testvectors_v1`;
const b64 = (hex) => Buffer.from(hex, "hex").toString("base64url");
const load = (name) => JSON.parse(readFileSync(`${DIR}/${name}`, "utf8"));

let mf;
before(async () => {
  assert.ok(existsSync(`${BENCH}/index.js`), "build-bench/ is missing: run scripts/bench-worker.sh --build-only");
  // Any valid configuration: the route does not use it.
  const jwks = { keys: [{ kty: "EC", crv: "P-256", kid: "k", x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" }] };
  mf = await startWorker({ url: "http://127.0.0.1:9", jwks, issuer: "i", audience: "a" }, {}, { scriptPath: `${BENCH}/index.js`, modulesRoot: BENCH });
});
after(async () => {
  await mf?.dispose();
});

async function run(cases) {
  const results = [];
  for (let i = 0; i < cases.length; i += 250) {
    const r = await mf.dispatchFetch("http://warden.test/__warden/verify-vector", {
      method: "POST",
      body: JSON.stringify({ cases: cases.slice(i, i + 250) }),
    });
    assert.equal(r.status, 200);
    results.push(...(await r.json()).results);
  }
  assert.equal(results.length, cases.length);
  return results;
}

/**
 * Runs `cases` ({jwk, alg, msg, sig, id, label, expect}) and checks each: expect "ok", "fail",
 * "key_refused" or "either". Reports the tally as a test diagnostic.
 */
async function check(t, name, cases) {
  const results = await run(cases);
  const tally = {};
  const disagreements = [];
  cases.forEach((c, i) => {
    const got = results[i].result;
    const key = `${c.label}->${got}`;
    tally[key] = (tally[key] ?? 0) + 1;
    const ok = c.expect === "either" ? got === "ok" || got === "fail" : got === c.expect;
    if (!ok) disagreements.push(`tcId ${c.id} (${c.label}, ${c.comment}): expected ${c.expect}, got ${got} ${results[i].reason ?? ""}`);
  });
  t.diagnostic(`${name}: ${cases.length} vectors, ${JSON.stringify(tally)}`);
  assert.deepEqual(disagreements, [], `${name}: ${disagreements.length} of ${cases.length} disagree`);
  // Every run must include both outcomes, or the test proves nothing.
  assert.ok(results.some((r) => r.result === "ok") || cases.every((c) => c.expect !== "ok"), `${name}: nothing verified`);
  assert.ok(results.some((r) => r.result !== "ok"), `${name}: nothing failed`);
}

const byLabel = (label) => ({ valid: "ok", invalid: "fail", acceptable: "either" })[label];

function signatureCases(file, alg, jwk, { allFail = false, groupCheck } = {}) {
  const data = load(file);
  const cases = [];
  for (const group of data.testGroups) {
    groupCheck?.(group);
    const key = jwk(group);
    for (const t of group.tests) {
      cases.push({
        jwk: key,
        alg,
        msg: t.msg,
        sig: t.sig,
        id: t.tcId,
        label: t.result,
        comment: t.comment,
        expect: allFail ? "fail" : byLabel(t.result),
      });
    }
  }
  assert.equal(cases.length, data.numberOfTests, file);
  return cases;
}

/** `uncompressed` is 04 || X || Y at full width (wx/wy may carry a sign byte or drop zeros). */
function ecJwk(crv) {
  return (group) => {
    const point = Buffer.from(group.publicKey.uncompressed, "hex");
    assert.equal(point[0], 4);
    const w = (point.length - 1) / 2;
    return { kty: "EC", crv, x: point.subarray(1, 1 + w).toString("base64url"), y: point.subarray(1 + w).toString("base64url") };
  };
}

function rsaJwk(alg) {
  return (group) => {
    const n = Buffer.from(group.publicKey.modulus, "hex");
    let zeros = 0;
    while (n[zeros] === 0) zeros++;
    return { kty: "RSA", alg, n: n.subarray(zeros).toString("base64url"), e: b64(group.publicKey.publicExponent) };
  };
}

test("ECDSA P-256 and P-384, P1363 (r || s): WebCrypto in workerd", async (t) => {
  await check(t, "ecdsa_secp256r1_sha256_p1363", signatureCases("ecdsa_secp256r1_sha256_p1363_test.json", "ES256", ecJwk("P-256")));
  await check(t, "ecdsa_secp384r1_sha384_p1363", signatureCases("ecdsa_secp384r1_sha384_p1363_test.json", "ES384", ecJwk("P-384")));
});

test("ECDSA in DER: every signature fails, valid ones included (JWS is r || s only)", async (t) => {
  await check(t, "ecdsa_secp256r1_sha256 (DER)", signatureCases("ecdsa_secp256r1_sha256_test.json", "ES256", ecJwk("P-256"), { allFail: true }));
  await check(t, "ecdsa_secp384r1_sha384 (DER)", signatureCases("ecdsa_secp384r1_sha384_test.json", "ES384", ecJwk("P-384"), { allFail: true }));
});

test("ECDSA r = s = 0 and a high-S twin, named explicitly", async () => {
  const key = ecJwk("P-256")(load("ecdsa_secp256r1_sha256_p1363_test.json").testGroups[0]);
  const [zero] = await run([{ jwk: key, alg: "ES256", msg: "", sig: "00".repeat(64) }]);
  assert.equal(zero.result, "fail", "r = s = 0 must never verify");
  // A valid vector, and its malleated twin (r, n - s): WebCrypto accepts high-S (like
  // jsonwebtoken), which is why revocation keys on claims, not on the token text.
  const file = load("ecdsa_secp256r1_sha256_p1363_test.json");
  const group = file.testGroups.find((g) => g.tests.some((x) => x.result === "valid"));
  const valid = group.tests.find((x) => x.result === "valid");
  const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
  const s = BigInt(`0x${valid.sig.slice(64)}`);
  const twin = valid.sig.slice(0, 64) + (n - s).toString(16).padStart(64, "0");
  const results = await run([
    { jwk: ecJwk("P-256")(group), alg: "ES256", msg: valid.msg, sig: valid.sig },
    { jwk: ecJwk("P-256")(group), alg: "ES256", msg: valid.msg, sig: twin },
  ]);
  assert.deepEqual(results.map((r) => r.result), ["ok", "ok"]);
});

test("Ed25519: WebCrypto in workerd", async (t) => {
  const jwk = (group) => ({ kty: "OKP", crv: "Ed25519", x: b64(group.publicKey.pk) });
  await check(t, "ed25519", signatureCases("ed25519_test.json", "EdDSA", jwk));
});

test("RSASSA-PKCS1-v1_5 2048 (RS256, RS384, RS512): WebCrypto in workerd", async (t) => {
  for (const [file, alg] of [
    ["rsa_signature_2048_sha256_test.json", "RS256"],
    ["rsa_signature_2048_sha384_test.json", "RS384"],
    ["rsa_signature_2048_sha512_test.json", "RS512"],
  ]) {
    await check(t, file, signatureCases(file, alg, rsaJwk(alg)));
  }
});

test("RSASSA-PSS, salt as long as the hash (PS256, PS384, PS512): WebCrypto in workerd", async (t) => {
  for (const [file, alg, sha, sLen] of [
    ["rsa_pss_2048_sha256_mgf1_32_test.json", "PS256", "SHA-256", 32],
    ["rsa_pss_2048_sha384_mgf1_48_test.json", "PS384", "SHA-384", 48],
    ["rsa_pss_4096_sha512_mgf1_64_test.json", "PS512", "SHA-512", 64],
  ]) {
    const groupCheck = (g) => {
      assert.deepEqual([g.sha, g.mgfSha, Number(g.sLen)], [sha, sha, sLen], file);
    };
    await check(t, file, signatureCases(file, alg, rsaJwk(alg), { groupCheck }));
  }
});

test("HMAC (HS256, HS384, HS512): hmac + sha2 in wasm; truncated tags fail; short keys refused", async (t) => {
  for (const [file, alg, bits] of [
    ["hmac_sha256_test.json", "HS256", 256],
    ["hmac_sha384_test.json", "HS384", 384],
    ["hmac_sha512_test.json", "HS512", 512],
  ]) {
    const data = load(file);
    const cases = [];
    for (const group of data.testGroups) {
      for (const x of group.tests) {
        let expect = byLabel(x.result);
        if (Number(group.keySize) < bits) expect = "key_refused";
        else if (Number(group.tagSize) !== bits) expect = "fail"; // JWS MACs are full length
        cases.push({
          jwk: { kty: "oct", alg, k: b64(x.key) },
          alg,
          msg: x.msg,
          sig: x.tag,
          id: x.tcId,
          label: x.result,
          comment: x.comment,
          expect,
        });
      }
    }
    assert.equal(cases.length, data.numberOfTests, file);
    await check(t, file, cases);
  }
});
