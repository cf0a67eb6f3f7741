// The npm package as a user gets it: the BUILT wasm-pkg/pkg/{node,web} (scripts/build-wasm-pkg.sh).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const pkgDir = (target) => fileURLToPath(new URL(`../wasm-pkg/pkg/${target}/`, import.meta.url));
const NODE_ENTRY = "../wasm-pkg/pkg/node/warden_wasm.js";

if (!existsSync(pkgDir("node") + "warden_wasm.js")) {
  throw new Error("wasm-pkg/pkg/node is missing: run `bash scripts/build-wasm-pkg.sh` first");
}
const { decode, inspect } = require(NODE_ENTRY);

// Unsigned test tokens: decode and inspect never look at the signature, so none is computed.
const b64url = (value) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const mint = (header, claims, signature = "sig") =>
  `${b64url(header)}.${b64url(claims)}.${b64url(signature)}`;
const HEADER = { alg: "ES256", typ: "at+jwt", kid: "key-2024" };

const malformed = (message) => (err) => {
  assert.ok(err instanceof Error, "an Error instance");
  assert.equal(err.code, "token_malformed");
  if (message) assert.equal(err.message, message);
  return true;
};

test("decode returns the header and claims as plain objects", () => {
  const claims = {
    iss: "https://issuer.test",
    sub: "alice",
    aud: ["api", "web"],
    iat: 1_700_000_000,
    exp: 1_700_000_600,
    scope: "read write",
    nested: { list: [1, "two", null, true], f: 0.25 },
  };
  const decoded = decode(mint(HEADER, claims));
  assert.deepEqual(decoded, { header: HEADER, claims });
  assert.equal(Object.getPrototypeOf(decoded.claims), Object.prototype);
  assert.equal(Object.getPrototypeOf(decoded.claims.nested), Object.prototype);
  assert.ok(!(decoded.claims instanceof Map));
});

test("decode matches JSON.parse for hostile keys and 64-bit integers", () => {
  // Integers beyond 2^53 (but within 64 bits) round to the nearest double, as in JSON.parse.
  const json =
    '{"sub":"mallory","__proto__":{"admin":true},"big":18446744073709551615,"neg":-9007199254740993}';
  const { claims } = decode(mint(HEADER, json));
  assert.deepEqual(claims, JSON.parse(json));
  assert.equal(claims.admin, undefined, "no prototype replaced by a claim");
  assert.ok(Object.hasOwn(claims, "__proto__"));
  assert.deepEqual(claims.__proto__, { admin: true });
  assert.equal(claims.big, 18446744073709551615);
});

test("inspect reports exp, iat, nbf and seconds left at a fixed now", () => {
  const t = mint(HEADER, { iat: 1_000, nbf: 1_005, exp: 1_600 });
  assert.deepEqual(inspect(t, { now: 1_500 }), {
    expiresAt: 1_600,
    issuedAt: 1_000,
    notBefore: 1_005,
    secondsLeft: 100,
    expired: false,
  });
  assert.equal(inspect(t, { now: 1_700 }).secondsLeft, -100, "leeway is not in secondsLeft");
});

test("inspect: the default leeway is 30 seconds", () => {
  const t = mint(HEADER, { exp: 1_600 });
  assert.equal(inspect(t, { now: 1_629 }).expired, false);
  assert.equal(inspect(t, { now: 1_630 }).expired, true);
  assert.equal(inspect(t, { now: 1_629, leeway: 30 }).expired, false);
});

test("inspect: explicit leeway boundaries", () => {
  const t = mint(HEADER, { exp: 1_600 });
  assert.equal(inspect(t, { now: 1_599, leeway: 0 }).expired, false);
  assert.equal(inspect(t, { now: 1_600, leeway: 0 }).expired, true);
  assert.equal(inspect(t, { now: 1_719, leeway: 120 }).expired, false);
  assert.equal(inspect(t, { now: 1_720, leeway: 120 }).expired, true);
});

test("inspect: now defaults to the clock", () => {
  const now = Math.floor(Date.now() / 1000);
  const t = mint(HEADER, { exp: now + 3_600 });
  for (const i of [inspect(t), inspect(t, {}), inspect(t, undefined), inspect(t, null)]) {
    assert.ok(i.secondsLeft <= 3_600 && i.secondsLeft > 3_590, `secondsLeft ${i.secondsLeft}`);
    assert.equal(i.expired, false);
  }
  assert.equal(inspect(mint(HEADER, { exp: 1_600 })).expired, true);
});

