#!/usr/bin/env bash
# Installs what building and testing ormkit needs, from Debian 12's archive.
# Idempotent: does nothing (no apt at all) when every package is already installed.
# Runs as root (CI, containers) or through sudo.
set -euo pipefail

# The Debian packages ormkit's build, tests, examples and benchmarks need.
# libboost1.81-dev, not libboost-dev (1.74, no Boost.PFR, conflicts with 1.81).
ORMKIT_APT_PACKAGES=(
  cmake g++ make ccache pkg-config time python3
  libboost1.81-dev nlohmann-json3-dev libfmt-dev catch2
  libsqlite3-dev
  # Peers for benchmarks/sqlite_bench.cpp (SQLiteCpp, SOCI with its SQLite backend).
  libsqlitecpp-dev libsoci-dev
  # The Redis cache (hiredis 0.14) and a real server for its tests.
  libhiredis-dev redis-server
  # A second compiler for the package consumer test (tests/package: find_package.clang).
  clang
  # The PostgreSQL backend (libpq 15) and a real server for its tests (scripts/postgres.sh).
  libpq-dev postgresql
)

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

missing=()
for package in "${ORMKIT_APT_PACKAGES[@]}"; do
  is_installed "$package" || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#ORMKIT_APT_PACKAGES[@]} packages installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || { echo "setup: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
