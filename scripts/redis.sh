#!/usr/bin/env bash
# The redis-server the Redis tests run against: 127.0.0.1 on a free port, no persistence
# (--save "" --appendonly no), in a temporary directory, stopped by its pid.
#
# Sourced by scripts/test.sh:
#   source scripts/redis.sh
#   trap ormkit_redis_stop EXIT   # stops it however the script ends
#   ormkit_redis_start            # exports ORMKIT_TEST_REDIS=127.0.0.1:PORT
#
# Or on its own, around any command (the server lives exactly as long as the command):
#   bash scripts/redis.sh run build/cache/tests/ormkit_unit_tests "[redis]"
#
# ORMKIT_SKIP_REDIS=1 starts nothing; the Redis tests then skip themselves (and only then:
# without ORMKIT_TEST_REDIS they fail).

# Prints a TCP port on 127.0.0.1 that nothing listens on.
ormkit_redis_free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    return
  fi
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    # A refused connection means the port is free.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
      echo "${port}"
      return
    fi
  done
}

# Starts the server and exports ORMKIT_TEST_REDIS. Sets ORMKIT_REDIS_PID and ORMKIT_REDIS_DIR
# for ormkit_redis_stop. Returns non-zero (with a message) when no server could be started.
ormkit_redis_start() {
  if [[ "${ORMKIT_SKIP_REDIS:-}" == "1" ]]; then
    echo "redis: not started (ORMKIT_SKIP_REDIS=1: the Redis tests skip themselves)"
    return 0
  fi
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    echo "redis: redis-server or redis-cli not found (scripts/setup.sh installs them);" \
      "set ORMKIT_SKIP_REDIS=1 to skip the Redis tests" >&2
    return 1
  fi
  ORMKIT_REDIS_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ormkit-test-redis.XXXXXX")"
  local attempt port waited
  for attempt in 1 2 3 4 5; do
    port="$(ormkit_redis_free_port)"
    redis-server --port "${port}" --bind 127.0.0.1 --protected-mode yes \
      --save "" --appendonly no --dir "${ORMKIT_REDIS_DIR}" \
      --logfile "${ORMKIT_REDIS_DIR}/redis.log" --daemonize no &
    ORMKIT_REDIS_PID=$!
    ORMKIT_REDIS_PORT="${port}"
    for ((waited = 0; waited < 100; waited++)); do
      if [[ "$(redis-cli -h 127.0.0.1 -p "${port}" ping 2>/dev/null)" == "PONG" ]]; then
        export ORMKIT_TEST_REDIS="127.0.0.1:${port}"
        echo "redis: started pid ${ORMKIT_REDIS_PID} on ${ORMKIT_TEST_REDIS} (dir ${ORMKIT_REDIS_DIR})"
        return 0
      fi
      kill -0 "${ORMKIT_REDIS_PID}" 2>/dev/null || break  # exited: the port was taken meanwhile
      sleep 0.1
    done
    echo "redis: attempt ${attempt} on port ${port} failed; log:" >&2
    tail -n 5 "${ORMKIT_REDIS_DIR}/redis.log" >&2 2>/dev/null || true
    kill -KILL "${ORMKIT_REDIS_PID}" 2>/dev/null || true
    wait "${ORMKIT_REDIS_PID}" 2>/dev/null || true
    unset ORMKIT_REDIS_PID
  done
  rm -rf "${ORMKIT_REDIS_DIR}"
  unset ORMKIT_REDIS_DIR
  echo "redis: could not start redis-server" >&2
  return 1
}

# Stops the server started by ormkit_redis_start (by its pid) and removes its directory.
# Safe to call twice, or when nothing was started.
ormkit_redis_stop() {
  local pid="${ORMKIT_REDIS_PID:-}" i
  if [[ -n "${pid}" ]]; then
    kill -CONT "${pid}" 2>/dev/null || true  # in case a test left it stopped
    redis-cli -h 127.0.0.1 -p "${ORMKIT_REDIS_PORT}" shutdown nosave >/dev/null 2>&1 || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "${pid}" 2>/dev/null; then
      kill -TERM "${pid}" 2>/dev/null || true
      sleep 1
      kill -KILL "${pid}" 2>/dev/null || true
    fi
    wait "${pid}" 2>/dev/null || true
    echo "redis: stopped pid ${pid}"
    unset ORMKIT_REDIS_PID ORMKIT_REDIS_PORT ORMKIT_TEST_REDIS
  fi
  if [[ -n "${ORMKIT_REDIS_DIR:-}" ]]; then
    rm -rf "${ORMKIT_REDIS_DIR}"
    unset ORMKIT_REDIS_DIR
  fi
}

# bash scripts/redis.sh run <command...>: runs the command against a fresh server.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  if [[ "${1:-}" != "run" || $# -lt 2 ]]; then
    echo "usage: bash scripts/redis.sh run <command> [arguments...]" >&2
    exit 2
  fi
  shift
  trap ormkit_redis_stop EXIT
  ormkit_redis_start
  "$@"
fi
