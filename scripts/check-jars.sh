#!/usr/bin/env bash
# Checks the two jars that `mvn package` leaves in target/ (scripts/test.sh runs it after `mvn verify`):
#   target/squall-VERSION.jar  the thin library jar `mvn install` publishes: Squall's own classes only. An app on it
#                              and on the jars its POM brings (as Maven resolves them for any app: no optional one,
#                              so no Lettuce) serves a WebSocket and publishes, loads no Redis class, and is told
#                              which dependency to add when it sets `redis`; a route declared with the Kotlin DSL works
#                              without kotlinx-coroutines, an optional dependency (scripts/check-jars/ThinJarApp.java)
#   target/squall.jar          the self-contained one the README runs: it must start, answer, and stop on SIGTERM, and carries no kotlinx-coroutines
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

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- the thin library jar -------------------------------------------------------------------------------------
if [ -f "$thin" ]; then
  thin_entries=$(jar tf "$thin")
  pass "$thin exists"
  if grep -qx 'dev/squall/server/Main.class' <<<"$thin_entries"; then
    pass "$thin contains dev/squall/server/Main.class"
  else
    fail "$thin has no dev/squall/server/Main.class"
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

# --- an app on the thin jar and on what Squall's POM brings it -------------------------------------------------
# The POM that `mvn install` publishes is pom.xml itself (no dependency-reduced one). A project that declares its
# dependencies that are neither optional nor test-only gets from Maven exactly the jars an app that declares
# dev.squall:squall gets, with nothing installed into the local repository.
lettuce=$(python3 -c 'import xml.etree.ElementTree as E; n={"m": "http://maven.apache.org/POM/4.0.0"}; print("io.lettuce:lettuce-core:" + E.parse("pom.xml").getroot().find("m:properties/m:lettuce.version", n).text)' 2>/dev/null || echo "io.lettuce:lettuce-core")
if [ -f "$thin" ]; then
  mkdir "$work/app"
  python3 - "$work/app/pom.xml" <<'EOF'
import sys, xml.etree.ElementTree as E
ns = "http://maven.apache.org/POM/4.0.0"
E.register_namespace("", ns)
def q(tag): return "{%s}%s" % (ns, tag)
pom = E.parse("pom.xml").getroot()
app = E.Element(q("project"))
for tag, text in (("modelVersion", "4.0.0"), ("groupId", "check-jars"), ("artifactId", "embedding-app"), ("version", "1")):
    E.SubElement(app, q(tag)).text = text
app.append(pom.find(q("properties")))
dependencies = E.SubElement(app, q("dependencies"))
for dependency in pom.find(q("dependencies")):
    if dependency.findtext(q("optional"), "false").strip() == "true": continue
    if dependency.findtext(q("scope"), "compile").strip() not in ("compile", "runtime"): continue
    dependencies.append(dependency)
