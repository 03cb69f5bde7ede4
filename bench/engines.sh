#!/usr/bin/env bash
# bench/engines.sh - bench/run.sh's wrk tests on two builds of the bench
# example, an older revision's and the working tree's (and on compare.sh's
# hyper peer when it is built), alternated round after round, on 127.0.0.1
# only, each load bounded in time (DURATION per test and server).
#
# Usage: bench/engines.sh REV [TEST ...]
#   REV    a git revision (HEAD~1, a commit, a branch): its bench example is
#          built in a temporary git worktree, removed afterwards
#   TEST   any of ka1 ka32 ka256 close32 pipe32 sleep64 [default: all six]
# Each round runs every test once on each server in turn (old, new, hyper):
#   BIN=<old binary> BUILD=0 bench/run.sh TEST, the same with the new binary,
#   and SERVER_CMD=<hyper> bench/run.sh TEST (hyper gets the port as its last
#   argument, as compare.sh runs it). Then one markdown table per test: each
#   round's figures and the median per server.
# Environment (defaults in brackets):
#   ROUNDS   rounds [3]           DURATION seconds per test and server [5]
#   WORKERS  pool workers [2]     SLEEP_WORKERS pool workers for sleep64 [64]
#   PIN, PORT, PERF, PERF_SECONDS passed to bench/run.sh (see its header)
#   NEW      a bench binary to use as "new" instead of building the working tree
#   HYPER    compare.sh's hyper peer [~/.cache/pool-server-bench/peers-target/release/hyper];
#            HYPER=0 skips it. compare.sh builds it the first time it runs:
#            SERVERS=hyper TESTS=ka32 DURATION=2 <path to>/compare.sh
#   WORK     build and result folder [target/engines]: the old revision's
#            CARGO_TARGET_DIR (WORK/target, reused by later runs), the copied
#            binaries (WORK/bin, bench-<commit> reused for the same commit) and
#            each run's raw output (WORK/results/<UTC stamp>)
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SIX="ka1 ka32 ka256 close32 pipe32 sleep64"
usage() { sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"; }
[ $# -ge 1 ] && [ "$1" != -h ] && [ "$1" != --help ] || { usage >&2; exit 2; }
REV=$1; shift
TESTS="${*:-$SIX}"
for t in $TESTS; do
  case " $SIX " in *" $t "*) ;; *) echo "unknown test: $t (engines.sh runs: $SIX)" >&2; exit 2 ;; esac
