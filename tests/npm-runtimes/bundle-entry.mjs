// The entry tests/npm-runtimes.test.mjs bundles with esbuild (platform "browser"), as a web app
// would: the full web build, its wasm bytes inlined by esbuild's `binary` loader and handed to
// `init` (the bundler build instead imports the .wasm as an ES module, which esbuild cannot
// bundle). Exports one function that verifies a token against a JWKS.
import init, { KeySet, decode } from "warden-wasm/full/web";
import bytes from "warden-wasm/full/web/warden_wasm_bg.wasm";

export async function check(token, jwks, options) {
  await init({ module_or_path: bytes });
  const keys = new KeySet(jwks);
  return { header: decode(token).header, result: await keys.verify(token, options) };
}
