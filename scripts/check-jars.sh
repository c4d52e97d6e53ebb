#!/usr/bin/env bash
# Checks the two jars that `mvn package` leaves in target/ (scripts/test.sh runs it after `mvn verify`):
#   target/squall-VERSION.jar  the thin library jar `mvn install` publishes: Squall's own classes only
#   target/squall.jar          the self-contained one the README runs: it must start, answer, and stop on SIGTERM
# One line per check; the last line counts them, and any failure makes the exit code 1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

passed=0
failed=0
pass() { echo "check-jars: ok   $*"; passed=$((passed + 1)); }
fail() { echo "check-jars: FAIL $*" >&2; failed=$((failed + 1)); }

version=$(python3 -c 'import xml.etree.ElementTree as E; n={"m": "http://maven.apache.org/POM/4.0.0"}; print(E.parse("pom.xml").getroot().find("m:version", n).text)')
thin="target/squall-$version.jar"
fat="target/squall.jar"

# --- the thin library jar -------------------------------------------------------------------------------------
if [ -f "$thin" ]; then
  thin_entries=$(jar tf "$thin")
  pass "$thin exists"
  if grep -qx 'dev/squall/Main.class' <<<"$thin_entries"; then
    pass "$thin contains dev/squall/Main.class"
  else
    fail "$thin has no dev/squall/Main.class"
  fi
  for prefix in io/javalin/ org/eclipse/jetty/ picocli/ io/lettuce/; do
    found=$(grep -c "^$prefix" <<<"$thin_entries" || true)
    if [ "$found" -eq 0 ]; then
      pass "$thin has no $prefix entries"
    else
      fail "$thin has $found $prefix entries (a shaded jar where the thin one belongs?), e.g. $(grep -m1 "^$prefix" <<<"$thin_entries")"
    fi
  done
  if grep -qx 'simplelogger.properties' <<<"$thin_entries"; then
    fail "$thin carries simplelogger.properties: it would override the log settings of an app that embeds Squall"
  else
    pass "$thin has no simplelogger.properties"
  fi
  strays=$(grep '\.class$' <<<"$thin_entries" | grep -v '^dev/squall/' || true)
  if [ -z "$strays" ]; then
    pass "$thin has no classes outside dev/squall/"
  else
    fail "$thin has $(wc -l <<<"$strays") classes outside dev/squall/, e.g. $(head -n1 <<<"$strays")"
  fi
else
  fail "$thin is missing (build with: mvn -B clean package -DskipTests); target/ has: $(cd target 2>/dev/null && ls -- *.jar 2>/dev/null | tr '\n' ' ')"
fi

# --- the self-contained jar -----------------------------------------------------------------------------------
if [ ! -f "$fat" ]; then
  fail "$fat is missing (build with: mvn -B clean package -DskipTests)"
  echo "check-jars: $passed passed, $failed failed"
  exit 1
fi
fat_entries=$(jar tf "$fat")
main_class=$(python3 -c 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read("META-INF/MANIFEST.MF").decode())' "$fat" 2>/dev/null \
  | tr -d '\r' | sed -n 's/^Main-Class: *//p' || true)
if [ "$main_class" = "dev.squall.Main" ]; then
  pass "$fat has Main-Class dev.squall.Main"
else
  fail "$fat has Main-Class '${main_class}', not dev.squall.Main"
fi
for prefix in io/javalin/ org/slf4j/simple/ picocli/ io/lettuce/ dev/squall/broker/redis/publish.lua simplelogger.properties; do
  if grep -q "^$prefix" <<<"$fat_entries"; then
    pass "$fat contains $prefix"
  else
    fail "$fat lacks $prefix (a dependency left out of the shaded jar)"
  fi
done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
work=$(mktemp -d)
log="$work/server.log"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
show_log() { echo "check-jars: --- server output ($fat --port $port) ---" >&2; tail -n 40 "$log" >&2 || true; }

# From an empty folder, so nothing but the jar itself (no ./public, no target/classes) can make it work.
(cd "$work" && exec java -jar "$root/$fat" --port "$port" --host 127.0.0.1) >"$log" 2>&1 &
pid=$!

body=""
deadline=$((SECONDS + 30))
while :; do
  if ! kill -0 "$pid" 2>/dev/null; then
    rc=0
    wait "$pid" || rc=$?
    pid=""
    fail "java -jar $fat --port $port exited with $rc before answering GET /index"
    show_log
    break
  fi
  if body=$(curl -sS --max-time 2 "http://127.0.0.1:$port/index" 2>/dev/null); then
    if [ "$body" = "Hello world" ]; then
      pass "java -jar $fat --port $port answers GET /index with 'Hello world'"
    else
      fail "GET /index on $fat answered '$body', not 'Hello world'"
      show_log
    fi
    break
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    fail "java -jar $fat --port $port did not answer GET /index within 30 s"
    show_log
    break
  fi
  sleep 0.2
done

if [ -n "$pid" ]; then
  kill -TERM "$pid"
  deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    fail "$fat was still running 30 s after SIGTERM (killed)"
    show_log
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  else
    rc=0
    wait "$pid" || rc=$?
    if [ "$rc" -eq 0 ]; then
      pass "$fat stopped on SIGTERM with exit code 0"
    else
      fail "$fat exited with $rc on SIGTERM, not 0"
      show_log
    fi
  fi
  pid=""
fi

echo "check-jars: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
