// The demo origin's refresh-token families (RFC 9700 §4.14.2): opaque refresh tokens stored as
// SHA-256 hashes only, rotated on every use; a rotated token presented again revokes its family.
import { createHash, randomBytes, randomUUID } from "node:crypto";

const sha256 = (s) => createHash("sha256").update(s).digest("base64url");

export class SessionStore {
  constructor({ refreshTtl, clock = () => Math.floor(Date.now() / 1000) }) {
    this.refreshTtl = refreshTtl;
    this.clock = clock;
    this.tokens = new Map(); // sha256(refresh token) -> { sid, sub, expiresAt, used }
    this.families = new Map(); // sid -> { sub, active, createdAt }
    this.reuseDetected = 0;
  }

  #mint(sid, sub) {
    const token = randomBytes(32).toString("base64url");
    this.tokens.set(sha256(token), { sid, sub, expiresAt: this.clock() + this.refreshTtl, used: false });
    return token;
  }

  /** Starts a session for `sub`: a new family with its first refresh token. */
  create(sub) {
    const sid = randomUUID();
    this.families.set(sid, { sub, active: true, createdAt: this.clock() });
    return { sid, refreshToken: this.#mint(sid, sub) };
  }

  /** Exchanges a refresh token for a new one, or says why not (`reuse` when it was rotated already). */
  rotate(refreshToken) {
    const record = this.tokens.get(sha256(String(refreshToken)));
    if (!record) return { error: "invalid_grant", reason: "unknown refresh token" };
    const family = this.families.get(record.sid);
    if (!family?.active) return { error: "invalid_grant", reason: "session revoked" };
    if (record.used) {
      this.reuseDetected++;
      this.revokeFamily(record.sid);
      return { error: "invalid_grant", reason: "refresh token reused", reuse: true, sid: record.sid };
    }
    if (this.clock() >= record.expiresAt) return { error: "invalid_grant", reason: "refresh token expired" };
    record.used = true;
    return { sid: record.sid, sub: record.sub, refreshToken: this.#mint(record.sid, record.sub) };
  }

  revokeFamily(sid) {
    const family = this.families.get(sid);
    if (family) family.active = false;
  }

  revokeSubject(sub) {
    for (const [sid, family] of this.families) if (family.sub === sub) this.revokeFamily(sid);
  }

  sidOf(refreshToken) {
    return this.tokens.get(sha256(String(refreshToken)))?.sid ?? null;
  }
}
