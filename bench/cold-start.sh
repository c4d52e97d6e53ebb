#!/usr/bin/env bash
# Cold start (issue 19): what a freshly started Squall serves in its first seconds, on JDK 17 and JDK 25, with and
# without a class archive (JDK 17 AppCDS) or an ahead-of-time cache (JDK 25, JEP 483/514/515).
#
#   bench/cold-start.sh [ROUNDS] [--no-build]        (ROUNDS default 3)
#   VARIANTS="j17 j25-aot" WORKLOADS=echo bench/cold-start.sh 1 --no-build
#
# Variants (all with -Xmx512m, as compare.sh runs Squall):
#   j17          JDK 17 (the default java), as it comes (its default CDS archive of JDK classes is on)
#   j17-cds      JDK 17 with an AppCDS archive of the app's classes: -XX:SharedArchiveFile (made by
#                -XX:ArchiveClassesAtExit in a training run)
#   j25          Temurin 25 ($J25), as it comes
#   j25-aot      JDK 25 with an AOT cache: -XX:AOTCache (made by -XX:AOTCacheOutput in a training run: classes
#                loaded and linked, and JEP 515's method profiles)
#   j25-aot-coh  the same with -XX:+UseCompactObjectHeaders (a cache is made for one header layout: its own)
#   j25-aot-idle (not in the default list) an AOT cache from a training run that only starts and stops: what the
#                training load adds
# Training run (once per variant that needs one, before the rounds): a server started with the archive-writing flag,
# driven through the real paths (the page, /index, /metrics, publishes by GET and POST, 2000 WebSocket upgrades, a
# fan-out over HTTP publishes, 15 s of echo), then stopped with SIGTERM (the server stops in order and exits 0, and
# the JVM writes the file at exit); the script stops if the file is missing. Archives go to bench/target/cold-start/.
# The measured runs use -Xshare:on / -XX:AOTMode=on, so a run whose archive cannot be used fails instead of quietly
# measuring the plain JVM.
#
# Each measured run starts a fresh server and reports:
#   first_answer_ms  from starting the process to the first answer of GET /index (polled every 10 ms)
#   cold             right after that first answer, the workload on the fresh server
#   warm             the same workload again after 20 s of the same load, on the same server
# Workloads (default both; each on a server of its own):
#   echo   `squall-bench echo`: 50 clients, each one message in flight, 10 s, no warm-up: round trips/s
#   conns  `squall-bench conns`: 5000 WebSocket connections opened (200 upgrades in flight): the time until all
#          have their Welcome (accept_s), what a reconnect storm asks of a node just deployed. Warm-up: passes for
#          20 s. Each pass first has jcmd run a full GC in the server to read its live heap (about a second after
#          the first answer, outside the measured window).
# The generator is a fresh JVM (JDK 17) for each measurement, cold and warm alike, so the cold/warm gap is the
# server's. The variants' order rotates each round; the summary gives medians. PSI (/proc/pressure/cpu, "some":
# the share of time something waited for a CPU) is recorded over each run: the machine is shared.
# Raw lines: bench/results/<timestamp>-cold-start.txt; server logs: bench/results/<timestamp>-cold-start-logs/.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
ROUNDS=3
BUILD=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
    *[!0-9]*|'') echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
    *) ROUNDS=$arg ;;
  esac
