#!/usr/bin/env bash
# Copyright (c) 2026 The ormkit authors
# SPDX-License-Identifier: MIT
#
# Measures what ormkit costs to compile and prints a Markdown table (see README.md here).
#
#   benchmarks/compile/measure.sh            # g++, 3 runs per row
#   CXX=clang++ benchmarks/compile/measure.sh
#   ORMKIT_MEASURE_RUNS=5 CXXFLAGS="-I/opt/boost/include" benchmarks/compile/measure.sh
#
# Rows:
#   - benchmarks/compile/ten_entities.cpp (10 entities x 6 columns, insert + get + find-all each),
#     compiled with `-std=c++20 -O2 -c`: wall time, user time, peak RSS of the compiler;
#   - the include cost of single headers: a TU holding only `#include <header>`, with
#     `-std=c++20 -fsyntax-only`.
# Each figure is the best (lowest) of ORMKIT_MEASURE_RUNS runs, taken per column. It only
# reports: nothing here fails on a slow result. Timings depend on the machine's load, which
# is printed with the table.

# Backticks inside single quotes below are Markdown code spans, not command substitutions.
# shellcheck disable=SC2016
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cxx="${CXX:-g++}"
runs="${ORMKIT_MEASURE_RUNS:-3}"
read -r -a extra_flags <<<"${CXXFLAGS:-}"
time_bin=/usr/bin/time  # GNU time: the shell keyword has no -v (peak RSS)

if [[ ! -x "$time_bin" ]] || ! "$time_bin" -v true >/dev/null 2>&1; then
  echo "measure.sh: needs GNU time at $time_bin (Debian: apt-get install time)" >&2
  exit 1
fi
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "measure.sh: ORMKIT_MEASURE_RUNS must be a positive integer, not '$runs'" >&2
  exit 1
fi
if ! command -v "$cxx" >/dev/null; then
  echo "measure.sh: compiler '$cxx' not found; set CXX" >&2
  exit 1
fi

loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }
load_before="$(loadavg)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# measure <label> <mode> <compiler arguments...>: runs the compiler $runs times and appends
# one table row with the best wall time, user time and peak RSS.
rows=()
measure() {
  local label=$1 mode=$2
  shift 2
  local best_wall="" best_user="" best_rss=""
  for ((i = 0; i < runs; ++i)); do
    if ! "$time_bin" -v -o "$work/time.txt" "$cxx" -std=c++20 "-I$repo/include" "${extra_flags[@]}" "$@" \
        2>"$work/stderr.txt"; then
      echo "measure.sh: compiling $label failed:" >&2
      cat "$work/stderr.txt" >&2
      exit 1
    fi
    # GNU time prints wall time as [h:]mm:ss.ss, user time in seconds, RSS in KiB.
    local wall user rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
             n = split($2, p, ":"); s = 0; for (k = 1; k <= n; ++k) s = s * 60 + p[k]; print s }' "$work/time.txt")
    user=$(awk -F': ' '/User time \(seconds\)/ { print $2 }' "$work/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
    if [[ -z "$best_wall" ]] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then best_wall=$wall; fi
    if [[ -z "$best_user" ]] || awk -v a="$user" -v b="$best_user" 'BEGIN { exit !(a < b) }'; then best_user=$user; fi
    if [[ -z "$best_rss" ]] || ((rss < best_rss)); then best_rss=$rss; fi
  done
  rows+=("$(printf '| %s | `%s` | %.2f | %.2f | %d |' "$label" "$mode" "$best_wall" "$best_user" \
    $((best_rss / 1024)))")
}

# The workload: a translation unit that instantiates the repository for ten entities.
measure '`benchmarks/compile/ten_entities.cpp`' "-O2 -c" -O2 -c "$here/ten_entities.cpp" -o "$work/ten_entities.o"

# Include cost of single headers, ormkit's and, for scale, two standard ones.
for header in ormkit.hpp ormkit/memory.hpp ormkit/json.hpp string chrono; do
  tu="$work/include_${header//[\/.]/_}.cpp"
  printf '#include <%s>\n' "$header" >"$tu"
  measure "\`<$header>\`" "-fsyntax-only" -fsyntax-only "$tu"
done

echo "Compiler: $("$cxx" --version | head -n1); $(nproc 2>/dev/null || echo '?') cores;" \
  "load average (1, 5, 15 min) before: $load_before, after: $(loadavg)"
echo "Best of $runs runs per figure; flags: -std=c++20 -I<repo>/include${CXXFLAGS:+ $CXXFLAGS}"
echo
echo "| What | Mode | Wall (s) | User (s) | Peak RSS (MiB) |"
echo "|---|---|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
