#!/usr/bin/env bash
# bench/run.sh - pool-server's own benchmarks, on 127.0.0.1 only, every load
# bounded in time. Builds `cargo build --release --example bench`, starts a
# fresh server per test, measures it and prints a markdown table.
#
# Usage: bench/run.sh [TEST ...]        (default: every test, in this order)
#   ka1 ka32 ka256 close32 pipe32
#             wrk -t1 on GET /plaintext: keep-alive with 1, 32 and 256
#             connections, `Connection: close` with 32, and 32 connections
#             with 16 pipelined requests per write (bench/pipeline.lua)
#   sleep64   wrk -t1 -c64 on GET /sleep (100 ms in the handler), the server
#             on SLEEP_WORKERS (64) workers
#             These six give req/s, server CPU us/req, p50 and p99, and per
#             request over the wrk run: the server's context switches (every
#             thread's voluntary + nonvoluntary, /proc/PID/task/*/status) and,
#             with perf (PERF below), its futex, write (the eventfd) and
#             epoll_wait calls
#   idle10k   10,000 idle keep-alive connections (bench/clients.py idle): server
#             context switches per second over 5 s while all idle,
#             RSS bytes per connection, fresh-request latency meanwhile
#   static1m  a 1 MiB file, wrk -t1 -c32 keep-alive, pool-server (/static/) and
#             nginx (sendfile on, 1 worker process; tcp_nopush off, then on) in
#             the same run
#   slowdl    SLOWDL_CLIENTS (50) curl clients each downloading SLOWDL_SIZE
#             (100 MiB) of /download at SLOWDL_RATE (1M/s) for SLOWDL_SECONDS (20),
#             server on 2 workers: peak RSS growth, fresh /plaintext p50/p99
#   sse10k    10,000 open /events streams (bench/clients.py sse): RSS bytes per
#             stream, time for one POST /broadcast to reach all of them
#   upload1g  a 1 GiB chunked POST /upload piped into curl: peak RSS growth
# Environment (defaults in brackets):
#   DURATION seconds per wrk test [5]      WORKERS server workers [2]
#   SLEEP_WORKERS server workers for sleep64 [64]
#   IDLE_CONNS [10000]  SSE_STREAMS [10000]  UPLOAD_SIZE bytes [1073741824]
#   SLOWDL_CLIENTS [50]  SLOWDL_RATE [1M]  SLOWDL_SIZE bytes [104857600]
#   SLOWDL_SECONDS [20]  SLOWDL_FRESH fresh requests over the run [200]
#   PIN      1 = server on CPU $SERVER_CPU [1], load on CPU $LOAD_CPU [0] [0]
#   PORT     first port to try [25080]; each test takes the next free one
#   RESULTS  folder for raw output [target/bench-results/<UTC stamp>]
#   INSTALL  1 = apt-get install missing tools (as root) instead of stopping [0]
#   BUILD    0 = use the existing target/release/examples/bench [1]
#   BIN      another build of the bench example to measure, e.g. an older
#            commit's (implies BUILD=0; bench/engines.sh builds them)
#   SERVER_CMD  another server, for the wrk tests only (ka1 ... sleep64), run
#            as compare.sh runs its peers: "{port}" in it is replaced by the
#            port, else the port is appended (WORKERS is not passed)
#            (e.g. SERVER_CMD=~/.cache/pool-server-bench/peers-target/release/hyper)
#   LABEL    the server column of the wrk tests [pool; with SERVER_CMD: its name]
#   PERF     0 = skip the perf counts; auto = when perf can count syscall
#            tracepoints, a second wrk run of PERF_SECONDS [2] after each
#            measured one, under `perf stat -p`, gives the futex, write and
#            epoll_wait counts (counting slows the server, so the measured
#            run is not counted) [auto]
# Besides table.md, RESULTS gets results.tsv (one line per wrk test, for
# scripts such as bench/engines.sh) and each wrk test's raw wrk and perf output.
set -u
unset RUST_BACKTRACE
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
ALL_TESTS="ka1 ka32 ka256 close32 pipe32 sleep64 idle10k static1m slowdl sse10k upload1g"
WRK_TESTS="ka1 ka32 ka256 close32 pipe32 sleep64"
DURATION="${DURATION:-5}"
WORKERS="${WORKERS:-2}"
SLEEP_WORKERS="${SLEEP_WORKERS:-64}"
IDLE_CONNS="${IDLE_CONNS:-10000}"
SSE_STREAMS="${SSE_STREAMS:-10000}"
UPLOAD_SIZE="${UPLOAD_SIZE:-1073741824}"
SLOWDL_CLIENTS="${SLOWDL_CLIENTS:-50}"
SLOWDL_RATE="${SLOWDL_RATE:-1M}"
SLOWDL_SIZE="${SLOWDL_SIZE:-104857600}"
SLOWDL_SECONDS="${SLOWDL_SECONDS:-20}"
SLOWDL_FRESH="${SLOWDL_FRESH:-200}"
PIN="${PIN:-0}"
SERVER_CPU="${SERVER_CPU:-1}"
LOAD_CPU="${LOAD_CPU:-0}"
PORT="${PORT:-25080}"
INSTALL="${INSTALL:-0}"
BUILD="${BUILD:-1}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="${RESULTS:-$ROOT/target/bench-results/$STAMP}"
BIN="${BIN:-}"
SERVER_CMD="${SERVER_CMD:-}"
PERF="${PERF:-auto}"
PERF_SECONDS="${PERF_SECONDS:-2}"
if [ -n "$SERVER_CMD" ]; then
  BUILD=0; first="${SERVER_CMD%% *}"; LABEL="${LABEL:-$(basename "$first")}"
