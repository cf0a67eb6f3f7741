// The example page (wasm-pkg/examples/browser) in real headless Chromium, driven by playwright-core:
// served on 127.0.0.1 by its own server, the page loads warden-wasm's full web build; we paste a
// token and read the countdowns and the verdict off the screen (ES256, verified by Chromium's
// WebCrypto: `await keys.verify(...)`), then fetch one through the page. And with --warden, the
// page opened through Warden (the built worker in Miniflare) logs in with a DPoP key and shows the
// API call served and the very same request refused as a replay.
// Needs Debian's chromium (make setup) and, for --warden, the built worker (make build); set
// CHROMIUM to use another binary. Screenshots: test-results/npm-example*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { assertBuilt } from "../wasm-pkg/tests/js/install.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

let server;
let base;
let context;
let profile;

/** Starts the example server with `args`: `{ child, url }`, the URL it prints once listening. */
async function startExample(...args) {
  const child = spawn(process.execPath, [join(ROOT, "wasm-pkg/examples/browser/server.mjs"), "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+\/\S*)/);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`example server exited (${code})`)));
    setTimeout(() => reject(new Error("example server did not start")), 20_000);
  });
  return { child, url };
}

const stop = (child) => {
  if (child && child.exitCode === null) child.kill("SIGTERM");
};

before(async () => {
  assertBuilt();
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run make setup (or set CHROMIUM)`);
  ({ child: server, url: base } = await startExample());
  profile = mkdtempSync(join(tmpdir(), "warden-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
  });
});

after(async () => {
  await context?.close();
  stop(server);
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** "1 min 29 s" or "29 s" as seconds. */
function secondsOf(text) {
  const m = text.match(/^(?:(\d+) min )?(\d+) s$/);
  assert.ok(m, `a countdown, got ${JSON.stringify(text)}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2]);
}

test("paste a token: claims, a live countdown to expiry and refresh, the verdict", async () => {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(base);
  await page.waitForSelector("body[data-ready=true]", { timeout: 15_000 });
  // 127.0.0.1 is a secure context: the page has WebCrypto, which verify needs for ES256.
  assert.equal(await page.evaluate(() => isSecureContext && typeof crypto.subtle?.verify === "function"), true);
  // Off by at most half a second plus half the round trip of the page's first fetch, which a
  // loaded machine can stretch past a second: -1 is a correct estimate then.
  const offsetText = await page.textContent("#offset");
  assert.match(offsetText, /^-?[01] s \(from the Date header\)$/);
  const offset = Number(offsetText.split(" ")[0]);

  const { access_token: token } = await (await fetch(`${base}token?ttl=90`)).json();
  const { exp, iat } = JSON.parse(Buffer.from(token.split(".")[1], "base64url"));
  assert.equal(exp - iat, 90);
  const shownFrom = Math.floor(Date.now() / 1000);
  await page.fill("#token", token);
  await page.waitForFunction(() => document.querySelector("#verdict").textContent === "valid");
  assert.match(await page.textContent("#claims"), /"sub": "demo-user"/);
  const first = secondsOf(await page.textContent("#expires-in"));
  const shownBy = Math.floor(Date.now() / 1000);
  // The countdown is `exp` on the server's clock: exp - (now + offset), for a `now` (same clock
  // as this process) between the paste and the read.
  assert.ok(
    first >= exp - shownBy - offset && first <= exp - shownFrom - offset,
    `expires in ${first}: exp ${exp}, offset ${offset}, read between ${shownFrom} and ${shownBy}`,
  );
  const refresh = secondsOf(await page.textContent("#refresh-in"));
  assert.ok(Math.abs(first - 15 - refresh) <= 1, `refresh ${refresh} = expiry ${first} - 15`);
  // The countdown is live: it goes down while we wait.
  await page.waitForFunction((s) => {
    const m = document.querySelector("#expires-in").textContent.match(/^(?:(\d+) min )?(\d+) s$/);
    return m && Number(m[1] ?? 0) * 60 + Number(m[2]) <= s - 2;
  }, first, { timeout: 5_000 });

  mkdirSync(join(ROOT, "test-results"), { recursive: true });
  await page.screenshot({ path: join(ROOT, "test-results/npm-example.png"), fullPage: true });

  // A forged token: same claims, a signature from nowhere.
  const forged = `${token.slice(0, token.lastIndexOf("."))}.${Buffer.alloc(64, 1).toString("base64url")}`;
  await page.fill("#token", forged);
  await page.waitForFunction(() => document.querySelector("#verdict").textContent.startsWith("invalid"));
  assert.equal(await page.textContent("#verdict"), "invalid — token_bad_signature: signature verification failed");
  await page.fill("#token", "not a token");
  assert.match(await page.textContent("#claims"), /^token_malformed: token must have three segments$/);
  await page.waitForFunction(() => document.querySelector("#verdict").textContent.startsWith("invalid — token_malformed"));
  // Back to the good token: the verdict follows the latest token, never an older answer.
  await page.fill("#token", token);
  await page.waitForFunction(() => document.querySelector("#verdict").textContent === "valid");
  assert.deepEqual(errors, []);
  await page.close();
});

test("fetch a token through the page: offset from the Date header and iat, valid", async () => {
  const page = await context.newPage();
  await page.goto(base);
  await page.waitForSelector("body[data-ready=true]", { timeout: 15_000 });
  const shownFrom = Math.floor(Date.now() / 1000);
  await page.click("#fetch");
  await page.waitForFunction(() => document.querySelector("#verdict").textContent === "valid");
  const offsetText = await page.textContent("#offset");
  assert.match(offsetText, /^-?[01] s \(from the Date header and the token's iat\)$/);
  const offset = Number(offsetText.split(" ")[0]);
  const left = secondsOf(await page.textContent("#expires-in"));
  const shownBy = Math.floor(Date.now() / 1000);
  const { exp, iat } = JSON.parse(Buffer.from((await page.inputValue("#token")).split(".")[1], "base64url"));
  assert.equal(exp - iat, 120);
  assert.ok(
    left >= exp - shownBy - offset && left <= exp - shownFrom - offset,
    `expires in ${left}: exp ${exp}, offset ${offset}, read between ${shownFrom} and ${shownBy}`,
  );
  await page.close();
});

test("--warden: the page through Warden logs in with a DPoP key; the API call is served, the same request again refused", async (t) => {
  if (!existsSync(join(ROOT, "build/index.js"))) throw new Error("build/index.js is missing: run `make build` (scripts/build-worker.sh) first");
  const { child, url } = await startExample("--warden");
  t.after(() => stop(child));
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/index\.html$/);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 15_000 });
  // Through Warden, only the page's own paths are public: the API wants a token.
  assert.equal((await fetch(new URL("/api/whoami", url))).status, 401);
  await page.click("#dpop");
  await page.waitForFunction(() => document.querySelector("#dpop-replay").textContent !== "–", null, { timeout: 15_000 });
  const jkt = await page.textContent("#dpop-jkt");
  assert.match(jkt, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(await page.textContent("#dpop-call"), `200: the API saw x-warden-cnf dpop, x-warden-jkt ${jkt}`);
  assert.equal(await page.textContent("#dpop-replay"), "401 dpop_replayed: DPoP proof was already used");
  mkdirSync(join(ROOT, "test-results"), { recursive: true });
  await page.screenshot({ path: join(ROOT, "test-results/npm-example-dpop.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});
