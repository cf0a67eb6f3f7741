// DPoP's WebCrypto calls and JWS shaping for src/dpop.rs (the full build). What goes in a proof
// (the accepted algorithms, the htu reading, ath, the jwk's members, iat) is decided in Rust, by
// the core; this only generates keys, exports the public one, writes the JSON, base64url-encodes
// and signs. Asynchronous work stays here: a Promise chained in JavaScript needs no Rust future.

// The WebCrypto algorithm of each JWS `alg`, for generateKey and sign alike (each ignores the
// other's members). RSA keys also get their modulus length from Rust (the edge's minimum).
const ALGS = {
  ES256: { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" },
  EdDSA: { name: "Ed25519" },
  RS256: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]) },
  PS256: { name: "RSA-PSS", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), saltLength: 32 },
};

const b64 = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const segment = (value) => b64(new TextEncoder().encode(JSON.stringify(value)));
const failure = (message, code) => Object.assign(new Error(message), { code });

/** The public key as a JWK of just `members` (each followed by a space): what proofs carry. */
function publicJwk(publicKey, members) {
  return crypto.subtle.exportKey("jwk", publicKey).then((jwk) => {
    const out = {};
    for (const m of members.trim().split(" ")) out[m] = jwk[m];
    return out;
  });
}

/** A non-extractable key pair for `alg`: `{ privateKey, publicKey, alg, jwk }`. */
export function generate(alg, bits, members, code) {
  return crypto.subtle.generateKey({ ...ALGS[alg], modulusLength: bits }, false, ["sign", "verify"]).then(
    ({ privateKey, publicKey }) => publicJwk(publicKey, members).then((jwk) => ({ privateKey, publicKey, alg, jwk })),
    (e) => {
      throw failure(`this platform's WebCrypto cannot generate ${alg} keys (${e.name}: ${e.message})`, code);
    },
  );
}

const isKey = (key, type) => Object.prototype.toString.call(key) === "[object CryptoKey]" && key.type === type;

/**
 * The JWS `alg` of `{ privateKey, publicKey }`: two CryptoKeys of one algorithm of ALGS (RSA of
 * at least `bits`), the private one able to sign. `undefined` for anything else.
 */
export function pairAlg(pair, bits) {
  if (pair === null || typeof pair !== "object") return undefined;
  const { privateKey, publicKey } = pair;
  if (!isKey(privateKey, "private") || !isKey(publicKey, "public") || !privateKey.usages.includes("sign")) return undefined;
  const kind = (a) => `${a.name} ${a.namedCurve ?? a.hash?.name ?? a.hash ?? ""}`;
  return Object.keys(ALGS).find((alg) =>
    [privateKey.algorithm, publicKey.algorithm].every(
      (a) => kind(a) === kind(ALGS[alg]) && !(a.modulusLength < bits),
    ),
  );
}

// Each public key's header segment, exported once.
const headers = new WeakMap();

// The methods `fetch` upper-cases whatever their case (the Fetch standard's normalisation).
const FETCH_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];

/** A proof: header `{ typ, alg, jwk }`, claims with a fresh 128-bit `jti`, signed by `pair`. */
export function prove(pair, alg, members, htm, htu, iat, ath, nonce, code) {
  if (FETCH_METHODS.includes(htm.toUpperCase())) htm = htm.toUpperCase();
  const claims = { jti: b64(crypto.getRandomValues(new Uint8Array(16))), htm, htu, iat };
  if (ath !== undefined) claims.ath = ath;
  if (nonce !== undefined) claims.nonce = nonce;
  const { privateKey, publicKey } = pair;
  let header = headers.get(publicKey);
  if (header === undefined) {
    header = publicJwk(publicKey, members).then((jwk) => segment({ typ: "dpop+jwt", alg, jwk }));
    headers.set(publicKey, header);
  }
  return header
    .then((h) => {
      const input = `${h}.${segment(claims)}`;
      return crypto.subtle
        .sign(ALGS[alg], privateKey, new TextEncoder().encode(input))
        .then((signature) => `${input}.${b64(new Uint8Array(signature))}`);
    })
    .catch((e) => {
      headers.delete(publicKey);
      throw failure(`cannot sign the DPoP proof (${e.name}: ${e.message})`, code);
    });
}
