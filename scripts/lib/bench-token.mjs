// The key and token the in-isolate benchmarks use (scripts/bench-worker.mjs,
// scripts/profile-worker.mjs): made fresh per run with jose in Node.
import { randomBytes, randomUUID } from "node:crypto";
import { SignJWT, exportJWK, generateKeyPair } from "jose";

export const ISSUER = "https://issuer.bench.test";
export const AUDIENCE = "bench-api";

/**
 * A key for `alg` (HS*: a 32-byte secret; otherwise a key pair) as a JWK with `kid`, `alg` and
 * `use`, and a token it signs: `sub`, `jti`, `sid`, `scope`, ISSUER, AUDIENCE, `iat` now, `exp`
 * in an hour, header `typ: at+jwt`. Returns `{ alg, jwk, token }`.
 */
export async function benchToken(alg, kidPrefix = "bench") {
  const kid = `${kidPrefix}-${alg.toLowerCase()}`;
  let signing, publicJwk;
  if (alg.startsWith("HS")) {
    signing = randomBytes(32);
    publicJwk = { kty: "oct", k: signing.toString("base64url") };
  } else {
    const pair = await generateKeyPair(alg, { extractable: true, ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}) });
    signing = pair.privateKey;
    publicJwk = await exportJWK(pair.publicKey);
  }
  const jwk = { ...publicJwk, kid, alg, use: "sig" };
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ sub: "bench-user", jti: randomUUID(), sid: randomUUID(), scope: "read write" })
    .setProtectedHeader({ alg, kid, typ: "at+jwt" })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(signing);
  return { alg, jwk, token };
}