elif [ -n "$BIN" ]; then
  BUILD=0; case $BIN in /*) ;; *) BIN="$PWD/$BIN" ;; esac
else
  BIN="$ROOT/target/release/examples/bench"
fi
LABEL="${LABEL:-pool}"
HZ="$(getconf CLK_TCK)"

usage() { sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"; }
if [ "$#" -gt 0 ]; then TESTS="$*"; else TESTS="${TESTS:-$ALL_TESTS}"; fi
for t in $TESTS; do
  case " $ALL_TESTS " in *" $t "*) ;; *)
    [ "$t" = -h ] || [ "$t" = --help ] || echo "unknown test: $t" >&2
    usage >&2; exit 2 ;;
  esac
  if [ -n "$SERVER_CMD" ]; then
    case " $WRK_TESTS " in *" $t "*) ;; *)
      echo "SERVER_CMD runs the wrk tests only ($WRK_TESTS), not $t" >&2; exit 2 ;;
    esac
  fi
done

# --- tools -------------------------------------------------------------------
need=(curl python3 ss)
for t in $TESTS; do
  case $t in ka*|close*|pipe*|sleep*) need+=(wrk) ;; static1m) need+=(wrk nginx) ;; esac
done
missing=()
for tool in $(printf '%s\n' "${need[@]}" | sort -u); do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  # tool -> Debian/Ubuntu package
  pkgs=$(for m in "${missing[@]}"; do case $m in ss) echo iproute2 ;; *) echo "$m" ;; esac; done |
    sort -u | paste -sd' ')
  if [ "$INSTALL" = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing: $pkgs" >&2
    # shellcheck disable=SC2086 # one word per package
    { apt-get update -q && apt-get install -y $pkgs; } >&2 || { echo "apt-get failed" >&2; exit 1; }
  else
    echo "missing: ${missing[*]}. Install them with:" >&2
    echo "  apt-get update && apt-get install -y $pkgs" >&2
    echo "(or rerun with INSTALL=1 as root to let this script do it)" >&2
    exit 1
  fi
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

ulimit -n "$(ulimit -Hn)" 2>/dev/null
for t in $TESTS; do
  case $t in idle10k|sse10k)
    n=$IDLE_CONNS; [ "$t" = sse10k ] && n=$SSE_STREAMS
    if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((n + 1024)) ]; then
      echo "open-file limit $(ulimit -n) is below $((n + 1024)) for $t: raise it (ulimit -Hn, limits.conf)" >&2
      exit 1
    fi ;;
  esac
done

# --- build -------------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
  echo "\$ cargo build --release --example bench" >&2
  (cd "$ROOT" && cargo build -q --release --example bench) || { echo "build failed" >&2; exit 1; }
fi
[ -n "$SERVER_CMD" ] || [ -x "$BIN" ] || { echo "$BIN missing (build it, or BUILD=1)" >&2; exit 1; }
mkdir -p "$RESULTS"

# --- perf: the server's futex, write and epoll_wait calls per request --------
# syscall tracepoints, counted over every thread of the server (`perf stat -p`)
# with wrk as perf's workload, so the count spans that wrk run exactly.
PERF_EVENTS="syscalls:sys_enter_futex,syscalls:sys_enter_write,syscalls:sys_enter_epoll_wait"
USE_PERF=0; PERF_WHY="PERF=0"
if [ "$PERF" != 0 ]; then
  if ! command -v perf >/dev/null 2>&1; then
    PERF_WHY="perf not installed (apt-get install linux-perf, or linux-tools-\$(uname -r))"
  elif perf_check=$(perf stat -x, -e "$PERF_EVENTS" -- true 2>&1) &&
       [ "$(printf '%s\n' "$perf_check" | grep -c '^[0-9][0-9]*,.*syscalls:sys_enter_')" = 3 ]; then
    USE_PERF=1; PERF_WHY=""
  else
    PERF_WHY="perf cannot count syscall tracepoints here (root, perf_event_paranoid <= -1 or CAP_PERFMON, tracefs): $(printf '%s\n' "$perf_check" | grep -v '^$' | head -1)"
  fi
  [ -n "$PERF_WHY" ] && echo "note: no futex/write counts: $PERF_WHY" >&2
fi
TMP="$(mktemp -d "${TMPDIR:-/tmp}/pool-bench.XXXXXX")"
chmod 755 "$TMP"  # nginx's worker runs as another user and reads the file from here

# --- helpers -----------------------------------------------------------------
SRV_PID=""; NGX_PID=""; LOAD_PIDS=()
cleanup() {
  local p
  for p in "${LOAD_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null
  [ -n "$NGX_PID" ] && kill -QUIT "$NGX_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

srv_pfx=(); load_pfx=()
if [ "$PIN" = 1 ]; then srv_pfx=(taskset -c "$SERVER_CPU"); load_pfx=(taskset -c "$LOAD_CPU"); fi

# The exact commands, for the report (a file: some run in subshells).
note_cmd() { local c="${*//$ROOT\//}"; echo "$c" >>"$RESULTS/commands.txt"; echo "\$ $c" >&2; }
quoted() { local a o=(); for a in "$@"; do [[ "$a" == *" "* ]] && a="'$a'"; o+=("$a"); done; echo "${o[*]}"; }

