#!/usr/bin/env bash
# Side-by-side benchmark of Squall, Node's ws, Go's gorilla/websocket and the tutorial's Tornado server (issues 3, 19).
#
#   bench/compare.sh [--rounds N] [--servers "squall node-ws go-gorilla tornado"] [--no-build] [WORKLOAD...]
#
# Server squall-alt likewise runs $SQUALL_ALT_JAR (a variant under test; SQUALL_ALT_NOTE says what it is).
# Servers squall-history and squall-nohistory run target/squall.jar with --history-size 100 and 0, for the
# channel workloads fanout-channel and fanout-channel-rate (fanout and fanout-rate on /ws/bench, published with
# /receive?channel=bench): what keeping history costs.
# Server squall-before: the same flags as squall, but the jar $SQUALL_BEFORE_JAR (e.g. an older commit's build,
# made outside this tree), for before/after runs of one change: --servers "squall squall-before".
#
# Workloads (default: all): fanout fanout-rate fanout-rate-warm echo echo-warm wrk wrk-warm conns conns-warm
# burst15k burst15k-1pub. The -warm variants first run the same load unmeasured (20 s; 1000 broadcasts for
# fanout-rate-warm; the same 5000 connections opened and closed 8 times for conns-warm: after one or three, C2 was
# still compiling Squall's upgrade path), on every server alike: a JVM needs its JIT warm-up, and a push server runs for days, so both figures are reported, cold and warm.
# Every round runs every workload against every server, each time on a freshly started server, rotating the server
# order per round so that none always runs first; the table reports medians over rounds. Raw RESULT lines go to
# bench/results/<timestamp>.txt, server logs to bench/results/<timestamp>-logs/.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
ROUNDS=3
SERVERS="squall node-ws go-gorilla tornado"
BUILD=1
WORKLOADS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    fanout|fanout-rate|fanout-rate-warm|fanout-channel|fanout-channel-rate|echo|echo-warm|wrk|wrk-warm|conns|conns-warm|burst15k|burst15k-1pub)
      WORKLOADS+=("$1"); shift ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ ${#WORKLOADS[@]} -gt 0 ]] || WORKLOADS=(fanout fanout-rate fanout-rate-warm echo echo-warm wrk wrk-warm conns conns-warm burst15k
  burst15k-1pub)
read -r -a SERVER_LIST <<< "$SERVERS"
if [[ " ${SERVER_LIST[*]} " == *" squall-before "* && ! -f ${SQUALL_BEFORE_JAR:-} ]]; then
  echo "server squall-before needs SQUALL_BEFORE_JAR=path/to/squall.jar (not found: '${SQUALL_BEFORE_JAR:-}')" >&2
  exit 2
fi
if [[ " ${SERVER_LIST[*]} " == *" squall-alt "* && ! -f ${SQUALL_ALT_JAR:-} ]]; then
  echo "server squall-alt needs SQUALL_ALT_JAR=path/to/squall.jar (not found: '${SQUALL_ALT_JAR:-}')" >&2
  exit 2
fi

# The generators' load is far past what Squall lets one client or one node do by default (each echo client sends
# thousands of messages a second, burst15k opens 15,000 connections from 127.0.0.1): the limits are off for every
# Squall server. A squall-before or squall-alt jar built before the limits existed refuses these flags: give it
# SQUALL_BEFORE_FLAGS= or SQUALL_ALT_FLAGS= (empty).
LIMITS_OFF="--max-messages-per-second 0 --max-connections 0 --max-channels 0"
SQUALL_BEFORE_FLAGS=${SQUALL_BEFORE_FLAGS-$LIMITS_OFF}
SQUALL_ALT_FLAGS=${SQUALL_ALT_FLAGS-$LIMITS_OFF}

# Fixed heap for every JVM in the run, so that memory per connection compares like with like.
SQUALL_JAVA_OPTS=${SQUALL_JAVA_OPTS:--Xmx512m}   # override from the environment to experiment
GENERATOR="java -Xms256m -Xmx1g -jar $BENCH_DIR/target/squall-bench.jar"
PYTHON=/usr/bin/python3   # Debian's python3-tornado lives here, not in a pyenv python
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS_DIR="$BENCH_DIR/results"
RAW="$RESULTS_DIR/$STAMP.txt"
LOGS="$RESULTS_DIR/$STAMP-logs"

