// OpenID Connect discovery end to end (WARDEN_OIDC_DISCOVERY=on): the built worker in workerd
// (Miniflare, real local KV and Cache API) finds the token keys through the issuer's
// /.well-known/openid-configuration, served by an identity provider process on loopback whose
// issuer has a path (`http://127.0.0.1:<port>/tenant`). The demo origin signs the tokens.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startOrigin } from "./origin/server.mjs";
import { serveLoopback } from "./helpers/loopback.mjs";
import { startWarden, assertDenied } from "./helpers/warden.mjs";
import { bearer } from "./helpers/miniflare.mjs";

const DOC = "/tenant/.well-known/openid-configuration";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let idp, origin;

/**
 * The identity provider's discovery endpoint and key sets: `doc` is served at DOC (with
 * `max-age=docMaxAge`), `jwks[name]` at /keys/<name>; `hits` counts requests per path.
 * DELIBERATELY FAILING when `down` is set: DOC answers 503.
 */
async function startIdp() {
  const state = { doc: null, docMaxAge: 300, jwks: {}, hits: {}, down: false };
  const { url, close } = await serveLoopback((req, res) => {
    const path = new URL(req.url, "http://idp").pathname;
    state.hits[path] = (state.hits[path] ?? 0) + 1;
    const send = (status, body, maxAge) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": `max-age=${maxAge}` });
      res.end(JSON.stringify(body));
    };
    if (path === DOC) return state.down ? send(503, { error: "deliberately down" }, 0) : send(200, state.doc, state.docMaxAge);
    const name = path.startsWith("/keys/") && path.slice(6);
    if (name && state.jwks[name]) return send(200, state.jwks[name], 300);
    send(404, { error: "not_found" }, 0);
  });
  state.url = url;
  state.issuer = `${url}/tenant`;
  state.close = close;
  return state;
}

before(async () => {
  idp = await startIdp();
  origin = await startOrigin({ port: 0, issuer: idp.issuer });
});
after(async () => {
  await origin?.close();
  await idp?.close();
});

/** Warden with discovery on and no other token key source. */
const warden = (vars = {}) =>
  startWarden(origin, { WARDEN_JWKS: undefined, WARDEN_OIDC_DISCOVERY: "on", WARDEN_JWKS_COOLDOWN_SECONDS: "1", ...vars });
const api = (w, token) => w.fetch("http://warden.test/api/me", bearer(token));
const snapshot = () => JSON.parse(JSON.stringify(origin.jwks));

function serve(doc, { maxAge = 300 } = {}) {
  idp.doc = doc;
  idp.docMaxAge = maxAge;
  idp.down = false;
  idp.hits = {};
}

async function configErrors(w, n = 1) {
  const lines = await w.waitForAudit((e) => e.event === "config_error" && e.variable === "WARDEN_OIDC_DISCOVERY");
  assert.ok(lines.length >= n, JSON.stringify(w.audit));
  return lines;
}

test("matching issuer: the keys come from the document's jwks_uri; the document is cached", async () => {
  idp.jwks.a = snapshot();
  serve({ issuer: idp.issuer, jwks_uri: `${idp.url}/keys/a`, authorization_endpoint: `${idp.url}/authorize` });
  const w = await warden();
  try {
    for (let i = 0; i < 3; i++) {
      const r = await api(w, await origin.issue({ sub: "dora" }));
      assert.equal(r.status, 200, await r.text());
    }
    assert.equal(idp.hits[DOC], 1, "the document fetched once");
    assert.equal(idp.hits["/keys/a"], 1, "the JWKS fetched once");
    assert.equal(origin.requests.get("/.well-known/jwks.json") ?? 0, 0, "no other key source");
  } finally {
    await w.dispose();
  }
});

test("a document that does not match: 503 config_error, audited, never a fallback", async () => {
  idp.jwks.a = snapshot();
  const cases = [
    ["another issuer", { issuer: `${idp.url}/other`, jwks_uri: `${idp.url}/keys/a` }, /is not WARDEN_ISSUER/],
    ["the issuer with a trailing slash", { issuer: `${idp.issuer}/`, jwks_uri: `${idp.url}/keys/a` }, /is not WARDEN_ISSUER/],
    ["jwks_uri over plain http to a public host", { issuer: idp.issuer, jwks_uri: "http://id.example/keys" }, /jwks_uri.*https/],
    ["no jwks_uri", { issuer: idp.issuer }, /no jwks_uri/],
  ];
  for (const [name, doc, reason] of cases) {
    serve(doc);
    const w = await warden();
    const forwarded = origin.requests.get("/api/me") ?? 0;
    try {
      const token = await origin.issue({ sub: "eve" });
      const body = await assertDenied(assert, await api(w, token), 503, "config_error");
      assert.equal(body.error, "temporarily_unavailable", name);
      const [line] = await configErrors(w);
      assert.match(line.reason, reason, name);
      assert.ok(w.audit.some((e) => e.event === "deny" && e.code === "config_error"), name);
      assert.equal(idp.hits["/keys/a"] ?? 0, 0, `${name}: no key fetched`);
      assert.equal(origin.requests.get("/api/me") ?? 0, forwarded, `${name}: nothing forwarded`);
    } finally {
      await w.dispose();
    }
  }
});

