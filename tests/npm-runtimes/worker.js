// A plain JavaScript worker (modules syntax, no bundler, no TypeScript) that guards its routes
// with warden-wasm's full web build — what a user writes for workerd (Cloudflare) and, with the
// same Web APIs, for other edge runtimes. tests/npm-runtimes.test.mjs copies it next to the
// installed package (hence the paths into node_modules) and runs it in workerd: the .js files as
// ES modules, the .wasm as a compiled WebAssembly.Module (no code generation at run time).
import { initSync, KeySet } from "./node_modules/warden-wasm/full-web/warden_wasm.js";
import wasm from "./node_modules/warden-wasm/full-web/warden_wasm_bg.wasm";

initSync({ module: wasm });

let keys;

export default {
  async fetch(request, env) {
    keys ??= new KeySet(env.JWKS);
    const token = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
    if (!token) return Response.json({ code: "token_missing" }, { status: 401 });
    const result = await keys.verify(token, { issuer: env.ISSUER, audience: env.AUDIENCE, algorithms: ["ES256"] });
    if (!result.valid) return Response.json({ code: result.error.code }, { status: 401 });
    return Response.json({ sub: result.claims.sub });
  },
};