build() {
  if ! $PYTHON -c 'import tornado' 2>/dev/null || ! command -v wrk >/dev/null; then
    echo "== installing python3-tornado and wrk (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-tornado wrk >/dev/null
  fi
  if [[ " ${SERVER_LIST[*]} " == *" squall "* ]]; then
    echo "== building Squall"
    (cd "$ROOT" && mvn -q -B -Dstyle.color=never clean package -DskipTests)
  fi
  echo "== building the load generator"
  (cd "$BENCH_DIR" && mvn -q -B -Dstyle.color=never clean package)
  if [[ " ${SERVER_LIST[*]} " == *" node-ws "* ]]; then
    echo "== npm install (node-ws peer)"
    (cd "$BENCH_DIR/peers/node-ws" && npm install --no-audit --no-fund --silent)
  fi
  # after the generator: its clean build empties bench/target, where the Go binary goes
  if [[ " ${SERVER_LIST[*]} " == *" go-gorilla "* ]]; then
    if ! command -v go >/dev/null || [[ ! -d /usr/share/gocode/src/github.com/gorilla/websocket ]]; then
      echo "== installing golang-go and golang-github-gorilla-websocket-dev (apt)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go \
        golang-github-gorilla-websocket-dev >/dev/null
    fi
    echo "== building the go-gorilla peer ($(go version | cut -d' ' -f3), gorilla/websocket from Debian)"
    # GOPATH mode from inside the folder: Debian's Go packages are a GOPATH, and 'go build /abs/path' fails there
    (cd "$BENCH_DIR/peers/go-gorilla" && GO111MODULE=off GOPATH=/usr/share/gocode go build -o ../../target/go-gorilla .)
  fi
}

SERVER_PID=""
stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

free_port() {
  $PYTHON -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server NAME PORT LOG: starts it in the background, sets SERVER_PID, waits until /index answers.
start_server() {
  local name=$1 port=$2 log=$3
  case "$name" in
    squall)  (cd "$ROOT" && exec java $SQUALL_JAVA_OPTS -jar target/squall.jar --host 127.0.0.1 --port "$port" \
                 --ping-interval 0 $LIMITS_OFF) >"$log" 2>&1 & ;;
    squall-before) (cd "$ROOT" && exec java $SQUALL_JAVA_OPTS -jar "$SQUALL_BEFORE_JAR" --host 127.0.0.1 \
                 --port "$port" --ping-interval 0 $SQUALL_BEFORE_FLAGS) >"$log" 2>&1 & ;;
    squall-alt) (cd "$ROOT" && exec java $SQUALL_JAVA_OPTS -jar "$SQUALL_ALT_JAR" --host 127.0.0.1 \
                 --port "$port" --ping-interval 0 $SQUALL_ALT_FLAGS) >"$log" 2>&1 & ;;
    squall-history) (cd "$ROOT" && exec java $SQUALL_JAVA_OPTS -jar target/squall.jar --host 127.0.0.1 \
                 --port "$port" --ping-interval 0 --history-size 100 $LIMITS_OFF) >"$log" 2>&1 & ;;
    squall-nohistory) (cd "$ROOT" && exec java $SQUALL_JAVA_OPTS -jar target/squall.jar --host 127.0.0.1 \
                 --port "$port" --ping-interval 0 --history-size 0 $LIMITS_OFF) >"$log" 2>&1 & ;;
    node-ws) node "$BENCH_DIR/peers/node-ws/server.js" --port "$port" >"$log" 2>&1 & ;;
    tornado) $PYTHON "$BENCH_DIR/peers/tornado_server.py" --port "$port" >"$log" 2>&1 & ;;
    go-gorilla)
      [[ -x $BENCH_DIR/target/go-gorilla ]] || { echo "no $BENCH_DIR/target/go-gorilla: run without --no-build" >&2; return 1; }
      "$BENCH_DIR/target/go-gorilla" --port "$port" >"$log" 2>&1 & ;;
    *) echo "unknown server $name" >&2; return 1 ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 300); do
    if curl -sf "http://127.0.0.1:$port/index" >/dev/null 2>&1; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "$name died at start, see $log" >&2; SERVER_PID=""; return 1; }
    sleep 0.1
  done
  echo "$name did not answer /index within 30 s" >&2
  return 1
}