free_port() { # first port from $1 with no listener
  local p=$1
  while [ -n "$(ss -Htln "sport = :$p")" ]; do p=$((p + 1)); done
  echo "$p"
}

wait_http() { # pid url -> 0 once url answers, 1 if pid died or 10 s passed
  for _ in $(seq 100); do
    kill -0 "$1" 2>/dev/null || return 1
    curl -s -o /dev/null --max-time 1 "$2" && return 0
    sleep 0.1
  done
  return 1
}

start_server() { # test [static dir] -> sets SRV_PID, URL
  port=$(free_port "$PORT"); PORT=$((port + 1))
  if [ -n "$SERVER_CMD" ]; then # compare.sh's convention; exec: SRV_PID is the server
    local cmd="$SERVER_CMD"
    if [[ "$cmd" == *"{port}"* ]]; then cmd="${cmd//\{port\}/$port}"; else cmd="$cmd $port"; fi
    note_cmd "${srv_pfx[*]}${srv_pfx[*]:+ }$cmd"
    "${srv_pfx[@]}" bash -c "exec $cmd" >"$RESULTS/$1.server.log" 2>&1 &
  else
    local args=("$port" "$WORKERS"); [ $# -gt 1 ] && args+=("$2")
    note_cmd "${srv_pfx[*]}${srv_pfx[*]:+ }$BIN ${args[*]}"
    "${srv_pfx[@]}" "$BIN" "${args[@]}" >"$RESULTS/$1.server.log" 2>&1 &
  fi
  SRV_PID=$!
  URL="http://127.0.0.1:$port"
  wait_http "$SRV_PID" "$URL/plaintext" || { echo "!! server for $1 did not start" >&2; return 1; }
}

stop_pid() { # pid [signal]: stop a process this script started, and reap it
  [ -z "$1" ] && return
  kill "-${2:-TERM}" "$1" 2>/dev/null
  for _ in $(seq 30); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}
stop_server() { stop_pid "$SRV_PID"; SRV_PID=""; }

ticks() { # pid... -> utime+stime in clock ticks, summed
  local t=0 p v
  for p in "$@"; do
    v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null) || v=0
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
ctxsw() { # pid... -> voluntary + nonvoluntary context switches of every thread, summed
  local p
  for p in "$@"; do cat /proc/"$p"/task/*/status 2>/dev/null; done |
    awk '$1 == "voluntary_ctxt_switches:" || $1 == "nonvoluntary_ctxt_switches:" { s += $2 } END { print s + 0 }'
}
per_req() { awk -v d="$1" -v n="$2" 'BEGIN{ if (d != "" && n > 0) printf "%.2f", d/n; else print "-" }'; }
perf_count() { # perf -x, output, event -> its count, or nothing (not counted, no perf)
  [ -f "$1" ] && awk -F, -v e="$2" '$3 == e && $1 ~ /^[0-9]+$/ { print $1 }' "$1"; }
kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; } # pid field
us_per() { awk -v d="$1" -v n="$2" -v hz="$HZ" 'BEGIN{ if (n > 0) printf "%.1f", d/hz*1e6/n; else print "-" }'; }
mib() { awk -v k="$1" 'BEGIN{ printf "%.1f", k/1024 }'; }
to_ms() { # wrk's "1.23ms" | "850.00us" | "2.01s" -> ms (µs resolution below 1 ms)
  awk -v v="$1" 'BEGIN{ if (v ~ /us$/) {sub(/us$/,"",v); m = v/1000}
    else if (v ~ /ms$/) {sub(/ms$/,"",v); m = v}
    else if (v ~ /s$/) {sub(/s$/,"",v); printf "%.0f", v*1000; exit} else { print "-"; exit }
    printf (m < 1 ? "%.3f" : "%.2f"), m }'; }
kv() { tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; } # file key

# Rows are given as "test|server|req/s|CPU us/req|latency|memory|goal / notes";
# the wrk tests set COUNTS="ctx switches/req|futex/req|write/req" first.
ROWS=(); COUNTS=""
row() {
  local a b c d rest
  IFS='|' read -r a b c d rest <<<"$*"
  ROWS+=("$a|$b|$c|$d|${COUNTS:-||}|$rest"); COUNTS=""
  echo "  -> ${ROWS[-1]}" >&2
}

run_wrk() { # test out url pids... ; wrk args in WRK_ARGS, WRK_TAIL
  # -> "rps cpu cs futex write epoll p50 p99 latency errors" (per request;
  #    '-' when unknown; latency with '_' for spaces)
  local t=$1 out=$2 url=$3; shift 3
  local c0 c1 s0 s1 total rps lat p50 p99 err pf="" ptotal=0 a pargs=()
  note_cmd "${load_pfx[*]}${load_pfx[*]:+ }wrk $(quoted "${WRK_ARGS[@]}") $url${WRK_TAIL[*]:+ }${WRK_TAIL[*]}"
  c0=$(ticks "$@"); s0=$(ctxsw "$@")
  timeout $((DURATION + 30)) "${load_pfx[@]}" wrk "${WRK_ARGS[@]}" "$url" "${WRK_TAIL[@]}" >"$out" 2>&1
  c1=$(ticks "$@"); s1=$(ctxsw "$@")
  if [ "$USE_PERF" = 1 ]; then
    # A second, shorter run of the same load for the syscall counts: counting
    # syscall tracepoints slows every syscall and context switch (ka1's CPU per
    # request rose by half), so the measured run above goes uncounted.
    pf="${out%.txt}.perf.txt"
    for a in "${WRK_ARGS[@]}"; do [[ "$a" =~ ^-d[0-9.]+s$ ]] && a="-d${PERF_SECONDS}s"; pargs+=("$a"); done
    note_cmd "perf stat -x, -o ${pf#"$ROOT"/} -e $PERF_EVENTS -p <server pids> -- ${load_pfx[*]}${load_pfx[*]:+ }wrk $(quoted "${pargs[@]}") $url${WRK_TAIL[*]:+ }${WRK_TAIL[*]}"
    sleep 0.3
    timeout $((PERF_SECONDS + 30)) perf stat -x, -o "$pf" -e "$PERF_EVENTS" -p "$(IFS=,; echo "$*")" -- \
      "${load_pfx[@]}" wrk "${pargs[@]}" "$url" "${WRK_TAIL[@]}" >"${out%.txt}.perf-wrk.txt" 2>&1
    ptotal=$(awk '/requests in/ { print $1; exit }' "${out%.txt}.perf-wrk.txt")
  fi
  total=$(awk '/requests in/ { print $1; exit }' "$out")
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  lat="p50 $p50 / p99 $p99 ms"
  # With pipelining wrk times one response per batch and prints 0 for the percentiles.
  if [ "$p99" = "0.000" ]; then
    lat="n/a (wrk: 0 when pipelining), max $(to_ms "$(awk '$1 == "Latency" { print $4; exit }' "$out")") ms"
    p50=-; p99=-
  fi
  err=$(awk '/Socket errors:/ { sub(/.*errors: */, ""); print } /Non-2xx/ { print "non-2xx " $NF }' "$out" | paste -sd' ')
  echo "${rps:-fail} $(us_per $((c1 - c0)) "${total:-0}") $(per_req $((s1 - s0)) "${total:-0}")" \
    "$(per_req "$(perf_count "$pf" syscalls:sys_enter_futex)" "${ptotal:-0}")" \
    "$(per_req "$(perf_count "$pf" syscalls:sys_enter_write)" "${ptotal:-0}")" \
    "$(per_req "$(perf_count "$pf" syscalls:sys_enter_epoll_wait)" "${ptotal:-0}")" \
    "${p50:--} ${p99:--} ${lat// /_} ${err:-none}"
}

