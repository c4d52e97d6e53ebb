#!/usr/bin/env bash
# One node against one node on Redis against two nodes on one Redis (issue 10), the same load, interleaved.
#
#   bench/redis-nodes.sh [--rounds N] [--configs "memory redis-1 redis-2"] [--no-build] [WORKLOAD...]
#
# Configs: memory (one node, in-memory broker), redis-1 (one node, --redis), redis-2 (two nodes on the same
# Redis: subscribers split evenly over both, every publish sent to the first). A suffix -h0 runs the nodes with
# --history-size 0 (no history, offsets only); without it they keep the default history of 100.
# Workloads (default: fanout fanout-rate):
#   fanout        1000 subscribers on /ws/bench, 500 messages from 4 publishers as fast as they are answered
#   fanout-1pub   as fanout, from 1 publisher (in memory a publish is fanned out on the publishing request's
#                 thread under the channel's lock, so 4 publishers wait on each other; on Redis on the node's
#                 delivery thread for the channel)
#   fanout-rate   1000 subscribers on /ws/bench, 400 messages at a fixed 40 publishes/s
#   publish-seq   no subscribers, 20,000 publishes from 1 publisher, one at a time (2,000 warm-up)
#   publish-conc  no subscribers, 20,000 publishes from 16 publishers, each one at a time (2,000 warm-up)
# It starts its own redis-server on a free port (--save '' --appendonly no) for the whole run; before each run it
# empties it (FLUSHALL), and once every subscriber is in it resets its statistics (CONFIG RESETSTAT); after the
# run it records INFO commandstats: cmdstat_evalsha's calls and usec_per_call are Redis's own time per script
# call, which from then on are the publishes (warm-up included) and a node's refresh of its channel every 20 s. Redis's CPU over
# the measured window (/proc utime+stime) is the generator's redis_cpu_* (--watch-pid). Every run starts fresh
# nodes; the config order rotates per round. Raw lines: bench/results/<timestamp>-redis-nodes.txt, node logs in
# bench/results/<timestamp>-redis-nodes-logs/ (not committed); summary beside the raw file.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
ROUNDS=3
CONFIGS="memory redis-1 redis-2"
BUILD=1
WORKLOADS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --configs) CONFIGS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    fanout|fanout-1pub|fanout-rate|publish-seq|publish-conc) WORKLOADS+=("$1"); shift ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ ${#WORKLOADS[@]} -gt 0 ]] || WORKLOADS=(fanout fanout-rate)
read -r -a CONFIG_LIST <<< "$CONFIGS"
for c in "${CONFIG_LIST[@]}"; do
  [[ $c =~ ^(memory|redis-1|redis-2)(-h0)?$ ]] || { echo "unknown config $c (see --help)" >&2; exit 2; }
done
command -v redis-server >/dev/null || { echo "needs redis-server (apt-get install redis-server)" >&2; exit 2; }

SQUALL_JAVA_OPTS=${SQUALL_JAVA_OPTS:--Xmx512m}
GENERATOR="java -Xms256m -Xmx1g -jar $BENCH_DIR/target/squall-bench.jar"
PYTHON=/usr/bin/python3
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS_DIR="$BENCH_DIR/results"
RAW="$RESULTS_DIR/$STAMP-redis-nodes.txt"
LOGS="$RESULTS_DIR/$STAMP-redis-nodes-logs"

if [[ $BUILD -eq 1 ]]; then
  echo "== building Squall and the load generator"
  (cd "$ROOT" && mvn -q -B -ntp -Dstyle.color=never clean package -DskipTests)
  (cd "$BENCH_DIR" && mvn -q -B -ntp -Dstyle.color=never clean package)
fi

free_port() {
  $PYTHON -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

NODE_PIDS=()
REDIS_PID=""
stop_nodes() {
  local pid
  for pid in "${NODE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${NODE_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  NODE_PIDS=()
}
stop_all() {
  stop_nodes
  if [[ -n "$REDIS_PID" ]]; then kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; fi
  REDIS_PID=""
}
trap stop_all EXIT
trap 'stop_all; exit 130' INT TERM

mkdir -p "$RESULTS_DIR" "$LOGS"
ulimit -n "$(ulimit -Hn)"
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >"$LOGS/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis() { redis-cli -p "$REDIS_PORT" "$@"; }
REDIS_URI="redis://127.0.0.1:$REDIS_PORT"
READY="$LOGS/ready" GO="$LOGS/go" OUT="$LOGS/generator.out"

# start_node PORT LOG HISTORY [REDIS_URI]: starts a node in the background, appends its pid to NODE_PIDS, waits
# until /ready answers 200 (with --redis: until Redis is reached).
start_node() {
  local port=$1 log=$2 history=$3 uri=${4:-}
  local extra=()
  [[ -n "$uri" ]] && extra=(--redis "$uri")
  # The generators' load is past the default limits (thousands of connections from 127.0.0.1): off.
  (cd "$ROOT" && exec java $SQUALL_JAVA_OPTS -jar target/squall.jar --host 127.0.0.1 --port "$port" \
      --ping-interval 0 --history-size "$history" --max-messages-per-second 0 --max-connections 0 --max-channels 0 \
      "${extra[@]}") >"$log" 2>&1 &
  local pid=$!
  NODE_PIDS+=("$pid")
  for _ in $(seq 300); do
    if curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "node on $port died at start, see $log" >&2; return 1; }
    sleep 0.1
  done
  echo "node on $port was not ready within 30 s, see $log" >&2
  return 1
}

# run_workload WORKLOAD CONFIG PORT_A [PORT_B]: the generator's output, RESULT line included.
run_workload() {
  local workload=$1 config=$2 a=$3 b=${4:-}
  local common=(--port "$a" --server "$config" --server-pid "${NODE_PIDS[0]}" --watch-pid "redis=$REDIS_PID"
                --path /ws/bench --publish-path '/receive?channel=bench' --ready-file "$READY" --await-file "$GO")
  if [[ -n "$b" ]]; then common+=(--subscribe-port "$a,$b" --watch-pid "nodeB=${NODE_PIDS[1]}"); fi
  case "$workload" in
    fanout)       timeout 300 $GENERATOR fanout "${common[@]}" --subscribers 1000 --messages 500 --publishers 4 ;;
    fanout-1pub)  timeout 300 $GENERATOR fanout "${common[@]}" --subscribers 1000 --messages 500 --publishers 1 ;;
    fanout-rate)  timeout 300 $GENERATOR fanout "${common[@]}" --subscribers 1000 --messages 400 --publishers 4 \
                      --rate 40 ;;
    publish-seq)  timeout 300 $GENERATOR fanout "${common[@]}" --subscribers 0 --messages 20000 --publishers 1 \
                      --warmup 2000 ;;
    publish-conc) timeout 300 $GENERATOR fanout "${common[@]}" --subscribers 0 --messages 20000 --publishers 16 \
                      --warmup 2000 ;;
  esac
}

