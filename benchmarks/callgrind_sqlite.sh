#!/usr/bin/env bash
# Copyright (c) 2026 The ormkit authors
# SPDX-License-Identifier: MIT
#
# Instructions per row for every side and phase of ormkit_sqlite_bench, counted by
# valgrind's callgrind in one run, with the ratio to raw sqlite3. Unlike the timings,
# these counts do not move with the machine's load (the same binary and input give the
# same counts), so they show what a change to the per-call path did.
#
#   benchmarks/callgrind_sqlite.sh [path/to/ormkit_sqlite_bench]
#   ORMKIT_CALLGRIND_ROWS=50000 ORMKIT_CALLGRIND_MODE=file benchmarks/callgrind_sqlite.sh
#
# Defaults: build/release/benchmarks/ormkit_sqlite_bench, 20000 rows, :memory: (mode
# "memory"; "file" for the WAL file). The benchmark marks each timed phase for callgrind
# (see ORMKIT_BENCH_PHASE_START in sqlite_bench.cpp), so set-up and checks are not counted;
# it runs each phase whole (--slices 1), and would sum the pieces if it did not.
# Instructions are not time (cache misses and system calls are not in them); the timed
# table from the benchmark itself stays the measure of record.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
bench="${1:-$repo/build/release/benchmarks/ormkit_sqlite_bench}"
rows="${ORMKIT_CALLGRIND_ROWS:-20000}"
mode="${ORMKIT_CALLGRIND_MODE:-memory}"

command -v valgrind >/dev/null || { echo "callgrind_sqlite.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
[[ -x "$bench" ]] || { echo "callgrind_sqlite.sh: no benchmark at $bench; build the target ormkit_sqlite_bench" >&2; exit 1; }
[[ "$rows" =~ ^[1-9][0-9]*$ ]] || { echo "callgrind_sqlite.sh: ORMKIT_CALLGRIND_ROWS must be a positive integer" >&2; exit 1; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

if ! valgrind --tool=callgrind --callgrind-out-file="$out/cg.%p" "$bench" --rows "$rows" --runs 1 --slices 1 --only "$mode" \
  >"$out/bench.txt" 2>"$out/valgrind.txt"; then
  cat "$out/bench.txt" "$out/valgrind.txt" >&2
  exit 1
fi

python3 - "$out" "$rows" <<'PY'
import glob, re, sys

out, rows = sys.argv[1], int(sys.argv[2])
counts = {}  # (side, phase) -> instructions
for path in glob.glob(out + "/cg.*"):
    text = open(path, encoding="utf-8", errors="replace").read()
    label = re.search(r"^desc: Trigger: Client Request: (.+)$", text, re.M)
    total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
    if not label or not total:
        continue  # the dump at program exit
    # "<side>/<mode label>/<phase>"; the mode label may hold slashes ("WAL file in /tmp")
    name = label.group(1).strip()
    key = (name.split("/", 1)[0], name.rsplit("/", 1)[1])
    counts[key] = counts.get(key, 0) + int(total.group(1))  # a phase run in pieces: their sum
if not counts:
    sys.exit("callgrind_sqlite.sh: no phase marks found; was the benchmark built with <valgrind/callgrind.h>?")
phases = ["insert", "get", "find_all", "update", "erase"]
sides = [s for s in ["raw", "ormkit", "ormkit (by value)", "SQLiteCpp", "SOCI"] if (s, "insert") in counts]
head = "| phase    |" + "".join(f" {s + ' Ir/row':>16} |" + ("" if s == "raw" else f" {s + '/raw':>13} |") for s in sides)
print(head)
columns = len(sides) * 2 - 1
print("|----------|" + "-----------------:|" * columns)
for p in phases:
    raw = counts.get(("raw", p))
    cells = []
    for s in sides:
        n = counts.get((s, p))
        cells.append(f" {n / rows:16.0f} |" if n else f" {'-':>16} |")
        if s != "raw":
            cells.append(f" {n / raw:12.3f}x |" if n and raw else f" {'-':>13} |")
    print(f"| {p:<8} |" + "".join(cells))
PY
echo
echo "($rows rows, mode $mode, one run under callgrind: instructions per row in each timed phase)"
