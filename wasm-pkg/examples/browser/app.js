// The example page: decode, inspect (countdown to expiry and to refresh) and verify a token in the
// browser with warden-wasm's full web build, on the server's clock; and, opened through Warden,
// DPoP: a token bound to a key the page cannot leak, and a replayed request refused.
import init, { decode, inspect, estimateClockOffset, KeySet, generateDpopKey, createDpopProof, jwkThumbprint } from "/pkg/full-web/warden_wasm.js";

const $ = (id) => document.getElementById(id);
let clockOffset = 0;
let keys = null;
let token = "";

const seconds = (s) => (s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min` : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`);

/** Fetches `url`, noting when the request left and the response came back (for the clock offset). */
async function timedFetch(url) {
  const sentAt = Date.now();
  const res = await fetch(url, { cache: "no-store" });
  const receivedAt = Date.now();
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return { res, sample: { date: res.headers.get("date") ?? undefined, sentAt, receivedAt } };
}

async function loadKeys() {
  const { res, sample } = await timedFetch($("jwks-url").value);
  // The previous set is left to the garbage collector: a verification may still be using it.
  keys = new KeySet(await res.text());
  if (sample.date) {
    clockOffset = estimateClockOffset(sample);
    $("offset").textContent = `${clockOffset} s (from the Date header)`;
  }
}

function show() {
  if (!token) return;
  const now = Math.floor(Date.now() / 1000);
  try {
    const i = inspect(token, { now, clockOffset });
    $("expires-in").textContent =
      i.secondsLeft === undefined ? "never (no exp)" : i.expired ? "expired" : i.secondsLeft > 0 ? seconds(i.secondsLeft) : "now (within the leeway)";
    $("refresh-in").textContent =
      i.refreshAt === undefined ? "–" : i.refreshAt > now ? seconds(i.refreshAt - now) : "now";
  } catch (e) {
    $("expires-in").textContent = $("refresh-in").textContent = "–";
  }
  if (keys) showVerdict(keys, token, { now, clockOffset });
}

/** Verifies (asynchronously: WebCrypto) and shows the verdict, unless the token or keys changed meanwhile. */
async function showVerdict(set, checked, options) {
  const r = await set.verify(checked, options);
  if (set !== keys || checked !== token) return;
  $("verdict").textContent = r.valid ? "valid" : `invalid — ${r.error.code}: ${r.error.description}`;
  $("verdict").className = `big ${r.valid ? "valid" : "invalid"}`;
}

function setToken(value) {
  token = value.trim();
  try {
    const { header, claims } = decode(token);
    $("claims").textContent = JSON.stringify({ header, claims }, null, 2);
  } catch (e) {
    $("claims").textContent = `${e.code}: ${e.message}`;
    $("expires-in").textContent = $("refresh-in").textContent = "–";
  }
  show();
}

$("token").addEventListener("input", (e) => setToken(e.target.value));
$("jwks-url").addEventListener("change", () => loadKeys().then(show, (e) => ($("verdict").textContent = e.message)));
$("fetch").addEventListener("click", async () => {
  const { res, sample } = await timedFetch("/token");
  const { access_token } = await res.json();
  // A fresh token's iat and the Date header both tell the server's time.
  clockOffset = estimateClockOffset({ ...sample, token: access_token });
  $("offset").textContent = `${clockOffset} s (from the Date header and the token's iat)`;
  $("token").value = access_token;
  setToken(access_token);
});

// DPoP through Warden: log in with a proof (the token comes back bound to the key), call the API
// with `Authorization: DPoP` and a fresh proof, then send the very same request again.
async function dpopDemo() {
  const pair = await generateDpopKey(); // non-extractable; structured-cloneable into IndexedDB
  const loginUrl = new URL("/login", location).href;
  const login = await fetch(loginUrl, {
    method: "POST",
    headers: { DPoP: await createDpopProof(pair, { htm: "POST", htu: loginUrl, clockOffset }) },
    body: JSON.stringify({ username: "demo-user" }),
  });
  if (!login.ok) throw new Error(`login: HTTP ${login.status} (open the page through Warden: server.mjs --warden)`);
  const { access_token } = await login.json();
  $("dpop-jkt").textContent = jwkThumbprint(pair.jwk);

  const url = new URL("/api/whoami", location).href;
  const proof = await createDpopProof(pair, { htm: "GET", htu: url, accessToken: access_token, clockOffset });
  const call = () => fetch(url, { headers: { Authorization: `DPoP ${access_token}`, DPoP: proof }, cache: "no-store" });
  const first = await call();
  const seen = (await first.json()).identity ?? {};
  $("dpop-call").textContent = `${first.status}: the API saw x-warden-cnf ${seen["x-warden-cnf"]}, x-warden-jkt ${seen["x-warden-jkt"]}`;
  const again = await call();
  const { code, error_description } = await again.json();
  $("dpop-replay").textContent = `${again.status} ${code}: ${error_description}`;
}
$("dpop").addEventListener("click", () => dpopDemo().catch((e) => ($("dpop-call").textContent = e.message)));

await init();
try {
  await loadKeys();
} catch (e) {
  $("offset").textContent = `unknown (${e.message})`;
}
setInterval(show, 250);
document.body.dataset.ready = "true";
