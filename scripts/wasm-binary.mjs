// The little of the wasm binary format that the build's two rewrites need
// (scripts/strip-wasm-exports.mjs, scripts/minify-wasm-imports.mjs): sections, LEB128 numbers,
// names, import descriptions. Every read past the end throws `WasmError` ("truncated").

export class WasmError extends Error {}

function need(buf, at) {
  if (at > buf.length) throw new WasmError("truncated");
}

/** The unsigned LEB128 number at `at`, and where it ends. */
export function leb(buf, at) {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    need(buf, at + 1);
    byte = buf[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (shift > 63) throw new WasmError(`bad LEB128 before byte ${at}`);
  } while (byte & 0x80);
  return [value, at];
}

/** `value` as unsigned LEB128. */
export function encodeLeb(value) {
  const bytes = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0);
  return Buffer.from(bytes);
}

/** The name (length-prefixed UTF-8) at `at`, and where it ends. */
export function name(buf, at) {
  const [len, start] = leb(buf, at);
  need(buf, start + len);
  return [buf.subarray(start, start + len).toString("utf8"), start + len];
}

/** `text` as a wasm name. */
export function encodeName(text) {
  const bytes = Buffer.from(text, "utf8");
  return Buffer.concat([encodeLeb(bytes.length), bytes]);
}

// A value or reference type: one byte, or 0x63/0x64 and a heap type (a signed LEB128, skipped
// as its bytes).
function skipType(buf, at) {
  need(buf, at + 1);
  const b = buf[at++];
  return b === 0x63 || b === 0x64 ? leb(buf, at)[1] : at;
}

function skipLimits(buf, at) {
  need(buf, at + 1);
  const flags = buf[at++];
  at = leb(buf, at)[1];
  return flags & 1 ? leb(buf, at)[1] : at;
}

/** Past the import description at `at`: 0 function (type index), 1 table (reftype, limits),
 * 2 memory (limits), 3 global (valtype, mutability), 4 tag (attribute, type index). */
export function skipImport(buf, at) {
  need(buf, at + 1);
  const kind = buf[at++];
  switch (kind) {
    case 0: return leb(buf, at)[1];
    case 1: return skipLimits(buf, skipType(buf, at));
    case 2: return skipLimits(buf, at);
    case 3: {
      const mutability = skipType(buf, at);
      need(buf, mutability + 1);
      return mutability + 1;
    }
    case 4: return leb(buf, at + 1)[1];
    default: throw new WasmError(`import of unknown kind ${kind}`);
  }
}

/** The module's sections in order: `{ id, start, body, end }` (`start` at the id byte, `body`
 * after the size). Throws when `wasm` is not a wasm module or a section runs past its end. */
export function sections(wasm) {
  if (wasm.length < 8 || wasm.readUInt32LE(0) !== 0x6d736100 || wasm.readUInt32LE(4) !== 1) {
    throw new WasmError("not a wasm module");
  }
  const out = [];
  for (let at = 8; at < wasm.length; ) {
    const start = at;
    const id = wasm[at++];
    const [size, body] = leb(wasm, at);
    const end = body + size;
    if (end > wasm.length) throw new WasmError(`truncated section at byte ${start}`);
    out.push({ id, start, body, end });
    at = end;
  }
  return out;
}
