#!/usr/bin/env bash
# What a signed token costs a handshake (issue 18): 5000 WebSocket connections opened on a warm Squall with no
# token key (the open server, /ws), with an HS256 token (--token-hmac-secret, /ws?token=...) and with an RS256
# token (--token-public-key, /ws?token=...). Per round and configuration: a fresh server, one unmeasured pass of
# 5000 connections to warm it (JIT, pools), then the measured pass; the configurations' order rotates each round.
# Reports the median connections/s of each and the time ratios to the tokenless one. The tokens are minted here
# with openssl, as README's "Securing Squall" shows, for one user and every channel.
#
#   bench/handshake-tokens.sh [ROUNDS] [--no-build]
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
ROUNDS=${1:-5}
BUILD=1; [[ " $* " == *" --no-build "* ]] && BUILD=0
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RAW="$BENCH_DIR/results/$STAMP-handshake-tokens.txt"
WORK=$(mktemp -d)
mkdir -p "$BENCH_DIR/results"
SQUALL_JAVA_OPTS=${SQUALL_JAVA_OPTS:--Xmx512m}
GENERATOR="java -Xms256m -Xmx1g -jar $BENCH_DIR/target/squall-bench.jar"
ulimit -n "$(ulimit -Hn)"

if (( BUILD )); then
  (cd "$ROOT" && mvn -q -B -Dstyle.color=never clean package -DskipTests)
  (cd "$BENCH_DIR" && mvn -q -B -Dstyle.color=never clean package)
fi

# ---- tokens, as an app would mint them without a library
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
SECRET=$(openssl rand -hex 32)
EXP=$(( $(date +%s) + 86400 ))
PAYLOAD=$(printf '{"sub":"bench","exp":%d,"channels":["*"]}' "$EXP" | b64url)
HS_INPUT="$(printf '{"alg":"HS256","typ":"JWT"}' | b64url).$PAYLOAD"
HS_TOKEN="$HS_INPUT.$(printf '%s' "$HS_INPUT" | openssl dgst -sha256 -hmac "$SECRET" -binary | b64url)"
openssl genrsa -out "$WORK/rsa.pem" 2048 2>/dev/null
openssl rsa -in "$WORK/rsa.pem" -pubout -out "$WORK/rsa.pub.pem" 2>/dev/null
RS_INPUT="$(printf '{"alg":"RS256","typ":"JWT"}' | b64url).$PAYLOAD"
RS_TOKEN="$RS_INPUT.$(printf '%s' "$RS_INPUT" | openssl dgst -sha256 -sign "$WORK/rsa.pem" -binary | b64url)"

SERVER_PID=""
stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap 'stop_server; rm -rf "$WORK"' EXIT

free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# run CONFIG: one server, a warm-up pass, the measured pass; prints the measured RESULT line.
run() {
  local config=$1 port path flags=()
  port=$(free_port)
  case "$config" in
    none)  path=/ws ;;
    hs256) path="/ws?token=$HS_TOKEN"; flags=(--token-hmac-secret "$SECRET") ;;
    rs256) path="/ws?token=$RS_TOKEN"; flags=(--token-public-key "$WORK/rsa.pub.pem") ;;
  esac
  (cd "$ROOT" && exec java $SQUALL_JAVA_OPTS -jar target/squall.jar --host 127.0.0.1 --port "$port" \
      --ping-interval 0 --max-connections-per-user 0 --max-connections 0 "${flags[@]}") >"$WORK/$config.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/index" >/dev/null 2>&1 && break; sleep 0.1; done
  local common=(--port "$port" --server "$config" --server-pid "$SERVER_PID" --connections 5000 --settle-s 0 --path "$path")
  timeout 300 $GENERATOR conns "${common[@]}" >/dev/null
  timeout 300 $GENERATOR conns "${common[@]}" | grep '^RESULT'
  stop_server
}

{
  echo "# squall handshake-tokens.sh run $STAMP: rounds=$ROUNDS, 5000 connections per pass after a warm-up pass"
  echo "# $(java -version 2>&1 | head -1); host: $(uname -srm); $(nproc) cores; squall commit $(git -C "$ROOT" rev-parse --short HEAD)"
} > "$RAW"
configs=(none hs256 rs256)
for round in $(seq "$ROUNDS"); do
  for i in 0 1 2; do
    config=${configs[$(( (i + round) % 3 ))]}
    line=$(run "$config")
    echo "round $round $line" | tee -a "$RAW"
  done
done

/usr/bin/python3 - "$RAW" <<'PY'
import re, statistics, sys
rates = {}
for line in open(sys.argv[1]):
    m = re.search(r'server=(\S+).*connect_per_s=([\d.]+)', line)
    if m: rates.setdefault(m.group(1), []).append(float(m.group(2)))
none = statistics.median(rates['none'])
print("medians (connections/s; time ratio to none: higher is slower)")
for name in ('none', 'hs256', 'rs256'):
    if name in rates:
        med = statistics.median(rates[name])
        print(f"  {name:6} {med:8.0f}/s  time x{none / med:.2f}   runs: {', '.join(f'{r:.0f}' for r in rates[name])}")
PY
