// The "signature only" worker for `make bench-edge` (scripts/bench-edge.mjs): the least a worker
// that checks tokens must do — take the bearer token (or the access cookie), verify its signature
// with WebCrypto (each key imported once per isolate, from env.JWKS and env.HMAC_KEYS), forward.
// No claims, no revocation, no cache: the floor under which no token checker gets, so that
// Warden's excess over it is the cost of everything Warden does besides the signature.
import { tokenOf } from "./token-of.mjs";

const ALGS = {
  ES256: [{ name: "ECDSA", namedCurve: "P-256" }, { name: "ECDSA", hash: "SHA-256" }],
  RS256: [{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, { name: "RSASSA-PKCS1-v1_5" }],
  EdDSA: [{ name: "Ed25519" }, { name: "Ed25519" }],
  HS256: [{ name: "HMAC", hash: "SHA-256" }, { name: "HMAC" }],
};
const keys = new Map(); // kid -> Promise<[CryptoKey, verify params]>
const encoder = new TextEncoder();
const bytes = (b64url) => Uint8Array.from(atob(b64url.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

function key(env, header) {
  if (!keys.has(header.kid)) {
    const jwk = [...JSON.parse(env.JWKS).keys, ...JSON.parse(env.HMAC_KEYS).keys].find((k) => k.kid === header.kid);
    const alg = ALGS[header.alg];
    if (!jwk || !alg || jwk.alg !== header.alg) return null;
    keys.set(header.kid, crypto.subtle.importKey("jwk", jwk, alg[0], false, ["verify"]).then((k) => [k, alg[1]]));
  }
  return keys.get(header.kid);
}

const deny = () => new Response("invalid token", { status: 401 });

export default {
  async fetch(request, env) {
    const token = tokenOf(request, env.ACCESS_COOKIE);
    const parts = token?.split(".") ?? [];
    if (parts.length !== 3) return deny();
    let header;
    try {
      header = JSON.parse(new TextDecoder().decode(bytes(parts[0])));
    } catch {
      return deny();
    }
    const found = key(env, header);
    if (!found) return deny();
    const [k, params] = await found;
    const ok = await crypto.subtle.verify(params, k, bytes(parts[2]), encoder.encode(`${parts[0]}.${parts[1]}`));
    if (!ok) return deny();
    const url = new URL(request.url);
    return fetch(env.ORIGIN + url.pathname + url.search, request);
  },
};
