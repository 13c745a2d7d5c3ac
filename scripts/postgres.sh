#!/usr/bin/env bash
# The PostgreSQL server the PostgreSQL tests run against: a cluster initialised in a
# temporary directory as the `postgres` user (the server refuses to run as root), listening
# on 127.0.0.1 only, on a free port, with its unix socket inside that directory, stopped by
# `pg_ctl stop` (or, failing that, by the postmaster's pid) however the run ends.
#
# Sourced by scripts/test.sh:
#   source scripts/postgres.sh
#   trap ormkit_postgres_stop EXIT   # stops it however the script ends
#   ormkit_postgres_start            # exports ORMKIT_TEST_POSTGRES (a libpq conninfo string)
#
# Or on its own, around any command (the server lives exactly as long as the command):
#   bash scripts/postgres.sh run build/pg/tests/ormkit_unit_tests "[postgres]"
#
# Authentication: every role is trusted over 127.0.0.1 except `ormkit_auth`, which must give
# its password (scram-sha-256). The tests use that role to check that a wrong password is
# reported as such and never echoed; its password is in ORMKIT_TEST_POSTGRES_AUTH.
#
# ORMKIT_SKIP_POSTGRES=1 starts nothing; the PostgreSQL tests then skip themselves (and only
# then: without ORMKIT_TEST_POSTGRES they fail).

# Prints the directory of the newest installed PostgreSQL server binaries (initdb, pg_ctl).
ormkit_postgres_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    if [[ -x "${dir}/initdb" && -x "${dir}/pg_ctl" ]]; then
      echo "${dir}"
      return 0
    fi
  done
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return 0
  fi
  return 1
}

# Prints a TCP port on 127.0.0.1 that nothing listens on.
ormkit_postgres_free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    return
  fi
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
      echo "${port}"
      return
    fi
  done
}

# ormkit_postgres_as_owner <command...>: runs a command as the `postgres` user when we are
# root (the server refuses root), as ourselves otherwise.
ormkit_postgres_as_owner() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# ormkit_postgres_cluster_start <dir> <port>: initialises <dir>/data when it does not exist
# yet, and starts the server on 127.0.0.1:<port>. Used for the shared test server below and by
# tests that need a private server to kill or stop (tests/unit/postgres_faults.cpp).
ormkit_postgres_cluster_start() {
  local dir="$1" port="$2" bin
  bin="$(ormkit_postgres_bindir)" || { echo "postgres: initdb/pg_ctl not found" >&2; return 1; }
  mkdir -p "${dir}/sock"
  if ((EUID == 0)); then chown -R postgres:postgres "${dir}"; fi
  if [[ ! -f "${dir}/data/PG_VERSION" ]]; then
    ormkit_postgres_as_owner "${bin}/initdb" -D "${dir}/data" -A trust -U postgres --no-sync \
      -E UTF8 --locale=C >"${dir}/initdb.log" 2>&1 || {
      echo "postgres: initdb failed:" >&2
      tail -n 20 "${dir}/initdb.log" >&2
      return 1
    }
    # Trust on loopback and the socket, except the role that checks password handling.
    cat >"${dir}/data/pg_hba.conf" <<'HBA'
local all all                     trust
host  all ormkit_auth 127.0.0.1/32 scram-sha-256
host  all all         127.0.0.1/32 trust
HBA
  fi
  # fsync off: a test cluster need not survive a power cut (crash recovery after SIGKILL
  # still works: that needs only the WAL the kernel already has).
  ormkit_postgres_as_owner "${bin}/pg_ctl" -D "${dir}/data" -l "${dir}/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir}/sock -c fsync=off -c max_connections=200" \
    start >"${dir}/pg_ctl.log" 2>&1
}

