#!/usr/bin/env bash
# Copyright (c) 2026 The ormkit authors
# SPDX-License-Identifier: MIT
#
# How much ormkit_sqlite_bench's ratios to raw sqlite3 move with code placement alone.
# Builds the benchmark several times from the same source, each with another function
# alignment (-falign-functions=N; "default" adds no flag), runs each build, and prints
# every phase's median ratio to raw per build, for ormkit and for the control side
# ("raw (again)", the raw code compiled a second time).
#
#   benchmarks/layout_sqlite.sh [runs]        (default 15; about 90 s a build and run)
#   ORMKIT_LAYOUT_ALIGNS="default 64" ORMKIT_LAYOUT_MODE=file benchmarks/layout_sqlite.sh 5
#
# Why: each row of a phase runs thousands of instructions inside libsqlite3 and ormkit
# adds a few hundred of its own. Where those few hundred land decides which of
# SQLite's hot cache lines they push out of the 32 KiB instruction cache, so moving
# functions by a few bytes moves a phase's ratio by several percent with nothing else
# changed. One build's ratio is one sample of that; this script shows the spread.
# The builds go to build/layout/<align> (kept, so a second run only relinks).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-15}"
aligns="${ORMKIT_LAYOUT_ALIGNS:-default 1 16 32 64}"
mode="${ORMKIT_LAYOUT_MODE:-memory}"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "layout_sqlite.sh: runs must be a positive integer" >&2; exit 2; }
[[ "$mode" == memory || "$mode" == file ]] || { echo "layout_sqlite.sh: ORMKIT_LAYOUT_MODE is memory or file" >&2; exit 2; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

for a in $aligns; do
  [[ "$a" == default || "$a" =~ ^[0-9]+$ ]] || { echo "layout_sqlite.sh: alignment '$a' is not a number" >&2; exit 2; }
  dir="$repo/build/layout/$a"
  flags=""
  [[ "$a" == default ]] || flags="-falign-functions=$a"
  echo "layout_sqlite.sh: building with '${flags:-no alignment flag}' in $dir" >&2
  cmake -S "$repo" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS="$flags" >"$out/cmake-$a.txt" 2>&1 ||
    { cat "$out/cmake-$a.txt" >&2; exit 1; }
  cmake --build "$dir" --target ormkit_sqlite_bench >"$out/build-$a.txt" 2>&1 || { cat "$out/build-$a.txt" >&2; exit 1; }
  echo "layout_sqlite.sh: running ($runs runs, $mode)" >&2
  "$dir/benchmarks/ormkit_sqlite_bench" --rows 100000 --runs "$runs" --only "$mode" --control >"$out/run-$a.txt"
done

python3 - "$out" "$mode" $aligns <<'PY'
import sys
out, mode, aligns = sys.argv[1], sys.argv[2], sys.argv[3:]
phases = ["insert", "get", "find_all", "update", "erase"]

def ratios(path, side):
    # The markdown table: the column headed "<side>/raw" (a median of piece ratios).
    cells = lambda line: [c.strip() for c in line.strip().strip("|").split("|")]
    header, got = None, {}
    for line in open(path):
        if line.startswith("| phase"):
            header = cells(line)
        elif header and line.startswith("| ") and not line.startswith("|--"):
            row = dict(zip(header, cells(line)))
            if row.get("phase") in phases:
                got[row["phase"]] = float(row[side + "/raw"].rstrip("x"))
    return got

for side in ("ormkit", "raw (again)"):
    table = {a: ratios(f"{out}/run-{a}.txt", side) for a in aligns}
    print(f"\n{side}/raw ({mode}), median ratio per build; -falign-functions=<column>")
    print("| phase    | " + " | ".join(f"{a:>7}" for a in aligns) + " |   min |   max |")
    print("|----------|" + "|".join("--------:" for _ in aligns) + "|------:|------:|")
    for p in phases:
        vals = [table[a][p] for a in aligns]
        print(f"| {p:8} | " + " | ".join(f"{v:7.3f}" for v in vals) + f" | {min(vals):5.3f} | {max(vals):5.3f} |")
PY
