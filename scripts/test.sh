#!/usr/bin/env bash
# Builds and runs every test twice:
#   build/release  RelWithDebInfo, header checks, examples, benchmarks
#   build/asan     Debug with AddressSanitizer + UndefinedBehaviorSanitizer
# and ends with one line "N passed, N failed" over both CTest runs. Exits non-zero when a
# configure, build or test fails. Extra arguments go to both ctest runs (e.g. -R compile_fail).
#
# The Redis tests run against a redis-server this script starts (scripts/redis.sh: 127.0.0.1,
# a free port, no persistence, exported as ORMKIT_TEST_REDIS) and stops by its pid when the
# script exits, whether it succeeds or fails. ORMKIT_SKIP_REDIS=1 skips them instead.
# The PostgreSQL tests likewise run against a server this script starts (scripts/postgres.sh:
# a cluster in a temporary directory, 127.0.0.1, a free port, exported as ORMKIT_TEST_POSTGRES)
# and stops with `pg_ctl stop` on exit. ORMKIT_SKIP_POSTGRES=1 skips them instead.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

# shellcheck source=scripts/redis.sh
source scripts/redis.sh
# shellcheck source=scripts/postgres.sh
source scripts/postgres.sh
ormkit_stop_servers() {
  ormkit_postgres_stop || true
  ormkit_redis_stop || true
}
trap ormkit_stop_servers EXIT
ormkit_redis_start
ormkit_postgres_start

jobs="${ORMKIT_JOBS:-2}"
export CCACHE_DIR="${CCACHE_DIR:-${HOME:-/tmp}/.cache/ccache}"
# pch_defines/time_macros/include_file_*: let ccache cache TUs that use precompiled headers.
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
export CTEST_OUTPUT_ON_FAILURE=1

passed=0
failed=0
status=0

# run_suite <name> <build dir> <cmake configure arguments...>
run_suite() {
  local name="$1" dir="$2"
  shift 2
  echo "==== ${name}: configure ${dir}"
  if ! cmake -S . -B "${dir}" "$@"; then
    echo "==== ${name}: configure FAILED"
    status=1
    return
  fi
  echo "==== ${name}: build"
  if ! cmake --build "${dir}" -j"${jobs}"; then
    echo "==== ${name}: build FAILED"
    status=1
    return
  fi
  echo "==== ${name}: test"
  local log="${dir}/ctest.log" rc=0
  (cd "${dir}" && ctest --output-on-failure -j"${jobs}" "${ctest_args[@]}") 2>&1 | tee "${log}" || rc=$?
  # CTest ends with "NN% tests passed, F tests failed out of T" ("No tests were found" if none).
  local line
  line="$(grep -E '[0-9]+ tests? failed out of [0-9]+' "${log}" | tail -n 1 || true)"
  if [[ "${line}" =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    local f="${BASH_REMATCH[1]}" t="${BASH_REMATCH[2]}"
    passed=$((passed + t - f))
    failed=$((failed + f))
    ((f == 0)) || status=1
  else
    echo "==== ${name}: no CTest summary"
    status=1
  fi
  ((rc == 0)) || status=1
}

ctest_args=("$@")

run_suite release build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
run_suite asan build/asan -DCMAKE_BUILD_TYPE=Debug -DORMKIT_SANITIZE=ON \
  -DORMKIT_BUILD_BENCHMARKS=OFF -DORMKIT_CHECK_HEADERS=OFF

echo "${passed} passed, ${failed} failed"
exit "${status}"