# ormkit_postgres_cluster_stop <dir>: an orderly stop, then the postmaster's pid if that fails.
ormkit_postgres_cluster_stop() {
  local dir="$1" bin pid
  bin="$(ormkit_postgres_bindir)" || return 0
  [[ -f "${dir}/data/postmaster.pid" ]] || return 0
  pid="$(head -n 1 "${dir}/data/postmaster.pid" 2>/dev/null || true)"
  if [[ -n "${pid}" ]]; then
    # A test may have left it (or one of its backends) stopped.
    kill -CONT "${pid}" 2>/dev/null || true
    pkill -CONT -P "${pid}" 2>/dev/null || true
  fi
  if ! ormkit_postgres_as_owner "${bin}/pg_ctl" -D "${dir}/data" -m fast -w -t 20 stop >/dev/null 2>&1; then
    if [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null; then
      kill -KILL "${pid}" 2>/dev/null || true
    fi
  fi
}

# Starts the shared test server and exports ORMKIT_TEST_POSTGRES. Sets ORMKIT_POSTGRES_DIR for
# ormkit_postgres_stop. Returns non-zero (with a message) when no server could be started.
ormkit_postgres_start() {
  if [[ "${ORMKIT_SKIP_POSTGRES:-}" == "1" ]]; then
    echo "postgres: not started (ORMKIT_SKIP_POSTGRES=1: the PostgreSQL tests skip themselves)"
    return 0
  fi
  local bin
  if ! bin="$(ormkit_postgres_bindir)" || ! command -v psql >/dev/null 2>&1; then
    echo "postgres: the PostgreSQL server or psql was not found (scripts/setup.sh installs them);" \
      "set ORMKIT_SKIP_POSTGRES=1 to skip the PostgreSQL tests" >&2
    return 1
  fi
  ORMKIT_POSTGRES_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ormkit-test-postgres.XXXXXX")"
  chmod 755 "${ORMKIT_POSTGRES_DIR}"
  local attempt port
  for attempt in 1 2 3 4 5; do
    port="$(ormkit_postgres_free_port)"
    if ormkit_postgres_cluster_start "${ORMKIT_POSTGRES_DIR}" "${port}"; then
      local auth="ormkit-test-$RANDOM$RANDOM"
      psql -h "${ORMKIT_POSTGRES_DIR}/sock" -p "${port}" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAtc \
        "CREATE ROLE ormkit_auth LOGIN PASSWORD '${auth}'" >/dev/null
      export ORMKIT_TEST_POSTGRES="host=127.0.0.1 port=${port} user=postgres dbname=postgres"
      export ORMKIT_TEST_POSTGRES_AUTH="${auth}"
      export ORMKIT_TEST_POSTGRES_BINDIR="${bin}"
      ORMKIT_POSTGRES_PORT="${port}"
      echo "postgres: started on 127.0.0.1:${port} (dir ${ORMKIT_POSTGRES_DIR})"
      return 0
    fi
    echo "postgres: attempt ${attempt} on port ${port} failed; log:" >&2
    tail -n 5 "${ORMKIT_POSTGRES_DIR}/server.log" >&2 2>/dev/null || true
    ormkit_postgres_cluster_stop "${ORMKIT_POSTGRES_DIR}"
  done
  rm -rf "${ORMKIT_POSTGRES_DIR}"
  unset ORMKIT_POSTGRES_DIR
  echo "postgres: could not start the server" >&2
  return 1
}

# Stops the server started by ormkit_postgres_start and removes its directory. Safe to call
# twice, or when nothing was started.
ormkit_postgres_stop() {
  if [[ -n "${ORMKIT_POSTGRES_DIR:-}" ]]; then
    ormkit_postgres_cluster_stop "${ORMKIT_POSTGRES_DIR}"
    echo "postgres: stopped (port ${ORMKIT_POSTGRES_PORT:-?})"
    rm -rf "${ORMKIT_POSTGRES_DIR}"
    unset ORMKIT_POSTGRES_DIR ORMKIT_POSTGRES_PORT ORMKIT_TEST_POSTGRES ORMKIT_TEST_POSTGRES_AUTH
  fi
}

# bash scripts/postgres.sh run <command...>: runs the command against a fresh server.
# bash scripts/postgres.sh cluster-start <dir> <port> | cluster-stop <dir>: a private cluster
# (for tests that kill or stop their own server).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    run)
      [[ $# -ge 2 ]] || { echo "usage: bash scripts/postgres.sh run <command> [arguments...]" >&2; exit 2; }
      shift
      trap ormkit_postgres_stop EXIT
      ormkit_postgres_start
      "$@"
      ;;
    cluster-start)
      [[ $# -eq 3 ]] || { echo "usage: bash scripts/postgres.sh cluster-start <dir> <port>" >&2; exit 2; }
      ormkit_postgres_cluster_start "$2" "$3"
      ;;
    cluster-stop)
      [[ $# -eq 2 ]] || { echo "usage: bash scripts/postgres.sh cluster-stop <dir>" >&2; exit 2; }
      ormkit_postgres_cluster_stop "$2"
      ;;
    *)
      echo "usage: bash scripts/postgres.sh run <command...> | cluster-start <dir> <port> | cluster-stop <dir>" >&2
      exit 2
      ;;
  esac
fi
