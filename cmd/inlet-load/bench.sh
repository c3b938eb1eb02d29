#!/usr/bin/env bash
# One measured run, as in docs/benchmarks.md: a fresh PostgreSQL database,
# the server started on it with the shared secret set, inlet-load for the
# duration (with exactly-once verification), then the CPU each part used in
# the middle of the run and the server's peak memory.
#
#   go build -o /tmp/inlet ./cmd/inlet && go build -o /tmp/inlet-load ./cmd/inlet-load
#   cmd/inlet-load/bench.sh /tmp/inlet [inlet-load flags…]        # e.g. -batch 20
#   SQLITE=1 cmd/inlet-load/bench.sh /tmp/inlet                    # embedded store
#
# Environment: PGBASE (default postgres://postgres@127.0.0.1:5432, a role that
# may create databases),
# LOAD (default /tmp/inlet-load), SERVER_LOG (copy the server's log there), DURATION (12s), PORT (18181), AUDIENCES (a
# directory of audience definitions created before the server starts, e.g.
# cmd/inlet-load/audiences; the transition latency is then printed on
# PostgreSQL; with PROBE=1 as well, inlet-load also probes the API: the time
# from the 200 of an event to the membership it causes being listed by
# GET /api/v1/users/{id}, which is the contract's measure), JOURNEYS (a number N: a write API token is made, the server's
# SMTP_URL points at inlet-load's SMTP sink on port PORT+1, and inlet-load
# gets -journeys N: a probe journey plus N other enabled journeys; add
# -rate 1000 for the event-to-email latency under that load, or
# -interleave 3 for the webhook's rate with the N journeys off and on in
# alternating rounds); anything else
# (GOGC, INGEST_WRITERS, …) reaches the server.
set -euo pipefail
BIN=${1:?usage: bench.sh INLET_BINARY [inlet-load flags]}; shift
LOAD=${LOAD:-/tmp/inlet-load}
PGBASE=${PGBASE:-postgres://postgres@127.0.0.1:5432}
PGADMIN="$PGBASE/postgres?sslmode=disable"
DURATION=${DURATION:-12s}
PORT=${PORT:-18181}
SECRET=bench-secret-$RANDOM$RANDOM
WORK=$(mktemp -d)
DB=inlet_bench_$RANDOM$RANDOM

ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
sum_ticks() { local n=0 p; for p in "$@"; do n=$((n + $(ticks "$p"))); done; echo $n; }

VERIFY=()
if [[ -n "${SQLITE:-}" ]]; then
  export -n DATABASE_URL 2>/dev/null || true
  SERVER_ENV=(DATA_DIR="$WORK")
else
  psql "$PGADMIN" -qc "CREATE DATABASE $DB"
  URL="$PGBASE/$DB?sslmode=disable"
  SERVER_ENV=(DATABASE_URL="$URL")
  VERIFY=(-verify-db "$URL")
fi
cleanup() {
  [[ -n "${PID:-}" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  [[ -z "${SQLITE:-}" ]] && psql "$PGADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
  [[ -n "${SERVER_LOG:-}" ]] && cp "$WORK/server.log" "$SERVER_LOG" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

printf %s "$SECRET" | env "${SERVER_ENV[@]}" "$BIN" secret set >/dev/null
if [[ -n "${AUDIENCES:-}" ]]; then
  for f in "$AUDIENCES"/*.json; do env "${SERVER_ENV[@]}" "$BIN" audience create --file "$f" >/dev/null; done
fi
PROBE_ARGS=()
if [[ -n "${AUDIENCES:-}" && -n "${PROBE:-}" ]]; then
  TOKEN=$(env "${SERVER_ENV[@]}" "$BIN" token create --name probe --scope read)
  PROBE_ARGS=(-probe-api "http://127.0.0.1:$PORT/api/v1" -probe-token "$TOKEN")
fi
JOURNEY_ARGS=()
if [[ -n "${JOURNEYS:-}" ]]; then
  TOKEN=$(env "${SERVER_ENV[@]}" "$BIN" token create --name bench --scope write)
  SERVER_ENV+=(SMTP_URL="smtp://127.0.0.1:$((PORT + 1))?tls=none" EMAIL_FROM="Bench <bench@example.com>")
  JOURNEY_ARGS=(-journeys "$JOURNEYS" -api-token "$TOKEN" -smtp-listen "127.0.0.1:$((PORT + 1))")
fi
env "${SERVER_ENV[@]}" LISTEN_ADDR=127.0.0.1:$PORT LOG_LEVEL=warn "$BIN" >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

"$LOAD" -url "http://127.0.0.1:$PORT/api/public/webhooks/segment" -secret "$SECRET" -duration "$DURATION" "${VERIFY[@]}" "${PROBE_ARGS[@]}" "${JOURNEY_ARGS[@]}" "$@" >"$WORK/load.txt" 2>&1 &
LPID=$!
sleep 2
s0=$(ticks $PID); l0=$(ticks $LPID); p0=$(sum_ticks $(pgrep -u postgres || true)); t0=$(date +%s%N)
sleep 8
s1=$(ticks $PID); l1=$(ticks $LPID); p1=$(sum_ticks $(pgrep -u postgres || true)); t1=$(date +%s%N)
RC=0; wait $LPID || RC=$?
cat "$WORK/load.txt"
secs=$(( (t1 - t0) / 10000000 ))   # in ticks (1/100 s)
echo "CPU in the middle 8 s, in cores: server $(echo "scale=2; ($s1-$s0)/$secs" | bc)  inlet-load $(echo "scale=2; ($l1-$l0)/$secs" | bc)  postgres $(echo "scale=2; ($p1-$p0)/$secs" | bc)"
echo "server peak RSS: $(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' /proc/$PID/status)"
if [[ -n "${AUDIENCES:-}" && -z "${SQLITE:-}" ]]; then
  # Event to transition: from when the webhook received the causing event
  # to when the engine evaluated it (the transition's time), event-driven
  # transitions only. Give the engine a moment to drain first.
  sleep 3
  psql "$URL" -qAtc "SELECT 'transitions ' || count(*) || ', event to transition ms p50 ' ||
      round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric) || ' p95 ' ||
      round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric) || ' p99 ' ||
      round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric)
    FROM (SELECT extract(epoch FROM h.at - e.received_at) * 1000 AS ms
          FROM audience_history h JOIN events e ON e.workspace_id = h.workspace_id AND e.message_id = h.cause
          WHERE e.source = 'webhook') x"
fi
if [[ -n "${SQLITE:-}" ]]; then
  kill $PID; wait $PID 2>/dev/null || true; PID=
  RUN=$(grep -oP 'run \K[^:]+' "$WORK/load.txt")
  echo "stored in SQLite (rows, distinct messageIds): $(python3 -c "import sqlite3; print(sqlite3.connect('$WORK/inlet.db').execute(\"select count(*), count(distinct message_id) from events where message_id like '$RUN-%'\").fetchone())")"
fi
exit $RC
