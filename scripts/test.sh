#!/usr/bin/env bash
# The one test command (README, and .ci/run calls it): installs what the tests need on a fresh
# Debian machine, then runs the whole suite, browser tests included, then checks the jars it built
# (scripts/check-jars.sh: the thin library jar holds only Squall's classes, and an app on it and its POM's
# dependencies alone serves without Lettuce; target/squall.jar starts, answers and stops on SIGTERM).
# Arguments go to mvn.
#   chromium, chromium-driver  the browser tests drive Debian's headless Chromium (nothing is downloaded)
#   iproute2, curl             the publish-policy test calls from a network namespace of its own;
#                              check-jars.sh asks the running target/squall.jar for GET /index
#   python3                    check-jars.sh reads pom.xml (the version; the embedding app's dependencies)
#                              and picks a free port
#   redis-server               the Redis broker tests start their own on a free port (and kill and restart it)
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if ((${#missing[@]})); then
  echo "Installing test dependencies: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

mvn -B -ntp clean verify "$@"
bash scripts/check-jars.sh
