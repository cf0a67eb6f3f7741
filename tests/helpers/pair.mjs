// Two Warden workers (the built worker, build/) in one workerd (Miniflare), each its own
// isolate, sharing one KV namespace and one Durable Object namespace: worker "b" binds worker
// "a"'s `WardenSessions` class, so both talk to the same objects (the `revlog` object among
// them). Worker "b"'s KV binding is a COUNTING WRAPPER: a wrapped binding that forwards every
// call to the same real local namespace and reports the operation and the key's prefix
// (`get/rv:`, `get/rvf:delta`, `list/rv:` …) to a counter worker; nothing is emulated. Used by
// tests/worker-filter.test.mjs and scripts/bench-revocations.mjs.
import { Miniflare } from "miniflare";
import { ADMIN_TOKEN, builtWorker, wardenBindings } from "./miniflare.mjs";
import { COUNTER } from "./warden.mjs";

const URL_ = "http://warden.test";

const WRAPPER = `
export default function (env) {
  const inner = env.INNER;
  const prefix = (key) => (key.startsWith("rvf:") ? key : key.split(":")[0] + ":");
  const op = (name, key) => env.COUNTER.fetch("http://counter/op/" + name + "/" + encodeURIComponent(key ?? ""), { method: "POST" });
  return {
    async get(key, options) { await op("get", prefix(key)); return inner.get(key, options); },
    async getWithMetadata(key, options) { await op("get", prefix(key)); return inner.getWithMetadata(key, options); },
    async list(options) { await op("list", options?.prefix); return inner.list(options); },
    async put(key, value, options) { await op("put", prefix(key)); return inner.put(key, value, options); },
    async delete(key) { await op("delete", prefix(key)); return inner.delete(key); },
  };
}
`;


const INSPECTOR = `export default { fetch() { return new Response("inspector"); } };`;

/**
 * Workers "a" (writes) and "b" (reads, KV counted) in front of `origin`, with
 * `WARDEN_REVOCATION_FILTER=on` and `WARDEN_SNAPSHOT_SECONDS=1` unless `vars` says otherwise.
 * `admin(path, body)` posts to "a"'s admin API; `health(w)` and `get(w, token)` go to either.
 * `audit` holds the audit lines `keep` accepts (all by default; a benchmark writing a million
 * revocations keeps only what it reads).
 */
export async function startPair(origin, vars = {}, { keep = () => true } = {}) {
  const bindings = wardenBindings(origin, {
    WARDEN_REVOCATION_FILTER: "on",
    WARDEN_SNAPSHOT_SECONDS: "1",
    ...vars,
  });
  const workers = [
    {
      name: "a",
      ...builtWorker(),
      bindings,
      kvNamespaces: { WARDEN_KV: "shared-kv" },
      durableObjects: { WARDEN_SESSIONS: { className: "WardenSessions", useSQLite: true } },
    },
    {
      name: "b",
      ...builtWorker(),
      bindings,
      wrappedBindings: { WARDEN_KV: { scriptName: "kv-wrapper" } },
      durableObjects: { WARDEN_SESSIONS: { className: "WardenSessions", scriptName: "a", useSQLite: true } },
    },
    { name: "kv-wrapper", modules: true, script: WRAPPER, kvNamespaces: { INNER: "shared-kv" }, serviceBindings: { COUNTER: "kv-counter" } },
    { name: "kv-counter", modules: true, script: COUNTER, compatibilityDate: "2025-09-01" },
    { name: "kv-inspector", modules: true, script: INSPECTOR, compatibilityDate: "2025-09-01", kvNamespaces: { KV: "shared-kv" } },
  ];
  const all = [];
  const mf = new Miniflare({
    workers,
    handleStructuredLogs: ({ message }) => {
      for (const line of message.split("\n")) {
        try {
          const event = JSON.parse(line);
          if (event?.warden === "audit" && keep(event)) all.push(event);
        } catch {
          // not an audit line
        }
      }
    },
  });
  await mf.ready;
  const a = await mf.getWorker("a");
  const b = await mf.getWorker("b");
  const counter = async (path) => (await (await mf.getWorker("kv-counter")).fetch(`http://counter${path}`)).json();
  const call = (w, path, init = {}) =>
    w.fetch(`${URL_}${path}`, {
      method: "POST",
      ...init,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", ...(init.headers ?? {}) },
    });
  return {
    mf,
    a,
    b,
    audit: all,
    kv: () => mf.getKVNamespace("KV", "kv-inspector"),
    counts: () => counter("/counts"),
    resetCounts: () => counter("/reset"),
    admin: (path, body) => call(a, path, { body: JSON.stringify(body) }),
    health: async (w) => (await call(w, "/_warden/health", { method: "GET" })).json(),
    get: (w, token) => w.fetch(`${URL_}/api`, { headers: { authorization: `Bearer ${token}` } }),
    dispose: () => mf.dispose(),
  };
}

