// DPoP in a real browser with the npm package's proofs: headless Chromium (Debian's, driven by the
// pinned playwright-core) loads warden-wasm's full web build into a page served through Warden
// (Miniflare on 127.0.0.1, in front of the demo origin), makes a non-extractable key, keeps it in
// IndexedDB, logs in with a proof (the demo origin binds the token to the key: cnf.jkt), calls the
// API through Warden with `Authorization: DPoP` and a fresh proof, and sees the very same request
// refused when it comes again, and the bound token refused as a bearer token. Every algorithm the
// edge accepts by default. Set CHROMIUM to use another binary.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { chromium } from "playwright-core";
import { startOrigin } from "./origin/server.mjs";
import { startWarden, claimsOf } from "./helpers/warden.mjs";
import { assertBuilt, PKG } from "../wasm-pkg/tests/js/install.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm" };

let origin, w, context, profile, base;

before(async () => {
  assertBuilt();
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run make setup (or set CHROMIUM)`);
  origin = await startOrigin({ port: 0 });
  w = await startWarden(origin, { WARDEN_PUBLIC_PATHS: "/login,/public/" });
  base = String(w.url).replace(/\/$/, "");
  // The demo origin is reached through Warden: login proofs name Warden's URL.
  origin.options.publicUrl = base;
  profile = mkdtempSync(join(tmpdir(), "warden-chromium-"));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
  // The package, as a static host would serve it, at /pkg/ on the page's own origin (the API's).
  await context.route(`${base}/pkg/**`, (route) => {
    const file = normalize(join(PKG, decodeURIComponent(new URL(route.request().url()).pathname.slice("/pkg/".length))));
    if (!file.startsWith(PKG.endsWith(sep) ? PKG : PKG + sep) || !existsSync(file)) return route.fulfill({ status: 404 });
    return route.fulfill({ status: 200, contentType: TYPES[extname(file)] ?? "application/octet-stream", body: readFileSync(file) });
  });
});

after(async () => {
  await context?.close();
  await w?.dispose();
  await origin?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** What the page does, as an app would: everything below runs in Chromium. */
async function inBrowser(page, alg, username) {
  return page.evaluate(async ([alg, username]) => {
    const warden = await import("/pkg/full-web/warden_wasm.js");
    await warden.default();
    const { generateDpopKey, createDpopProof, jwkThumbprint, estimateClockOffset } = warden;

    // A key nobody can read, kept across page loads in IndexedDB.
    const made = await generateDpopKey({ alg });
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open("dpop", 1);
      open.onupgradeneeded = () => open.result.createObjectStore("keys");
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const store = (mode) => db.transaction("keys", mode).objectStore("keys");
    await new Promise((resolve, reject) => {
      const put = store("readwrite").put(made, alg);
      put.onsuccess = resolve;
      put.onerror = () => reject(put.error);
    });
    const pair = await new Promise((resolve, reject) => {
      const get = store("readonly").get(alg);
      get.onsuccess = () => resolve(get.result);
      get.onerror = () => reject(get.error);
    });
    db.close();

    // Log in with a proof: the token comes back bound to the key.
    const loginUrl = new URL("/login", location).href;
    const sentAt = Date.now();
    const login = await fetch(loginUrl, {
      method: "POST",
      headers: { "content-type": "application/json", DPoP: await createDpopProof(pair, { htm: "POST", htu: loginUrl }) },
      body: JSON.stringify({ username }),
    });
    const { access_token: token, token_type: tokenType } = await login.json();
    const clockOffset = estimateClockOffset({ date: login.headers.get("date"), token, sentAt, receivedAt: Date.now() });

    // Call the API through Warden with a fresh proof; then send the very same request again.
    const url = new URL("/api/orders?page=2", location).href;
    const proof = await createDpopProof(pair, { htm: "GET", htu: url, accessToken: token, clockOffset });
    const send = async (authorization, dpop) => {
      const headers = { authorization };
      if (dpop) headers.dpop = dpop;
      const r = await fetch(url, { headers, cache: "no-store" });
      return { status: r.status, body: await r.json(), challenge: r.headers.get("www-authenticate") };
    };
    const first = await send(`DPoP ${token}`, proof);
    const replay = await send(`DPoP ${token}`, proof);
    const bearer = await send(`Bearer ${token}`);
    const fresh = await send(`DPoP ${token}`, await createDpopProof(pair, { htm: "GET", htu: url, accessToken: token, clockOffset }));
    return {
      login: login.status, tokenType, token, clockOffset, first, replay, bearer, fresh,
      jkt: jwkThumbprint(pair.jwk),
      restored: { extractable: pair.privateKey.extractable, type: pair.privateKey.type, alg: pair.alg },
    };
  }, [alg, username]);
}

for (const alg of ["ES256", "EdDSA", "RS256", "PS256"]) {
  test(`Chromium, ${alg}: log in with a proof, call the API through Warden (200), the same request again is refused (dpop_replayed)`, async () => {
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const landing = await page.goto(`${base}/public/app`);
    assert.equal(landing.status(), 200);
    assert.equal(await page.evaluate(() => isSecureContext), true, "127.0.0.1 is a secure context: WebCrypto is there");

    const username = `user-${alg.toLowerCase()}`;
    const r = await inBrowser(page, alg, username);
    assert.deepEqual(r.restored, { extractable: false, type: "private", alg }, "the pair came back from IndexedDB as it went in");
    assert.equal(r.login, 200);
    assert.equal(r.tokenType, "DPoP");
    assert.equal(claimsOf(r.token).cnf.jkt, r.jkt, "the token is bound to the page's key (jwkThumbprint = cnf.jkt)");
    assert.ok(Math.abs(r.clockOffset) <= 1, `clock offset ${r.clockOffset}`);

    assert.equal(r.first.status, 200, JSON.stringify(r.first.body));
    assert.equal(r.first.body.path, "/api/orders");
    assert.equal(r.first.body.identity["x-warden-sub"], username);
    assert.equal(r.first.body.identity["x-warden-cnf"], "dpop");
    assert.equal(r.first.body.identity["x-warden-jkt"], r.jkt, "the origin saw the key's thumbprint, as jwkThumbprint computes it");

    assert.equal(r.replay.status, 401);
    assert.equal(r.replay.body.code, "dpop_replayed");
    assert.match(r.replay.challenge, /^DPoP error="invalid_dpop_proof"/);

    assert.equal(r.bearer.status, 401);
    assert.equal(r.bearer.body.code, "dpop_bound_token_as_bearer");

    assert.equal(r.fresh.status, 200, "a fresh proof is fine");
    assert.deepEqual(errors, []);
    await page.close();
  });
}
