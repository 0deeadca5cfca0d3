#!/usr/bin/env bash
# One command, fresh Debian 12 machine to green: installs dependencies, builds, runs every test
# (GoogleTest units and the end-to-end integration tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 1500 "$@"
