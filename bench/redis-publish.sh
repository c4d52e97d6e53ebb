#!/usr/bin/env bash
# What a publish through RedisBroker costs Redis and the publisher, in process (issue 10): hub-jmh's
# RedisPublish against a redis-server of its own on a free port, history 100 and none, 1 thread (sequential)
# and several (concurrent), interleaved, N rounds. Needs target/squall.jar and bench/hub-jmh/target/hub-jmh.jar.
#
#   bench/redis-publish.sh [--rounds N] [--threads "1 16 128"] [--seconds S]
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
ROUNDS=3 THREADS="1 16 128" SECONDS_PER_RUN=5
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RAW="$BENCH_DIR/results/$STAMP-redis-publish.txt"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 &
REDIS_PID=$!
trap 'kill $REDIS_PID 2>/dev/null || true; wait $REDIS_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
{
  echo "# squall redis-publish.sh run $STAMP: rounds=$ROUNDS threads=$THREADS seconds=$SECONDS_PER_RUN"
  echo "# $(redis-server --version); host: $(uname -srm); $(nproc) cores; squall commit $(git -C "$ROOT" rev-parse --short HEAD)"
} > "$RAW"
read -r -a THREAD_LIST <<< "$THREADS"
for round in $(seq "$ROUNDS"); do
  # alternate which history setting runs first
  histories="100 0"; (( round % 2 == 0 )) && histories="0 100"
  for threads in "${THREAD_LIST[@]}"; do
    for history in $histories; do
      echo "== round $round threads $threads history $history $(uptime | sed 's/.*load/load/')"
      java -cp "$BENCH_DIR/hub-jmh/target/hub-jmh.jar:$ROOT/target/squall.jar" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
          dev.squall.internal.broker.redis.RedisPublish "redis://127.0.0.1:$PORT" "$REDIS_PID" "$threads" "$history" "$SECONDS_PER_RUN" \
        | grep '^RESULT' | sed "s/^RESULT /RESULT round=$round /" | tee -a "$RAW"
    done
  done
done
/usr/bin/python3 - "$RAW" <<'EOF' | tee "$RAW.summary"
import statistics, sys
from collections import defaultdict
rows = [dict(kv.split("=", 1) for kv in l.split()[1:] if "=" in kv) for l in open(sys.argv[1]) if l.startswith("RESULT ")]
keys = ["us_per_op", "publish_p50_us", "publish_p99_us", "redis_cpu_us_per_publish", "evalsha_usec_per_call", "redis_cpu_pct"]
groups = defaultdict(list)
for r in rows:
    groups[(int(r["threads"]), int(r["history"]))].append(r)
print("medians over rounds: threads history " + " ".join(keys) + " n")
for (t, h), rs in sorted(groups.items()):
    med = [statistics.median(float(r[k]) for r in rs) for k in keys]
    print(f"{t:>4} {h:>4} " + " ".join(f"{v:.2f}" for v in med) + f" {len(rs)}")
EOF
echo "raw results: $RAW"
