// Run by Deno and Bun inside a project that installed warden-wasm (tests/npm-runtimes.test.mjs):
// imports the package as their users would, and prints what it answers as one line of JSON.
// Input (one argument, JSON): { jwks, good, bad, options }.
import { decode, inspect } from "warden-wasm/lite";
import { verify, KeySet } from "warden-wasm/full";

const args = globalThis.Deno ? globalThis.Deno.args : process.argv.slice(2);
const { jwks, good, bad, options } = JSON.parse(args[0]);
const keys = new KeySet(jwks);
const out = {
  runtime: globalThis.Deno ? `deno ${globalThis.Deno.version.deno}` : `bun ${globalThis.Bun.version}`,
  sub: decode(good).claims.sub,
  expired: inspect(good).expired,
  good: await verify(good, jwks, options),
  again: await keys.verify(good, options),
  bad: await keys.verify(bad, options),
};
keys.free();
console.log(JSON.stringify(out));