{
  echo "# squall redis-nodes.sh run $STAMP: rounds=$ROUNDS configs=${CONFIG_LIST[*]} workloads=${WORKLOADS[*]}"
  echo "# squall JVM: $SQUALL_JAVA_OPTS; generator: $GENERATOR; $(redis-server --version)"
  echo "# host: $(uname -srm); $(nproc) cores; squall commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
} > "$RAW"

for round in $(seq "$ROUNDS"); do
  for workload in "${WORKLOADS[@]}"; do
    n=${#CONFIG_LIST[@]}
    for i in $(seq 0 $((n - 1))); do
      config=${CONFIG_LIST[$(((i + round - 1) % n))]}
      history=100
      [[ $config == *-h0 ]] && history=0
      base=${config%-h0}
      a=$(free_port); b=""
      echo "== round $round/$ROUNDS  $workload  $config (port $a) $(uptime | sed 's/.*load/load/')"
      redis flushall >/dev/null
      redis config resetstat >/dev/null
      ok=1
      case "$base" in
        memory)  start_node "$a" "$LOGS/$config-$workload-$round-a.log" "$history" || ok=0 ;;
        redis-1) start_node "$a" "$LOGS/$config-$workload-$round-a.log" "$history" "$REDIS_URI" || ok=0 ;;
        redis-2) b=$(free_port)
                 start_node "$a" "$LOGS/$config-$workload-$round-a.log" "$history" "$REDIS_URI" || ok=0
                 [[ $ok -eq 1 ]] && { start_node "$b" "$LOGS/$config-$workload-$round-b.log" "$history" "$REDIS_URI" || ok=0; } ;;
      esac
      if [[ $ok -eq 0 ]]; then
        echo "RESULT workload=$workload round=$round mode=failed server=$config" >> "$RAW"
        stop_nodes
        continue
      fi
      # Redis's statistics count from when every subscriber is in (their joins read history through Redis too)
      rm -f "$READY" "$GO"
      run_workload "$workload" "$config" "$a" "$b" >"$OUT" 2>&1 &
      generator=$!
      for _ in $(seq 1800); do [[ -f $READY ]] || ! kill -0 "$generator" 2>/dev/null && break; sleep 0.1; done
      redis config resetstat >/dev/null
      touch "$GO"
      wait "$generator" || true
      out=$(cat "$OUT")
      pressure=$(awk '/^some/ { sub("avg10=", "", $2); print $2 }' /proc/pressure/cpu 2>/dev/null || true)
      load=$(cut -d' ' -f1 /proc/loadavg)
      stats=$(redis info commandstats | tr -d '\r')
      evalsha=$(echo "$stats" | awk -F'[:,=]' '/^cmdstat_evalsha:/ { print "redis_evalsha_calls=" $3 " redis_evalsha_usec=" $5 " redis_evalsha_usec_per_call=" $7 }')
      stop_nodes
      echo "$out" | grep -v '^RESULT' | sed 's/^/   /'
      echo "$stats" | grep '^cmdstat' | sed "s/^/# $workload $config round $round: /" >> "$RAW"
      line=$(echo "$out" | grep '^RESULT' | tail -1 || true)
      [[ -n "$line" ]] || line="RESULT mode=failed server=$config"
      echo "${line/RESULT /RESULT workload=$workload round=$round } ${evalsha:-redis_evalsha_calls=0} load1=$load cpu_pressure_avg10=${pressure:--}" | tee -a "$RAW"
      sleep 1
    done
  done
done

echo
$PYTHON "$BENCH_DIR/summarize.py" "$RAW" | tee "$RAW.summary"
echo "raw results: $RAW"
