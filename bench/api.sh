#!/usr/bin/env bash
# Measures authenticated requests per second on the provider API with wrk,
# beside an unauthenticated /healthz run, on this machine. Prints figures;
# asserts nothing. Needs wrk (apt-get install wrk) and a release build.
#
#   bash bench/api.sh                 # 10 s per endpoint, 2 threads, 32 connections
#   DURATION=30s CONNECTIONS=64 bash bench/api.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-18080}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 1; }

cargo build --release --quiet
BIN=target/release/venue-access
export VENUE_ACCESS_DATA_DIR=${VENUE_ACCESS_DATA_DIR:-$(mktemp -d /tmp/venue-access-bench.XXXXXX)}
# The embedded cluster may run as the `postgres` user: it must enter the folder.
chmod 755 "$VENUE_ACCESS_DATA_DIR"
# Own cluster for the run (unless DATABASE_URL is given); no rate limit in the way.
export API_RATE_LIMIT_PER_MINUTE=100000000
export RUST_LOG=warn

$BIN serve --bind 127.0.0.1:$PORT > "$VENUE_ACCESS_DATA_DIR/serve.log" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done

# A key for a demo provider that has access to several venues.
KEY=$($BIN key issue --provider "Billetterie Ticketis" --environment integration)
echo "machine: $(nproc) cores; duration $DURATION, $THREADS threads, $CONNECTIONS connections"
echo "venues visible to the key: $(curl -fsS -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/public/offers/v1/offerer_venues" | grep -o '"siret"' | wc -l)"

run() {
  local label=$1 path=$2 auth=${3:-}
  local args=(-t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --latency)
  [ -n "$auth" ] && args+=(-H "Authorization: Bearer $auth")
  local out
  out=$(wrk "${args[@]}" "http://127.0.0.1:$PORT$path")
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  printf '%-40s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$label" "$rps" "$p50" "$p99" "${non2xx:-0}"
}

run "GET /healthz (no auth)" /healthz
run "GET events/categories (key)" /public/offers/v1/events/categories "$KEY"
run "GET offerer_venues (key)" /public/offers/v1/offerer_venues "$KEY"
