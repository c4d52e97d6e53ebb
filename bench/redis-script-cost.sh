#!/usr/bin/env bash
# Redis's own cost of Squall's publish script, without Squall (issue 10): redis-benchmark runs EVALSHA of
# src/main/resources/dev/squall/internal/broker/redis/publish.lua (a 64-byte payload, history 100 for 300 s, or none) on
# a redis-server of its own, 1 client, 16 clients, and 16 clients pipelining 16 commands each; per setting it
# reports Redis's CPU per call (/proc/PID/stat utime+stime) and cmdstat_evalsha usec_per_call. Then PING at full
# speed and at about 1,500/s (one at a time with a pause): what Redis spends per wake-up when requests arrive one
# by one, as a node's publishes do at low rates. N rounds, interleaved.
#
#   bench/redis-script-cost.sh [ROUNDS] [CALLS]
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
ROUNDS=${1:-3} CALLS=${2:-50000}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RAW="$BENCH_DIR/results/$STAMP-redis-script-cost.txt"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 &
REDIS_PID=$!
trap 'kill $REDIS_PID 2>/dev/null || true; wait $REDIS_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
SHA=$(redis-cli -p "$PORT" script load "$(cat "$ROOT/src/main/resources/dev/squall/internal/broker/redis/publish.lua")")
# The script's last argument is the run id of the Redis it runs on, as a node reads it from INFO when it connects.
RUN_ID=$(redis-cli -p "$PORT" info server | tr -d '\r' | sed -n 's/^run_id://p')
PAYLOAD="#0:1:123456789:$(printf 'x%.0s' $(seq 48))"
cpu() { awk '{ print $14 + $15 }' "/proc/$REDIS_PID/stat"; }
{
  echo "# squall redis-script-cost.sh run $STAMP: rounds=$ROUNDS calls=$CALLS"
  echo "# $(redis-server --version); host: $(uname -srm); $(nproc) cores; squall commit $(git -C "$ROOT" rev-parse --short HEAD)"
} > "$RAW"
for round in $(seq "$ROUNDS"); do
  histories="100 0"; (( round % 2 == 0 )) && histories="0 100"
  for setting in "1 1" "16 1" "16 16"; do
    read -r clients pipeline <<< "$setting"
    for history in $histories; do
      redis-cli -p "$PORT" flushall >/dev/null
      redis-cli -p "$PORT" config resetstat >/dev/null
      before=$(cpu)
      rps=$(redis-benchmark -p "$PORT" -c "$clients" -P "$pipeline" -n "$CALLS" -q \
              evalsha "$SHA" 3 squall:m:bench squall:s:bench squall:k:5:bench squall:p:bench t "$PAYLOAD" \
              "$history" 300000 0 8000000000000001 5000 "$RUN_ID" | tr '\r' '\n' | grep -o '[0-9.]* requests per second' | cut -d' ' -f1)
      after=$(cpu)
      stat=$(redis-cli -p "$PORT" info commandstats | tr -d '\r' | grep '^cmdstat_evalsha:' | sed 's/.*usec_per_call=\([0-9.]*\).*/\1/')
      awk -v r="$round" -v c="$clients" -v p="$pipeline" -v h="$history" -v rps="$rps" -v ticks=$((after - before)) \
          -v n="$CALLS" -v u="$stat" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
        printf "RESULT mode=script round=%s clients=%s pipeline=%s history=%s calls_per_s=%s redis_cpu_us_per_call=%.2f redis_cpu_ticks=%d evalsha_usec_per_call=%s load1=%s\n",
               r, c, p, h, rps, ticks * 10000 / n, ticks, u, load }' | tee -a "$RAW"
    done
  done
  /usr/bin/python3 - "$PORT" "$REDIS_PID" "$round" <<'PY' | tee -a "$RAW"
import socket, sys, time
port, pid, rnd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def cpu_us():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 10_000
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for label, pause in (("back-to-back", 0.0), ("one-by-one", 0.0004)):
    n, c0, t0 = 10_000, cpu_us(), time.time()
    for _ in range(n):
        s.sendall(b"PING\r\n")
        s.recv(64)
        if pause:
            time.sleep(pause)
    print(f"RESULT mode=ping round={rnd} pacing={label} calls_per_s={n / (time.time() - t0):.0f} "
          f"redis_cpu_us_per_call={(cpu_us() - c0) / n:.2f}")
PY
done
/usr/bin/python3 - "$RAW" <<'PY' | tee "$RAW.summary"
import statistics, sys
from collections import defaultdict
rows = [dict(kv.split("=", 1) for kv in l.split()[1:] if "=" in kv) for l in open(sys.argv[1]) if l.startswith("RESULT ")]
groups = defaultdict(list)
for r in rows:
    key = (r["mode"], r.get("clients", ""), r.get("pipeline", ""), r.get("history", r.get("pacing", "")))
    groups[key].append(r)
print("medians: mode clients pipeline history|pacing  calls/s  redis CPU us/call  evalsha usec/call  n")
for key, rs in sorted(groups.items()):
    med = lambda k: statistics.median(float(r[k]) for r in rs if r.get(k, "") not in ("", "-")) if any(r.get(k) for r in rs) else float("nan")
    print(" ".join(f"{k:>8}" for k in key) + f"  {med('calls_per_s'):>9,.0f}  {med('redis_cpu_us_per_call'):>6.2f}  {med('evalsha_usec_per_call'):>6.2f}  {len(rs)}")
PY
echo "raw results: $RAW"
