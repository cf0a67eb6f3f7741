// Shared Signals poll delivery (RFC 8936) end to end: a transmitter process on loopback serves
// pages of Security Event Tokens (signed by the demo origin's key, as in worker-ssf.test.mjs);
// Warden (the release build in workerd, real local KV and Durable Objects) polls it from its
// cron trigger, applies each SET as a pushed one, and acknowledges in the next poll.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { startOrigin } from "./origin/server.mjs";
import { serveLoopback } from "./helpers/loopback.mjs";
import { bearer } from "./helpers/miniflare.mjs";
import { startWarden, assertDenied } from "./helpers/warden.mjs";

const TX = "https://tx.warden.test";
const AUD = "https://warden.test/ssf";
const POLL_TOKEN = "ssf-poll-token-0123456789";
const CAEP = "https://schemas.openid.net/secevent/caep/event-type/";
let origin, tx;

/**
 * The transmitter's poll endpoint: answers each poll with the next page of `pages` (then empty
 * pages), and keeps every request (`polls`: parsed bodies and authorization headers).
 * FAULT INJECTION, named as such: `fault` — "drop" destroys the connection of the next poll
 * that carries acknowledgements, before answering (the transmitter never sees that poll's
 * acks); "hang" never answers any poll.
 */
async function startTransmitter() {
  const state = { pages: [], polls: [], fault: null };
  const { url, close } = await serveLoopback((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
      if (state.fault === "hang") return; // never answers; close() drops it
      if (state.fault === "drop" && body?.ack?.length) {
        state.fault = null;
        state.dropped = body;
        return req.socket.destroy();
      }
      state.polls.push({ body, authorization: req.headers.authorization, contentType: req.headers["content-type"] });
      const page = state.pages.shift() ?? { sets: {} };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(page));
    });
  });
  state.url = `${url}/poll`;
  state.close = close;
  return state;
}

before(async () => {
  origin = await startOrigin({ port: 0 });
  tx = await startTransmitter();
});
after(async () => {
  await tx?.close();
  await origin?.close();
});

const vars = (extra = {}) => ({
  WARDEN_SSF_ISSUER: TX,
  WARDEN_SSF_AUDIENCE: AUD,
  WARDEN_SSF_JWKS: JSON.stringify(origin.jwks),
  WARDEN_SSF_POLL_URL: tx.url,
  WARDEN_SSF_POLL_TOKEN: POLL_TOKEN,
  ...extra,
});
const now = () => Math.floor(Date.now() / 1000);
const api = (w, token) => w.fetch("http://warden.test/api/me", bearer(token));

/** A SET revoking session `sid`; `claims` override. */
async function revokeSession(sid, claims = {}) {
  const jti = randomUUID();
  const set = await origin.sign(
    {
      iss: TX,
      aud: AUD,
      iat: now(),
      jti,
      events: { [`${CAEP}session-revoked`]: {} },
      sub_id: { format: "complex", session: { format: "opaque", id: sid } },
      ...claims,
    },
    { typ: "secevent+jwt" },
  );
  return { jti, set };
}

/** Runs Warden's cron once and waits for its `ssf_poll` line. */
async function cron(w) {
  const seen = w.audit.filter((e) => e.event === "ssf_poll").length;
  const worker = await w.mf.getWorker();
  await worker.scheduled({ cron: "*/10 * * * *", scheduledTime: new Date() });
  const lines = await w.waitForAudit((e) => e.event === "ssf_poll" && w.audit.filter((x) => x.event === "ssf_poll").indexOf(e) >= seen, 15_000);
  assert.ok(lines.length, "an ssf_poll line");
  return lines.at(-1);
}

const revokes = (w, sid) => w.audit.filter((e) => e.event === "revoke" && e.id === sid).length;

