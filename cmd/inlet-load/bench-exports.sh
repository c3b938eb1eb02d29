#!/usr/bin/env bash
# Ingestion beside API exports, as in docs/benchmarks.md ("API reads beside
# ingestion"): a fresh PostgreSQL database holding PRELOAD events of ~30 KB,
# then the webhook's signed senders for DURATION while EXPORTS readers
# download /api/v1/events/export again and again over TOKENS read tokens;
# it prints the webhook's latency and statuses, what the readers got and the
# server's peak RSS.
#
#   go build -o /tmp/inlet ./cmd/inlet && go build -o /tmp/inlet-load ./cmd/inlet-load
#   cmd/inlet-load/bench-exports.sh /tmp/inlet [inlet-load flags…]
#
# Environment: PGBASE (default postgres://postgres@127.0.0.1:5432), LOAD
# (/tmp/inlet-load), PRELOAD (2000), EXPORTS (40), TOKENS (5), DURATION (20s),
# SENDERS (8), PORT (18282).
set -euo pipefail
BIN=${1:?usage: bench-exports.sh INLET_BINARY [inlet-load flags]}; shift
LOAD=${LOAD:-/tmp/inlet-load}
PGBASE=${PGBASE:-postgres://postgres@127.0.0.1:5432}
PORT=${PORT:-18282}
SECRET=bench-secret-$RANDOM$RANDOM
DB=inlet_bench_$RANDOM$RANDOM
WORK=$(mktemp -d)
psql "$PGBASE/postgres?sslmode=disable" -qc "CREATE DATABASE $DB"
export DATABASE_URL="$PGBASE/$DB?sslmode=disable"
cleanup() {
  [[ -n "${PID:-}" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  psql "$PGBASE/postgres?sslmode=disable" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
printf %s "$SECRET" | "$BIN" secret set >/dev/null
LISTEN_ADDR=127.0.0.1:$PORT LOG_LEVEL=warn "$BIN" >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
HOOK="http://127.0.0.1:$PORT/api/public/webhooks/segment"
"$LOAD" -url "$HOOK" -secret "$SECRET" -events "${PRELOAD:-2000}" -size 30000 -senders 4 -batch 1 >"$WORK/preload.txt"
head -2 "$WORK/preload.txt"
TOKS=$(for _ in $(seq "${TOKENS:-5}"); do "$BIN" token create --name bench 2>/dev/null; done | paste -sd,)
echo "server RSS before the run: $(awk '/VmRSS/ {printf "%.0f MB", $2/1024}' /proc/$PID/status)"
"$LOAD" -url "$HOOK" -secret "$SECRET" -duration "${DURATION:-20s}" -senders "${SENDERS:-8}" \
  -exports "${EXPORTS:-40}" -export-url "http://127.0.0.1:$PORT/api/v1/events/export" -api-tokens "$TOKS" \
  -server-pid "$PID" "$@"
