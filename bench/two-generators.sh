#!/usr/bin/env bash
# Is the load generator the bottleneck? Runs the same fan-out (SUBS subscribers x MESSAGES) once from one
# generator process, then split over two processes (half the subscribers each; one of them publishes), against
# an already running server. If two processes deliver clearly more per second than one, one was the limit.
#
#   bench/two-generators.sh PORT SERVER_PID [SUBS] [MESSAGES]
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
PORT=$1 PID=$2 SUBS=${3:-1000} MESSAGES=${4:-500}
GEN="java -Xms256m -Xmx1g -jar $BENCH_DIR/target/squall-bench.jar"
ready=$(mktemp -u /tmp/squall-bench-ready.XXXXXX)
trap 'rm -f "$ready"' EXIT

echo "== one process: $SUBS subscribers"
timeout 300 $GEN fanout --port "$PORT" --server-pid "$PID" --server one-process \
  --subscribers "$SUBS" --messages "$MESSAGES" | grep '^RESULT'

echo "== two processes: $((SUBS / 2)) subscribers each"
timeout 300 $GEN fanout --port "$PORT" --server-pid "$PID" --server two-processes-a \
  --subscribers $((SUBS / 2)) --messages "$MESSAGES" --publishers 0 --ready-file "$ready" | grep '^RESULT' &
listener=$!
timeout 300 $GEN fanout --port "$PORT" --server-pid "$PID" --server two-processes-b \
  --subscribers $((SUBS - SUBS / 2)) --messages "$MESSAGES" --await-file "$ready" | grep '^RESULT'
wait "$listener"
echo "(two processes: add the two delivered_per_s figures; both windows span the same publishes)"