test("discovery endpoint down: 503 config_error; once it is back, the next request after the cooldown passes", async () => {
  idp.jwks.a = snapshot();
  serve({ issuer: idp.issuer, jwks_uri: `${idp.url}/keys/a` });
  idp.down = true; // DELIBERATELY FAILING
  const w = await warden();
  try {
    const token = await origin.issue({ sub: "finn" });
    await assertDenied(assert, await api(w, token), 503, "config_error");
    const [line] = await configErrors(w);
    assert.match(line.reason, /503/);
    // Within the cooldown the endpoint is not asked again.
    await assertDenied(assert, await api(w, token), 503, "config_error");
    assert.equal(idp.hits[DOC], 1);
    idp.down = false;
    await sleep(1100);
    assert.equal((await api(w, token)).status, 200);
  } finally {
    await w.dispose();
  }
});

test("the document moves its jwks_uri: new keys picked up on an unknown kid, and after the cache period", async () => {
  idp.jwks.a = snapshot();
  serve({ issuer: idp.issuer, jwks_uri: `${idp.url}/keys/a` }, { maxAge: 300 });
  const w = await warden();
  try {
    const old = await origin.issue({ sub: "gus" });
    assert.equal((await api(w, old)).status, 200);
    // The provider rotates to a new key published only at /keys/b, and says so in its document.
    await origin.rotate({ retire: true });
    idp.jwks.b = snapshot();
    idp.doc = { issuer: idp.issuer, jwks_uri: `${idp.url}/keys/b` };
    await sleep(1100); // the cooldown
    const fresh = await origin.issue({ sub: "gus" });
    assert.equal((await api(w, fresh)).status, 200, "unknown kid: the document asked again, the new set found");
    assert.equal(idp.hits[DOC], 2);
    assert.equal(idp.hits["/keys/b"], 1);
    await assertDenied(assert, await api(w, old), 401, "token_unknown_key");
  } finally {
    await w.dispose();
  }

  // The cache period: the document lives 1 s; a token of a key only the old set had is refused
  // once the new document is adopted, without any unknown kid to trigger it.
  await origin.rotate({ retire: true });
  idp.jwks.c = snapshot();
  serve({ issuer: idp.issuer, jwks_uri: `${idp.url}/keys/c` }, { maxAge: 1 });
  const w2 = await warden();
  try {
    const token = await origin.issue({ sub: "hana" });
    assert.equal((await api(w2, token)).status, 200);
    await origin.rotate({ retire: true });
    idp.jwks.d = snapshot();
    idp.doc = { issuer: idp.issuer, jwks_uri: `${idp.url}/keys/d` };
    await sleep(2100);
    assert.equal((await api(w2, await origin.issue({ sub: "hana" }))).status, 200, "new keys after the cache period");
    await assertDenied(assert, await api(w2, token), 401, "token_unknown_key");
    // Twice, or three times when the last request came over a second after the adoption.
    assert.ok(idp.hits[DOC] >= 2 && idp.hits[DOC] <= 3, `${idp.hits[DOC]}`);
  } finally {
    await w2.dispose();
  }
});

test("configuration: anything but on/off, or another token key source next to discovery, is a config error", async () => {
  for (const vars of [
    { WARDEN_OIDC_DISCOVERY: "yes" },
    { WARDEN_JWKS: JSON.stringify(origin.jwks) },
    { WARDEN_JWKS_URL: origin.jwksUrl },
    { WARDEN_ISSUER: "http://id.example/tenant" },
  ]) {
    const w = await warden(vars);
    try {
      const r = await api(w, await origin.issue({ sub: "ivy" }));
      assert.equal(r.status, 500, JSON.stringify(vars));
      const [line] = await w.waitForAudit((e) => e.event === "config_error");
      assert.ok(line, JSON.stringify(vars));
    } finally {
      await w.dispose();
    }
  }
});
