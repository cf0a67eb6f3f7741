// The example page (wasm-pkg/examples/browser) in real headless Chromium, driven by playwright-core:
// served on 127.0.0.1 by its own server, the page loads warden-wasm's full web build; we paste a
// token and read the countdowns and the verdict off the screen (ES256, verified by Chromium's
// WebCrypto: `await keys.verify(...)`), then fetch one through the page.
// Needs Debian's chromium (make setup); set CHROMIUM to use another binary. Screenshot:
// test-results/npm-example.png.
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

before(async () => {
  assertBuilt();
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run make setup (or set CHROMIUM)`);
  server = spawn(process.execPath, [join(ROOT, "wasm-pkg/examples/browser/server.mjs"), "--port", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  base = await new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+\/)/);
      if (m) resolve(m[1]);
    });
    server.on("exit", (code) => reject(new Error(`example server exited (${code})`)));
    setTimeout(() => reject(new Error("example server did not start")), 10_000);
  });
  profile = mkdtempSync(join(tmpdir(), "warden-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
  });
});

after(async () => {
  await context?.close();
  if (server && server.exitCode === null) server.kill("SIGTERM");
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
  assert.match(await page.textContent("#offset"), /^-?[01] s \(from the Date header\)$/);

  const { access_token: token } = await (await fetch(`${base}token?ttl=90`)).json();
  await page.fill("#token", token);
  await page.waitForFunction(() => document.querySelector("#verdict").textContent === "valid");
  assert.match(await page.textContent("#claims"), /"sub": "demo-user"/);
  const first = secondsOf(await page.textContent("#expires-in"));
  assert.ok(first >= 87 && first <= 90, `expires in ${first}`);
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
  await page.click("#fetch");
  await page.waitForFunction(() => document.querySelector("#verdict").textContent === "valid");
  assert.match(await page.textContent("#offset"), /^-?[01] s \(from the Date header and the token's iat\)$/);
  const left = secondsOf(await page.textContent("#expires-in"));
  assert.ok(left >= 1 * 60 + 57 && left <= 120, `expires in ${left}`);
  await page.close();
});
