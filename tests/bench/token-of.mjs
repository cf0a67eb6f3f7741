// The token a benchmark worker checks (scripts/bench-edge.mjs): the bearer token, or else the
// access cookie named `cookieName`; null when neither is there.
export function tokenOf(request, cookieName) {
  const auth = request.headers.get("authorization");
  if (auth !== null) return auth.startsWith("Bearer ") ? auth.slice(7) : null;
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === cookieName) return part.slice(i + 1).trim();
  }
  return null;
}