# --- tests -------------------------------------------------------------------
test_wrk() { # ka1 | ka32 | ka256 | close32 | pipe32 | sleep64
  local t=$1 conns=32 path=/plaintext note="" saved=$WORKERS
  WRK_TAIL=(); local extra=()
  case $t in
    ka1) conns=1 ;;
    ka256) conns=256 ;;
    close32) extra=(-H "Connection: close") ;;
    pipe32) extra=(-s "$HERE/pipeline.lua"); WRK_TAIL=(-- 16); note="16 requests per write; " ;;
    sleep64) conns=64; path=/sleep
      if [ -z "$SERVER_CMD" ]; then WORKERS=$SLEEP_WORKERS; note="$SLEEP_WORKERS workers, "; fi
      note="${note}100 ms per request in the handler; " ;;
  esac
  WRK_ARGS=(-t1 -c"$conns" -d"${DURATION}s" --timeout 10s --latency "${extra[@]}")
  start_server "$t" || { WORKERS=$saved; row "$t|$LABEL|no start||||"; stop_server; return; }
  WORKERS=$saved
  local rps cpu cs fx wr ep p50 p99 lat err
  read -r rps cpu cs fx wr ep p50 p99 lat err <<<"$(run_wrk "$t" "$RESULTS/$t.wrk.txt" "$URL$path" "$SRV_PID")"
  local hwm; hwm=$(kib "$SRV_PID" VmHWM)
  stop_server
  [ -f "$RESULTS/results.tsv" ] ||
    printf 'test\tserver\treq/s\tcpu_us/req\tctxsw/req\tfutex/req\twrite/req\tepoll_wait/req\tp50_ms\tp99_ms\terrors\n' >"$RESULTS/results.tsv"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$LABEL" "$rps" "$cpu" "$cs" "$fx" "$wr" "$ep" "$p50" "$p99" "$err" >>"$RESULTS/results.tsv"
  COUNTS="$cs|$fx|$wr"
  row "$t|$LABEL|$rps|$cpu|${lat//_/ }|peak $(mib "${hwm:-0}") MiB|${note}wrk -t1 -c$conns $path; epoll_wait/req $ep; socket errors: $err"
}