done
read -r -a VARIANT_LIST <<< "${VARIANTS:-j17 j17-cds j25 j25-aot j25-aot-coh}"
read -r -a WORKLOAD_LIST <<< "${WORKLOADS:-echo conns}"
J17=${J17:-java}
J25=${J25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
HEAP=-Xmx512m
CACHE="$BENCH_DIR/target/cold-start"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RAW="$BENCH_DIR/results/$STAMP-cold-start.txt"
LOGS="$BENCH_DIR/results/$STAMP-cold-start-logs"
GENERATOR="$J17 -Xms256m -Xmx1g -jar $BENCH_DIR/target/squall-bench.jar"
SQUALL_FLAGS=(--host 127.0.0.1 --ping-interval 0 --max-messages-per-second 0 --max-connections 0 --max-channels 0
  --drain-seconds 0)
mkdir -p "$BENCH_DIR/results" "$LOGS"
ulimit -n "$(ulimit -Hn)"

if (( BUILD )); then
  (cd "$ROOT" && mvn -o -q -B -Dstyle.color=never clean package -DskipTests)
  (cd "$BENCH_DIR" && mvn -o -q -B -Dstyle.color=never clean package)
fi
rm -rf "$CACHE" && mkdir -p "$CACHE"   # an archive is only good for the jar it was made with

# jvm VARIANT: the java command and options of a measured run.
jvm() {
  case "$1" in
    j17)         echo "$J17 $HEAP" ;;
    j17-cds)     echo "$J17 $HEAP -XX:SharedArchiveFile=$CACHE/squall-j17.jsa -Xshare:on" ;;
    j25)         echo "$J25 $HEAP" ;;
    j25-aot)     echo "$J25 $HEAP -XX:AOTCache=$CACHE/squall-j25.aot -XX:AOTMode=on" ;;
    j25-aot-coh) echo "$J25 $HEAP -XX:+UseCompactObjectHeaders -XX:AOTCache=$CACHE/squall-j25-coh.aot -XX:AOTMode=on" ;;
    j25-aot-idle) echo "$J25 $HEAP -XX:AOTCache=$CACHE/squall-j25-idle.aot -XX:AOTMode=on" ;;
    *) echo "unknown variant $1" >&2; exit 2 ;;
  esac
}
# training VARIANT: the java command and options of its training run, and the file it writes (none: no training).
training() {
  case "$1" in
    j17-cds)     echo "$CACHE/squall-j17.jsa $J17 $HEAP -XX:ArchiveClassesAtExit=$CACHE/squall-j17.jsa" ;;
    j25-aot)     echo "$CACHE/squall-j25.aot $J25 $HEAP -XX:AOTCacheOutput=$CACHE/squall-j25.aot" ;;
    j25-aot-coh) echo "$CACHE/squall-j25-coh.aot $J25 $HEAP -XX:+UseCompactObjectHeaders -XX:AOTCacheOutput=$CACHE/squall-j25-coh.aot" ;;
    j25-aot-idle) echo "$CACHE/squall-j25-idle.aot $J25 $HEAP -XX:AOTCacheOutput=$CACHE/squall-j25-idle.aot" ;;
  esac
}

SERVER_PID=""
stop_server() {   # SIGTERM: the server stops in order; a JVM writing an archive may take a while after that
  [[ -n "$SERVER_PID" ]] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq "${1:-100}"); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  local rc=0; wait "$SERVER_PID" 2>/dev/null || rc=$?
  SERVER_PID=""
  return "$rc"
}
trap 'stop_server || true' EXIT

free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
psi_us() { awk '/^some/ { sub("total=", "", $5); print $5 }' /proc/pressure/cpu; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
TICK_MS=$(( 1000 / $(getconf CLK_TCK) ))
cpu_ms() { awk -v tick="$TICK_MS" '{ sub(/^.*\) /, ""); print ($12 + $13) * tick }' "/proc/$1/stat"; }   # user + system, all threads

# start_server LOG JAVA_COMMAND...: a fresh server on PORT; sets SERVER_PID, FIRST_MS (process start -> first
# answer of /index) and FIRST_CPU_MS (the CPU the server had used by then).
start_server() {
  local log=$1; shift
  local t0 attempt
  for attempt in 1 2 3; do
    t0=$(now_ms)
    (cd "$ROOT" && exec "$@" -jar target/squall.jar --port "$PORT" "${SQUALL_FLAGS[@]}") >"$log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 3000); do
      if curl -sf -o /dev/null "http://127.0.0.1:$PORT/index" 2>/dev/null; then
        FIRST_MS=$(( $(now_ms) - t0 )); FIRST_CPU_MS=$(cpu_ms "$SERVER_PID"); return 0
      fi
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.01
    done
    wait "$SERVER_PID" 2>/dev/null || true
    # the free port was taken before the server bound it (another process, or a client's ephemeral port): again
    grep -q 'already in use' "$log" || break
    echo "port $PORT was taken meanwhile (attempt $attempt); another one" >&2
    PORT=$(free_port)
  done
  echo "server did not answer; its log ($log):" >&2; tail -20 "$log" >&2; exit 1
}

# The training load: every path a deployed server serves, with enough traffic for the JIT to profile them.
train_load() {
  local base="http://127.0.0.1:$PORT"
  for path in / /index /app.js /squall.js /channels.js /metrics /ready /channels; do curl -sf -o /dev/null "$base$path"; done
  curl -sf -o /dev/null "$base/receive?msg=hello"
  curl -sf -o /dev/null -H 'Content-Type: text/plain' --data-binary 'hello' "$base/receive"
  curl -sf -o /dev/null -H 'Content-Type: application/json' -d '{"n":1}' "$base/receive"
  local target=(--port "$PORT" --server train --server-pid "$SERVER_PID")
  $GENERATOR conns "${target[@]}" --connections 2000 --settle-s 0 >/dev/null
  $GENERATOR fanout "${target[@]}" --subscribers 200 --messages 500 >/dev/null
  $GENERATOR echo "${target[@]}" --warmup-s 0 --duration-s 15 >/dev/null
  curl -sf -o /dev/null "$base/metrics"
}

train() {
  local variant=$1 spec file
  spec=$(training "$variant"); [[ -n "$spec" ]] || return 0
  read -r file spec <<< "$spec"
  echo "== training run for $variant: $spec"
  PORT=$(free_port)
  # shellcheck disable=SC2086
  start_server "$LOGS/train-$variant.log" $spec
  [[ $variant == *-idle ]] || train_load
  stop_server 1200 || { echo "training server for $variant exited with $?: $LOGS/train-$variant.log" >&2; exit 1; }
  [[ -s "$file" ]] || { echo "no archive written: $file (see $LOGS/train-$variant.log)" >&2; exit 1; }
  echo "   $(du -h "$file" | cut -f1) $file; $(grep -c 'Skipping\|not supported' "$LOGS/train-$variant.log" || true) classes left out (see the log)"
}

# measure WORKLOAD NAME [SECONDS]: one pass of the workload; prints its RESULT line (which has the server's CPU
# over the measured window: on a shared machine CPU per unit of work varies far less than the rates).
measure() {
  local target=(--port "$PORT" --server "$2" --server-pid "$SERVER_PID")
  case "$1" in
    echo)  timeout 120 $GENERATOR echo "${target[@]}" --warmup-s 0 --duration-s "${3:-10}" | grep '^RESULT' ;;
    conns) timeout 300 $GENERATOR conns "${target[@]}" --connections 5000 --settle-s 0 | grep '^RESULT' ;;
  esac
}

