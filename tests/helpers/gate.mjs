// For the request-shape tests (tests/worker-gate.test.mjs): an origin that records every request
// exactly as it arrived (raw target, raw header lines), and a raw HTTP/1.1 client that sends a
// path and header lines to the worker byte for byte — no WHATWG URL parsing, no header merging
// on the client side.
import { createServer, request } from "node:http";

/**
 * A recording origin on 127.0.0.1. `seen`: one entry per request, in order:
 * { method, target (the raw request-target), headers: [[name, value], ...] as received }.
 * It answers 200 with that entry as JSON.
 */
export async function startRecorder() {
  const seen = [];
  const server = createServer((req, res) => {
    const headers = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
    const entry = { method: req.method, target: req.url, headers };
    seen.push(entry);
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(entry));
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  };
}

/** The values of header `name` (any case) among a recorded request's header lines. */
export function headerValues(entry, name) {
  return entry.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

/**
 * Sends `GET <path>` (or `method`) to `base` (the worker's loopback URL) with `path` as the
 * request-target byte for byte and `headers` as header lines in order ([[name, value], ...];
 * repeated names stay separate lines). Resolves to a fetch `Response`.
 */
export function rawFetch(base, path, { method = "GET", headers = [], body } = {}) {
  const { hostname, port } = new URL(base);
  const lines = [["host", "warden.test"], ...headers];
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers: lines.flat(), setHost: false, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const h = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
        const status = res.statusCode;
        const text = Buffer.concat(chunks);
        resolve(new Response([101, 204, 205, 304].includes(status) ? null : text, { status, headers: h }));
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