test_idle10k() {
  start_server idle10k || { row "idle10k|pool|no start||||"; stop_server; return; }
  local out="$RESULTS/idle10k.txt"
  note_cmd "${load_pfx[*]}${load_pfx[*]:+ }python3 bench/clients.py idle $port $SRV_PID $IDLE_CONNS"
  timeout 150 "${load_pfx[@]}" python3 "$HERE/clients.py" idle "$port" "$SRV_PID" "$IDLE_CONNS" >"$out" 2>&1
  stop_server
  row "idle10k|pool|||fresh p50 $(kv "$out" fresh_p50_ms) / p99 $(kv "$out" fresh_p99_ms) ms|$(kv "$out" bytes_per_conn) B/conn|held $(kv "$out" held)/$IDLE_CONNS (still $(kv "$out" held_after) after), fresh failures $(kv "$out" fresh_fail), $(kv "$out" idle_wakeups_per_s) wake-ups/s while idle"
}

test_static1m() {
  local dir="$TMP/static" rps cpu cs fx wr lat err
  mkdir -p "$dir"; chmod 755 "$dir"
  head -c 1048576 /dev/urandom >"$dir/1m.bin"; chmod 644 "$dir/1m.bin"
  WRK_ARGS=(-t1 -c32 -d"${DURATION}s" --timeout 10s --latency); WRK_TAIL=()
  # pool-server
  start_server static1m "$dir" || { row "static1m|pool|no start||||"; stop_server; return; }
  [ "$(curl -s "$URL/static/1m.bin" | cmp - "$dir/1m.bin" && echo same)" = same ] || echo "!! /static/1m.bin differs" >&2
  read -r rps cpu cs fx wr _ _ _ lat err <<<"$(run_wrk static1m "$RESULTS/static1m.pool.wrk.txt" "$URL/static/1m.bin" "$SRV_PID")"
  local hwm; hwm=$(kib "$SRV_PID" VmHWM)
  stop_server
  COUNTS="$cs|$fx|$wr"
  row "static1m|pool|$rps|$cpu|${lat//_/ }|peak $(mib "${hwm:-0}") MiB|1 MiB file, wrk -t1 -c32; $(awk -v r="$rps" 'BEGIN{printf "%.0f", r/1024*8}') Gbit/s; socket errors: $err"
  POOL_RPS=$rps; POOL_CPU=$cpu
  # nginx, same file, same load: its defaults (tcp_nopush off), then with
  # tcp_nopush on (TCP_CORK around head + sendfile, as Debian's stock config has)
  nginx_static off "$dir"
  nginx_static on "$dir"
}

