#!/usr/bin/env bash
# bench/instructions.sh - user-space instructions per request, counted by
# valgrind's callgrind: the same count for the same binary and load whatever
# else the machine is doing, so it shows changes too small for wall-clock CPU
# on a shared machine. Kernel work (syscalls, wake-ups) is not counted: CPU
# time (bench/run.sh) is the measure for that.
#
# Usage: bench/instructions.sh [ROUNDS]   (default 1000)
# Builds `cargo build --release --example bench`, starts it under callgrind
# with 2 workers on 127.0.0.1, sends WARM_UP rounds, zeroes the counters,
# then ROUNDS rounds of DEPTH pipelined GET /plaintext on CONNS connections
# (bench/clients.py pipeline), and prints the instructions per request.
# Environment: CONNS [4] DEPTH [16] WARM_UP [20] PORT [25180]
#   BUILD 0 = use the existing target/release/examples/bench [1]
#   BIN   another build of the bench example to measure (implies BUILD=0)
#   KEEP  a path: keep callgrind's profile there (for callgrind_annotate)
# Needs valgrind and python3 (apt-get install valgrind python3).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
ROUNDS="${1:-1000}"
CONNS="${CONNS:-4}"; DEPTH="${DEPTH:-16}"; WARM_UP="${WARM_UP:-20}"
PORT="${PORT:-25180}"; BUILD="${BUILD:-1}"
for tool in valgrind callgrind_control python3; do
  command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install valgrind python3)" >&2; exit 1; }
done
if [ -n "${BIN:-}" ]; then
  BUILD=0
else
  BIN="$ROOT/target/release/examples/bench"
fi
if [ "$BUILD" = 1 ]; then
  (cd "$ROOT" && cargo build --release --example bench >&2)
fi
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$TMP/profile" "$BIN" "$PORT" 2 >"$TMP/server.log" 2>&1 &
VG=$!
for _ in $(seq 100); do
  grep -q "listening" "$TMP/server.log" 2>/dev/null && break
  kill -0 "$VG" 2>/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
  sleep 0.2
done
python3 "$HERE/clients.py" pipeline "$PORT" "$CONNS" "$WARM_UP" "$DEPTH" >/dev/null
callgrind_control --zero "$VG" >/dev/null
answered=$(python3 "$HERE/clients.py" pipeline "$PORT" "$CONNS" "$ROUNDS" "$DEPTH")
callgrind_control --dump=measured "$VG" >/dev/null
kill -INT "$VG"; wait "$VG" || true
dump=$(ls "$TMP"/profile.* | head -1)
total=$(awk '/^summary:/ { print $2 }' "$dump")
requests=${answered#answered=}
[ -n "${KEEP:-}" ] && cp "$dump" "$KEEP"
awk -v t="$total" -v n="$requests" -v c="$CONNS" -v d="$DEPTH" 'BEGIN {
  printf "%d requests (%d connections, %d per write): %d instructions, %.0f per request\n", n, c, d, t, t / n }'
