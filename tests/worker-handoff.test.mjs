// The hand-off of WebCrypto promises between a decision and the entry module (worker/src/
// handoff.rs, edge.rs `warden_resume`), driven from a harness module in workerd (Miniflare) that
// imports the built workers-rs module (build/warden.js) and calls its exports as the entry
// module does, with real tokens from the demo origin. What the entry module itself does with
// them is covered by every test of a token not seen before (tests/worker-*.test.mjs).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { Miniflare } from "miniflare";
import { startOrigin } from "./origin/server.mjs";
import { ROOT, wardenBindings } from "./helpers/miniflare.mjs";

// Each route takes tokens as `authorization` headers (`a`, `b`) and answers what it saw, as JSON.
const HARNESS = `
import WardenRs from "./warden.js";
export { WardenSessions } from "./warden.js";
const rs = WardenRs.prototype;
const decide = (env, ctx, token) =>
  rs.warden_decide(env, ctx, "GET", "https://warden.test/api", "Bearer " + token, null, false, "authorization", null, () => null);
const show = (v) => (Array.isArray(v) ? "handoff" : typeof v === "string" ? "plan:" + v.split("\\n")[0] : v instanceof Response ? "response:" + v.status : typeof v?.then === "function" ? "promise" : typeof v);
// Drives an answer to its end as the entry module does.
async function finish(v) {
  while (Array.isArray(v)) {
    let ok = true, value;
    try { value = await v[0]; } catch (e) { ok = false; value = e; }
    v = rs.warden_resume(v, ok, value);
  }
  return typeof v?.then === "function" ? await v : v;
}
const refused = (f) => { try { f(); return "accepted"; } catch (e) { return "refused: " + (e?.message ?? e); } };
export default {
  async fetch(request, env, ctx) {
    const a = request.headers.get("a"), b = request.headers.get("b");
    const path = new URL(request.url).pathname;
    const out = {};
    if (path === "/warm") {
      out.first = show(decide(env, ctx, a));
      out.end = show(await finish(decide(env, ctx, a)));
    } else if (path === "/wrong-promise") {
      const handed = decide(env, ctx, a);
      out.handed = show(handed);
      const settled = await handed[0];
      // The same index with another promise: refused, and the decision still waits.
      out.other = refused(() => rs.warden_resume([Promise.resolve(true), handed[1]], true, true));
      out.missing = refused(() => rs.warden_resume([handed[0], 999999], true, true));
      out.end = show(await finish(rs.warden_resume(handed, true, settled)));
      // Done: the index answers no more.
      out.again = refused(() => rs.warden_resume(handed, true, settled));
    } else if (path === "/rejected") {
      const handed = decide(env, ctx, a);
      out.handed = show(handed);
      await handed[0];
      out.end = show(await finish(rs.warden_resume(handed, false, new Error("verify failed"))));
    } else if (path === "/false") {
      const handed = decide(env, ctx, a);
      await handed[0];
      out.end = show(await finish(rs.warden_resume(handed, true, false)));
    } else if (path === "/two") {
      // Two decisions out at once, answered in the other order: each gets its own.
      const ha = decide(env, ctx, a), hb = decide(env, ctx, b);
      out.handed = [show(ha), show(hb)];
      const [va, vb] = await Promise.all([ha[0], hb[0]]);
      out.b = show(await finish(rs.warden_resume(hb, true, vb)));
      out.a = show(await finish(rs.warden_resume(ha, true, va)));
    } else if (path === "/full") {
      // More decisions out at once than the isolate holds (edge.rs SUSPENDED_MAX, 1,024): the
      // one past it awaits its promise in a task instead; a slot freed is used again.
      const tokens = (await request.text()).split("\\n");
      const last = tokens.pop(), over = tokens.pop();
      const held = tokens.map((t) => decide(env, ctx, t));
      out.held = [...new Set(held.map(show))];
      const beyond = decide(env, ctx, over);
      out.over = show(beyond);
      out.overEnd = show(await finish(beyond));
      out.heldEnds = [...new Set((await Promise.all(held.map(finish))).map(show))];
      const again = decide(env, ctx, last);
      out.after = show(again);
      out.afterEnd = show(await finish(again));
    }
    return Response.json(out);
  },
};
`;

