// The JavaScript pass-through worker for `make bench-edge` (scripts/bench-edge.mjs): every request
// goes to env.ORIGIN with its method, path, query, headers and body; the origin's answer comes
// back untouched. No checks, no KV, no state: the baseline every other worker is measured against.
export default {
  fetch(request, env) {
    const url = new URL(request.url);
    return fetch(env.ORIGIN + url.pathname + url.search, request);
  },
};