done
ROUNDS="${ROUNDS:-3}"
export DURATION="${DURATION:-5}" WORKERS="${WORKERS:-2}" SLEEP_WORKERS="${SLEEP_WORKERS:-64}"
WORK="${WORK:-$ROOT/target/engines}"
case $WORK in /*) ;; *) WORK="$PWD/$WORK" ;; esac
PEERS_TARGET="${PEERS_TARGET:-${BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pool-server-bench}/peers-target}"
HYPER="${HYPER:-$PEERS_TARGET/release/hyper}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RUN="$WORK/results/$STAMP"
mkdir -p "$WORK/bin" "$RUN"

WT=""
cleanup() {
  if [ -n "$WT" ]; then
    git -C "$ROOT" worktree remove --force "$WT" 2>/dev/null || rm -rf "$WT"
    git -C "$ROOT" worktree prune 2>/dev/null
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the old build: REV in a temporary worktree -------------------------------
sha=$(git -C "$ROOT" rev-parse --verify --quiet "$REV^{commit}") || { echo "not a revision: $REV" >&2; exit 2; }
short=$(git -C "$ROOT" rev-parse --short "$sha")
OLD_BIN="$WORK/bin/bench-$sha"
if [ -x "$OLD_BIN" ]; then
  echo "old: $short, built before: ${OLD_BIN#"$ROOT"/}" >&2
else
  WT="$WORK/worktree-$$"
  echo "\$ git worktree add --detach ${WT#"$ROOT"/} $short" >&2
  git -C "$ROOT" worktree add --quiet --detach "$WT" "$sha" >&2 || { echo "git worktree add failed" >&2; exit 1; }
  echo "\$ (cd ${WT#"$ROOT"/} && CARGO_TARGET_DIR=${WORK#"$ROOT"/}/target cargo build --release --example bench)" >&2
  (cd "$WT" && CARGO_TARGET_DIR="$WORK/target" cargo build -q --release --example bench) ||
    { echo "building $short failed" >&2; exit 1; }
  cp "$WORK/target/release/examples/bench" "$OLD_BIN.tmp" && mv "$OLD_BIN.tmp" "$OLD_BIN"
  git -C "$ROOT" worktree remove --force "$WT" && WT=""
fi

# --- the new build: the working tree (copied aside: others may rebuild it) ----
head_short=$(git -C "$ROOT" rev-parse --short HEAD)
[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ] && head_short="$head_short+dirty"
NEW_BIN="$WORK/bin/bench-new-$STAMP"
if [ -n "${NEW:-}" ]; then
  cp "$NEW" "$NEW_BIN" || exit 1
  NEW_NAME="new ($(basename "$NEW"))"
else
  echo "\$ cargo build --release --example bench   # the working tree, $head_short" >&2
  (cd "$ROOT" && cargo build -q --release --example bench) || { echo "building the working tree failed" >&2; exit 1; }
  cp "$ROOT/target/release/examples/bench" "$NEW_BIN" || exit 1
  NEW_NAME="new ($head_short)"
fi
# keep the last three copies of the working tree's build
ls -t "$WORK"/bin/bench-new-* 2>/dev/null | tail -n +4 | while read -r f; do rm -f "$f"; done
OLD_NAME="old ($short)"
cmp -s "$OLD_BIN" "$NEW_BIN" && echo "note: the two binaries are identical" >&2

NAMES=(old new); declare -A LABEL=([old]="$OLD_NAME" [new]="$NEW_NAME" [hyper]=hyper)
if [ "$HYPER" != 0 ] && [ -n "$HYPER" ]; then
  if [ -x "$HYPER" ]; then NAMES+=(hyper)
  else echo "note: no hyper at $HYPER (build it once: SERVERS=hyper TESTS=ka32 DURATION=2 compare.sh), skipped" >&2; fi
fi

# --- rounds -------------------------------------------------------------------
declare -A V  # V[test,server,round] = the results.tsv line (tab-separated)
COLS=11       # test server req/s cpu ctxsw futex write epoll_wait p50 p99 errors
for r in $(seq "$ROUNDS"); do
  for t in $TESTS; do
    for s in "${NAMES[@]}"; do
      dir="$RUN/r$r.$t.$s"
      case $s in
        old)   run=(env -u SERVER_CMD BIN="$OLD_BIN" LABEL="$s") ;;
        new)   run=(env -u SERVER_CMD BIN="$NEW_BIN" LABEL="$s") ;;
        hyper) run=(env -u BIN SERVER_CMD="$HYPER" LABEL="$s") ;;
      esac
      echo "== round $r/$ROUNDS, $t, ${LABEL[$s]}" >&2
      "${run[@]}" BUILD=0 RESULTS="$dir" "$HERE/run.sh" "$t" >"$dir.log" 2>&1
      line=$(awk -F'\t' -v t="$t" 'NR > 1 && $1 == t { print; exit }' "$dir/results.tsv" 2>/dev/null)
      [ -n "$line" ] || line="$t	$s	fail	-	-	-	-	-	-	-	see ${dir#"$ROOT"/}.log"
      V[$t,$s,$r]=$line
      awk -F'\t' '{ printf "   %s req/s, %s us/req, %s ctx sw/req, %s futex/req, %s write/req, p50 %s p99 %s ms, errors: %s\n",
        $3, $4, $5, $6, $7, $9, $10, $11 }' <<<"$line" >&2
    done
  done
done

# --- tables -------------------------------------------------------------------
desc() { case $1 in
  ka1) echo "keep-alive GET /plaintext, wrk -t1 -c1" ;; ka32) echo "keep-alive GET /plaintext, wrk -t1 -c32" ;;
  ka256) echo "keep-alive GET /plaintext, wrk -t1 -c256" ;;
  close32) echo "Connection: close GET /plaintext, wrk -t1 -c32" ;;
  pipe32) echo "pipelined x16 GET /plaintext, wrk -t1 -c32" ;;
  sleep64) echo "GET /sleep (100 ms), wrk -t1 -c64; pool on $SLEEP_WORKERS workers" ;; esac; }
median_row() { # lines of results.tsv on stdin -> the median of each numeric column, '|'-joined
  awk -F'\t' -v cols="$COLS" '
    { for (c = 3; c <= cols - 1; c++) if ($c ~ /^[0-9.]+$/) { n[c]++; v[c, n[c]] = $c } }
    END {
      out = ""
      for (c = 3; c <= cols - 1; c++) {
        m = "-"
        if (n[c] > 0) {
          for (i = 1; i <= n[c]; i++) a[i] = v[c, i]
          for (i = 2; i <= n[c]; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
          m = (n[c] % 2) ? a[(n[c] + 1) / 2] : (a[n[c] / 2] + a[n[c] / 2 + 1]) / 2
          if (c == 3) m = sprintf("%.0f", m)          # req/s
          else if (c == 4) m = sprintf("%.1f", m)     # CPU us/req
          else if (c <= 8) m = sprintf("%.2f", m)     # counts per request
          else m = sprintf(m < 1 ? "%.3f" : "%.2f", m) # ms, as run.sh prints them
        }
        out = out (c > 3 ? " | " : "") m
      }
      print out
    }'
}
{
  echo "Run $STAMP: ${DURATION}s per test and server, $ROUNDS rounds alternating ${NAMES[*]}, $(nproc) CPUs ($(uname -r)), PIN=${PIN:-0}, pool on $WORKERS workers (sleep64: $SLEEP_WORKERS)."
  echo "old = \`$short\` ($REV), ${OLD_BIN#"$ROOT"/}; new = the working tree ($head_short) built at the start, ${NEW_BIN#"$ROOT"/}$( [[ " ${NAMES[*]} " == *" hyper "* ]] && echo "; hyper = $HYPER PORT")."
  echo "Per request over each wrk run: server CPU (user+system), context switches of every server thread, and perf's counts of futex, write (pool's eventfd) and epoll_wait calls ('-': perf could not count). Raw output: ${RUN#"$ROOT"/}/."
  for t in $TESTS; do
    echo
    echo "### $t: $(desc "$t")"
    echo
    echo "| server | round | req/s | CPU µs/req | ctx switches/req | futex/req | write/req | epoll_wait/req | p50 ms | p99 ms | errors |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    for s in "${NAMES[@]}"; do
      for r in $(seq "$ROUNDS"); do
        awk -F'\t' -v s="${LABEL[$s]}" -v r="$r" '{ printf "| %s | %s", s, r; for (c = 3; c <= NF; c++) printf " | %s", $c; print " |" }' <<<"${V[$t,$s,$r]}"
      done
      echo "| **${LABEL[$s]}** | **median** | $(for r in $(seq "$ROUNDS"); do echo "${V[$t,$s,$r]}"; done | median_row) | |"
    done
  done
  echo
  echo "Each figure is one \`bench/run.sh TEST\` run: \`BIN=${OLD_BIN#"$ROOT"/} BUILD=0 bench/run.sh TEST\`, \`BIN=${NEW_BIN#"$ROOT"/} BUILD=0 bench/run.sh TEST\`$( [[ " ${NAMES[*]} " == *" hyper "* ]] && echo ", \`SERVER_CMD=$HYPER bench/run.sh TEST\`")."
} | tee "$RUN/table.md"