test("several pages in one run; acks carried to the next poll; refused SETs in setErrs", async () => {
  const w = await startWarden(origin, vars());
  try {
    tx.polls.length = 0;
    const sids = ["poll-1", "poll-2", "poll-3"];
    const tokens = await Promise.all(sids.map((sid) => origin.issue({ sub: "pia", sid })));
    for (const t of tokens) assert.equal((await api(w, t)).status, 200);
    const [a, b, c] = await Promise.all(sids.map((sid) => revokeSession(sid)));
    const wrongIss = await revokeSession("poll-never", { iss: "https://evil.example" });
    const misnamed = await revokeSession("poll-never");
    tx.pages.push(
      { sets: { [a.jti]: a.set, [wrongIss.jti]: wrongIss.set }, moreAvailable: true },
      { sets: { [b.jti]: b.set, "not-its-jti": misnamed.set, "not-a-string": 42 }, moreAvailable: true },
      { sets: { [c.jti]: c.set }, moreAvailable: false },
    );
    const line = await cron(w);
    // Three pages, then one more poll to deliver the last acknowledgement.
    assert.deepEqual(
      tx.polls.map((p) => p.body.ack),
      [[], [a.jti], [b.jti], [c.jti]],
    );
    for (const p of tx.polls) {
      assert.equal(p.authorization, `Bearer ${POLL_TOKEN}`);
      assert.equal(p.contentType, "application/json");
      assert.equal(p.body.maxEvents, 100);
      assert.equal(p.body.returnImmediately, true);
    }
    assert.deepEqual(tx.polls[0].body.setErrs, {});
    assert.deepEqual(tx.polls[1].body.setErrs, {
      [wrongIss.jti]: { err: "invalid_issuer", description: "iss is not the configured issuer" },
    });
    assert.deepEqual(Object.keys(tx.polls[2].body.setErrs).sort(), ["not-a-string", "not-its-jti"]);
    assert.equal(tx.polls[2].body.setErrs["not-its-jti"].err, "invalid_request");
    assert.match(tx.polls[2].body.setErrs["not-its-jti"].description, /jti/);
    assert.equal(tx.polls[2].body.setErrs["not-a-string"].err, "invalid_request");
    assert.deepEqual(tx.polls[3].body.setErrs, {});
    assert.deepEqual(
      { polls: line.polls, received: line.received, acknowledged: line.acknowledged, refused: line.refused, error: line.error },
      { polls: 4, received: 6, acknowledged: 3, refused: 3, error: undefined },
    );
    // Applied exactly as pushed ones: refused at the next request, one ssf_event line each.
    for (const t of tokens) await assertDenied(assert, await api(w, t), 401, "token_revoked");
    for (const [s, sid] of [[a, "poll-1"], [b, "poll-2"], [c, "poll-3"]]) {
      const l = w.audit.filter((e) => e.event === "ssf_event" && e.jti === s.jti);
      assert.deepEqual(l.map((e) => [e.action, e.sid, e.type]), [["revoked_session", sid, `${CAEP}session-revoked`]]);
    }
    const refusals = w.audit.filter((e) => e.event === "ssf_event" && e.action === "refused").map((e) => e.code);
    assert.deepEqual(refusals.sort(), ["invalid_issuer", "invalid_request", "invalid_request"]);
    assert.equal(revokes(w, "poll-never"), 0);
    assert.ok(!JSON.stringify(w.audit).includes(POLL_TOKEN), "the poll token is never logged");
    // Nothing left to tell: the next run polls once, with nothing.
    tx.polls.length = 0;
    await cron(w);
    assert.deepEqual(tx.polls.map((p) => [p.body.ack, p.body.setErrs]), [[[], {}]]);
  } finally {
    await w.dispose();
  }
});

