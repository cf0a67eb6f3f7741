#!/usr/bin/env bash
# `make dev`: the demo origin on 127.0.0.1:8788 and the worker (wrangler dev, local KV) on
# 127.0.0.1:8787. wrangler builds the worker through wrangler.toml's [build] command and
# rebuilds on change. Ctrl-C stops both.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH" WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
ORIGIN_PORT=${WARDEN_DEV_ORIGIN_PORT:-8788}
WORKER_PORT=${WARDEN_DEV_PORT:-8787}
ADMIN_TOKEN=${WARDEN_DEV_ADMIN_TOKEN:-dev-admin-token}
# The demo origin is also a Shared Signals transmitter: its SETs' iss and aud, and the push token.
SSF_ISSUER="https://origin.warden.test/ssf"
SSF_AUDIENCE="http://127.0.0.1:$WORKER_PORT/_warden/ssf"
PUSH_TOKEN=${WARDEN_DEV_PUSH_TOKEN:-dev-ssf-push-token}
mkdir -p .dev

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$ORIGIN_PORT" "$WORKER_PORT"; do
  port_free "$port" || { echo "dev: 127.0.0.1:$port is already in use (another 'make dev'?); stop it or set WARDEN_DEV_PORT / WARDEN_DEV_ORIGIN_PORT" >&2; exit 1; }
done

wait_for() { # url what seconds; any HTTP answer means it is up
  for _ in $(seq 1 "$3"); do
    curl -s -o /dev/null "$1" 2>/dev/null && return 0
    sleep 1
  done
  echo "dev: $2 did not start within $3 s" >&2
  return 1
}

echo "==> demo origin on 127.0.0.1:$ORIGIN_PORT"
# Access tokens live a minute (refreshed at the edge 15 s before expiry); logout and password
# change reach Warden as Shared Signals events (CAEP session-revoked, credential-change) pushed
# to /_warden/ssf/push, signed with the transmitter key kept in .dev/transmitter-key.json.
node tests/origin/server.mjs --port "$ORIGIN_PORT" --key-file .dev/origin-key.json --access-ttl 60 \
  --warden-url "http://127.0.0.1:$WORKER_PORT" --warden-admin-token "$ADMIN_TOKEN" \
  --public-url "http://127.0.0.1:$WORKER_PORT" \
  --ssf-issuer "$SSF_ISSUER" --ssf-audience "$SSF_AUDIENCE" --ssf-push-token "$PUSH_TOKEN" \
  --transmitter-key-file .dev/transmitter-key.json &
pids+=($!)
wait_for "http://127.0.0.1:$ORIGIN_PORT/.well-known/jwks.json" "the demo origin" 20
JWKS=$(curl -fsS "http://127.0.0.1:$ORIGIN_PORT/.well-known/jwks.json")
SSF_JWKS=$(curl -fsS "http://127.0.0.1:$ORIGIN_PORT/.well-known/ssf-jwks.json")

# Local-only values; .dev.vars overrides wrangler.toml's [vars] under `wrangler dev`.
cat > .dev.vars <<VARS
WARDEN_ORIGIN="http://127.0.0.1:$ORIGIN_PORT"
WARDEN_ISSUER="https://origin.warden.test"
WARDEN_AUDIENCE="warden-demo"
WARDEN_JWKS='$JWKS'
WARDEN_ADMIN_TOKEN="$ADMIN_TOKEN"
WARDEN_PUBLIC_PATHS="/login"
WARDEN_ACCESS_COOKIE="warden_access"
WARDEN_REFRESH_COOKIE="warden_refresh"
WARDEN_REFRESH_PATH="/oauth/token"
WARDEN_SSF_ISSUER="$SSF_ISSUER"
WARDEN_SSF_AUDIENCE="$SSF_AUDIENCE"
WARDEN_SSF_JWKS='$SSF_JWKS'
WARDEN_SSF_PUSH_TOKEN="$PUSH_TOKEN"
VARS

echo "==> wrangler dev on 127.0.0.1:$WORKER_PORT (builds the worker first; about a minute when cold)"
# --test-scheduled: GET /__scheduled?cron=... runs the cron (the PAT reaper) on demand.
wrangler dev --ip 127.0.0.1 --port "$WORKER_PORT" --local --persist-to .wrangler/state --test-scheduled &
pids+=($!)
wait_for "http://127.0.0.1:$WORKER_PORT/" "wrangler dev" 600

W="http://127.0.0.1:$WORKER_PORT"
cat <<MSG

Warden is ready: worker $W -> demo origin http://127.0.0.1:$ORIGIN_PORT

  # log in at the origin and keep the access token
  TOKEN=\$(curl -s -X POST http://127.0.0.1:$ORIGIN_PORT/login -d '{"username":"alice"}' | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')
  # call the API through Warden: 200, with the x-warden-* identity the origin saw
  curl -s $W/whoami -H "Authorization: Bearer \$TOKEN"
  # revoke the token by its jti ...
  JTI=\$(node -p 'JSON.parse(Buffer.from(process.argv[1].split(".")[1], "base64url")).jti' "\$TOKEN")
  curl -s -X POST $W/_warden/revoke -H "Authorization: Bearer $ADMIN_TOKEN" -d "{\"jti\":\"\$JTI\"}"
  # ... and the same call is now refused: 401 token_revoked
  curl -si $W/whoami -H "Authorization: Bearer \$TOKEN"

  # A cookie session: log in THROUGH Warden (/login is public) and keep the cookies in a jar
  # (HttpOnly; Secure; SameSite=Lax -- curl and Chromium keep Secure cookies on 127.0.0.1)
  curl -s -c .dev/jar -b .dev/jar -X POST $W/login -d '{"username":"bob"}' >/dev/null
  curl -s -c .dev/jar -b .dev/jar $W/whoami             # "x-warden-class": "session"
  # wait until the access token is inside its refresh window (TTL 60 s, window 15 s) ...
  sleep 50
  # ... the next call is refreshed at the edge: new cookies, no new login
  curl -si -c .dev/jar -b .dev/jar $W/whoami | grep -i '^set-cookie'
  # the sessions Warden has seen for bob (ids and times, never tokens)
  curl -s "$W/_warden/sessions?sub=bob" -H "Authorization: Bearer $ADMIN_TOKEN"

  # Revocation pushed by the identity provider (Shared Signals, RFC 8935): carol changes her
  # password through Warden; the origin, as the transmitter, pushes a CAEP credential-change
  # SET to $W/_warden/ssf/push (202) -- no admin API call
  TOKEN=\$(curl -s -X POST http://127.0.0.1:$ORIGIN_PORT/login -d '{"username":"carol"}' | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')
  curl -s -X POST $W/password -H "Authorization: Bearer \$TOKEN" -d '{"password":"correct horse battery"}'
  # ... and carol's token is refused at the edge: 401 token_revoked (the worker's log shows
  # the ssf_event line: "action":"subject_cutoff", the credential-change type)
  curl -si $W/whoami -H "Authorization: Bearer \$TOKEN"
  # the cron on demand (wrangler dev --test-scheduled)
  curl -s "$W/__scheduled?cron=*/10+*+*+*+*"

Ctrl-C stops both.
MSG
wait -n "${pids[@]}"
