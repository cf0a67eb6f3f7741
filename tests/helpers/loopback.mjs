// A test server of our own on 127.0.0.1 (an identity provider, a transmitter): listens on a free
// port and gives its base URL and a close() that also drops connections left hanging.
import { createServer } from "node:http";

/** Starts `handler` on 127.0.0.1: `{ url, close }`. */
export async function serveLoopback(handler) {
  const server = createServer(handler);
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((r) => {
        server.close(r);
        server.closeAllConnections();
      }),
  };
}