# run VARIANT WORKLOAD ROUND: a fresh server; first answer, the workload cold, 20 s of load, the workload warm.
run() {
  local variant=$1 workload=$2 round=$3 psi0 t0 cold warm until rss
  PORT=$(free_port)
  psi0=$(psi_us); t0=$(date +%s%N)
  # shellcheck disable=SC2046
  start_server "$LOGS/$variant-$workload-$round.log" $(jvm "$variant")
  rss=$(rss_kb "$SERVER_PID")
  cold=$(measure "$workload" "$variant" || true)
  if [[ $workload == echo ]]; then
    measure echo "$variant" 20 >/dev/null || true
  else
    until=$(( $(date +%s) + 20 ))
    while (( $(date +%s) < until )); do measure conns "$variant" >/dev/null || true; done
  fi
  warm=$(measure "$workload" "$variant" || true)
  stop_server || true
  local psi; psi=$(awk -v s=$(( $(psi_us) - psi0 )) -v t=$(( ($(date +%s%N) - t0) / 1000 )) 'BEGIN { printf "%.1f", 100 * s / t }')
  printf '%s\n' "round=$round variant=$variant workload=$workload first_answer_ms=$FIRST_MS first_answer_cpu_ms=$FIRST_CPU_MS rss_first_kb=$rss psi_some_pct=$psi" \
    "  cold ${cold#RESULT }" "  warm ${warm#RESULT }" | tee -a "$RAW"
}

{
  echo "# bench/cold-start.sh $STAMP: rounds=$ROUNDS variants=${VARIANT_LIST[*]} workloads=${WORKLOAD_LIST[*]}; squall commit $(git -C "$ROOT" rev-parse --short HEAD)"
  echo "# $($J17 -version 2>&1 | head -1) / $($J25 -version 2>&1 | head -1); $(uname -srm); $(nproc) cores; $(awk '{print $1}' /proc/loadavg) load"
  echo "# /proc/pressure/cpu at start: $(head -1 /proc/pressure/cpu)"
} | tee "$RAW"
for variant in "${VARIANT_LIST[@]}"; do jvm "$variant" >/dev/null; train "$variant"; done
n=${#VARIANT_LIST[@]}
for round in $(seq "$ROUNDS"); do
  for workload in "${WORKLOAD_LIST[@]}"; do
    for i in $(seq 0 $(( n - 1 ))); do
      run "${VARIANT_LIST[$(( (i + round - 1) % n ))]}" "$workload" "$round"
    done
  done
done
echo "# /proc/pressure/cpu at end: $(head -1 /proc/pressure/cpu)" | tee -a "$RAW"

/usr/bin/python3 "$BENCH_DIR/cold_start_summary.py" "$RAW" "${VARIANT_LIST[@]}" | tee "$RAW.summary"
