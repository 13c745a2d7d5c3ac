#!/usr/bin/env bash
# Builds and runs the demo (examples/demo.cpp, target ormkit_demo). Arguments go to the demo.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

if [[ ! -f examples/demo.cpp ]]; then
  echo "demo: examples/demo.cpp does not exist yet" >&2
  exit 1
fi

export CCACHE_DIR="${CCACHE_DIR:-${HOME:-/tmp}/.cache/ccache}"
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"

cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"${ORMKIT_JOBS:-2}" --target ormkit_demo
exec build/release/examples/ormkit_demo "$@"
