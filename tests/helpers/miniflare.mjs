// Runs the built worker (build/index.js, from `make build`) in workerd through Miniflare,
// with real local KV, in front of a real origin.
import { Miniflare } from "miniflare";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const ADMIN_TOKEN = "test-admin-token-0123456789";

/** Starts the worker with bindings for `origin` (see tests/origin/server.mjs); `vars` override. */
export async function startWorker(origin, vars = {}, extra = {}) {
  const script = `${ROOT}/build/index.js`;
  if (!existsSync(script)) throw new Error(`${script} is missing: run 'make build' first`);
  const bindings = {
    WARDEN_ORIGIN: origin.url,
    WARDEN_JWKS: JSON.stringify(origin.jwks),
    WARDEN_ISSUER: origin.issuer,
    WARDEN_AUDIENCE: origin.audience,
    WARDEN_ADMIN_TOKEN: ADMIN_TOKEN,
    ...vars,
  };
  for (const [k, v] of Object.entries(bindings)) if (v === undefined) delete bindings[k];
  const mf = new Miniflare({
    modules: true,
    scriptPath: script,
    modulesRoot: `${ROOT}/build`,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-09-01",
    kvNamespaces: ["WARDEN_KV"],
    // Subject cutoffs go through this Durable Object class (worker/src/subject.rs).
    durableObjects: { WARDEN_SESSIONS: { className: "WardenSessions", useSQLite: true } },
    bindings,
    ...extra,
  });
  await mf.ready;
  return mf;
}

/** `fetch` through the worker with a bearer token. */
export function bearer(token, init = {}) {
  return { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` } };
}
