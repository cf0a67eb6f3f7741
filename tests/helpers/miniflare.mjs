// Runs the built worker (build/index.js, from `make build`) in workerd through Miniflare,
// with real local KV, in front of a real origin.
import { Miniflare } from "miniflare";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const ADMIN_TOKEN = "test-admin-token-0123456789";

/** The built worker as a Miniflare worker definition (fails loudly when it was not built). */
export function builtWorker() {
  const script = `${ROOT}/build/index.js`;
  if (!existsSync(script)) throw new Error(`${script} is missing: run 'make build' first`);
  return {
    modules: true,
    scriptPath: script,
    modulesRoot: `${ROOT}/build`,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-09-01",
  };
}

/** Warden's variables for `origin` (see tests/origin/server.mjs); `vars` override, `undefined` unsets. */
export function wardenBindings(origin, vars = {}) {
  const bindings = {
    WARDEN_ORIGIN: origin.url,
    WARDEN_JWKS: JSON.stringify(origin.jwks),
    WARDEN_ISSUER: origin.issuer,
    WARDEN_AUDIENCE: origin.audience,
    WARDEN_ADMIN_TOKEN: ADMIN_TOKEN,
    ...vars,
  };
  for (const [k, v] of Object.entries(bindings)) if (v === undefined) delete bindings[k];
  return bindings;
}

/** Starts the worker with bindings for `origin`; `vars` override. */
export async function startWorker(origin, vars = {}, extra = {}) {
  const bindings = wardenBindings(origin, vars);
  const mf = new Miniflare({
    ...builtWorker(),
    kvNamespaces: ["WARDEN_KV"],
    // Subject cutoffs go through this Durable Object class (worker/src/subject.rs).
    durableObjects: { WARDEN_SESSIONS: { className: "WardenSessions", useSQLite: true } },
    bindings,
    ...extra,
  });
  await mf.ready;
  return mf;
}

/**
 * Starts the test build (build-bench/, from `scripts/bench-worker.sh --build-only`: the worker
 * with the test-only `/__warden/` routes that expose internal counters) with bindings for
 * `origin`; fails loudly when it was not built.
 */
export async function startTestBuild(origin, vars = {}) {
  const dir = `${ROOT}/build-bench`;
  if (!existsSync(`${dir}/index.js`)) throw new Error("build-bench/ is missing: run scripts/bench-worker.sh --build-only");
  return startWorker(origin, vars, { scriptPath: `${dir}/index.js`, modulesRoot: dir });
}

/** `fetch` through the worker with a bearer token. */
export function bearer(token, init = {}) {
  return { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` } };
}