# run_workload WORKLOAD SERVER PORT: prints the generator's output, RESULT line included.
run_workload() {
  local workload=$1 name=$2 port=$3
  local common=(--port "$port" --server "$name" --server-pid "$SERVER_PID")
  case "$workload" in
    fanout)      timeout 300 $GENERATOR fanout "${common[@]}" --subscribers 1000 --messages 500 --publishers 4 ;;
    fanout-rate) timeout 300 $GENERATOR fanout "${common[@]}" --subscribers 1000 --messages 400 --publishers 4 \
                     --rate 40 ;;
    fanout-channel) timeout 300 $GENERATOR fanout "${common[@]}" --subscribers 1000 --messages 500 --publishers 4 \
                     --path /ws/bench --publish-path '/receive?channel=bench' ;;
    fanout-channel-rate) timeout 300 $GENERATOR fanout "${common[@]}" --subscribers 1000 --messages 400 --publishers 4 \
                     --rate 40 --path /ws/bench --publish-path '/receive?channel=bench' ;;
    fanout-rate-warm) timeout 300 $GENERATOR fanout "${common[@]}" --subscribers 1000 --messages 400 --publishers 4 \
                     --rate 40 --warmup 1000 ;;
    echo)        timeout 120 $GENERATOR echo "${common[@]}" --clients 50 --duration-s 10 ;;
    echo-warm)   timeout 120 $GENERATOR echo "${common[@]}" --clients 50 --duration-s 10 --warmup-s 20 ;;
    conns)       timeout 300 $GENERATOR conns "${common[@]}" --connections 5000 ;;
    conns-warm)  timeout 400 $GENERATOR conns "${common[@]}" --connections 5000 --warmup-rounds 8 ;;
    burst15k)    timeout 400 $GENERATOR fanout "${common[@]}" --subscribers 15000 --messages 5 --publishers 5 \
                     --warmup 2 ;;
    burst15k-1pub) timeout 400 $GENERATOR fanout "${common[@]}" --subscribers 15000 --messages 5 --publishers 1 \
                     --warmup 2 ;;
    wrk|wrk-warm)
      local out
      if [[ $workload == wrk-warm ]]; then
        timeout 60 wrk -t2 -c50 -d20s "http://127.0.0.1:$port/index" >/dev/null
      fi
      out=$(timeout 60 wrk -t2 -c50 -d10s --latency "http://127.0.0.1:$port/index")
      echo "$out"
      echo "$out" | awk -v server="$name" '
        /Requests\/sec:/ { rps = $2 }
        /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
        /Non-2xx/ { errors = $NF }
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        END { printf "RESULT mode=wrk server=%s req_per_s=%s p50_ms=%.3f p99_ms=%.3f non2xx=%d\n",
                     server, rps, ms(p50), ms(p99), errors + 0 }' ;;
  esac
}

[[ $BUILD -eq 1 ]] && build
# 15,000 subscribers need 15,000 descriptors in the generator and in the server (children inherit this).
ulimit -n "$(ulimit -Hn)"
mkdir -p "$RESULTS_DIR" "$LOGS"
{
  echo "# squall compare.sh run $STAMP: rounds=$ROUNDS servers=${SERVER_LIST[*]} workloads=${WORKLOADS[*]}"
  echo "# squall JVM: $SQUALL_JAVA_OPTS; generator: $GENERATOR; ulimit -n $(ulimit -n)"
  echo "# host: $(uname -srm); $(nproc) cores; squall commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
  if [[ -n ${SQUALL_BEFORE_JAR:-} ]]; then
    echo "# squall-before: $SQUALL_BEFORE_JAR, commit $(git -C "$(dirname "$SQUALL_BEFORE_JAR")" rev-parse --short HEAD 2>/dev/null || echo '?')"
  fi
  if [[ -n ${SQUALL_ALT_JAR:-} ]]; then echo "# squall-alt: $SQUALL_ALT_JAR${SQUALL_ALT_NOTE:+ ($SQUALL_ALT_NOTE)}"; fi
} > "$RAW"

for round in $(seq "$ROUNDS"); do
  for workload in "${WORKLOADS[@]}"; do
    # rotate the server order each round: whoever runs first meets a colder page cache and CPU
    n=${#SERVER_LIST[@]}
    for i in $(seq 0 $((n - 1))); do
      name=${SERVER_LIST[$(((i + round - 1) % n))]}
      port=$(free_port)
      log="$LOGS/$name-$workload-$round.log"
      echo "== round $round/$ROUNDS  $workload  $name (port $port)"
      if ! start_server "$name" "$port" "$log"; then
        echo "RESULT workload=$workload round=$round mode=failed server=$name" >> "$RAW"
        stop_server
        continue
      fi
      out=$(run_workload "$workload" "$name" "$port" 2>&1) || true
      # Linux PSI: % of the last 10 s in which some runnable task waited for a CPU. High values mean other
      # load on the machine (or server and generator fighting for 2 cores): read that run's figures with care.
      pressure=$(awk '/^some/ { sub("avg10=", "", $2); print $2 }' /proc/pressure/cpu 2>/dev/null || true)
      stop_server
      echo "$out" | grep -v '^RESULT' | sed 's/^/   /'
      line=$(echo "$out" | grep '^RESULT' | tail -1 || true)
      if [[ -z "$line" ]]; then line="RESULT mode=failed server=$name"; fi
      echo "${line/RESULT /RESULT workload=$workload round=$round } cpu_pressure_avg10=${pressure:--}" | tee -a "$RAW"
      sleep 1 # let TIME_WAIT sockets and the CPU settle
    done
  done
done

echo
$PYTHON "$BENCH_DIR/summarize.py" "$RAW" | tee -a "$RAW.summary"
echo "raw results: $RAW"
