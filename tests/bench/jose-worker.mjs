// The comparison worker for `make bench` (scripts/bench-worker.mjs): jose's jwtVerify doing the
// checks Warden's allow path does (signature by the one expected algorithm, exp/nbf/iat with
// 30 s tolerance, iss, aud, exp and iat required, token age), in a loop inside the isolate.
// Bundled with esbuild at benchmark time; never deployed.
import { jwtVerify, importJWK } from "jose";

const HMAC_HASH = { HS256: "SHA-256", HS384: "SHA-384", HS512: "SHA-512" };

async function key(jwk, alg) {
  // jose's best case: a CryptoKey imported once (for HMAC too, rather than raw bytes).
  if (HMAC_HASH[alg]) {
    const raw = Uint8Array.from(atob(jwk.k.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: HMAC_HASH[alg] }, false, ["verify"]);
  }
  return importJWK(jwk, alg);
}

export default {
  async fetch(request) {
    const { token, jwk, alg, iterations = 10000, issuer, audience } = await request.json();
    const k = await key(jwk, alg);
    const options = {
      algorithms: [alg],
      issuer,
      audience,
      clockTolerance: 30,
      maxTokenAge: 86400,
      requiredClaims: ["exp", "iat"],
    };
    try {
      for (let i = 0; i < 1000; i++) await jwtVerify(token, k, options); // warm-up, and proof
    } catch (e) {
      return Response.json({ error: `${e.code ?? e.name}: ${e.message}` }, { status: 400 });
    }
    const start = Date.now();
    for (let i = 0; i < iterations; i++) await jwtVerify(token, k, options);
    const elapsed = Date.now() - start;
    return Response.json({ iterations, elapsed_ms: elapsed, us_per_op: (elapsed * 1000) / iterations });
  },
};