E.ElementTree(app).write(sys.argv[1], encoding="UTF-8", xml_declaration=True)
EOF
  dependency_plugin=$(python3 -c 'import xml.etree.ElementTree as E; n={"m": "http://maven.apache.org/POM/4.0.0"}; print([p.find("m:version", n).text for p in E.parse("pom.xml").getroot().iterfind("m:build/m:pluginManagement/m:plugins/m:plugin", n) if p.find("m:artifactId", n).text == "maven-dependency-plugin"][0])' 2>/dev/null || echo 3.9.0)
  classpath=""
  if mvn -B -ntp -q -f "$work/app/pom.xml" "org.apache.maven.plugins:maven-dependency-plugin:$dependency_plugin:build-classpath" \
      -DincludeScope=runtime -Dmdep.outputFile="$work/app/classpath.txt" >"$work/app/mvn.log" 2>&1; then
    classpath=$(cat "$work/app/classpath.txt")
    jars=$(tr ':' '\n' <<<"$classpath" | grep -c '\.jar$' || true)
    redis_jars=$(tr ':' '\n' <<<"$classpath" | grep -E '/(io/lettuce|io/netty|io/projectreactor|org/reactivestreams|redis/clients)/' || true)
    if [ -z "$redis_jars" ]; then
      pass "an app that depends on dev.squall:squall gets $jars jars besides $thin, none of Lettuce, Netty or Reactor"
    else
      fail "an app that depends on dev.squall:squall gets $(wc -l <<<"$redis_jars") jars of the Redis client ($jars in all), e.g. $(head -n1 <<<"$redis_jars" | xargs basename): $lettuce must be optional"
    fi
    documented=$(grep -oE 'and [0-9]+ more jars' docs/embedding.md | head -n1 | grep -oE '[0-9]+' || true)
    if [ "$documented" = "$jars" ]; then
      pass "docs/embedding.md says what an app gets: $thin and $jars more jars"
    else
      fail "docs/embedding.md says an app gets $thin 'and ${documented:-?} more jars'; it gets $jars: update it (and the list of direct dependencies beside it)"
    fi
    if grep -qF "implementation(\"$lettuce\")" docs/embedding.md; then
      pass "docs/embedding.md tells an app with Redis to add $lettuce"
    else
      fail "docs/embedding.md does not tell an app with Redis to add $lettuce (its Maven and Gradle lines, section Redis)"
    fi
  else
    fail "Maven could not resolve what Squall's POM brings an app (log: below)"
    tail -n 20 "$work/app/mvn.log" >&2
  fi

  if [ -n "$classpath" ]; then
    app_cp="$thin:$classpath"
    rc=0
    timeout 120 java -Xlog:class+load=info:file="$work/app/loaded.txt" -cp "$app_cp" scripts/check-jars/ThinJarApp.java plain \
      >"$work/app/plain.log" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
      pass "an app on $thin and those jars only serves its route, a WebSocket on a channel, publishes and /metrics"
    else
      fail "an app on $thin and those jars only did not serve (exit code $rc; scripts/check-jars/ThinJarApp.java plain):"
      tail -n 30 "$work/app/plain.log" >&2
    fi
    redis_classes=$(grep -oE ' (dev\.squall\.internal\.broker\.redis\.|io\.lettuce\.)[A-Za-z0-9_.$]+' "$work/app/loaded.txt" 2>/dev/null | sort -u || true)
    if [ "$rc" -eq 0 ] && [ -z "$redis_classes" ]; then
      pass "an app without redis loads no class of dev.squall.internal.broker.redis"
    elif [ "$rc" -eq 0 ]; then
      fail "an app without redis loaded $(wc -l <<<"$redis_classes") Redis classes, e.g.$(head -n3 <<<"$redis_classes" | tr '\n' ' ')"
    fi

    rc=0
    timeout 120 java -Xlog:class+load=info:file="$work/app/loaded-kotlin.txt" -cp "$app_cp" scripts/check-jars/ThinJarApp.java kotlin-dsl \
      >"$work/app/kotlin.log" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ] && grep -q ' dev\.squall\.kotlin\.SquallRoute ' "$work/app/loaded-kotlin.txt"; then
      pass "an app on $thin and those jars (no kotlinx-coroutines) serves a route declared with the Kotlin DSL"
    else
      fail "an app on $thin and those jars did not serve a route declared with the Kotlin DSL (exit code $rc; scripts/check-jars/ThinJarApp.java kotlin-dsl):"
      tail -n 30 "$work/app/kotlin.log" >&2
    fi

    rc=0
    refusal=$(timeout 120 java -cp "$app_cp" scripts/check-jars/ThinJarApp.java redis redis://127.0.0.1:6379 2>&1) || rc=$?
    sentence=$(grep -m1 '^java\.lang\.IllegalArgumentException: ' <<<"$refusal" || true)
    if [ "$rc" -eq 0 ] && grep -qF "$lettuce" <<<"$sentence"; then
      pass "an app that sets redis without Lettuce fails at Javalin.create() with: ${sentence#java.lang.IllegalArgumentException: }"
    else
      fail "an app that sets redis without Lettuce was not refused at Javalin.create() with an IllegalArgumentException naming $lettuce (exit code $rc):"
      tail -n 30 <<<"$refusal" >&2
    fi
  fi
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
if [ "$main_class" = "dev.squall.server.Main" ]; then
  pass "$fat has Main-Class dev.squall.server.Main"
else
  fail "$fat has Main-Class '${main_class}', not dev.squall.server.Main"
fi
for prefix in io/javalin/ org/slf4j/simple/ picocli/ io/lettuce/ dev/squall/internal/broker/redis/publish.lua simplelogger.properties; do
  if grep -q "^$prefix" <<<"$fat_entries"; then
    pass "$fat contains $prefix"
  else
    fail "$fat lacks $prefix (a dependency left out of the shaded jar)"
  fi
done

found=$(grep -c '^kotlinx/' <<<"$fat_entries" || true)
if [ "$found" -eq 0 ]; then
  pass "$fat has no kotlinx/ entries (the optional coroutines, which the server never runs)"
else
  fail "$fat has $found kotlinx/ entries: the optional kotlinx-coroutines was shaded in (pom.xml, the shade plugin's artifactSet)"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
log="$work/server.log"
mkdir "$work/empty"
show_log() { echo "check-jars: --- server output ($fat --port $port) ---" >&2; tail -n 40 "$log" >&2 || true; }

# From an empty folder, so nothing but the jar itself (no ./public, no target/classes) can make it work.
(cd "$work/empty" && exec java -jar "$root/$fat" --port "$port" --host 127.0.0.1) >"$log" 2>&1 &
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
