#!/usr/bin/env bash
# bench/soak.sh - pool-server under a bounded mixed load for minutes.
# Builds `cargo build --release --example soak`, starts it on 127.0.0.1 with
# a spool directory of its own, drives it with bench/soak.py for DURATION
# seconds, stops it with SIGTERM, and exits non-zero if anything grew without
# bound, any request was lost, the server logged an unexplained error, did
# not stop cleanly, or left a spooled file behind.
#
# Usage: nice -n 19 bench/soak.sh
# Environment (defaults in brackets):
#   DURATION seconds of load [600]   WORKERS server workers [4]
#   THREADS client threads [12]      SAMPLE_EVERY seconds [5]
#   WARMUP seconds before the RSS baseline [DURATION/10]
#   RSS_MARGIN_KIB growth allowed past the baseline [8192]
#   FD_MARGIN, THREAD_MARGIN growth allowed from start (idle) to end (idle) [0]
#   PORT [26080]   RESULTS folder [target/soak-results/<UTC stamp>]
#   BUILD 0 = use the existing target/release/examples/soak [1]
set -u
# With RUST_BACKTRACE set, each panic of /panic is symbolized by std, which
# keeps the binary's debug info in memory (about 36 MiB): not the server's.
unset RUST_BACKTRACE
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
DURATION="${DURATION:-600}"
WORKERS="${WORKERS:-4}"
PORT="${PORT:-26080}"
BUILD="${BUILD:-1}"
RESULTS="${RESULTS:-$ROOT/target/soak-results/$(date -u +%Y%m%dT%H%M%SZ)}"
BIN="$ROOT/target/release/examples/soak"
export DURATION THREADS="${THREADS:-12}" SAMPLE_EVERY="${SAMPLE_EVERY:-5}"

command -v python3 >/dev/null || { echo "soak.sh: needs python3 (apt-get install -y python3)"; exit 2; }
if [ "$BUILD" = 1 ]; then
    (cd "$ROOT" && cargo build --release --example soak) || exit 2
fi
mkdir -p "$RESULTS/spool"
while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done

"$BIN" "$PORT" "$WORKERS" "$RESULTS/spool" >"$RESULTS/server.out" 2>"$RESULTS/server.log" &
SERVER=$!
trap 'kill -KILL "$SERVER" 2>/dev/null' EXIT
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done
echo "soak: server pid $SERVER on port $PORT, $DURATION s, results in $RESULTS"

python3 "$HERE/soak.py" "$PORT" "$SERVER" "$DURATION" "$RESULTS/samples.txt" | tee "$RESULTS/summary.txt"
status=${PIPESTATUS[0]}

kill -TERM "$SERVER"
for _ in $(seq 150); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SERVER" 2>/dev/null; then
    echo "soak: FAILED: the server did not stop within 15 s of SIGTERM"; status=1
else
    wait "$SERVER"; code=$?
    [ "$code" = 0 ] || { echo "soak: FAILED: the server exited with $code"; status=1; }
fi
trap - EXIT
left=$(find "$RESULTS/spool" -mindepth 1 | wc -l)
[ "$left" = 0 ] || { echo "soak: FAILED: $left files left in the spool directory"; status=1; }
# The panics are logged on purpose, one line each; anything else is unexplained.
panics=$(grep -c "panicked on purpose\|panics on purpose" "$RESULTS/server.log")
others=$(grep -v "panics on purpose" "$RESULTS/server.log" | grep -c "ERROR\|WARN")
echo "soak: server log: $panics panic lines (expected), $others other warnings/errors"
if [ "$others" != 0 ]; then
    grep -v "panics on purpose" "$RESULTS/server.log" | grep "ERROR\|WARN" | sort | uniq -c | sort -rn | head
    status=1
fi
[ "$status" = 0 ] && echo "soak: PASSED" || echo "soak: FAILED"
exit "$status"