let origin, mf;

before(async () => {
  for (const f of ["warden.js", "index_bg.wasm"]) {
    if (!existsSync(`${ROOT}/build/${f}`)) throw new Error(`build/${f} is missing: run 'make build' first`);
  }
  origin = await startOrigin({ port: 0 });
  mf = new Miniflare({
    modules: [
      { type: "ESModule", path: `${ROOT}/build/handoff-harness.mjs`, contents: HARNESS },
      { type: "ESModule", path: `${ROOT}/build/warden.js` },
      { type: "CompiledWasm", path: `${ROOT}/build/index_bg.wasm` },
    ],
    modulesRoot: `${ROOT}/build`,
    compatibilityDate: "2025-09-01",
    kvNamespaces: ["WARDEN_KV"],
    durableObjects: { WARDEN_SESSIONS: { className: "WardenSessions", useSQLite: true } },
    bindings: wardenBindings(origin),
  });
  await mf.ready;
  // The first token of a key imports the key (awaited in Rust, a Promise); later ones hand off.
  const warm = await call("/warm", await origin.issue({ sub: "warm" }));
  assert.equal(warm.first, "promise", "a key's first use imports it: a Promise");
  assert.equal(warm.end, "plan:0", "the same token again, after the import: forwarded");
});
after(async () => {
  await mf?.dispose();
  await origin?.close();
});

async function call(path, a, b, body) {
  const headers = { a };
  if (b) headers.b = b;
  const init = body === undefined ? { headers } : { method: "POST", headers, body };
  const r = await mf.dispatchFetch(`http://harness.test${path}`, init);
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}

test("a new token's signature check is handed out, and only its own promise resumes it", async () => {
  const out = await call("/wrong-promise", await origin.issue({ sub: "alice" }));
  assert.equal(out.handed, "handoff");
  assert.match(out.other, /^refused: .*no decision waits for this promise/);
  assert.match(out.missing, /^refused: /);
  assert.equal(out.end, "plan:0", "resumed with its own promise: forwarded, not replayable (it waited)");
  assert.match(out.again, /^refused: /, "an index answers once");
});

test("a rejected or non-true verification refuses the token (401)", async () => {
  assert.deepEqual(await call("/rejected", await origin.issue({ sub: "bob" })), { handed: "handoff", end: "response:401" });
  assert.deepEqual(await call("/false", await origin.issue({ sub: "carol" })), { end: "response:401" });
});

test("two decisions out at once each get their own answer", async () => {
  const good = await origin.issue({ sub: "dave" });
  const [h, p, s] = (await origin.issue({ sub: "erin" })).split(".");
  // Another r: well-formed, the wrong signature.
  const forged = `${h}.${p}.${s.startsWith("AAAA") ? "BBBB" : "AAAA"}${s.slice(4)}`;
  const out = await call("/two", good, forged);
  assert.deepEqual(out.handed, ["handoff", "handoff"]);
  assert.equal(out.b, "response:401", "the forged signature, answered first: refused");
  assert.equal(out.a, "plan:0", "the good one: forwarded");
});

test("beyond 1,024 decisions out at once, a decision waits in a task, and slots are used again", async () => {
  const SUSPENDED_MAX = 1024; // worker/src/edge.rs
  const tokens = [];
  for (let i = 0; i < SUSPENDED_MAX + 2; i++) tokens.push(await origin.issue({ sub: `full-${i}` }));
  const out = await call("/full", "unused", undefined, tokens.join("\n"));
  assert.deepEqual(out.held, ["handoff"], "the first 1,024 are each handed out");
  assert.equal(out.over, "promise", "the 1,025th goes on in a task: a Promise, not a hand-off");
  assert.equal(out.overEnd, "plan:0", "and its promise brings the verdict: forwarded");
  assert.deepEqual(out.heldEnds, ["plan:0"], "every held decision resumes to its own verdict");
  assert.equal(out.after, "handoff", "once they are answered, a new decision is handed out again");
  assert.equal(out.afterEnd, "plan:0");
});
