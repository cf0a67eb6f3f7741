// Cookie sessions through Warden, for the refresh tests: a small cookie jar (what a browser
// keeps), login through the worker, waiting out a token, reading what the worker set.
import { claimsOf, sleep } from "./warden.mjs";

export const ACCESS = "warden_access";
export const REFRESH = "warden_refresh";

/** Worker variables that turn refresh at the edge on, with short timings for tests. */
export function refreshVars(extra = {}) {
  return {
    WARDEN_ACCESS_COOKIE: ACCESS,
    WARDEN_REFRESH_COOKIE: REFRESH,
    WARDEN_REFRESH_PATH: "/oauth/token",
    WARDEN_PUBLIC_PATHS: "/login",
    WARDEN_ACCESS_TYP: "at+jwt",
    WARDEN_LEEWAY_SECONDS: "0",
    WARDEN_REFRESH_WINDOW_SECONDS: "0",
    WARDEN_REFRESH_GRACE_SECONDS: "2",
    ...extra,
  };
}

/** The `Set-Cookie` headers of a response, by cookie name: { value, maxAge, attrs }. */
export function setCookies(resp) {
  const out = {};
  for (const line of resp.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(";").map((s) => s.trim());
    const i = pair.indexOf("=");
    const maxAge = attrs.find((a) => /^max-age=/i.test(a));
    out[pair.slice(0, i)] = {
      value: pair.slice(i + 1),
      maxAge: maxAge === undefined ? null : Number(maxAge.split("=")[1]),
      attrs: attrs.map((a) => a.toLowerCase()),
    };
  }
  return out;
}

/** What a browser keeps: cookies set by responses (Max-Age=0 deletes), sent back as one header. */
export class Jar {
  constructor(entries = {}) {
    this.cookies = new Map(Object.entries(entries));
  }

  take(resp) {
    for (const [name, c] of Object.entries(setCookies(resp))) {
      if (c.maxAge === 0) this.cookies.delete(name);
      else this.cookies.set(name, c.value);
    }
    return this;
  }

  get(name) {
    return this.cookies.get(name);
  }

  /** A copy (an attacker's or an old tab's view of the cookies at this moment). */
  copy() {
    return new Jar(Object.fromEntries(this.cookies));
  }

  /** The same jar without `name`. */
  without(name) {
    const j = this.copy();
    j.cookies.delete(name);
    return j;
  }

  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  init(init = {}) {
    return { ...init, headers: { ...(init.headers ?? {}), cookie: this.header() } };
  }
}

/** POST /login through the worker (a public path); the jar holds the origin's cookies. */
export async function login(w, username, password) {
  const r = await w.fetch("http://warden.test/login", {
    method: "POST",
    body: JSON.stringify({ username, ...(password ? { password } : {}) }),
  });
  if (r.status !== 200) throw new Error(`login answered ${r.status}: ${await r.text()}`);
  const body = await r.json();
  return { jar: new Jar().take(r), body };
}

/** Sleeps until the access token in `jar` has expired (`now >= exp`, no leeway). */
export async function outlive(jar) {
  const { exp } = claimsOf(jar.get(ACCESS));
  const wait = exp * 1000 - Date.now() + 50;
  if (wait > 0) await sleep(wait);
}

/** Asserts that `resp` deletes both session cookies. */
export function assertCleared(assert, resp) {
  const set = setCookies(resp);
  for (const name of [ACCESS, REFRESH]) {
    assert.ok(set[name], `${name} is cleared`);
    assert.equal(set[name].maxAge, 0, `${name} Max-Age=0`);
    assert.equal(set[name].value, "");
  }
}