nginx_static() { # tcp_nopush(on|off) dir
  local nopush=$1 dir=$2 rps cpu cs fx wr lat err label=nginx
  [ "$nopush" = on ] && label="nginx nopush"
  port=$(free_port "$PORT"); PORT=$((port + 1))
  local ng="$TMP/nginx-$nopush"; mkdir -p "$ng/logs"
  cat >"$ng/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $ng/nginx.pid;
error_log $ng/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush $nopush;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    client_body_temp_path $ng/client_body;
    proxy_temp_path $ng/proxy;
    fastcgi_temp_path $ng/fastcgi;
    uwsgi_temp_path $ng/uwsgi;
    scgi_temp_path $ng/scgi;
    server {
        listen 127.0.0.1:$port;
        root $dir;
    }
}
EOF
  cp "$ng/nginx.conf" "$RESULTS/static1m.nginx-nopush-$nopush.conf"
  note_cmd "${srv_pfx[*]}${srv_pfx[*]:+ }nginx -p $ng -c $ng/nginx.conf -e $ng/logs/error.log   # config: $RESULTS/static1m.nginx-nopush-$nopush.conf"
  "${srv_pfx[@]}" "$NGINX" -p "$ng" -c "$ng/nginx.conf" -e "$ng/logs/error.log" >"$RESULTS/static1m.nginx-$nopush.log" 2>&1 &
  NGX_PID=$!
  if ! wait_http "$NGX_PID" "http://127.0.0.1:$port/1m.bin"; then
    row "static1m|$label|no start||||see $RESULTS/static1m.nginx-$nopush.log"; stop_pid "$NGX_PID" QUIT; NGX_PID=""; return
  fi
  local workers; workers=$(pgrep -P "$NGX_PID" | paste -sd' ')
  # shellcheck disable=SC2086 # one word per PID
  read -r rps cpu cs fx wr _ _ _ lat err <<<"$(run_wrk static1m "$RESULTS/static1m.nginx-$nopush.wrk.txt" "http://127.0.0.1:$port/1m.bin" "$NGX_PID" $workers)"
  local rss=0 w; for w in "$NGX_PID" $workers; do rss=$((rss + $(kib "$w" VmHWM))); done
  stop_pid "$NGX_PID" QUIT; NGX_PID=""
  COUNTS="$cs|$fx|$wr"
  row "static1m|$label|$rps|$cpu|${lat//_/ }|peak $(mib "$rss") MiB (master+worker)|sendfile on, tcp_nopush $nopush, 1 worker; pool/this: $(awk -v a="$POOL_RPS" -v b="$rps" 'BEGIN{ if (b > 0) printf "%.2fx", a/b }') req/s, $(awk -v a="$POOL_CPU" -v b="$cpu" 'BEGIN{ if (b > 0) printf "%.2fx", a/b }') CPU/req; socket errors: $err"
}