test("crash between apply and ack (the ack-carrying poll dropped): the ack reaches the next run's poll; applied once", async () => {
  const dir = mkdtempSync(join(tmpdir(), "warden-poll-"));
  let w = await startWarden(origin, vars(), { persist: dir });
  try {
    tx.polls.length = 0;
    const token = await origin.issue({ sub: "quinn", sid: "poll-crash" });
    const s = await revokeSession("poll-crash");
    tx.pages.push({ sets: { [s.jti]: s.set } });
    tx.fault = "drop"; // FAULT INJECTION: the poll carrying the ack never reaches the transmitter
    const line = await cron(w);
    assert.equal(tx.dropped.ack[0], s.jti, "the ack was sent, and lost");
    assert.match(line.error, /^poll: fetch failed/);
    assert.equal(line.acknowledged, 0);
    await assertDenied(assert, await api(w, token), 401, "token_revoked");
    // A fresh Warden on the same storage (nothing in memory): the ack comes from the store.
    await w.dispose();
    w = await startWarden(origin, vars(), { persist: dir });
    tx.polls.length = 0;
    // The transmitter, never told, delivers the SET again as well.
    tx.pages.push({ sets: { [s.jti]: s.set } });
    await cron(w);
    assert.deepEqual(tx.polls.map((p) => p.body.ack), [[s.jti], [s.jti]]);
    const actions = w.audit.filter((e) => e.event === "ssf_event" && e.jti === s.jti).map((e) => e.action);
    assert.deepEqual(actions, ["duplicate"], "applied once: the redelivery is a duplicate");
    assert.equal(revokes(w, "poll-crash"), 0, "no second revocation");
    await assertDenied(assert, await api(w, token), 401, "token_revoked");
  } finally {
    await w.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("store down: nothing acknowledged; the next run with the store back applies and acknowledges", async () => {
  const dir = mkdtempSync(join(tmpdir(), "warden-poll-"));
  try {
    const token = await origin.issue({ sub: "rene", sid: "poll-down" });
    const s = await revokeSession("poll-down");
    for (const fail of [["put"], ["get"]]) {
      const down = await startWarden(origin, vars(), { kv: { fail }, persist: dir });
      try {
        tx.polls.length = 0;
        tx.pages.push({ sets: { [s.jti]: s.set } });
        const line = await cron(down);
        assert.ok(line.error, `KV failing ${fail}: ${JSON.stringify(line)}`);
        assert.equal(line.acknowledged, 0);
        if (fail[0] === "get") {
          assert.equal(tx.polls.length, 0, "no poll without the store");
          tx.pages.length = 0;
        } else {
          assert.deepEqual(tx.polls.map((p) => p.body.ack), [[]]);
        }
        assert.ok((await down.waitForAudit((e) => e.event === "store_error")).length);
      } finally {
        await down.dispose();
      }
    }
    const up = await startWarden(origin, vars(), { persist: dir });
    try {
      assert.equal((await api(up, token)).status, 200, "nothing was applied while the store was down");
      tx.polls.length = 0;
      tx.pages.push({ sets: { [s.jti]: s.set } });
      await cron(up);
      assert.deepEqual(tx.polls.map((p) => p.body.ack), [[], [s.jti]]);
      await assertDenied(assert, await api(up, token), 401, "token_revoked");
    } finally {
      await up.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a hanging poll endpoint: the run ends after the timeout, nothing lost", async () => {
  const w = await startWarden(origin, vars());
  try {
    tx.fault = "hang"; // FAULT INJECTION: the endpoint never answers
    const started = Date.now();
    const line = await cron(w);
    const took = Date.now() - started;
    assert.match(line.error, /^poll: fetch failed.*timeout/i);
    assert.equal(line.polls, 1);
    assert.ok(took >= 4_500 && took < 12_000, `${took} ms`);
  } finally {
    tx.fault = null;
    await w.dispose();
  }
});

test("off without WARDEN_SSF_POLL_URL: the cron polls nothing", async () => {
  const w = await startWarden(origin, vars({ WARDEN_SSF_POLL_URL: undefined, WARDEN_SSF_POLL_TOKEN: undefined }));
  try {
    tx.polls.length = 0;
    const worker = await w.mf.getWorker();
    await worker.scheduled({ cron: "*/10 * * * *", scheduledTime: new Date() });
    await w.waitForAudit((e) => e.event === "reap");
    assert.equal(tx.polls.length, 0);
    assert.equal(w.audit.filter((e) => e.event === "ssf_poll").length, 0);
  } finally {
    await w.dispose();
  }
});