test("inspect: a token without exp, iat or nbf", () => {
  const i = inspect(mint(HEADER, { sub: "alice" }), { now: 1_500 });
  assert.deepEqual(i, {
    expiresAt: undefined,
    issuedAt: undefined,
    notBefore: undefined,
    secondsLeft: undefined,
    expired: false,
  });
  assert.deepEqual(Object.keys(i).sort(), [
    "expired",
    "expiresAt",
    "issuedAt",
    "notBefore",
    "secondsLeft",
  ]);
});

test("inspect: options of the wrong type throw with code invalid_request", () => {
  const t = mint(HEADER, { exp: 1_600 });
  for (const options of [{ now: "1500" }, { now: -1 }, { now: 1.5 }, { leeway: "30" }, { leeway: -1 }, 42]) {
    assert.throws(
      () => inspect(t, options),
      (err) => err instanceof TypeError && err.code === "invalid_request",
      JSON.stringify(options),
    );
  }
  assert.throws(
    () => inspect(t, { now: 253_402_300_800 }),
    (err) => err instanceof RangeError && err.code === "invalid_request",
  );
});

test("garbage and alg none throw with code token_malformed", () => {
  const none = mint({ alg: "none" }, { sub: "alice" }, "");
  for (const fn of [decode, (t) => inspect(t, { now: 0 })]) {
    assert.throws(() => fn("garbage"), malformed("token must have three segments"));
    assert.throws(() => fn("a.b.c"), malformed());
    assert.throws(() => fn(""), malformed("token is empty"));
    assert.throws(() => fn(none), malformed("unsigned tokens are not accepted"));
    assert.throws(() => fn(mint({ alg: "NoNe" }, {})), malformed("unsigned tokens are not accepted"));
    assert.throws(() => fn(mint(HEADER, { exp: "soon" })), malformed("claim `exp` has the wrong type or value"));
    assert.throws(() => fn(mint({ ...HEADER, jwk: {} }, {})), malformed("header parameter `jwk` is not accepted"));
  }
});

test("the .d.ts in pkg/node is precisely typed", () => {
  const dts = readFileSync(pkgDir("node") + "warden_wasm.d.ts", "utf8");
  const iface = (name) => {
    const m = dts.match(new RegExp(`export interface ${name} (?:extends \\w+ )?\\{([^}]*)\\}`));
    assert.ok(m, `interface ${name} in the .d.ts`);
    return m[1];
  };
  assert.match(iface("Inspection"), /secondsLeft: number/);
  assert.match(iface("Inspection"), /expiresAt: number \| undefined;/);
  assert.match(iface("Inspection"), /expired: boolean;/);
  assert.match(iface("InspectOptions"), /now\?: number;/);
  assert.match(iface("InspectOptions"), /leeway\?: number;/);
  assert.match(iface("Decoded"), /header: DecodedHeader;/);
  assert.match(iface("Decoded"), /claims: DecodedClaims;/);
  assert.match(dts, /export function decode\(token: string\): Decoded;/);
  assert.match(dts, /export function inspect\(token: string, options\?: InspectOptions\): Inspection;/);
  assert.match(dts, /no signature check|without checking its signature/i);
  assert.doesNotMatch(dts, /\bany\b/);
});

test("pkg/web exists with its .wasm and works as an ES module", async () => {
  const dir = pkgDir("web");
  const wasm = readdirSync(dir).filter((f) => f.endsWith(".wasm"));
  assert.deepEqual(wasm, ["warden_wasm_bg.wasm"]);
  const web = await import(new URL("../wasm-pkg/pkg/web/warden_wasm.js", import.meta.url));
  await web.default({ module_or_path: readFileSync(dir + wasm[0]) });
  const t = mint(HEADER, { exp: 1_600 });
  assert.deepEqual(web.decode(t).claims, { exp: 1_600 });
  assert.equal(web.inspect(t, { now: 1_630 }).expired, true);
  assert.throws(() => web.decode("garbage"), malformed());
});