test_slowdl() {
  local saved=$WORKERS; WORKERS=2
  start_server slowdl || { WORKERS=$saved; row "slowdl|pool|no start||||"; stop_server; return; }
  WORKERS=$saved
  sleep 0.5
  local base; base=$(kib "$SRV_PID" VmRSS)
  local dl="$URL/download?size=$SLOWDL_SIZE" i
  note_cmd "${load_pfx[*]}${load_pfx[*]:+ }curl -s -o /dev/null --limit-rate $SLOWDL_RATE '$dl'   # x$SLOWDL_CLIENTS, killed after ${SLOWDL_SECONDS}s"
  LOAD_PIDS=()
  for i in $(seq "$SLOWDL_CLIENTS"); do
    timeout $((SLOWDL_SECONDS + 10)) "${load_pfx[@]}" curl -s -o /dev/null --limit-rate "$SLOWDL_RATE" "$dl" &
    LOAD_PIDS+=($!)
  done
  # bytes the clients have acknowledged, over the server-side download sockets,
  # and the kernel's send-queue bytes for them (skmem w: not in the server's RSS)
  acked() { ss -Htnim state established "sport = :$port" | awk '
    { for (i = 1; i <= NF; i++) {
        if ($i ~ /^bytes_acked:/) { split($i, kv, ":"); s += kv[2]; n++ }
        if ($i ~ /^skmem:/) { if (match($i, /,w[0-9]+/)) w += substr($i, RSTART + 2, RLENGTH - 2) } } }
    END { print s+0, n+0, w+0 }'; }
  sleep 2
  local a0 s0 sent s1 conns wq
  read -r a0 _ _ <<<"$(acked)"; s0=$(date +%s.%N)
  local out="$RESULTS/slowdl.txt" c0 c1
  c0=$(ticks "$SRV_PID")
  note_cmd "${load_pfx[*]}${load_pfx[*]:+ }python3 bench/clients.py fresh $port $SLOWDL_FRESH $((SLOWDL_SECONDS - 3))"
  timeout $((SLOWDL_SECONDS + 30)) "${load_pfx[@]}" python3 "$HERE/clients.py" fresh "$port" "$SLOWDL_FRESH" $((SLOWDL_SECONDS - 3)) >"$out" 2>&1
  c1=$(ticks "$SRV_PID")
  read -r sent conns wq <<<"$(acked)"; s1=$(date +%s.%N)
  local hwm rss; hwm=$(kib "$SRV_PID" VmHWM); rss=$(kib "$SRV_PID" VmRSS)
  for i in "${LOAD_PIDS[@]}"; do kill "$i" 2>/dev/null; done
  for i in "${LOAD_PIDS[@]}"; do wait "$i" 2>/dev/null; done
  LOAD_PIDS=()
  local after=ok; [ "$(curl -s --max-time 3 "$URL/plaintext")" = "Hello, World!" ] || after="NOT serving after"
  stop_server
  local growth=$((hwm - base)) goal=$((SLOWDL_CLIENTS * 256))
  echo "base_kib=$base hwm_kib=$hwm rss_end_kib=$rss acked0=$a0 acked1=$sent t0=$s0 t1=$s1 conns=$conns kernel_wmem_queued=$wq cpu_ticks=$((c1 - c0))" >>"$out"
  local rate; rate=$(awk -v a="$a0" -v b="$sent" -v t0="$s0" -v t1="$s1" -v n="$SLOWDL_CLIENTS" 'BEGIN{ printf "%.2f", (b-a)/n/(t1-t0)/1048576 }')
  row "slowdl|pool (2 workers)|||fresh p50 $(kv "$out" fresh_p50_ms) / p99 $(kv "$out" fresh_p99_ms) ms (max $(kv "$out" fresh_max_ms), $(kv "$out" fresh_fail) failed of $SLOWDL_FRESH)|peak growth $(mib "$growth") MiB (base $(mib "$base"))|$SLOWDL_CLIENTS x curl --limit-rate $SLOWDL_RATE for ${SLOWDL_SECONDS}s, $conns conns at the end, $rate MiB/s per client (steady state), $(mib $((wq / 1024))) MiB queued in the kernel's send buffers (not RSS), server CPU $(awk -v t=$((c1 - c0)) -v hz="$HZ" -v a="$s0" -v b="$s1" 'BEGIN{ printf "%.0f%%", t/hz/(b-a)*100 }'); goals: growth < $(mib "$goal") MiB $( [ "$growth" -lt "$goal" ] && echo met || echo MISSED), p99 < 50 ms $(awk -v p="$(kv "$out" fresh_p99_ms)" 'BEGIN{ print (p != "nan" && p < 50) ? "met" : "MISSED" }'); $after"
}

test_sse10k() {
  start_server sse10k || { row "sse10k|pool|no start||||"; stop_server; return; }
  local out="$RESULTS/sse10k.txt"
  note_cmd "${load_pfx[*]}${load_pfx[*]:+ }python3 bench/clients.py sse $port $SRV_PID $SSE_STREAMS"
  timeout 150 "${load_pfx[@]}" python3 "$HERE/clients.py" sse "$port" "$SRV_PID" "$SSE_STREAMS" >"$out" 2>&1
  stop_server
  local per all; per=$(kv "$out" bytes_per_stream); all=$(kv "$out" all_reached_ms)
  row "sse10k|pool|||broadcast reached all in ${all:-?} ms (answer after $(kv "$out" answer_ms) ms)|$per B/stream|held $(kv "$out" held)/$SSE_STREAMS, broadcast answered $(kv "$out" broadcast_answer), reached $(kv "$out" reached); goals: <= 4096 B/stream $(awk -v p="$per" 'BEGIN{ print (p != "" && p != "nan" && p <= 4096) ? "met" : "MISSED" }'), < 1000 ms $(awk -v p="$all" 'BEGIN{ print (p != "" && p != "nan" && p < 1000) ? "met" : "MISSED" }')"
}

test_upload1g() {
  start_server upload1g || { row "upload1g|pool|no start||||"; stop_server; return; }
  sleep 0.5
  local base out="$RESULTS/upload1g.txt" t0 t1 c0 c1
  base=$(kib "$SRV_PID" VmRSS)
  note_cmd "head -c $UPLOAD_SIZE /dev/zero | ${load_pfx[*]}${load_pfx[*]:+ }curl -s -T - -H 'Expect:' -X POST $URL/upload"
  c0=$(ticks "$SRV_PID"); t0=$(date +%s.%N)
  head -c "$UPLOAD_SIZE" /dev/zero | timeout 300 "${load_pfx[@]}" curl -s -T - -H 'Expect:' -X POST "$URL/upload" >"$out" 2>&1
  t1=$(date +%s.%N); c1=$(ticks "$SRV_PID")
  local hwm; hwm=$(kib "$SRV_PID" VmHWM)
  stop_server
  local answer; answer=$(tr -d '\n' <"$out")
  local growth=$((hwm - base))
  row "upload1g|pool|||$(awk -v a="$t0" -v b="$t1" -v n="$UPLOAD_SIZE" 'BEGIN{ printf "%.1f s, %.0f MiB/s", b-a, n/(b-a)/1048576 }')|peak growth $(mib "$growth") MiB (base $(mib "$base"))|chunked, answered ${answer:-nothing} ($( [ "$answer" = "$UPLOAD_SIZE" ] && echo right || echo WRONG) length), server CPU $(us_per $((c1 - c0)) 1 | awk '{ printf "%.2f s", $1/1e6 }'); goal < 16 MiB $( [ "$growth" -lt 16384 ] && echo met || echo MISSED)"
}

# --- run ---------------------------------------------------------------------
for t in $TESTS; do
  echo "== $t" >&2
  case $t in
    ka1|ka32|ka256|close32|pipe32|sleep64) test_wrk "$t" ;;
    *) "test_$t" ;;
  esac
