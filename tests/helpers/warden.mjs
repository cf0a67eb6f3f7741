// Warden in workerd (Miniflare) with instruments around its KV binding, for the store, admin
// and PAT tests. The worker under test is the release build (build/index.js), unchanged.
//
// `kv` chooses what the worker's WARDEN_KV binding is:
//   "plain"    — a real Miniflare KV namespace, as in tests/helpers/miniflare.mjs.
//   "counting" — COUNTING WRAPPER: a Miniflare wrapped binding that forwards every call to the
//                same real local KV namespace and reports each operation (get, getWithMetadata,
//                list, put, delete) to a counter worker. Nothing is emulated: only counted.
//   { fail: ["list", ...] | "all" } — DELIBERATELY FAILING BINDING: the same wrapper, but the
//                named operations throw (a KV outage); the others reach the real namespace.
//   { listLagMs: n } — LAGGING LIST: the same wrapper, but `list` leaves out keys this worker
//                wrote less than n ms ago, as KV's listings may lag behind its writes.
// Tests see the namespace itself through `kv()` (a separate inspector worker bound to the same
// namespace id), the counts through `counts()` / `resetCounts()`, and every audit line the
// worker logged through `audit` (parsed JSON, in order).
import { Miniflare } from "miniflare";
import { ADMIN_TOKEN, builtWorker, wardenBindings } from "./miniflare.mjs";

const NAMESPACE = "warden-kv-under-test";

const WRAPPER = `
// Returns the object the Warden worker sees as env.WARDEN_KV.
export default function (env) {
  const inner = env.INNER;
  const failing = new Set(env.FAIL === "all" ? ["get", "getWithMetadata", "list", "put", "delete"] : env.FAIL);
  const written = new Map(); // key -> when this worker last wrote it (for LIST_LAG_MS)
  async function op(name) {
    if (failing.has(name)) throw new Error("deliberately failing KV binding (test): " + name);
    await env.COUNTER.fetch("http://counter/op/" + name, { method: "POST" });
  }
  return {
    async get(key, options) { await op("get"); return inner.get(key, options); },
    async getWithMetadata(key, options) { await op("getWithMetadata"); return inner.getWithMetadata(key, options); },
    async list(options) {
      await op("list");
      const page = await inner.list(options);
      if (!env.LIST_LAG_MS) return page;
      const now = Date.now();
      return { ...page, keys: page.keys.filter((k) => !(now - (written.get(k.name) ?? -Infinity) < env.LIST_LAG_MS)) };
    },
    async put(key, value, options) { await op("put"); written.set(key, Date.now()); return inner.put(key, value, options); },
    async delete(key) { await op("delete"); return inner.delete(key); },
  };
}
`;

/** A worker counting what is POSTed to /op/<name> (the name URI-decoded); GET answers the counts, /reset empties them. */
export const COUNTER = `
let counts = {};
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/op/")) {
      const op = decodeURIComponent(url.pathname.slice(4));
      counts[op] = (counts[op] ?? 0) + 1;
      return new Response("ok");
    }
    if (url.pathname === "/reset") counts = {};
    return Response.json(counts);
  },
};
`;

const INSPECTOR = `export default { fetch() { return new Response("inspector"); } };`;

/**
 * Starts Warden in front of `origin`. See the file comment for `kv`. `persist`: a directory
 * where KV and Durable Object storage live on disk, so a second Warden started on it sees the
 * first one's state with none of its memory (object eviction, made certain).
 */
export async function startWarden(origin, vars = {}, { kv = "plain", persist = null } = {}) {
  const bindings = wardenBindings(origin, vars);

  const wrapped = kv !== "plain";
  const fail = (typeof kv === "object" && kv.fail) || [];
  const listLagMs = (typeof kv === "object" && kv.listLagMs) || 0;
  const warden = {
    name: "warden",
    ...builtWorker(),
    durableObjects: { WARDEN_SESSIONS: { className: "WardenSessions", useSQLite: true } },
    bindings,
    ...(wrapped
      ? { wrappedBindings: { WARDEN_KV: { scriptName: "kv-wrapper", bindings: { FAIL: fail, LIST_LAG_MS: listLagMs } } } }
      : { kvNamespaces: { WARDEN_KV: NAMESPACE } }),
  };
  const workers = [
    warden,
    { name: "kv-inspector", modules: true, script: INSPECTOR, compatibilityDate: "2025-09-01", kvNamespaces: { KV: NAMESPACE } },
  ];
  if (wrapped) {
    workers.push(
      {
        name: "kv-wrapper",
        modules: true,
        script: WRAPPER,
        kvNamespaces: { INNER: NAMESPACE },
        serviceBindings: { COUNTER: "kv-counter" },
      },
      { name: "kv-counter", modules: true, script: COUNTER, compatibilityDate: "2025-09-01" },
    );
  }
  const audit = [];
  const logs = [];
  const mf = new Miniflare({
    workers,
    ...(persist ? { kvPersist: `${persist}/kv`, durableObjectsPersist: `${persist}/do` } : {}),
    handleStructuredLogs: ({ message }) => {
      logs.push(message);
      for (const line of message.split("\n")) {
        try {
          const event = JSON.parse(line);
          if (event?.warden === "audit") audit.push(event);
        } catch {
          // not an audit line
        }
      }
    },
  });
  const url = await mf.ready; // the entry worker's loopback address

  const counter = async (path) => {
    const w = await mf.getWorker("kv-counter");
    return (await w.fetch(`http://counter${path}`)).json();
  };
  return {
    mf,
    url,
    audit,
    logs,
    fetch: (url, init) => mf.dispatchFetch(url, init),
    kv: () => mf.getKVNamespace("KV", "kv-inspector"),
    counts: () => counter("/counts"),
    resetCounts: () => counter("/reset"),
    /** Waits until an audit line matching `pred` arrives (logs travel through workerd's stdout). */
    async waitForAudit(pred, ms = 3000) {
      const end = Date.now() + ms;
      for (;;) {
        const found = audit.filter(pred);
        if (found.length) return found;
        if (Date.now() > end) return [];
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    dispose: () => mf.dispose(),
  };
}

/** Admin API call through `w` (POST JSON by default). */
export function admin(w, path, init = {}) {
  return w.fetch(`http://warden.test${path}`, {
    method: "POST",
    ...init,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", ...(init.headers ?? {}) },
  });
}

/** Waits until the next whole Unix second has begun (tokens carry 1-second `iat`). */
export async function nextSecond() {
  const now = Date.now();
  await new Promise((r) => setTimeout(r, 1000 - (now % 1000) + 20));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function claimsOf(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url"));
}

export async function assertDenied(assert, resp, status, code) {
  assert.equal(resp.status, status);
  assert.equal(resp.headers.get("cache-control"), "no-store");
  const body = await resp.json();
  assert.equal(body.code, code, JSON.stringify(body));
  return body;
}