done

commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] && commit="$commit+dirty"
what="commit $commit"
if [ -n "$SERVER_CMD" ]; then what="server \`$SERVER_CMD\`"
elif [ "$BIN" != "$ROOT/target/release/examples/bench" ]; then what="binary ${BIN#"$ROOT"/}"; fi
{
  workers="$WORKERS workers (slowdl: 2, sleep64: $SLEEP_WORKERS)"; [ -n "$SERVER_CMD" ] && workers="its own threads"
  echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), $what, $(nproc) CPUs ($(uname -r)), PIN=$PIN, ${DURATION}s per wrk test, $workers; raw output in $RESULTS"
  echo
  if [ "$USE_PERF" = 1 ]; then perf_note="futex and write (the eventfd) calls from perf's syscall tracepoints, counted in a second wrk run of ${PERF_SECONDS}s (counting slows the server)"
  else perf_note="futex and write not counted, '-' ($PERF_WHY)"; fi
  echo "Counts per request over each wrk run: context switches of every server thread (/proc/PID/task/*/status); $perf_note."
  echo
  echo "| test | server | req/s | server CPU µs/req | ctx switches/req | futex/req | write/req | latency | memory | notes |"
  echo "|---|---|---:|---:|---:|---:|---:|---|---|---|"
  for r in "${ROWS[@]}"; do echo "| ${r//|/ | } |"; done
  echo
  echo "Commands:"
  echo
  echo '```sh'
  cat "$RESULTS/commands.txt"
  echo '```'
} | tee "$RESULTS/table.md"
